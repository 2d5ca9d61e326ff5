/**
 * The bench's PostgreSQL: a fresh database per run (`CREATE DATABASE bench_<random>`), or a fresh
 * schema in the given database when the role may not create databases, dropped afterwards; the
 * server's version and the settings that decide whether a commit is durable.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import type { FoundRow } from './kill.js';

export const DEFAULT_PG_URL = 'postgres://postgres@127.0.0.1:5432/test';

/** Where the bench's PostgreSQL is: ASC_TEST_PG_URL, or the local server's `test` database. */
export function benchPgUrl(env: NodeJS.ProcessEnv = process.env): string {
  return env.ASC_TEST_PG_URL?.trim() || DEFAULT_PG_URL;
}

export interface BenchDatabase {
  /** the URL the seed, the CLI and the servers use */
  url: string;
  /** the database's (or schema's) name */
  name: string;
  kind: 'database' | 'schema';
  /** drops it, closing any connection still open to it */
  drop(): Promise<void>;
}

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

const quoteId = (name: string) => `"${name.replaceAll('"', '""')}"`;

/** `base` with its database name replaced. */
export function urlForDatabase(base: string, database: string): string {
  const url = new URL(base);
  url.pathname = `/${encodeURIComponent(database)}`;
  return url.toString();
}

/** `base` with `schema` first on the search path, the URL's other options kept. */
export function urlForSchema(base: string, schema: string): string {
  const url = new URL(base);
  const options = url.searchParams.get('options');
  url.searchParams.set('options', `${options ? `${options} ` : ''}-c search_path=${schema}`);
  return url.toString();
}

/** A name no other run uses: `bench_<tag>_<random>`. */
export function benchName(tag: string): string {
  return `bench_${tag.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${randomBytes(4).toString('hex')}`;
}

/**
 * Creates a database for one run; a schema in `base`'s database when CREATE DATABASE is not
 * allowed (SQLSTATE 42501).
 */
export async function createBenchDatabase(base: string, tag: string): Promise<BenchDatabase> {
  const name = benchName(tag);
  return withClient(base, async (client) => {
    try {
      await client.query(`CREATE DATABASE ${quoteId(name)}`);
      return {
        url: urlForDatabase(base, name),
        name,
        kind: 'database' as const,
        drop: () => withClient(base, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${quoteId(name)} WITH (FORCE)`))),
      };
    } catch (err) {
      if ((err as { code?: unknown }).code !== '42501') throw err;
    }
    await client.query(`CREATE SCHEMA ${quoteId(name)}`);
    return {
      url: urlForSchema(base, name),
      name,
      kind: 'schema' as const,
      drop: () => withClient(base, async (c) => void (await c.query(`DROP SCHEMA IF EXISTS ${quoteId(name)} CASCADE`))),
    };
  });
}

export interface PostgresServer {
  /** server_version, e.g. `15.20 (Debian 15.20-0+deb12u1)` */
  version: string;
  /** as a connection made with the bench's URL sees them (the URL may set them, `?options=-c ...`) */
  settings: { synchronous_commit: string; fsync: string; full_page_writes: string; wal_sync_method: string };
  /** a commit is flushed to this server's disk before it is acknowledged */
  durable: boolean;
}

/** The server's version and durability, as the servers under test will see them (through `url`). */
export async function postgresServer(url: string): Promise<PostgresServer> {
  return withClient(url, async (client) => {
    const show = async (name: string) => (await client.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name] ?? '';
    const settings = {
      synchronous_commit: await show('synchronous_commit'),
      fsync: await show('fsync'),
      full_page_writes: await show('full_page_writes'),
      wal_sync_method: await show('wal_sync_method'),
    };
    return { version: await show('server_version'), settings, durable: isDurable(settings) };
  });
}

/** synchronous_commit off acknowledges before the WAL flush; fsync off never waits for the disk. */
export function isDurable(settings: Pick<PostgresServer['settings'], 'synchronous_commit' | 'fsync'>): boolean {
  return settings.synchronous_commit !== 'off' && settings.fsync === 'on';
}

/** Reads from the side what the servers wrote: mail waiting, POSTed invitations persisted. */
export interface SideReader {
  pendingMail(): Promise<number>;
  /** invitations whose email starts with `emailStem`, and their mail */
  persisted(emailStem: string): Promise<{ invitations: number; mail: number }>;
  /** the invitations with these email keys (lower case), each with its count of mail rows */
  lookup(emailKeys: readonly string[]): Promise<FoundRow[]>;
  close(): Promise<void>;
}

export function likePrefix(stem: string): string {
  return `${stem.replace(/[%_\\]/g, '\\$&')}%`;
}

export async function postgresReader(url: string): Promise<SideReader> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const count = async (text: string, values: unknown[] = []) => Number((await client.query<{ n: string }>(text, values)).rows[0]?.n ?? 0);
  return {
    pendingMail: () => count(`SELECT count(*) AS n FROM mail_outbox WHERE status = 'pending'`),
    async persisted(emailStem) {
      const like = likePrefix(emailStem);
      return {
        invitations: await count(`SELECT count(*) AS n FROM user_invitations WHERE email_key LIKE $1 ESCAPE '\\'`, [like]),
        mail: await count(
          `SELECT count(*) AS n FROM mail_outbox m JOIN user_invitations i ON i.id = m.invitation_id WHERE i.email_key LIKE $1 ESCAPE '\\'`,
          [like],
        ),
      };
    },
    async lookup(emailKeys) {
      const { rows } = await client.query<{ email_key: string; id: string; mail: string }>(
        `SELECT i.email_key, i.id, (SELECT count(*) FROM mail_outbox m WHERE m.invitation_id = i.id) AS mail
           FROM user_invitations i WHERE i.email_key = ANY($1::text[])`,
        [emailKeys],
      );
      return rows.map((r) => ({ emailKey: r.email_key, id: r.id, mail: Number(r.mail) }));
    },
    close: () => client.end(),
  };
}
