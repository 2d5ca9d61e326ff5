/**
 * Paths that end one invitation, run at the same time over real HTTP on the real database: the
 * invitee accepting on the activation page while an admin cancels it through the API, and the
 * accept racing the expiry sweeper. Exactly one side wins each round, the other gets the answer a
 * used, cancelled or expired invitation gets, and no one gets a 5xx: on PostgreSQL both sides lock
 * the invitation row before the email claim (src/resources/user-invitations/repository.ts).
 */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { invitationBody, PUBLIC_URL, useTestServer, type TestServer } from '../helpers/harness.js';
import { activationPath, CookieJar, csrfField, openPage } from '../helpers/pages.js';

const ROUNDS = 50;

/** Creates an invitation through the API; returns its id, email and the page path from its email. */
async function invite(s: TestServer, email: string) {
  const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) });
  expect(res.status, res.text).toBe(201);
  const id: string = res.body.data.id;
  const [mail] = await s.services.outbox.forInvitation(id);
  return { id, path: activationPath(mail!.activation_link!), expiresAt: Date.parse(res.body.data.attributes.expirationDate as string) };
}

async function usersNamed(s: TestServer, username: string): Promise<number> {
  const q = s.db.kysely
    .selectFrom('users')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('username', '=', username);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

describe('accept against cancel', () => {
  const s = useTestServer({ config: { rateLimitPerHour: 1_000_000 } });

  it(`${ROUNDS} rounds: one winner each, the other side 404 or 410, no 5xx, and the state agrees`, async () => {
    const serverErrors: string[] = [];
    let accepted = 0;
    let cancelled = 0;
    // what a used or cancelled link answers: the page of an unknown token
    const unknownPage = await openPage(s.baseUrl, 'GET', `/activate/${'A'.repeat(43)}`);
    expect(unknownPage.status).toBe(404);
    for (let round = 0; round < ROUNDS; round++) {
      const email = `race.${round}@example.com`;
      const inv = await invite(s, email);
      const jar = new CookieJar();
      const page = await openPage(s.baseUrl, 'GET', inv.path, { jar });
      expect(page.status).toBe(200);
      const csrf = csrfField(page.text);

      // both started before either is awaited
      const [accept, cancel] = await Promise.all([
        openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: { origin: PUBLIC_URL } }),
        // unchecked: a 500 must be counted here, not stop the round at the spec check
        s.call('DELETE', `/v1/userInvitations/${inv.id}`, { unchecked: true }),
      ]);
      if (accept.status >= 500 || cancel.status >= 500) {
        serverErrors.push(`round ${round}: accept ${accept.status}, cancel ${cancel.status} ${cancel.text.slice(0, 200)}`);
        continue;
      }

      const after = await s.call('GET', `/v1/userInvitations/${inv.id}`);
      if (accept.status === 303) {
        accepted++;
        expect(accept.headers.get('location')).toBe('../result/accepted');
        // the invitation was accepted before the cancel found it: 410, as for any accepted one
        expect(cancel.status).toBe(410);
        expect(cancel.body.errors[0]).toMatchObject({ status: '410', code: 'GONE', detail: `The invitation '${inv.id}' was accepted` });
        expect(await usersNamed(s, email)).toBe(1);
        expect(after.status).toBe(410);
      } else {
        // the cancel won: the link is as unknown as any cancelled one
        cancelled++;
        expect(cancel.status, cancel.text).toBe(204);
        expect(accept.status).toBe(404);
        expect(accept.text).toBe(unknownPage.text);
        expect(await usersNamed(s, email)).toBe(0);
        expect(after.status).toBe(404);
      }
    }
    expect(serverErrors, `${serverErrors.length} of ${ROUNDS} rounds gave a 5xx`).toEqual([]);
    expect(accepted + cancelled).toBe(ROUNDS);
    // a deadlock costs PostgreSQL's deadlock_timeout (1 s) to detect: without the lock order, rounds take seconds
  }, 120_000);
});

describe('accept against the expiry sweeper', () => {
  const start = Date.parse('2026-03-02T09:00:00.000Z');
  // the server's own sweeper stays out of the way: the test runs the sweep itself
  const s = useTestServer({ clock: new ManualClock(start), sweepIntervalMs: 3_600_000 });

  it(`${ROUNDS} rounds at the instant of expiry: the accept or the sweep wins, never an error`, async () => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const email = `sweep.race.${round}@example.com`;
      const inv = await invite(s, email);
      const token = inv.path.slice('/activate/'.length);
      // The clock decides who may win, deterministically: accept() and sweepExpired() read it before
      // their first await, so the accept sees the invitation pending one millisecond before it
      // expires and the sweep sees it expired. The database decides who comes first.
      s.clock.set(inv.expiresAt - 1);
      const accepting = s.services.activation.accept(token);
      s.clock.advance(1);
      const sweeping = s.services.invitations.sweepExpired();
      const [accept, sweep] = await Promise.allSettled([accepting, sweeping]);
      // back to the start, where the harness's admin token is valid; every round's invitation is gone by now
      s.clock.set(start);
      if (accept.status === 'rejected' || sweep.status === 'rejected') {
        const reason = (r: PromiseSettledResult<unknown>) => (r.status === 'rejected' ? String(r.reason) : 'ok');
        failures.push(`round ${round}: accept ${reason(accept)}, sweep ${reason(sweep)}`);
        continue;
      }

      const after = await s.call('GET', `/v1/userInvitations/${inv.id}`);
      expect(after.status).toBe(410);
      if (accept.value.state === 'accepted') {
        expect(sweep.value).toBe(0);
        expect(await usersNamed(s, email)).toBe(1);
        expect(after.body.errors[0].detail).toBe(`The invitation '${inv.id}' was accepted`);
      } else {
        // the sweep buried it first: the accept finds the token gone
        expect(accept.value.state).toBe('unknown');
        expect(sweep.value).toBe(1);
        expect(await usersNamed(s, email)).toBe(0);
        expect(after.body.errors[0].detail).toBe(`The invitation '${inv.id}' has expired`);
      }
    }
    expect(failures, `${failures.length} of ${ROUNDS} rounds failed`).toEqual([]);
  }, 120_000);
});
