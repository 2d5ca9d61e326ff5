/**
 * The emulator as a client author uses it: only a published App Store Connect client
 * (`appstore-connect-sdk`, unmodified, minting its own tokens) plus the controls through the
 * package's own helper, imported by its published name `asc-access/testing` (package.json
 * "exports", the built dist/). A team seeded from a file; an invitation made through the client,
 * its mail read through the controls, accepted; the user seen through the client; a second
 * invitation ended by advancing the clock 72 hours (410, gone from the list); a 429 injected and
 * received by the client with Apple's body and header; the request journal asserted on. Every
 * control answer is checked against spec/emulator.openapi.json.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  appsGetCollection,
  createClient,
  userInvitationsCreateInstance,
  userInvitationsGetCollection,
  userInvitationsGetInstance,
  usersGetCollection,
  zErrorResponse,
  type Client,
} from 'appstore-connect-sdk';
import { startEmulator, type Emulator } from 'asc-access/testing';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { emulatorSchemaErrors } from '../helpers/emulator-spec.js';

const ISSUER_ID = '6f1c1d7e-2b3a-4c5d-8e9f-0a1b2c3d4e5f';
const KEY_ID = 'E2ESEEDKEY';

/** The bodies the client sent, by method and path (to check the journal's digests). */
const sent: Array<{ method: string; path: string; body: string | undefined }> = [];
const originalFetch = globalThis.fetch;
/** Anything but 127.0.0.1 is refused (the client falls back to Apple's host when misused). */
const blocked: string[] = [];

const recordingFetch: typeof fetch = async (input, init) => {
  const request = new Request(input, init);
  const url = new URL(request.url);
  if (url.hostname !== '127.0.0.1') {
    blocked.push(request.url);
    throw new Error(`test fetch guard: refusing to contact ${request.url}`);
  }
  const body = request.body ? await request.clone().text() : undefined;
  if (url.pathname.startsWith('/v1/')) sent.push({ method: request.method, path: url.pathname, body });
  return originalFetch(request);
};

/** A control answer, checked against the document's schema `name`. */
function valid<T>(name: string, body: T): T {
  expect(emulatorSchemaErrors(name, body), `${name}: ${JSON.stringify(body)}`).toEqual([]);
  return body;
}

const PG_URL = process.env.ASC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
let schema: string | undefined;
let dir: string;
let emu: Emulator;
let client: Client;

async function invite(email: string): Promise<string> {
  const { data, error, response } = await userInvitationsCreateInstance({
    client,
    body: {
      data: {
        type: 'userInvitations',
        attributes: { email, firstName: 'Ivy', lastName: 'Invitee', roles: ['DEVELOPER'] },
        relationships: { visibleApps: { data: [{ type: 'apps', id: '1000000002' }] } },
      },
    },
  });
  expect(error, JSON.stringify(error)).toBeUndefined();
  expect(response.status).toBe(201);
  return data!.data.id;
}

beforeAll(async () => {
  globalThis.fetch = recordingFetch;
  dir = mkdtempSync(path.join(tmpdir(), 'asc-e2e-emulator-'));
  const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const seedFile = path.join(dir, 'team.json');
  writeFileSync(
    seedFile,
    JSON.stringify({
      format: 'asc-access-state/1',
      team: { issuerId: ISSUER_ID },
      apiKeys: [{ id: KEY_ID, name: 'CI', role: 'ADMIN', privateKey: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString() }],
      apps: [
        { id: '1000000001', name: 'Alpha', bundleId: 'com.example.alpha', sku: 'ALPHA' },
        { id: '1000000002', name: 'Bravo', bundleId: 'com.example.bravo', sku: 'BRAVO' },
      ],
      users: [{ username: 'olive.owner@example.com', firstName: 'Olive', lastName: 'Owner', roles: ['ADMIN'] }],
    }),
  );
  // the PostgreSQL project runs this file again on a schema of its own
  let databaseUrl: string | undefined;
  if (process.env.ASC_TEST_DIALECT === 'postgres') {
    schema = `t_e2e_emulator_${process.pid}_${Date.now()}`;
    const url = new URL(PG_URL);
    url.searchParams.set('options', `-c search_path=${schema}`);
    databaseUrl = url.toString();
  }
  emu = await startEmulator({ seed: seedFile, ...(databaseUrl ? { dialect: 'postgres' as const, databaseUrl } : {}) });
  client = createClient({ baseUrl: emu.baseUrl, issuerId: emu.issuerId, privateKeyId: emu.keyId, privateKey: emu.privateKey });
});

afterAll(async () => {
  globalThis.fetch = originalFetch;
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
  if (schema) {
    const db = new pg.Client({ connectionString: PG_URL });
    await db.connect();
    await db.query(`drop schema if exists ${schema} cascade`).finally(() => db.end());
  }
  expect(blocked).toEqual([]);
});

describe('a published client against the emulator, driven by asc-access/testing', () => {
  let first: string;
  let userId: string;
  let second: string;
  let ruleId: string;

  it('starts from the seed file: its issuer id, key, apps and user', async () => {
    expect(emu.issuerId).toBe(ISSUER_ID);
    expect(emu.keyId).toBe(KEY_ID);
    const apps = await appsGetCollection({ client });
    expect(apps.response.status).toBe(200);
    expect(apps.data!.data.map((a) => a.attributes?.name).sort()).toEqual(['Alpha', 'Bravo']);
    const users = await usersGetCollection({ client });
    expect(users.data!.data.map((u) => u.attributes?.username)).toEqual(['olive.owner@example.com']);
    const state = valid('StateDocument', await emu.state.export());
    expect(state.apiKeys.map((k) => k.id)).toEqual([KEY_ID]);
  });

  it('invites through the client, reads the mail through the controls, accepts, and sees the user', async () => {
    first = await invite('ivy.invitee@example.com');
    const mail = await emu.mail.list({ to: 'Ivy.Invitee@example.com' });
    expect(mail).toHaveLength(1);
    const message = valid('Message', mail[0]!);
    expect(message.invitationId).toBe(first);
    expect(message.to).toBe('ivy.invitee@example.com');
    expect(message.activationLink).toMatch(new RegExp(`^${emu.baseUrl}/activate/`));
    expect(message.text).toContain(message.activationLink!);
    expect(valid('Message', await emu.mail.get(message.id))).toEqual(message);

    const accepted = valid('Accepted', await emu.invitations.accept('ivy.invitee@example.com'));
    expect(accepted.invitationId).toBe(first);
    userId = accepted.userId;

    const users = await usersGetCollection({ client, query: { 'filter[username]': ['ivy.invitee@example.com'] } });
    expect(users.response.status).toBe(200);
    expect(users.data!.data).toHaveLength(1);
    expect(users.data!.data[0]).toMatchObject({
      id: userId,
      type: 'users',
      attributes: { username: 'ivy.invitee@example.com', firstName: 'Ivy', lastName: 'Invitee', roles: ['DEVELOPER'] },
    });
    const gone = await userInvitationsGetInstance({ client, path: { id: first } });
    expect(gone.response.status).toBe(410);
  });

  it('invites again; 72 emulated hours later the invitation answers 410 and leaves the list', async () => {
    second = await invite('ned.next@example.com');
    const before = await userInvitationsGetCollection({ client });
    expect(before.data!.data.map((i) => i.id)).toEqual([second]);
    const expires = Date.parse(before.data!.data[0]!.attributes!.expirationDate!);

    const clock = valid('Clock', await emu.clock.advance('72h'));
    expect(clock.offsetMs).toBeGreaterThanOrEqual(72 * 3_600_000);
    expect(Date.parse(clock.now)).toBeGreaterThan(expires);

    // the client's own tokens, minted on the wall clock, still pass
    const get = await userInvitationsGetInstance({ client, path: { id: second } });
    expect(get.response.status).toBe(410);
    expect(zErrorResponse.safeParse(get.error).success).toBe(true);
    expect(get.error!.errors![0]).toMatchObject({ status: '410' });
    const after = await userInvitationsGetCollection({ client });
    expect(after.response.status).toBe(200);
    expect(after.data!.data).toEqual([]);
  });

  it("an injected 429 reaches the client with Apple's body and X-Rate-Limit header, once", async () => {
    const rule = valid(
      'FaultRule',
      await emu.faults.add({ method: 'GET', path: '/v1/userInvitations', action: { status: 429 }, times: 1 }),
    );
    const limited = await userInvitationsGetCollection({ client });
    expect(limited.response.status).toBe(429);
    expect(limited.response.headers.get('x-rate-limit')).toBe('user-hour-lim:3600;user-hour-rem:0;');
    expect(zErrorResponse.safeParse(limited.error).success).toBe(true);
    expect(limited.error!.errors).toEqual([
      {
        id: expect.any(String),
        status: '429',
        code: 'RATE_LIMIT_EXCEEDED',
        title: 'The request rate limit has been reached.',
        detail: expect.any(String),
      },
    ]);
    const again = await userInvitationsGetCollection({ client });
    expect(again.response.status).toBe(200);
    ruleId = rule.id;
    const [used] = await emu.faults.list();
    expect(valid('FaultRule', used!)).toMatchObject({ id: rule.id, hits: 1, remaining: 0 });
  });

  it('the request journal holds what the client sent', async () => {
    const posts = await emu.journal.list({ method: 'POST', path: '/v1/userInvitations' });
    for (const entry of posts) valid('JournalEntry', entry);
    const bodies = sent.filter((s) => s.method === 'POST' && s.path === '/v1/userInvitations');
    expect(bodies).toHaveLength(2);
    expect(posts.map((e) => [e.status, e.keyId, e.bodySha256, e.bodyLength])).toEqual(
      bodies.map((b) => [201, KEY_ID, createHash('sha256').update(b.body!).digest('hex'), Buffer.byteLength(b.body!)]),
    );

    const faulted = await emu.journal.list({ status: 429 });
    expect(faulted.map((e) => [e.method, e.path, e.fault, e.keyId])).toEqual([['GET', '/v1/userInvitations', ruleId, KEY_ID]]);
    const gone = await emu.journal.list({ path: '/v1/userInvitations/*', status: 410 });
    expect(gone.map((e) => e.path)).toEqual([`/v1/userInvitations/${first}`, `/v1/userInvitations/${second}`]);
    // every API request the client made is there, in order
    const all = await emu.journal.list();
    expect(all.map((e) => `${e.method} ${e.path}`)).toEqual(sent.map((s) => `${s.method} ${s.path}`));
    expect(all.every((e) => e.keyId === KEY_ID)).toBe(true);

    await emu.journal.clear();
    expect(await emu.journal.list()).toEqual([]);
  });
});
