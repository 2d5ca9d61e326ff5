/**
 * The mail worker's claim on PostgreSQL reads its batch from the due index in order (migration
 * 011), whatever the statistics say. They are gathered while the mail log is mostly delivered, so
 * they tell the planner that hardly any message waits; with the index of 002 it then sorted every
 * waiting message to find the first twenty, and a claim's cost grew with the backlog.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Config } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import type { Database } from '../../src/db/schema.js';
import { OutboxRepository, type NewOutboxRow } from '../../src/mail/outbox-repository.js';
import { testConfig } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';

const DELIVERED = 3000;
const WAITING = 2000;
const BASE = Date.parse('2026-01-01T00:00:00.000Z');

/** Message i: due in groups of four at the same instant, created in the reverse order of i. */
function message(i: number): NewOutboxRow {
  return {
    id: `m-${String(i).padStart(5, '0')}`,
    invitation_id: null,
    recipient: `r${i}@example.test`,
    subject: 'subject',
    text_body: '',
    html_body: '',
    template_data: null,
    activation_link: null,
    status: i < DELIVERED ? 'logged' : 'pending',
    attempts: 0,
    next_attempt_at: new Date(BASE + Math.floor(i / 4)).toISOString(),
    claimed_until: null,
    last_error: null,
    created_at: new Date(BASE - i).toISOString(),
    sent_at: null,
  };
}

describe('the mail claim on PostgreSQL', () => {
  let config: Config;
  let db: Db;
  let pool: pg.Pool;
  let kysely: Kysely<Database>;
  const captured: Array<{ sql: string; parameters: readonly unknown[] }> = [];

  beforeAll(async () => {
    config = testConfig();
    db = await openDatabase(config); // migrated to the latest version
    pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
    kysely = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters });
      },
    });
    const rows = Array.from({ length: DELIVERED + WAITING }, (_, i) => ({ ...message(i), status: 'logged' as const }));
    for (let i = 0; i < rows.length; i += 500)
      await kysely
        .insertInto('mail_outbox')
        .values(rows.slice(i, i + 500))
        .execute();
    // the statistics of a delivered log: no message waits
    await sql`analyze mail_outbox`.execute(kysely);
    await kysely.updateTable('mail_outbox').set({ status: 'pending' }).where('id', '>=', message(DELIVERED).id).execute();
  });

  afterAll(async () => {
    await kysely.destroy();
    await dropDatabase(config, db);
  });

  it('takes the first twenty due from the due index, without sorting the backlog', async () => {
    const outbox = new OutboxRepository(kysely, new GroupCommit({ kysely, dialect: 'postgres' }));
    captured.length = 0;
    const { claimed } = await outbox.claimDue(new Date(BASE + 10_000).toISOString(), new Date(BASE + 70_000).toISOString(), 20, {
      instance: 'plans',
      boot: 'b1',
    });
    const expected = Array.from({ length: WAITING }, (_, i) => message(DELIVERED + i))
      .sort(
        (a, b) =>
          a.next_attempt_at.localeCompare(b.next_attempt_at) || a.created_at.localeCompare(b.created_at) || a.id.localeCompare(b.id),
      )
      .slice(0, 20)
      .map((m) => m.id);
    expect(claimed.map((m) => m.id)).toEqual(expected);

    const update = captured.find((c) => c.sql.startsWith('update "mail_outbox"'))!;
    // the plan as a named statement runs it: PostgreSQL's generic plan, the parameters unknown
    const client = await pool.connect();
    try {
      await client.query('set plan_cache_mode = force_generic_plan');
      await client.query(`prepare claim as ${update.sql}`);
      const values = update.parameters.map((v) => (typeof v === 'number' ? String(v) : client.escapeLiteral(String(v))));
      const explained = await client.query<{ 'QUERY PLAN': string }>(`explain execute claim(${values.join(', ')})`);
      const plan = explained.rows.map((r) => r['QUERY PLAN']).join('\n');
      expect(plan).toMatch(/Index Scan using mail_outbox_due on mail_outbox/);
      expect(plan).not.toMatch(/Sort/);
    } finally {
      await client.query('deallocate all');
      await client.query('reset plan_cache_mode');
      client.release();
    }
  });
});
