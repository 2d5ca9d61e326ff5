/**
 * What every command of the operator CLI shares: its errors, how it prints, and the services it
 * opens on the configured database (never creating one: only `serve` does).
 */
import { existsSync } from 'node:fs';
import pg from 'pg';
import { createServices, type Services } from '../container.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { DatabaseUnavailableError, openDatabase, sqliteFile } from '../db/database.js';
import { storageCause } from '../db/storage-errors.js';

/** A command line the CLI does not understand (exit 2, one line with a hint to the command's help). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that cannot do what was asked (exit 1). */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Where the CLI writes: process.stdout and process.stderr, or a test's capture. */
export interface Output {
  write(text: string): unknown;
}

/** Prints a command's result: the human text, or with --json the one JSON object. */
export type Out = (human: string, json: Record<string, unknown>) => void;

/** What a command needs: the configuration and where its result goes. */
export interface CommandContext {
  /** loaded on first use, so that `--help` and `--version` work with a broken environment */
  config(): Config;
  out: Out;
  /** the environment the configuration came from (to tell a default from a setting) */
  env: NodeJS.ProcessEnv;
}

/** Where the configured database is, for messages: the SQLite file, or PostgreSQL's host and database. */
export function databaseWhere(config: Pick<Config, 'dataDir' | 'databaseUrl'>): string {
  if (!config.databaseUrl) return sqliteFile(config);
  try {
    const u = new URL(config.databaseUrl);
    // never the credentials (a query may hold a password too)
    return `postgresql://${u.host}${u.pathname}`;
  } catch {
    return 'ASC_DATABASE_URL';
  }
}

/**
 * Whether the configured database exists: on SQLite its file; on PostgreSQL the migrations table
 * (kysely_migration) in the connection's schema, which the server's first start creates. Looking
 * creates nothing.
 */
export async function databaseExists(config: Pick<Config, 'dataDir' | 'databaseUrl'>): Promise<boolean> {
  if (!config.databaseUrl) return existsSync(sqliteFile(config));
  const client = new pg.Client({ connectionString: config.databaseUrl });
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new DatabaseUnavailableError(`cannot open ${databaseWhere(config)}: ${storageCause(err)}`, { cause: err });
  }
  try {
    const { rows } = await client.query<{ present: boolean }>(`select to_regclass('kysely_migration') is not null as present`);
    return rows[0]?.present === true;
  } finally {
    await client.end();
  }
}

export function noDatabase(config: Pick<Config, 'dataDir' | 'databaseUrl'>): CommandError {
  const hint = config.databaseUrl ? 'or check ASC_DATABASE_URL' : 'or set ASC_DATA_DIR';
  return new CommandError(`no asc-access database at ${databaseWhere(config)}; start the server once, ${hint}`);
}

/** Runs `fn` on the services of the configured database; refuses (CommandError) when there is none. */
export async function withServices<T>(config: Config, fn: (s: Services) => Promise<T>): Promise<T> {
  if (!(await databaseExists(config))) throw noDatabase(config);
  const db = await openDatabase(config);
  try {
    return await fn(createServices(db, systemClock, config));
  } finally {
    await db.close();
  }
}
