/**
 * The invitation list's statements on PostgreSQL, planned once for any arguments (the pool's
 * connections set plan_cache_mode = force_generic_plan, src/db/pg-statements.ts). Such a plan
 * guesses that a third of the table matches a range on `expires_at`; a plain count of the expired
 * rows then reads the whole table, on every request. The count walks the expiry index instead,
 * bounded (INVITATION_LIST.scopeCount), and counts them all only past that bound: this checks the
 * plan that runs, on a table whose rows have mostly not expired and, after a lagging sweeper,
 * mostly have.
 */
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { EXPIRED_PROBE, INVITATION_LIST } from '../../src/resources/user-invitations/repository.js';
import { testConfig } from '../helpers/harness.js';

const ROWS = 30_000;
const NOW = '2026-06-01T00:00:00.000Z';

interface PlanNode {
  'Node Type': string;
  'Relation Name'?: string;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

function nodes(plan: PlanNode): PlanNode[] {
  return [plan, ...(plan.Plans ?? []).flatMap(nodes)];
}

describe('the invitation list count on PostgreSQL', () => {
  let config: Config;
  let db: Db;
  let client: pg.Client;

  beforeAll(async () => {
    config = testConfig();
    db = await openDatabase(config); // migrated; its pool plans once
    // rows expire one a minute from 2026-05-31T12:00Z: 720 have expired at NOW
    await sql`insert into user_invitations (id, email, email_key, first_name, last_name, last_name_key, roles,
        all_apps_visible, provisioning_allowed, created_at, expires_at)
      select 'i' || lpad(g::text, 6, '0'), 'p' || g || '@example.com', 'p' || g || '@example.com', 'F', 'L', 'l',
        '["ADMIN"]', 1, 0, '2026-05-28T00:00:00.000Z',
        to_char(timestamp '2026-05-31 12:00:00' + g * interval '1 minute', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
      from generate_series(1, ${ROWS}) g`.execute(db.kysely);
    await sql`analyze user_invitations`.execute(db.kysely);
    client = new pg.Client({ connectionString: config.databaseUrl });
    await client.connect();
    await client.query('set plan_cache_mode = force_generic_plan');
  });

  afterAll(async () => {
    await client?.end();
    await db?.kysely.schema
      .dropSchema(await currentSchema())
      .cascade()
      .execute();
    await db?.close();
  });

  async function currentSchema(): Promise<string> {
    return (await sql<{ s: string }>`select current_schema() as s`.execute(db.kysely)).rows[0]!.s;
  }

  /** The count statement as the list runs it, its generic plan run with `now`: the count and the plan's nodes. */
  async function countAt(now: string): Promise<{ n: number; ran: PlanNode[]; all: PlanNode[] }> {
    const compiled = INVITATION_LIST.scopeCount!(db.kysely, now as never).compile(db.kysely);
    await client.query('deallocate all');
    await client.query(`prepare count_at as ${compiled.sql}`);
    const params = compiled.parameters.map((p) => `'${String(p)}'`).join(', ');
    const n = Number((await client.query<{ n: string }>(`execute count_at(${params})`)).rows[0]!.n);
    const explained = await client.query<{ 'QUERY PLAN': Array<{ Plan: PlanNode }> }>(
      `explain (analyze, format json) execute count_at(${params})`,
    );
    const all = nodes(explained.rows[0]!['QUERY PLAN'][0]!.Plan);
    return { n, ran: all.filter((node) => node['Actual Loops'] > 0), all };
  }

  it('walks the expiry index, never the table, while few rows have expired', async () => {
    const { n, ran } = await countAt(NOW);
    // the row counter is not kept by a direct insert: what is checked is the expired part
    const counter = Number(
      (await sql<{ n: string }>`select coalesce(sum(n), 0) as n from row_counts where table_name = 'user_invitations'`.execute(db.kysely))
        .rows[0]!.n,
    );
    expect(counter - n).toBe(720);
    expect(ran.filter((node) => node['Relation Name'] === 'user_invitations').map((node) => node['Node Type'])).toEqual([
      'Index Only Scan',
      'Index Only Scan',
    ]);
  });

  it('counts every expired row once more of them than the walk takes have expired', async () => {
    const later = '2026-06-20T00:00:00.000Z'; // 28,080 expired
    const { n, ran } = await countAt(later);
    const counter = Number(
      (await sql<{ n: string }>`select coalesce(sum(n), 0) as n from row_counts where table_name = 'user_invitations'`.execute(db.kysely))
        .rows[0]!.n,
    );
    expect(counter - n).toBe(28_080);
    expect(28_080).toBeGreaterThan(EXPIRED_PROBE);
    // the walk, which stops at its bound, and the count of them all
    expect(ran.filter((node) => node['Relation Name'] === 'user_invitations')).toHaveLength(2);
  });
});
