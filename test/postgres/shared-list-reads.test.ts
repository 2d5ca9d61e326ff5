/**
 * Reads of the same list page that arrive together share a statement (src/db/shared-list-reads.ts),
 * through the server on PostgreSQL. While another transaction holds the invitations' table, the
 * first statement of each page waits for it, and every read of that page that arrives meanwhile
 * joins the next one; each request still gets its page. And while reads of a page keep statements
 * out, every read that follows an acknowledged create finds it (that no read is answered by a
 * statement sent before it arrived is shown step by step in test/unit/db/shared-list-reads.test.ts).
 * With ASC_TEST_SHARED_LIST_READS=off each page is read alone, and the answers are the same.
 */
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { PreparedList } from '../../src/db/list-query.js';
import { SharedListReads } from '../../src/db/shared-list-reads.js';
import { invitationBody, useTestServer } from '../helpers/harness.js';

const SHARED = process.env.ASC_TEST_SHARED_LIST_READS !== 'off';

interface ListBody {
  data: Array<{ id: string }>;
  meta: { paging: { total: number } };
}

describe('list reads on PostgreSQL', () => {
  const s = useTestServer();

  async function invite(n: number, prefix: string): Promise<void> {
    for (let i = 0; i < n; i++) {
      const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: `${prefix}${i}@example.com` }) });
      expect(res.status, res.text).toBe(201);
    }
  }

  it('share a statement per page while the table cannot be read, and each request gets its page', async () => {
    await invite(6, 'locked');
    const pages = [...Array(12).fill('/v1/userInvitations?limit=5'), ...Array(6).fill('/v1/userInvitations?limit=2')] as string[];
    const alone = await Promise.all(['/v1/userInvitations?limit=5', '/v1/userInvitations?limit=2'].map((p) => s.call('GET', p)));

    // the lock and the polling on connections of their own, not the server's pool
    const holder = new pg.Client({ connectionString: s.config.databaseUrl });
    const watcher = new pg.Client({ connectionString: s.config.databaseUrl });
    await holder.connect();
    await watcher.connect();
    try {
      const joins = vi.spyOn(SharedListReads.prototype, 'read');
      // the statements a page's reads are answered by (private: spied on at run time)
      const statements = vi.spyOn(PreparedList.prototype as unknown as { readPageAndCount: () => unknown }, 'readPageAndCount');
      await holder.query('begin');
      await holder.query('lock table user_invitations in access exclusive mode');
      const answers = pages.map((p) => s.call<ListBody>('GET', p));
      const waiting = async () =>
        (
          await watcher.query<{ n: number }>(
            `select count(*)::integer as n from pg_stat_activity
              where wait_event_type = 'Lock' and query like 'select "m"."id"%from "user_invitations"%'`,
          )
        ).rows[0]!.n;
      // a condition, polled: when shared, one statement per page waits for the lock and every
      // request waits for it or for the next (the same instance reads both pages)
      if (SHARED) {
        await expect
          .poll(async () => [await waiting(), (joins.mock.contexts[0] as SharedListReads<unknown> | undefined)?.reading])
          .toEqual([2, pages.length]);
      } else {
        await expect.poll(waiting).toBeGreaterThan(2);
      }
      await holder.query('commit');
      const bodies = (await Promise.all(answers)).map((r) => {
        expect(r.status, r.text).toBe(200);
        return r.body.data.map((d) => d.id);
      });
      const [five, two] = alone.map((r) => (r.body as ListBody).data.map((d) => d.id));
      expect(five).toHaveLength(5);
      expect(two).toHaveLength(2);
      expect(bodies).toEqual(pages.map((p) => (p.endsWith('=5') ? five : two)));
      // the two that waited for the lock, and for each page one for the reads that arrived meanwhile
      if (SHARED) expect(statements.mock.calls.length).toBeLessThanOrEqual(4);
      else expect(statements.mock.calls.length).toBe(pages.length);
      joins.mockRestore();
      statements.mockRestore();
    } finally {
      await holder.end();
      await watcher.end();
    }
  });

  it('finds an acknowledged create in every read that follows it, while reads of the page keep statements out', async () => {
    const PAGE = '/v1/userInvitations?limit=1&filter[email]=';
    let stop = false;
    // readers of one page, each sending its next read as the last is answered
    const background = Array.from({ length: 4 }, async () => {
      let reads = 0;
      while (!stop) {
        expect((await s.call('GET', `/v1/userInvitations?limit=3`)).status).toBe(200);
        reads++;
      }
      return reads;
    });
    const before = (await s.call<ListBody>('GET', '/v1/userInvitations?limit=1')).body.meta.paging.total;
    try {
      for (let i = 1; i <= 12; i++) {
        const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: `fresh${i}@example.com` }) });
        expect(res.status, res.text).toBe(201);
        const reads = await Promise.all(Array.from({ length: 4 }, () => s.call<ListBody>('GET', '/v1/userInvitations?limit=3')));
        for (const r of reads) expect(r.body.meta.paging.total).toBe(before + i);
        const found = await s.call<ListBody>('GET', `${PAGE}fresh${i}@example.com`);
        expect(found.body.data).toHaveLength(1);
      }
    } finally {
      stop = true;
      await Promise.allSettled(background);
    }
    expect(Math.min(...(await Promise.all(background)))).toBeGreaterThan(0);
  });
});
