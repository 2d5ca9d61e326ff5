/**
 * The expiry sweeper (A13): reads never wait for it, but it turns expired invitations into
 * tombstones, frees nothing that is still pending, and runs by itself.
 */
import { afterEach, describe, expect, it, vi } from 'vitest';
import { INVITATION_LIFETIME_MS } from '../../src/resources/user-invitations/service.js';
import { invitationBody, startTestServer, type TestServer } from '../helpers/harness.js';

describe('the expiry sweeper', () => {
  let s: TestServer | undefined;
  afterEach(async () => {
    await s?.close();
    s = undefined;
  });

  /** Tokens live 20 minutes of the test clock, which these tests move by days: a fresh one each time. */
  async function invite(server: TestServer, email: string): Promise<string> {
    const { token } = await server.keyWithRole('ADMIN');
    const res = await server.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email }) });
    expect(res.status).toBe(201);
    return res.body.data.id;
  }

  const rows = (server: TestServer) => server.db.kysely.selectFrom('user_invitations').select('id').orderBy('id').execute();
  const tombstones = (server: TestServer) =>
    server.db.kysely.selectFrom('invitation_tombstones').select(['id', 'outcome']).orderBy('id').execute();

  it('turns only expired invitations into tombstones, which still answer 410', async () => {
    s = await startTestServer();
    const old = [await invite(s, 'old1@example.com'), await invite(s, 'old2@example.com')];
    s.clock.advance(INVITATION_LIFETIME_MS / 2);
    const young = await invite(s, 'young@example.com');
    s.clock.advance(INVITATION_LIFETIME_MS / 2);

    expect(await s.services.invitations.sweepExpired()).toBe(2);
    expect((await rows(s)).map((r) => r.id)).toEqual([young]);
    expect(await tombstones(s)).toEqual(old.map((id) => ({ id, outcome: 'expired' })).sort((a, b) => a.id.localeCompare(b.id)));
    // nothing left to do: a second sweep finds nothing
    expect(await s.services.invitations.sweepExpired()).toBe(0);

    const token = await s.keyWithRole('ADMIN');
    for (const id of old) {
      const res = await s.call('GET', `/v1/userInvitations/${id}`, { token: token.token });
      expect(res.status).toBe(410);
      expect(res.body.errors[0].detail).toBe(`The invitation '${id}' has expired`);
    }
    // their addresses are free again; the pending one's is not
    expect(
      (await s.call('POST', '/v1/userInvitations', { token: token.token, body: invitationBody({ email: 'old1@example.com' }) })).status,
    ).toBe(201);
    expect(
      (await s.call('POST', '/v1/userInvitations', { token: token.token, body: invitationBody({ email: 'young@example.com' }) })).status,
    ).toBe(409);
  });

  it('sweeps in batches until nothing expired is left', async () => {
    s = await startTestServer();
    for (let n = 0; n < 7; n++) await invite(s, `batch${n}@example.com`);
    s.clock.advance(INVITATION_LIFETIME_MS);
    expect(await s.services.invitations.sweepExpired(3)).toBe(7);
    expect(await rows(s)).toEqual([]);
    expect(await tombstones(s)).toHaveLength(7);
  });

  it('two sweeps at once (as two instances would) bury each invitation once', async () => {
    s = await startTestServer();
    for (let n = 0; n < 6; n++) await invite(s, `both${n}@example.com`);
    s.clock.advance(INVITATION_LIFETIME_MS);
    const swept = await Promise.all([s.services.invitations.sweepExpired(2), s.services.invitations.sweepExpired(2)]);
    expect(swept[0]! + swept[1]!).toBe(6);
    expect(await tombstones(s)).toHaveLength(6);
    expect(await rows(s)).toEqual([]);
  });

  it('runs by itself at its interval', async () => {
    s = await startTestServer({ sweepIntervalMs: 20 });
    const id = await invite(s, 'timer@example.com');
    s.clock.advance(INVITATION_LIFETIME_MS);
    const server = s;
    await vi.waitFor(async () => expect(await tombstones(server)).toEqual([{ id, outcome: 'expired' }]), { timeout: 10_000, interval: 20 });
    expect(await rows(s)).toEqual([]);
  });
});
