/**
 * The benchmark's seed on PostgreSQL: the same rows as the SQLite seed (./seed.ts, SeedGenerator,
 * in the same order), through PostgreSQL's bulk path. Migrations run through the project's
 * openDatabase(); then, on one plain `pg` connection, each batch of invitations goes in as one
 * multi-row INSERT per table (`INSERT ... SELECT * FROM unnest($1::text[], ...)`: a column per
 * array parameter, so a statement holds any number of rows), one transaction per batch.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { openDatabase } from '../src/db/database.js';
import {
  APP_COLUMNS,
  CLAIM_COLUMNS,
  INVITATION_COLUMNS,
  MAIL_COLUMNS,
  ROLE_COLUMNS,
  ROW_COUNT_UPDATE,
  SEEDED_TABLES,
  SeedGenerator,
  seedResult,
  VISIBLE_APP_COLUMNS,
  type Cell,
  type SeedOptions,
  type SeedResult,
} from './seed.js';

/** The statement that inserts `columns` of `table` from one array per column, each cast to the column's type. */
export function unnestInsert(table: string, columns: readonly string[], types: Readonly<Record<string, string>>): string {
  const arrays = columns.map((c, i) => {
    const type = types[c];
    if (!type) throw new Error(`${table}.${c}: no such column`);
    return `$${i + 1}::${type}[]`;
  });
  return `INSERT INTO ${table} (${columns.join(', ')}) SELECT * FROM unnest(${arrays.join(', ')})`;
}

/** Rows (lists of cells) turned into one list per column. */
export function toColumns(rows: readonly (readonly Cell[])[], width: number): Cell[][] {
  const columns: Cell[][] = Array.from({ length: width }, () => []);
  for (const row of rows) for (let i = 0; i < width; i++) columns[i]!.push(row[i] ?? null);
  return columns;
}

export async function seedPostgres(options: SeedOptions & { databaseUrl: string }): Promise<SeedResult> {
  const migrated = await openDatabase({ dataDir: options.dataDir, databaseUrl: options.databaseUrl });
  await migrated.close();

  const generator = new SeedGenerator(options);
  const client = new pg.Client({ connectionString: options.databaseUrl });
  await client.connect();
  try {
    // Seeding is set-up, not the measured write path: this connection's commits do not wait for
    // the WAL flush (a seed that dies is simply run again). The server's connections keep the
    // server's setting (the report says which).
    await client.query('SET synchronous_commit = off');
    await client.query(`SET maintenance_work_mem = '256MB'`);

    const types: Record<string, Record<string, string>> = {};
    const columnTypes = await client.query<{ table: string; column: string; type: string }>(
      `SELECT table_name AS table, column_name AS column, udt_name AS type FROM information_schema.columns
        WHERE table_schema = current_schema() AND table_name = ANY($1)`,
      [SEEDED_TABLES],
    );
    for (const r of columnTypes.rows) (types[r.table] ??= {})[r.column] = r.type;
    const statement = (table: string, columns: readonly string[]) => unnestInsert(table, columns, types[table] ?? {});

    // Secondary indexes are dropped and then rebuilt from their own definitions (as the migrations
    // wrote them), as on SQLite; those behind a constraint (primary keys, UNIQUE columns) stay.
    const indexes = await client.query<{ name: string; sql: string }>(
      `SELECT i.indexname AS name, i.indexdef AS sql FROM pg_indexes i
        WHERE i.schemaname = current_schema() AND i.tablename = ANY($1)
          AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = format('%I.%I', i.schemaname, i.indexname)::regclass)`,
      [SEEDED_TABLES],
    );

    const started = performance.now();
    for (const index of indexes.rows) await client.query(`DROP INDEX "${index.name}"`);
    const appRows = generator.appRows();
    await client.query(statement('apps', APP_COLUMNS), toColumns(appRows, APP_COLUMNS.length));

    const insert = {
      invitations: statement('user_invitations', INVITATION_COLUMNS),
      roles: statement('user_invitation_roles', ROLE_COLUMNS),
      visibleApps: statement('user_invitation_visible_apps', VISIBLE_APP_COLUMNS),
      claims: statement('email_claims', CLAIM_COLUMNS),
      mail: statement('mail_outbox', MAIL_COLUMNS),
    };
    for (let from = 0; from < options.size; from += options.batch) {
      const to = Math.min(options.size, from + options.batch);
      const tokenBytes = randomBytes(32 * options.batch);
      const batch = {
        invitations: [] as Cell[][],
        roles: [] as Cell[][],
        visibleApps: [] as Cell[][],
        claims: [] as Cell[][],
        mail: [] as Cell[][],
      };
      for (let n = from; n < to; n++) {
        const rows = generator.invitation(n, tokenBytes);
        batch.invitations.push(rows.invitation);
        batch.roles.push(...rows.roles);
        batch.visibleApps.push(...rows.visibleApps);
        batch.claims.push(rows.claim);
        batch.mail.push(rows.mail);
      }
      await client.query('BEGIN');
      try {
        await client.query(insert.invitations, toColumns(batch.invitations, INVITATION_COLUMNS.length));
        if (batch.roles.length > 0) await client.query(insert.roles, toColumns(batch.roles, ROLE_COLUMNS.length));
        if (batch.visibleApps.length > 0) await client.query(insert.visibleApps, toColumns(batch.visibleApps, VISIBLE_APP_COLUMNS.length));
        await client.query(insert.claims, toColumns(batch.claims, CLAIM_COLUMNS.length));
        await client.query(insert.mail, toColumns(batch.mail, MAIL_COLUMNS.length));
        await client.query('COMMIT');
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      }
      options.onProgress?.(to, options.size);
    }
    // This commit waits for the WAL flush, and with it every commit before it: VACUUM marks a page
    // all-visible only once the commits of its rows are on disk (an asynchronous commit's rows
    // are not, until the WAL writer comes by), and left unmarked the list would read the table.
    await client.query('SET synchronous_commit = on');
    await client.query(ROW_COUNT_UPDATE.replace('?', '$1'), [options.size]);
    const indexStarted = performance.now();
    for (const index of indexes.rows) await client.query(index.sql);
    // What autovacuum would do shortly after a bulk load, done now so that the first run does not
    // measure it: planner statistics, and the visibility map that lets the list read its page from
    // the covering indexes alone (an index-only scan) instead of visiting every row.
    await client.query(`VACUUM (ANALYZE) ${SEEDED_TABLES.join(', ')}`);
    const indexSeconds = (performance.now() - indexStarted) / 1000;
    const seconds = (performance.now() - started) / 1000;
    const size = await client.query<{ bytes: string }>(
      `SELECT coalesce(sum(pg_total_relation_size(format('%I.%I', schemaname, tablename)::regclass)), 0) AS bytes
         FROM pg_tables WHERE schemaname = current_schema() AND tablename = ANY($1)`,
      [SEEDED_TABLES],
    );
    return seedResult(generator, options.size, { seconds, indexSeconds, bytes: Number(size.rows[0]?.bytes ?? 0) });
  } finally {
    await client.end();
  }
}
