/** Group commit on PostgreSQL (src/db/group-commit.ts) is a plain transaction per unit. */
import { rmSync } from 'node:fs';
import { sql, type Transaction } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import type { Database } from '../../src/db/schema.js';
import { schemaFor, testConfig } from '../helpers/harness.js';

/** A row a unit writes: the email_claims table is the simplest one (a primary key and no references). */
function put(trx: Transaction<Database>, key: string) {
  return trx.insertInto('email_claims').values({ email_key: key, owner_type: 'user', owner_id: key }).execute();
}

let config: ReturnType<typeof testConfig>;
let db: Db;

async function dropDatabase(): Promise<void> {
  if (config.databaseUrl) {
    await sql`drop schema if exists ${sql.id(schemaFor(config.dataDir))} cascade`.execute(db.kysely);
  }
  await db.close();
  rmSync(config.dataDir, { recursive: true, force: true });
}

describe('group commit on PostgreSQL', () => {
  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
  });
  afterEach(dropDatabase);

  it('is a transaction per unit: one that throws is undone alone, the others commit', async () => {
    const writes = new GroupCommit(db);
    const results = await Promise.allSettled([
      writes.run(async (trx) => (await put(trx, 'pg-ok-1'), 1)),
      writes.run(async (trx) => {
        await put(trx, 'pg-partial');
        throw new Error('refused');
      }),
      writes.run(async (trx) => (await put(trx, 'pg-ok-3'), 3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const keys = await db.kysely.selectFrom('email_claims').select('email_key').where('email_key', 'like', 'pg-%').orderBy('email_key').execute();
    expect(keys.map((k) => k.email_key)).toEqual(['pg-ok-1', 'pg-ok-3']);
  });
});
