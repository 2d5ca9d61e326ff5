/**
 * Individual API keys (docs/behavior.md A1, A2, B1.3, B1.11): a key acting as a team user, with that
 * user's roles as they are at each request, that dies with the user. And the operator commands
 * that make them and the Account Holder (`users create-account-holder`, `keys create
 * --individual-for`, `token` for such a key), run in this process on a real data directory.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { forbidden, NOT_AUTHORIZED, UUID } from '../helpers/api-errors.js';
import { jsonOutput, runCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, startTestServer, tempDir, visibleApps, type TestServer } from '../helpers/harness.js';
import { createUser, individualKey } from '../helpers/users.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NO_STACK = /^\s+at /m;

describe('individual keys', () => {
  let s: TestServer;
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@keys.example.com`;

  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s.close());

  const invite = (token: string, tag: string) =>
    s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: email(tag) }), token });

  it('of an ADMIN user: reads and writes, as that user (the invitation names them)', async () => {
    const id = await createUser(s, { email: email('admin'), firstName: 'Ada', lastName: 'Admin', roles: ['ADMIN'] });
    const { token } = await individualKey(s, id);
    const list = await s.call('GET', '/v1/users', { token });
    expect(list.status).toBe(200);
    expect(list.headers.get('x-rate-limit')).toBe('user-hour-lim:3600;user-hour-rem:3599;');
    const created = await invite(token, 'by-ada');
    expect(created.status, created.text).toBe(201);
    const row = await s.db.kysely
      .selectFrom('user_invitations')
      .select('invited_by')
      .where('id', '=', created.body.data.id)
      .executeTakeFirstOrThrow();
    expect(row.invited_by).toBe('Ada Admin');
    const other = await createUser(s, { email: email('other'), roles: ['SALES'] });
    expect(
      (
        await s.call('PATCH', `/v1/users/${other}`, {
          body: { data: { type: 'users', id: other, attributes: { roles: ['MARKETING'] } } },
          token,
        })
      ).status,
    ).toBe(200);
    expect((await s.call('DELETE', `/v1/users/${other}`, { token })).status).toBe(204);
  });

  it('of other users: reads only; writes are 403 (A2)', async () => {
    const app = await s.createApp('Limited');
    for (const [roles, apps] of [
      [['DEVELOPER'], [app]],
      [['FINANCE'], []],
      [['APP_MANAGER', 'CREATE_APPS', 'GENERATE_INDIVIDUAL_KEYS'], []],
    ] as const) {
      const id = await createUser(s, { email: email('reader'), roles: [...roles] }, apps.length > 0 ? visibleApps(...apps) : undefined);
      const { token } = await individualKey(s, id);
      expect((await s.call('GET', `/v1/users/${id}`, { token })).status).toBe(200);
      expect((await s.call('GET', '/v1/userInvitations', { token })).status).toBe(200);
      for (const [method, path, body] of [
        ['POST', '/v1/userInvitations', invitationBody({ email: email('nope') })],
        ['PATCH', `/v1/users/${id}`, { data: { type: 'users', id, attributes: { roles: ['ADMIN'] } } }],
        ['DELETE', `/v1/users/${id}`, undefined],
        ['POST', `/v1/users/${id}/relationships/visibleApps`, { data: [{ type: 'apps', id: app }] }],
      ] as const) {
        const r = await s.call(method, path, { token, ...(body ? { body } : {}) });
        expect(r.status, `${roles.join(',')} ${method} ${path}`).toBe(403);
        expect(r.body).toEqual({ errors: [forbidden()] });
      }
    }
  });

  it("act with the user's roles as they are now: promoted, the same token writes; demoted, it may not", async () => {
    const id = await createUser(s, { email: email('promoted'), roles: ['DEVELOPER'] });
    const { token } = await individualKey(s, id);
    expect((await invite(token, 'before')).status).toBe(403);
    const promote = await s.call('PATCH', `/v1/users/${id}`, { body: { data: { type: 'users', id, attributes: { roles: ['ADMIN'] } } } });
    expect(promote.status).toBe(200);
    expect((await invite(token, 'promoted')).status).toBe(201);
    const demote = await s.call('PATCH', `/v1/users/${id}`, { body: { data: { type: 'users', id, attributes: { roles: ['SALES'] } } } });
    expect(demote.status).toBe(200);
    const r = await invite(token, 'demoted');
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ errors: [forbidden()] });
  });

  it('of the Account Holder: writes', async () => {
    const holder = await s.services.users.createAccountHolder({ email: email('holder'), firstName: 'Hal', lastName: 'Holder' });
    const { token } = await individualKey(s, holder.id);
    expect((await invite(token, 'by-holder')).status).toBe(201);
  });

  it('die with their user: 401 at once, and the key is revoked', async () => {
    const id = await createUser(s, { email: email('leaving'), roles: ['ADMIN'] });
    const key = await individualKey(s, id);
    expect((await s.call('GET', '/v1/users', { token: key.token })).status).toBe(200);
    expect((await s.call('DELETE', `/v1/users/${id}`)).status).toBe(204);
    for (const [method, path] of [
      ['GET', '/v1/users'],
      ['GET', '/v1/apps'],
      ['POST', '/v1/userInvitations'],
    ] as const) {
      const r = await s.call(method, path, {
        token: key.token,
        ...(method === 'POST' ? { body: invitationBody({ email: email('ghost') }) } : {}),
      });
      expect(r.status, `${method} ${path}`).toBe(401);
      expect(r.body).toEqual(NOT_AUTHORIZED);
      expect(r.headers.get('x-rate-limit')).toBeNull();
    }
    expect((await s.services.keys.find(key.keyId))?.revokedAt).toMatch(ISO);
  });

  it('take tokens with sub "user" and no issuer only (B1.3)', async () => {
    const id = await createUser(s, { email: email('claims'), roles: ['ADMIN'] });
    const key = await individualKey(s, id);
    const sign = (claims: Record<string, unknown>) => {
      const now = Math.floor(s.clock.now().getTime() / 1000);
      return new SignJWT({ aud: 'appstoreconnect-v1', ...claims })
        .setProtectedHeader({ alg: 'ES256', kid: key.keyId, typ: 'JWT' })
        .setIssuedAt(now)
        .setExpirationTime(now + 600)
        .sign(createPrivateKey(key.privateKeyPem));
    };
    expect((await s.call('GET', '/v1/users', { token: await sign({ sub: 'user' }) })).status).toBe(200);
    for (const claims of [{}, { sub: 'someone' }, { sub: 'user', iss: s.issuerId }, { iss: s.issuerId }]) {
      const r = await s.call('GET', '/v1/users', { token: await sign(claims) });
      expect(r.status, JSON.stringify(claims)).toBe(401);
      expect(r.body).toEqual(NOT_AUTHORIZED);
    }
  });
});

describe('asc-access users and individual keys', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: TestServer;
  let holder: { id: string; username: string };
  let key: { keyId: string; file: string };

  // the server runs on the database the commands work on (its SQLite file, or its PostgreSQL schema)
  beforeAll(async () => {
    dir = tempDir('asc-users-cli-');
    server = await startTestServer({ config: { dataDir: dir } });
    env = databaseEnv(server.config);
  });
  afterAll(async () => server.close());

  it('users create-account-holder --json creates the Account Holder', async () => {
    const run = await runCli(
      ['users', 'create-account-holder', '--email', 'Boss@Example.com', '--first-name', 'Bea', '--last-name', 'Boss', '--json'],
      env,
    );
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    holder = jsonOutput(run);
    expect(holder).toStrictEqual({
      id: expect.stringMatching(UUID),
      username: 'Boss@Example.com',
      firstName: 'Bea',
      lastName: 'Boss',
      roles: ['ACCOUNT_HOLDER', 'ADMIN'],
      allAppsVisible: true,
      provisioningAllowed: true,
    });
  });

  it('a second Account Holder, a bad email or missing options are refused clearly', async () => {
    const second = await runCli(
      ['users', 'create-account-holder', '--email', 'other@example.com', '--first-name', 'O', '--last-name', 'T', '--json'],
      env,
    );
    expect(second.code).toBe(1);
    const message = 'The team has an Account Holder already (Boss@Example.com); there can be only one';
    expect(jsonOutput(second)).toStrictEqual({ error: message });
    expect(second.stderr).toBe(`asc-access: ${message}\n`);

    const bad = await runCli(['users', 'create-account-holder', '--email', 'not-an-email', '--first-name', ' ', '--last-name', 'T'], env);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toBe(
      "asc-access: 'not-an-email' is not a valid email address; You must provide a value for the attribute 'firstName' with this request\n",
    );

    const missing = await runCli(['users', 'create-account-holder', '--email', 'x@example.com', '--first-name', 'X'], env);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe(
      "asc-access: required option '--last-name <name>' not specified (see 'asc-access users create-account-holder --help')\n",
    );
    expect(missing.stderr).not.toMatch(NO_STACK);
  });

  it('keys create --individual-for writes the key of a user; --role does not go with it', async () => {
    const file = path.join(dir, 'boss.p8');
    const run = await runCli(['keys', 'create', '--individual-for', holder.id, '--name', "Bea's key", '--out', file, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    key = jsonOutput(run);
    expect(key).toStrictEqual({ keyId: expect.stringMatching(/^[A-Z0-9]{10}$/), name: "Bea's key", userId: holder.id, file });
    expect(createPrivateKey(readFileSync(file, 'utf8')).asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(statSync(file).mode & 0o777).toBe(0o600);

    const both = await runCli(
      ['keys', 'create', '--individual-for', holder.id, '--role', 'ADMIN', '--name', 'x', '--out', path.join(dir, 'x.p8')],
      env,
    );
    expect(both.code).toBe(2);
    expect(both.stderr).toMatch(/^asc-access: --role and --individual-for exclude each other/);

    const nobody = await runCli(
      ['keys', 'create', '--individual-for', 'no-such-user', '--name', 'x', '--out', path.join(dir, 'y.p8'), '--json'],
      env,
    );
    expect(nobody.code).toBe(1);
    expect(jsonOutput(nobody)).toStrictEqual({ error: "there is no user with id 'no-such-user' (see users list)" });
  });

  it('keys list and users list show them', async () => {
    const keys = jsonOutput(await runCli(['keys', 'list', '--json'], env));
    expect(keys.keys.filter((k: { userId?: string }) => k.userId !== undefined)).toStrictEqual([
      { keyId: key.keyId, name: "Bea's key", role: null, createdAt: expect.stringMatching(ISO), revokedAt: null, userId: holder.id },
    ]);
    const human = await runCli(['keys', 'list'], env);
    expect(human.stderr).toBe('');
    expect(human.stdout).toContain(`${key.keyId}  INDIVIDUAL       active   Bea's key (user ${holder.id})\n`);
    const users = jsonOutput(await runCli(['users', 'list', '--json'], env));
    expect(users).toStrictEqual({ users: [holder] });
  });

  it('token mints sub "user" without an issuer for an individual key, and the server takes it', async () => {
    const run = await runCli(['token', '--key-file', key.file, '--key-id', key.keyId, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const out = jsonOutput(run);
    expect(out).toStrictEqual({ token: expect.any(String), keyId: key.keyId, issuerId: null, expiresIn: 1200 });
    const claims = decodeJwt(out.token);
    expect(claims).toStrictEqual({ aud: 'appstoreconnect-v1', sub: 'user', iat: expect.any(Number), exp: claims.iat! + 1200 });

    const list = await server.call('GET', '/v1/users?filter[roles]=ACCOUNT_HOLDER', { token: out.token });
    expect(list.status, list.text).toBe(200);
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([holder.id]);
    const invited = await server.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'new@example.com' }),
      token: out.token,
    });
    expect(invited.status, invited.text).toBe(201);
    const taken = await server.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'boss@example.com' }),
      token: out.token,
    });
    expect(taken.status).toBe(409);
  });
});
