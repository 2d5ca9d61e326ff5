/**
 * Concurrent writes over real HTTP against the real SQLite file (docs/behavior.md A9: the email is
 * unique among pending invitations and users, enforced so that concurrent creates cannot both win).
 * All requests of a batch are started before any is awaited (Promise.all).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, startTestServer, type ApiResponse, type TestServer } from '../helpers/harness.js';

const DUPLICATE = 'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE';

/** Every pending invitation, following links.next (path and query as the server wrote them). */
async function listAll(s: TestServer, query = 'limit=200'): Promise<Array<{ id: string; attributes: { email: string } }>> {
  const out: Array<{ id: string; attributes: { email: string } }> = [];
  let res = await s.call('GET', `/v1/userInvitations?${query}`);
  for (;;) {
    expect(res.status).toBe(200);
    out.push(...res.body.data);
    const next: string | undefined = res.body.links.next;
    if (!next) return out;
    const u = new URL(next);
    res = await s.call('GET', `${u.pathname}${u.search}`);
  }
}

function expectDuplicate(r: ApiResponse): void {
  expect(r.status).toBe(409);
  expect(r.body.errors).toHaveLength(1);
  expect(r.body.errors[0]).toMatchObject({ status: '409', code: DUPLICATE, source: { pointer: '/data/attributes/email' } });
}

/** `n` case variants of an address, all different strings, all the same address case-insensitively. */
function caseVariants(email: string, n: number): string[] {
  const letters = [...email].map((c, i) => (c.toLowerCase() !== c.toUpperCase() ? i : -1)).filter((i) => i >= 0);
  const out = new Set<string>();
  for (let k = 0; out.size < n; k++) {
    const chars = [...email];
    letters.forEach((pos, bit) => {
      if ((k >> bit) & 1) chars[pos] = chars[pos]!.toUpperCase();
    });
    out.add(chars.join(''));
  }
  return [...out];
}

describe('concurrent invitation writes', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { rateLimitPerHour: 1_000_000 } });
  });
  afterAll(async () => s.close());

  it('50 simultaneous creates for one email: exactly one 201 and 49 DUPLICATE 409s', async () => {
    const email = 'race@example.com';
    const results = await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        s.call('POST', '/v1/userInvitations', { body: invitationBody({ email, firstName: `Racer${i}` }) }),
      ),
    );
    const created = results.filter((r) => r.status === 201);
    const rejected = results.filter((r) => r.status !== 201);
    expect(created).toHaveLength(1);
    expect(rejected).toHaveLength(49);
    rejected.forEach(expectDuplicate);

    const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(email)}`);
    expect(list.body.meta.paging.total).toBe(1);
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([created[0]!.body.data.id]);
    // the winner is the one stored (its own first name), and it can be read back
    const winner = await s.call('GET', `/v1/userInvitations/${created[0]!.body.data.id}`);
    expect(winner.status).toBe(200);
    expect(winner.body.data.attributes.firstName).toBe(created[0]!.body.data.attributes.firstName);
  });

  it('50 simultaneous creates with case variants of one email: one wins, kept as given', async () => {
    const variants = caseVariants('mixed.case@example.org', 50);
    expect(new Set(variants).size).toBe(50);
    const results = await Promise.all(variants.map((email) => s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) })));
    const created = results.filter((r) => r.status === 201);
    expect(created).toHaveLength(1);
    results.filter((r) => r.status !== 201).forEach(expectDuplicate);
    const winnerEmail: string = created[0]!.body.data.attributes.email;
    expect(variants).toContain(winnerEmail);

    // whichever variant is used to filter, the one invitation is found, with the email as given
    for (const probe of [variants[0]!, variants[49]!, 'MIXED.CASE@EXAMPLE.ORG']) {
      const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(probe)}`);
      expect(list.body.meta.paging.total).toBe(1);
      expect(list.body.data[0].attributes.email).toBe(winnerEmail);
    }
    const all = await listAll(s);
    expect(all.filter((i) => i.attributes.email.toLowerCase() === 'mixed.case@example.org')).toHaveLength(1);
  });

  it('100 simultaneous creates of distinct emails all succeed and the total is exact', async () => {
    const before = (await s.call('GET', '/v1/userInvitations?limit=1')).body.meta.paging.total as number;
    const emails = Array.from({ length: 100 }, (_, i) => `crowd${String(i).padStart(3, '0')}@example.net`);
    const results = await Promise.all(emails.map((email) => s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) })));
    expect(results.map((r) => r.status)).toEqual(emails.map(() => 201));
    const ids = results.map((r) => r.body.data.id as string);
    expect(new Set(ids).size).toBe(100);

    const first = await s.call('GET', '/v1/userInvitations?limit=1');
    expect(first.body.meta.paging.total).toBe(before + 100);
    // paging through (limit=7 so that pages break mid-way) sees each one exactly once
    const all = await listAll(s, 'limit=7');
    expect(all).toHaveLength(before + 100);
    expect(new Set(all.map((i) => i.id)).size).toBe(all.length);
    const listed = new Set(all.map((i) => i.id));
    for (const id of ids) expect(listed.has(id)).toBe(true);
    expect(
      all
        .filter((i) => i.attributes.email.startsWith('crowd'))
        .map((i) => i.attributes.email)
        .sort(),
    ).toEqual(emails);
  });

  it('50 simultaneous deletes of one invitation: exactly one 204, the others 404, then the email is free again', async () => {
    const email = 'delete.race@example.com';
    const made = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) });
    expect(made.status).toBe(201);
    const id: string = made.body.data.id;
    const results = await Promise.all(Array.from({ length: 50 }, () => s.call('DELETE', `/v1/userInvitations/${id}`)));
    expect(results.filter((r) => r.status === 204)).toHaveLength(1);
    const others = results.filter((r) => r.status !== 204);
    expect(others).toHaveLength(49);
    for (const r of others) {
      expect(r.status).toBe(404);
      expect(r.body.errors[0]).toMatchObject({ status: '404', code: 'NOT_FOUND' });
    }
    expect((await s.call('GET', `/v1/userInvitations/${id}`)).status).toBe(404);

    // and a fresh race for the freed email has again exactly one winner
    const again = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: i % 2 ? email : email.toUpperCase() }) }),
      ),
    );
    expect(again.filter((r) => r.status === 201)).toHaveLength(1);
    again.filter((r) => r.status !== 201).forEach(expectDuplicate);
  });

  it('creates and deletes interleaved: the list ends exactly at the survivors', async () => {
    const seed = await Promise.all(
      Array.from({ length: 30 }, (_, i) =>
        s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: `churn${i}@example.com` }) }),
      ),
    );
    expect(seed.every((r) => r.status === 201)).toBe(true);
    const doomed = seed.filter((_, i) => i % 3 === 0).map((r) => r.body.data.id as string);
    const fresh = Array.from({ length: 30 }, (_, i) => `fresh${i}@example.com`);
    const results = await Promise.all([
      ...doomed.map((id) => s.call('DELETE', `/v1/userInvitations/${id}`)),
      ...fresh.map((email) => s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) })),
    ]);
    expect(results.slice(0, doomed.length).map((r) => r.status)).toEqual(doomed.map(() => 204));
    expect(results.slice(doomed.length).map((r) => r.status)).toEqual(fresh.map(() => 201));
    const all = await listAll(s, 'limit=13');
    const emails = new Set(all.map((i) => i.attributes.email));
    const ids = new Set(all.map((i) => i.id));
    for (const id of doomed) expect(ids.has(id)).toBe(false);
    expect([...emails].filter((e) => e.startsWith('churn')).length).toBe(30 - doomed.length);
    expect([...emails].filter((e) => e.startsWith('fresh')).length).toBe(30);
    expect(ids.size).toBe(all.length);
  });
});
