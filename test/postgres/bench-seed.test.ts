/**
 * The bench's PostgreSQL seed (bench/seed-postgres.ts) against its SQLite seed (bench/seed.ts): from
 * the same generator seed, the same rows in every table (but for what the clock and the random
 * activation tokens decide), the same secondary indexes afterwards, the row counter and the mail
 * log as the server expects them. The database is one the bench's own helper creates and drops.
 */
import { rmSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createBenchDatabase, type BenchDatabase } from '../../bench/postgres.js';
import { seedDatabase, SEEDED_TABLES, type SeedResult } from '../../bench/seed.js';
import { seedPostgres } from '../../bench/seed-postgres.js';
import { tempDir, TEST_PG_URL } from '../helpers/harness.js';

const SIZE = 250;
const options = { size: SIZE, apps: 20, batch: 100, publicUrl: 'http://127.0.0.1:8080', seed: 1 };

/** What both seeds must hold alike: no ids (UUIDv7 of the clock), times, token hashes or links. */
const PROJECTIONS: Record<string, string> = {
  apps: 'SELECT id, name, bundle_id, sku, primary_locale FROM apps ORDER BY id',
  invitations: `SELECT email, email_key, first_name, last_name, last_name_key, roles, all_apps_visible, provisioning_allowed, invited_by,
      token_hash IS NOT NULL AS has_token FROM user_invitations ORDER BY email_key`,
  roles: 'SELECT i.email_key, r.role FROM user_invitation_roles r JOIN user_invitations i ON i.id = r.invitation_id ORDER BY 1, 2',
  visibleApps:
    'SELECT i.email_key, v.app_id FROM user_invitation_visible_apps v JOIN user_invitations i ON i.id = v.invitation_id ORDER BY 1, 2',
  claims: `SELECT c.email_key, c.owner_type, c.owner_id = i.id AS owner_is_invitation
      FROM email_claims c LEFT JOIN user_invitations i ON i.email_key = c.email_key ORDER BY 1`,
  mail: `SELECT i.email_key, m.recipient, m.subject, m.text_body, m.html_body, m.status, m.attempts, m.claimed_until, m.last_error,
      m.sent_at = m.created_at AS sent_when_created, m.activation_link LIKE 'http://127.0.0.1:8080/activate/%' AS has_link,
      m.template_data IS NOT NULL AS has_data
      FROM mail_outbox m JOIN user_invitations i ON i.id = m.invitation_id ORDER BY 1`,
  rowCount: `SELECT CAST(sum(n) AS integer) AS n FROM row_counts WHERE table_name = 'user_invitations'`,
};

/** PostgreSQL answers booleans as booleans, SQLite as 0 and 1. */
function normalized(rows: Record<string, unknown>[]): Record<string, unknown>[] {
  return rows.map((r) => Object.fromEntries(Object.entries(r).map(([k, v]) => [k, typeof v === 'boolean' ? (v ? 1 : 0) : v])));
}

let dir: string;
let pgDir: string;
let database: BenchDatabase;
let client: pg.Client;
let onSqlite: SeedResult;
let onPostgres: SeedResult;
let sqlite: SQLite.Database;

beforeAll(async () => {
  dir = tempDir('bench-seed-');
  pgDir = tempDir('bench-seed-pg-');
  database = await createBenchDatabase(TEST_PG_URL, 'seedtest');
  onSqlite = await seedDatabase({ ...options, dataDir: dir });
  onPostgres = await seedPostgres({ ...options, dataDir: pgDir, databaseUrl: database.url });
  sqlite = new SQLite(onSqlite.file!, { readonly: true });
  client = new pg.Client({ connectionString: database.url });
  await client.connect();
}, 120_000);

afterAll(async () => {
  sqlite?.close();
  await client?.end();
  await database?.drop();
  for (const d of [dir, pgDir]) if (d) rmSync(d, { recursive: true, force: true });
});

describe('the bench seed on PostgreSQL', () => {
  it('reports the same counts, apps and sample as the SQLite seed', () => {
    expect(onPostgres.invitations).toBe(SIZE);
    expect(onPostgres.rowsByTable).toEqual(onSqlite.rowsByTable);
    expect(onPostgres.rows).toBe(onSqlite.rows);
    expect(onPostgres.rowsByTable.user_invitation_visible_apps).toBeGreaterThan(0);
    expect(onPostgres.apps).toEqual(onSqlite.apps);
    expect(onPostgres.sample.emails).toEqual(onSqlite.sample.emails);
    expect(onPostgres.sample.idsWithApps).toHaveLength(onSqlite.sample.idsWithApps.length);
    expect(onPostgres.file).toBeUndefined();
    expect(onPostgres.bytes).toBeGreaterThan(0);
  });

  it.each(Object.keys(PROJECTIONS))('holds the same %s as the SQLite seed', async (name) => {
    const text = PROJECTIONS[name]!;
    const expected = normalized(sqlite.prepare(text).all() as Record<string, unknown>[]);
    const actual = normalized((await client.query<Record<string, unknown>>(text)).rows);
    expect(actual).toEqual(expected);
    expect(actual.length).toBeGreaterThan(0);
  });

  it('counts every seeded row in each table', async () => {
    for (const table of SEEDED_TABLES) {
      const { rows } = await client.query<{ n: string }>(`SELECT count(*) AS n FROM ${table}`);
      expect(Number(rows[0]!.n), table).toBe(onSqlite.rowsByTable[table]);
    }
  });

  it('rebuilds every secondary index the SQLite seed rebuilds, and vacuums the tables', async () => {
    const inSqlite = (
      sqlite
        .prepare(
          `SELECT name FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${SEEDED_TABLES.map(() => '?').join(', ')})`,
        )
        .all(...SEEDED_TABLES) as { name: string }[]
    )
      .map((r) => r.name)
      .sort();
    const { rows } = await client.query<{ name: string }>(
      `SELECT i.indexname AS name FROM pg_indexes i WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
         AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)`,
      [SEEDED_TABLES],
    );
    expect(rows.map((r) => r.name).sort()).toEqual(inSqlite);
    expect(inSqlite).toContain('user_invitations_id_expires_at');
    const visible = await client.query<{ pages: number }>(
      `SELECT relallvisible AS pages FROM pg_class WHERE oid = 'user_invitations'::regclass`,
    );
    expect(visible.rows[0]!.pages).toBeGreaterThan(0);
  });

  it('drops the database it made', async () => {
    const scratch = await createBenchDatabase(TEST_PG_URL, 'droptest');
    const exists = async () => {
      const admin = new pg.Client({ connectionString: TEST_PG_URL });
      await admin.connect();
      try {
        const { rows } = await admin.query(
          scratch.kind === 'database' ? 'SELECT 1 FROM pg_database WHERE datname = $1' : 'SELECT 1 FROM pg_namespace WHERE nspname = $1',
          [scratch.name],
        );
        return rows.length === 1;
      } finally {
        await admin.end();
      }
    };
    // a connection still open does not keep it
    const open = new pg.Client({ connectionString: scratch.url });
    await open.connect();
    open.on('error', () => undefined);
    expect(await exists()).toBe(true);
    await scratch.drop();
    expect(await exists()).toBe(false);
    await open.end().catch(() => undefined);
  });
});
