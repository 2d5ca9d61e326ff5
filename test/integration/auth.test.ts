/**
 * docs/behavior.md A1 and A2 over real HTTP: every authentication failure is the exact NOT_AUTHORIZED
 * body of B1.7 (no id, no X-Rate-Limit); writes need an ADMIN key, else the FORBIDDEN_ERROR of B1.13.
 */
import { createPrivateKey, generateKeyPairSync, randomUUID, type KeyObject } from 'node:crypto';
import { SignJWT, base64url, type JWTPayload } from 'jose';
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, forbidden, NOT_AUTHORIZED } from '../helpers/api-errors.js';
import { invitationBody, useTestServer, type ApiResponse } from '../helpers/harness.js';

const FORBIDDEN = errorBody(forbidden());

const TEAM_KEY_ROLES = ['ADMIN', 'FINANCE', 'APP_MANAGER', 'DEVELOPER', 'MARKETING', 'SALES', 'CUSTOMER_SUPPORT'] as const;

function expectNotAuthorized(res: ApiResponse): void {
  expect(res.status).toBe(401);
  expect(res.headers.get('content-type')).toBe('application/json');
  expect(res.body).toStrictEqual(NOT_AUTHORIZED);
  expect(res.headers.get('x-rate-limit')).toBeNull();
}

function expectOk(res: ApiResponse): void {
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('x-rate-limit')).toMatch(/^user-hour-lim:3600;user-hour-rem:\d+;$/);
}

describe('authentication (A1)', () => {
  const s = useTestServer();
  let key: { keyId: string; privateKeyPem: string; token: string };
  let privateKey: KeyObject;

  beforeAll(async () => {
    key = await s.keyWithRole('DEVELOPER');
    privateKey = createPrivateKey(key.privateKeyPem);
  });

  const nowSeconds = () => Math.floor(s.clock.now().getTime() / 1000);

  /** A team token exactly as given: header and claims are not completed. */
  function sign(claims: JWTPayload, header: Record<string, unknown> = {}, signingKey: KeyObject | Uint8Array = privateKey) {
    return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid: key.keyId, typ: 'JWT', ...header }).sign(signingKey);
  }

  /** A valid team token's claims, with changes. */
  function claims(changes: Record<string, unknown> = {}): JWTPayload {
    const now = nowSeconds();
    const out: Record<string, unknown> = { iss: s.issuerId, iat: now, exp: now + 1200, aud: 'appstoreconnect-v1', ...changes };
    for (const [k, v] of Object.entries(out)) if (v === undefined) delete out[k];
    return out;
  }

  const list = (token: string | null, headers?: Record<string, string>) =>
    s.call('GET', '/v1/userInvitations', { token, ...(headers ? { headers } : {}) });

  it('accepts a well-formed team token', async () => {
    expectOk(await list(await sign(claims())));
  });

  it('refuses a request without Authorization', async () => {
    expectNotAuthorized(await list(null));
  });

  it('refuses schemes other than Bearer and an empty bearer', async () => {
    const token = await sign(claims());
    expectNotAuthorized(await list(null, { authorization: `Basic ${Buffer.from('user:pass').toString('base64')}` }));
    expectNotAuthorized(await list(null, { authorization: token }));
    expectNotAuthorized(await list(null, { authorization: 'Bearer' }));
    expectNotAuthorized(await list(null, { authorization: 'Bearer   ' }));
    expectNotAuthorized(await list(null, { authorization: `Bearer ${token} extra` }));
  });

  it('refuses garbled tokens', async () => {
    const token = await sign(claims());
    const [h, p, sig] = token.split('.') as [string, string, string];
    for (const garbled of [
      'abc',
      'a.b.c',
      `${h}.${p}`,
      `${h}.${p}.`,
      `${h}.!!!.${sig}`,
      `${h}.${base64url.encode('not json')}.${sig}`,
      token.slice(0, -4),
    ]) {
      expectNotAuthorized(await list(garbled));
    }
  });

  it('refuses a token with no kid or an unknown kid', async () => {
    const noKid = await new SignJWT(claims()).setProtectedHeader({ alg: 'ES256', typ: 'JWT' }).sign(privateKey);
    expectNotAuthorized(await list(noKid));
    expectNotAuthorized(await list(await sign(claims(), { kid: 'ZZZZZZZZZZ' })));
  });

  it('refuses a revoked key from the next request on', async () => {
    const revoked = await s.keyWithRole('ADMIN');
    expectOk(await list(revoked.token));
    await s.services.keys.revoke(revoked.keyId);
    expectNotAuthorized(await list(revoked.token));
  });

  it('refuses a signature made by another key under the same kid', async () => {
    const other = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    expectNotAuthorized(await list(await sign(claims(), {}, other)));
  });

  it('refuses algorithms other than ES256', async () => {
    const secret = new TextEncoder().encode('a shared secret of at least thirty-two bytes');
    expectNotAuthorized(await list(await sign(claims(), { alg: 'HS256' }, secret)));
    const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).privateKey;
    expectNotAuthorized(await list(await sign(claims(), { alg: 'ES384' }, p384)));
    // the same ES256 signature under a header that claims ES384
    const es256 = await sign(claims());
    const relabelled = `${base64url.encode(JSON.stringify({ alg: 'ES384', kid: key.keyId, typ: 'JWT' }))}.${es256.split('.').slice(1).join('.')}`;
    expectNotAuthorized(await list(relabelled));
    const none = `${base64url.encode(JSON.stringify({ alg: 'none', kid: key.keyId }))}.${base64url.encode(JSON.stringify(claims()))}.`;
    expectNotAuthorized(await list(none));
  });

  it('refuses an expired token, and one that expires while in use', async () => {
    const now = nowSeconds();
    expectNotAuthorized(await list(await sign(claims({ iat: now - 600, exp: now - 1 }))));
    expectNotAuthorized(await list(await sign(claims({ iat: now - 600, exp: now }))));
    const token = await sign(claims({ iat: now, exp: now + 60 }));
    expectOk(await list(token));
    s.clock.advance(60_000);
    expectNotAuthorized(await list(token));
  });

  it('refuses a token without exp', async () => {
    expectNotAuthorized(await list(await sign(claims({ exp: undefined }))));
  });

  it('accepts a lifetime (exp - iat) of exactly 1200 s and refuses 1201 s', async () => {
    const now = nowSeconds();
    expectOk(await list(await sign(claims({ iat: now, exp: now + 1200 }))));
    expectNotAuthorized(await list(await sign(claims({ iat: now, exp: now + 1201 }))));
    // lifetime is exp - iat even when little of it is left
    expectNotAuthorized(await list(await sign(claims({ iat: now - 100, exp: now + 1101 }))));
    expectOk(await list(await sign(claims({ iat: now - 100, exp: now + 1100 }))));
  });

  it('measures a token without iat (as published clients send) from now: 1200 s pass, 1201 s fail', async () => {
    const now = nowSeconds();
    expectOk(await list(await sign(claims({ iat: undefined, exp: now + 1200 }))));
    expectOk(await list(await sign(claims({ iat: undefined, exp: now + 30 }))));
    expectNotAuthorized(await list(await sign(claims({ iat: undefined, exp: now + 1201 }))));
  });

  it('allows iat up to 60 s in the future and no further', async () => {
    const now = nowSeconds();
    expectOk(await list(await sign(claims({ iat: now + 60, exp: now + 60 + 1200 }))));
    expectNotAuthorized(await list(await sign(claims({ iat: now + 61, exp: now + 61 + 600 }))));
  });

  it('refuses an audience other than appstoreconnect-v1, or none', async () => {
    expectNotAuthorized(await list(await sign(claims({ aud: 'appstoreconnect-v2' }))));
    expectNotAuthorized(await list(await sign(claims({ aud: 'APPSTORECONNECT-V1' }))));
    expectNotAuthorized(await list(await sign(claims({ aud: undefined }))));
  });

  it("refuses a team token whose iss is not the team's issuer id, or has none", async () => {
    expectNotAuthorized(await list(await sign(claims({ iss: randomUUID() }))));
    expectNotAuthorized(await list(await sign(claims({ iss: undefined }))));
    expectNotAuthorized(await list(await sign(claims({ iss: undefined, sub: 'user' }))));
  });

  describe('scope (B1.5)', () => {
    it('passes a request matching an entry exactly', async () => {
      const token = await sign(claims({ scope: ['GET /v1/apps', 'GET /v1/userInvitations'] }));
      expectOk(await list(token));
      const apps = await s.call('GET', '/v1/apps', { token });
      expectOk(apps);
    });

    it('matches query parameters in any order, raw or encoded, ignoring limit, cursor and sort', async () => {
      const token = await sign(claims({ scope: ['GET /v1/userInvitations?filter[roles]=ADMIN&filter[email]=jane@example.com'] }));
      const res = await s.call('GET', '/v1/userInvitations?limit=5&filter%5Bemail%5D=jane%40example.com&sort=-email&filter[roles]=ADMIN', {
        token,
      });
      expectOk(res);
      expect(res.body.meta.paging.limit).toBe(5);
    });

    it('passes a write that matches, still subject to the role', async () => {
      const admin = await s.keyWithRole('ADMIN');
      const token = await s.token({
        privateKeyPem: admin.privateKeyPem,
        keyId: admin.keyId,
        issuerId: s.issuerId,
        scope: ['POST /v1/userInvitations'],
      });
      const res = await s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email: 'scoped@example.com' }) });
      expect(res.status, res.text).toBe(201);
      expectNotAuthorized(await list(token));
    });

    it('refuses a request that no entry matches', async () => {
      const only = await sign(claims({ scope: ['GET /v1/apps'] }));
      expectNotAuthorized(await list(only));
      const filtered = await sign(claims({ scope: ['GET /v1/userInvitations?filter[roles]=ADMIN'] }));
      expectNotAuthorized(await list(filtered));
      expectNotAuthorized(await s.call('GET', '/v1/userInvitations?filter[roles]=DEVELOPER', { token: filtered }));
      expectNotAuthorized(await s.call('GET', '/v1/userInvitations?filter[roles]=ADMIN&include=visibleApps', { token: filtered }));
      const wrongMethod = await sign(claims({ scope: ['DELETE /v1/userInvitations'] }));
      expectNotAuthorized(await list(wrongMethod));
    });

    it('refuses a scope that is not a non-empty array of entries', async () => {
      expectNotAuthorized(await list(await sign(claims({ scope: 'GET /v1/userInvitations' }))));
      expectNotAuthorized(await list(await sign(claims({ scope: [] }))));
      expectNotAuthorized(await list(await sign(claims({ scope: [{ method: 'GET', path: '/v1/userInvitations' }] }))));
    });
  });
});

describe('authorization (A2)', () => {
  const s = useTestServer();
  const tokens = new Map<string, string>();
  let invitationId: string;

  beforeAll(async () => {
    for (const role of TEAM_KEY_ROLES) tokens.set(role, (await s.keyWithRole(role)).token);
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'existing@example.com' }) });
    expect(created.status).toBe(201);
    invitationId = created.body.data.id;
  });

  it.each(TEAM_KEY_ROLES)('lets a %s key read invitations and apps', async (role) => {
    const token = tokens.get(role)!;
    const list = await s.call('GET', '/v1/userInvitations', { token });
    expectOk(list);
    expect(list.body.data.map((d: { id: string }) => d.id)).toContain(invitationId);
    expectOk(await s.call('GET', `/v1/userInvitations/${invitationId}`, { token }));
    expectOk(await s.call('GET', `/v1/userInvitations/${invitationId}/visibleApps`, { token }));
    expectOk(await s.call('GET', `/v1/userInvitations/${invitationId}/relationships/visibleApps`, { token }));
    expectOk(await s.call('GET', '/v1/apps', { token }));
  });

  it.each(TEAM_KEY_ROLES.filter((r) => r !== 'ADMIN'))('refuses writes by a %s key with 403 and changes nothing', async (role) => {
    const token = tokens.get(role)!;
    const email = `${role.toLowerCase()}@example.com`;
    const post = await s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email }) });
    expect(post.status).toBe(403);
    expect(post.body).toStrictEqual(FORBIDDEN);
    expect(post.headers.get('x-rate-limit')).toMatch(/^user-hour-lim:3600;user-hour-rem:\d+;$/);
    expect(post.headers.get('location')).toBeNull();

    const del = await s.call('DELETE', `/v1/userInvitations/${invitationId}`, { token });
    expect(del.status).toBe(403);
    expect(del.body).toStrictEqual(FORBIDDEN);

    // the role is checked before the body is read
    const badBody = await s.call('POST', '/v1/userInvitations', {
      token,
      rawBody: '{not json',
      headers: { 'content-type': 'application/json' },
    });
    expect(badBody.status).toBe(403);
    expect(badBody.body).toStrictEqual(FORBIDDEN);

    const after = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(email)}`);
    expect(after.body.data).toEqual([]);
    expectOk(await s.call('GET', `/v1/userInvitations/${invitationId}`));
  });

  it('lets an ADMIN key create and delete', async () => {
    const token = tokens.get('ADMIN')!;
    const post = await s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email: 'new-by-admin@example.com' }) });
    expect(post.status, post.text).toBe(201);
    const del = await s.call('DELETE', `/v1/userInvitations/${post.body.data.id}`, { token });
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    expect((await s.call('GET', `/v1/userInvitations/${post.body.data.id}`, { token })).status).toBe(404);
  });

  it('authenticates before authorizing: a bad token on a write is 401, not 403', async () => {
    expectNotAuthorized(
      await s.call('POST', '/v1/userInvitations', { token: 'garbage', body: invitationBody({ email: 'x@example.com' }) }),
    );
    expectNotAuthorized(await s.call('DELETE', `/v1/userInvitations/${invitationId}`, { token: null }));
  });
});
