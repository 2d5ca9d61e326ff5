/**
 * Opens the database the configuration names: the embedded SQLite file under the data directory,
 * or PostgreSQL when ASC_DATABASE_URL is set. Applies pending migrations before anything else runs.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { Kysely, Migrator, SqliteDialect } from 'kysely';
import type { Config } from '../config.js';
import { migrationProvider } from './migrations/index.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  close(): Promise<void>;
}

export const SQLITE_FILE_NAME = 'asc-access.sqlite';

export function sqliteFile(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, SQLITE_FILE_NAME);
}

function openSqlite(file: string): Db {
  mkdirSync(path.dirname(file), { recursive: true });
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // FULL: a commit is on disk before we acknowledge it, so acknowledged writes survive kill -9
  // and power loss alike.
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  const kysely = new Kysely<Database>({ dialect: new SqliteDialect({ database }) });
  return { kysely, dialect: 'sqlite', close: () => kysely.destroy() };
}

export async function migrateToLatest(db: Db): Promise<void> {
  const migrator = new Migrator({ db: db.kysely, provider: migrationProvider });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`);
  }
}

/** Opens and migrates the configured database. */
export async function openDatabase(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<Db> {
  if (config.databaseUrl) {
    throw new Error('PostgreSQL (ASC_DATABASE_URL) is not available in this version; unset it to use the embedded SQLite file');
  }
  const db = openSqlite(sqliteFile(config));
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return db;
}
