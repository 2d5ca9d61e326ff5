/**
 * A list's page and its total in one statement on PostgreSQL (PreparedList.pageAndCount with
 * `countInPage`, src/db/list-query.ts): for random requests of the invitation and app lists
 * (filters, sorts, cursors, limits) it reads what the page's statement and the count's statement
 * read apart, in one round trip; a page with no rows carries no count and is counted apart.
 */
import fc from 'fast-check';
import type { Kysely, KyselyPlugin } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { GroupCommit } from '../../src/db/group-commit.js';
import type { SortColumn } from '../../src/db/keyset.js';
import type { ListRequest } from '../../src/db/list-query.js';
import type { Database } from '../../src/db/schema.js';
import { AppsRepository } from '../../src/resources/apps/repository.js';
import { InvitationsRepository } from '../../src/resources/user-invitations/repository.js';
import { invitationBody, useTestServer, visibleApps } from '../helpers/harness.js';

/** Counts the statements run through the Kysely instance it is plugged into. */
function counter(): { plugin: KyselyPlugin; n: number } {
  const c = {
    n: 0,
    plugin: {
      transformQuery: (args: Parameters<KyselyPlugin['transformQuery']>[0]) => args.node,
      transformResult: async (args: Parameters<KyselyPlugin['transformResult']>[0]) => {
        c.n++;
        return args.result;
      },
    },
  };
  return c;
}

const ROLES = ['ADMIN', 'DEVELOPER', 'MARKETING', 'SALES'];

/** A page read in one statement, as the two statements read it: each row carries the total (`list_total`), which is left out. */
function apart<R extends object>(page: { rows: R[]; total: number }): { rows: R[]; total: number } {
  return {
    rows: page.rows.map((row) => {
      const { list_total, ...rest } = row as R & { list_total: unknown };
      expect(Number(list_total)).toBe(page.total);
      return rest as R;
    }),
    total: page.total,
  };
}

describe('a list page and its count in one statement', () => {
  const s = useTestServer();
  const emails: string[] = [];
  const appIds: string[] = [];
  let kysely: Kysely<Database>;
  let statements: ReturnType<typeof counter>;

  beforeAll(async () => {
    for (let i = 0; i < 6; i++) appIds.push(await s.createApp(`App ${String.fromCharCode(70 - i)}`));
    for (let i = 0; i < 14; i++) {
      const email = `person${(i * 5) % 14}@example.com`;
      const roles = i % 3 === 0 ? ['ADMIN'] : [ROLES[1 + (i % 3)]!];
      const apps = roles[0] === 'ADMIN' ? [] : appIds.slice(i % 4, (i % 4) + (i % 3));
      const res = await s.call('POST', '/v1/userInvitations', {
        body: invitationBody({ email, lastName: `Last ${i % 5}`, roles, allAppsVisible: apps.length === 0 }, visibleApps(...apps)),
      });
      expect(res.status, res.text).toBe(201);
      emails.push(email);
    }
    statements = counter();
    kysely = s.db.kysely.withPlugin(statements.plugin);
  });

  const sometimes = <T>(arb: fc.Arbitrary<T>) => fc.option(arb, { nil: undefined });

  it('reads the invitations of random requests as the page and the count read them apart', async () => {
    const writes = new GroupCommit(s.db);
    const one = new InvitationsRepository(kysely, writes, undefined, { countInPage: true });
    const two = new InvitationsRepository(s.db.kysely, writes, undefined, { countInPage: false });
    const now = s.clock.now().toISOString();
    const request = fc.record({
      email: sometimes(fc.subarray([...emails, 'nobody@example.com'], { minLength: 1, maxLength: 3 })),
      roles: sometimes(fc.subarray(ROLES, { minLength: 1, maxLength: 2 })),
      apps: sometimes(fc.subarray(appIds, { minLength: 1, maxLength: 2 })),
      sort: fc.constantFrom<SortColumn[]>([], [{ column: 'email_key', desc: false }], [{ column: 'last_name_key', desc: true }]),
      limit: fc.integer({ min: 1, max: 6 }),
      afterIndex: sometimes(fc.nat(20)),
    });
    let empty = 0;
    let full = 0;
    await fc.assert(
      fc.asyncProperty(request, async (r) => {
        const base: ListRequest = { scope: now, filters: [r.email, r.roles, r.apps], sort: r.sort };
        // a cursor: a row of the whole list, as the last of a page would be
        let req = base;
        if (r.afterIndex !== undefined) {
          const all = await two.page(base, 100);
          const row = all[r.afterIndex % Math.max(all.length, 1)];
          if (row) req = { ...base, after: { keys: r.sort.map((c) => row[c.column]!), id: row.id } };
        }
        const before = statements.n;
        const together = await one.pageAndCount(req, r.limit);
        const used = statements.n - before;
        expect(apart(together)).toEqual({ rows: await two.page(req, r.limit), total: await two.count(req) });
        expect(used).toBe(together.rows.length === 0 ? 2 : 1);
        if (together.rows.length === 0) empty++;
        else full++;
      }),
      { numRuns: 120 },
    );
    // both kinds of page were seen
    expect(empty).toBeGreaterThan(0);
    expect(full).toBeGreaterThan(0);
  });

  it('reads a page of whole rows (apps) with its count', async () => {
    const one = new AppsRepository(kysely, undefined, { countInPage: true });
    const two = new AppsRepository(s.db.kysely, undefined, { countInPage: false });
    const none = Array<undefined>(11).fill(undefined);
    const requests: ListRequest[] = [
      { filters: none, sort: [{ column: 'name', desc: false }] },
      { filters: [appIds.slice(0, 3), ...none.slice(1)], sort: [{ column: 'name', desc: true }] },
      { filters: [['0000000000'], ...none.slice(1)], sort: [] },
    ];
    for (const req of requests) {
      expect(apart(await one.pageAndCount(req, 2))).toEqual({ rows: await two.page(req, 2), total: await two.count(req) });
    }
    expect((await one.pageAndCount(requests[0]!, 2)).total).toBe(appIds.length);
  });
});
