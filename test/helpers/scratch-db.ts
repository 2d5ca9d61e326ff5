/** Databases a test opens itself, outside a test server (SQLite file or PostgreSQL schema, as the project runs). */
import { rmSync } from 'node:fs';
import { sql, type Transaction } from 'kysely';
import type { Config } from '../../src/config.js';
import type { Db } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { schemaFor } from './harness.js';

/** Closes `db` and removes what `config` made: the data directory and, on PostgreSQL, the schema. */
export async function dropDatabase(config: Config, db: Db): Promise<void> {
  if (config.databaseUrl) {
    await sql`drop schema if exists ${sql.id(schemaFor(config.dataDir))} cascade`.execute(db.kysely);
  }
  await db.close();
  rmSync(config.dataDir, { recursive: true, force: true });
}

/** A row a write unit can insert: an email claim (a primary key and no references). */
export function putClaim(trx: Transaction<Database>, key: string) {
  return trx.insertInto('email_claims').values({ email_key: key, owner_type: 'user', owner_id: key }).execute();
}
