/**
 * A create checks its key in its own statement (src/keys/key-check.ts): a team key read before is
 * taken as it was read, and the create's statement writes only if the key is still so. Each case
 * reads its key once (so that it is remembered), then revokes or changes it, then creates: the
 * answer is the 401 a revoked key always gets, whatever else is wrong with the request, and nothing
 * is written. With ASC_TEST_ONE_STATEMENT_CREATE=off every request reads its key first, and the
 * same answers hold.
 */
import { generateKeyPairSync } from 'node:crypto';
import { describe, expect, it, vi } from 'vitest';
import { mintToken } from '../../src/keys/token.js';
import { createUser, individualKey } from '../helpers/users.js';
import { invitationBody, useTestServer, visibleApps, type ApiResponse, type TestServer } from '../helpers/harness.js';

const LIST = '/v1/userInvitations?limit=1';

function expectNotAuthorized(res: ApiResponse): void {
  expect(res.status, res.text).toBe(401);
  expect(res.body.errors[0].code).toBe('NOT_AUTHORIZED');
  // no quota is told to a key that is not valid (A18)
  expect(res.headers.get('x-rate-limit')).toBeNull();
}

/** A team ADMIN key that has been read once (a list), then revoked. */
async function revokedAfterUse(s: TestServer): Promise<string> {
  const key = await s.keyWithRole('ADMIN');
  expect((await s.call('GET', LIST, { token: key.token })).status).toBe(200);
  await s.services.keys.revoke(key.keyId);
  return key.token;
}

async function nothingWrittenFor(s: TestServer, email: string): Promise<void> {
  const k = s.db.kysely;
  expect(await k.selectFrom('user_invitations').select('id').where('email_key', '=', email.toLowerCase()).execute()).toEqual([]);
  expect(await k.selectFrom('email_claims').select('email_key').where('email_key', '=', email.toLowerCase()).execute()).toEqual([]);
  expect(await k.selectFrom('mail_outbox').select('id').where('recipient', '=', email).execute()).toEqual([]);
}

describe('a create with a key revoked since it was read', () => {
  const s = useTestServer();

  it('is refused with 401 and writes nothing', async () => {
    const token = await revokedAfterUse(s);
    const email = 'revoked-create@example.com';
    expectNotAuthorized(await s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email }) }));
    await nothingWrittenFor(s, email);
  });

  it('is refused with 401 before any other refusal', async () => {
    const taken = 'taken-by-another@example.com';
    expect((await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: taken }) })).status).toBe(201);
    const cases: Array<[string, (token: string) => Promise<ApiResponse>]> = [
      ['an invalid body', (token) => s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ firstName: '' }) })],
      ['a taken email', (token) => s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email: taken }) })],
      [
        'an unknown app',
        (token) =>
          s.call('POST', '/v1/userInvitations', {
            token,
            body: invitationBody({ email: 'unknown-app@example.com', roles: ['DEVELOPER'] }, visibleApps('9999999999')),
          }),
      ],
      ['no body', (token) => s.call('POST', '/v1/userInvitations', { token })],
      [
        'a body that is not JSON',
        (token) => s.call('POST', '/v1/userInvitations', { token, rawBody: '{"data":', headers: { 'content-type': 'application/json' } }),
      ],
      [
        'an Accept it cannot answer',
        (token) =>
          s.call('POST', '/v1/userInvitations', {
            token,
            body: invitationBody({ email: 'accept@example.com' }),
            headers: { accept: 'text/html' },
          }),
      ],
    ];
    for (const [what, send] of cases) {
      const res = await send(await revokedAfterUse(s));
      expect(res.status, `${what}: ${res.text}`).toBe(401);
      expectNotAuthorized(res);
    }
    for (const email of ['unknown-app@example.com', 'accept@example.com']) await nothingWrittenFor(s, email);
    const holders = await s.db.kysely.selectFrom('user_invitations').select('id').where('email_key', '=', taken).execute();
    expect(holders).toHaveLength(1);
  });

  it('a key whose public half changed since it was read: the old signature is refused, the new one accepted', async () => {
    const key = await s.keyWithRole('ADMIN');
    expect((await s.call('GET', LIST, { token: key.token })).status).toBe(200);
    // the key's row now holds another public half (a state import, say)
    const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await s.db.kysely
      .updateTable('api_keys')
      .set({ public_key: publicKey.export({ type: 'spki', format: 'pem' }).toString() })
      .where('id', '=', key.keyId)
      .execute();
    const old = 'old-signature@example.com';
    expectNotAuthorized(await s.call('POST', '/v1/userInvitations', { token: key.token, body: invitationBody({ email: old }) }));
    await nothingWrittenFor(s, old);
    const fresh = await mintToken({
      now: s.clock.now(),
      privateKeyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyId: key.keyId,
      issuerId: s.issuerId,
    });
    const res = await s.call('POST', '/v1/userInvitations', { token: fresh, body: invitationBody({ email: 'new-signature@example.com' }) });
    expect(res.status, res.text).toBe(201);
  });

  it('a live key read before: the create does not read it again, and is written', async () => {
    const key = await s.keyWithRole('ADMIN');
    expect((await s.call('GET', LIST, { token: key.token })).status).toBe(200);
    const find = vi.spyOn(s.services.keyLookup, 'find');
    try {
      const res = await s.call('POST', '/v1/userInvitations', { token: key.token, body: invitationBody({ email: 'live@example.com' }) });
      expect(res.status, res.text).toBe(201);
      expect(res.headers.get('x-rate-limit')).toMatch(/^user-hour-lim:\d+;user-hour-rem:\d+;$/);
      // with the one-statement create off, authentication reads the key as for any request
      expect(find).toHaveBeenCalledTimes(s.config.oneStatementCreate ? 0 : 1);
    } finally {
      find.mockRestore();
    }
    const written = await s.db.kysely.selectFrom('user_invitations').select('id').where('email_key', '=', 'live@example.com').execute();
    expect(written).toHaveLength(1);
  });

  it("an individual key is read on every request: its user's roles are as they are now", async () => {
    const userId = await createUser(s, { email: 'individual.admin@example.com', roles: ['ADMIN'] });
    const key = await individualKey(s, userId);
    expect((await s.call('GET', LIST, { token: key.token })).status).toBe(200);
    const find = vi.spyOn(s.services.keyLookup, 'find');
    try {
      const res = await s.call('POST', '/v1/userInvitations', {
        token: key.token,
        body: invitationBody({ email: 'by-individual@example.com' }),
      });
      expect(res.status, res.text).toBe(201);
      expect(find).toHaveBeenCalledTimes(1);
    } finally {
      find.mockRestore();
    }
    // the user goes: the key is revoked with them, and the next create is refused
    expect((await s.call('DELETE', `/v1/users/${userId}`)).status).toBe(204);
    const email = 'after-the-user-left@example.com';
    expectNotAuthorized(await s.call('POST', '/v1/userInvitations', { token: key.token, body: invitationBody({ email }) }));
    await nothingWrittenFor(s, email);
  });
});

describe('a create with a key revoked since it was read, its quota spent', () => {
  const s = useTestServer({ config: { rateLimitPerHour: 2 } });

  it('gets the 401, not the 429', async () => {
    const key = await s.keyWithRole('ADMIN');
    expect((await s.call('GET', LIST, { token: key.token })).status).toBe(200);
    expect((await s.call('GET', LIST, { token: key.token })).status).toBe(200);
    const over = await s.call('POST', '/v1/userInvitations', { token: key.token, body: invitationBody({ email: 'over@example.com' }) });
    expect(over.status, over.text).toBe(429);
    await s.services.keys.revoke(key.keyId);
    const email = 'over-and-revoked@example.com';
    expectNotAuthorized(await s.call('POST', '/v1/userInvitations', { token: key.token, body: invitationBody({ email }) }));
    await nothingWrittenFor(s, 'over@example.com');
    await nothingWrittenFor(s, email);
  });
});
