/**
 * A team's state as a document (src/emulator/state.ts) on the real database of a running server,
 * SQLite or PostgreSQL as the project runs: export -> reset -> import -> export gives the same
 * document and the same rows; a seed that leaves things out is filled in; reset keeps keys and
 * apps when asked. After an import the API itself, over HTTP, sees what was imported: keys sign
 * tokens it accepts, emails are taken, lists and their totals are right, ended invitations answer
 * 410, an invitation's tokenHash opens its activation page, and sandbox testers are listed by
 * GET /v2/sandboxTesters with their emails held against invitations.
 */
import { createHash, generateKeyPairSync, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/database.js';
import { StateDocumentError, STATE_FORMAT, teamState, type StateDocument } from '../../src/emulator/state.js';
import { duplicateEmail, entityError, errorBody, gone, NOT_AUTHORIZED, notFound } from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, startTestServer, testConfig, useTestServer, visibleApps } from '../helpers/harness.js';
import { activationPath, CookieJar, csrfField, openPage } from '../helpers/pages.js';
import { sandboxTesterResource } from '../helpers/resources.js';
import { stateRows } from '../helpers/state-rows.js';
import { activationToken } from '../helpers/users.js';

const START = Date.parse('2026-05-04T08:00:00.000Z');
const HOUR = 3_600_000;

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}

/** The suite's own ADMIN team key: every test imports it, so its tokens work whatever else changes. */
const ADMIN = { id: 'SUITEADM01', ...keyPair() };
const adminKey = () => ({ id: ADMIN.id, name: 'Suite admin', role: 'ADMIN', privateKey: ADMIN.privatePem });

const JANE = '0b7c1c3e-2f5d-4a8e-9b1c-3d4e5f6a7b8c';
const BOSS = '1c8d2d4f-3a6e-4b9f-8c2d-4e5f6a7b8c9d';
const ALICE = '2d9e3e5a-4b7f-4cab-9d3e-5f6a7b8c9dae';
const JOHN_INVITATION = '019b0a6e-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const ACCEPTED = '019b0a6e-0000-7000-8000-00000000000a';
const EXPIRED = '019b0a6e-0000-7000-8000-00000000000e';
const SAM = '019b0a6e-5555-7000-8000-000000000001';
const IVY = '019b0a6e-5555-7000-8000-000000000002';
const CLEARED = '019b0a6e-5555-7000-8000-0000000000c1';
const ALPHA = '1000000001';
const BETA = '1000000002';

describe('a team state on a running server', () => {
  const s = useTestServer({ clock: new ManualClock(START) });
  const state = () => teamState(s.db, s.clock);

  /** An API call with a fresh token of the suite's ADMIN key (or of `key`). */
  async function api(method: string, path: string, body?: unknown, key: { id: string; privatePem: string } = ADMIN) {
    const token = await s.token({ privateKeyPem: key.privatePem, keyId: key.id, issuerId: s.issuerId });
    return s.call(method, path, { token, ...(body !== undefined ? { body } : {}) });
  }

  /** Invites through the API; the invitation's id. */
  async function invite(attributes: Record<string, unknown>, relationships?: Record<string, unknown>): Promise<string> {
    const res = await api('POST', '/v1/userInvitations', invitationBody(attributes, relationships));
    expect(res.status, res.text).toBe(201);
    return res.body.data.id as string;
  }

  /** Accepts an invitation as its link does; the new user's id. */
  async function accept(invitationId: string): Promise<string> {
    const result = await s.services.activation.accept(await activationToken(s, invitationId));
    if (result.state !== 'accepted') throw new Error(`accepting ${invitationId} gave ${result.state}`);
    return result.userId;
  }

  it('export -> reset -> import -> export: the same document, and the same rows', async () => {
    await state().import({ format: STATE_FORMAT, team: { issuerId: s.issuerId }, apiKeys: [adminKey()] });
    const alpha = await s.createApp('Alpha');
    await s.createApp('Beta');
    // made the way the API makes them: two invitations that expire, one of them buried by a new
    // invitation for its email (an 'expired' tombstone), the other left as an expired row
    await invite({ email: 'old@example.com' });
    await invite({ email: 'stale@example.com' });
    s.clock.advance(73 * HOUR);
    await invite({ email: 'old@example.com', roles: ['ADMIN'] });
    const jane = await accept(await invite({ email: 'Jane@Example.com', roles: ['DEVELOPER', 'CREATE_APPS'] }, visibleApps(alpha)));
    await s.services.keys.createIndividual({ name: 'Jane key', userId: jane });
    await invite({ email: 'pending@example.com', roles: ['MARKETING'] }, visibleApps(alpha));
    const cancelled = await invite({ email: 'cancelled@example.com' });
    expect((await api('DELETE', `/v1/userInvitations/${cancelled}`)).status).toBe(204);
    // a user who left: their key stays, revoked
    const leaver = await accept(await invite({ email: 'leaver@example.com' }));
    await s.services.keys.createIndividual({ name: 'Leaver key', userId: leaver });
    expect((await api('DELETE', `/v1/users/${leaver}`)).status).toBe(204);
    const revoked = await s.services.keys.create({ name: 'Old CI key', role: 'DEVELOPER' });
    await s.services.keys.revoke(revoked.key.id);
    // sandbox testers as the CLI makes them, changed and cleared through the API; one deleted after
    // its clear: the document leaves it out of the request, and drops a request left with no one
    const sam = await s.services.sandboxTesters.create({
      firstName: 'Sam',
      lastName: 'Box',
      email: 'Sam.Box@example.com',
      territory: 'usa',
    });
    const ivy = await s.services.sandboxTesters.create({ firstName: 'Ivy', lastName: 'Test', email: 'ivy@example.com', territory: 'JPN' });
    const gone_ = await s.services.sandboxTesters.create({
      firstName: 'Gus',
      lastName: 'Gone',
      email: 'gus@example.com',
      territory: 'FRA',
    });
    const patched = await api('PATCH', `/v2/sandboxTesters/${ivy.id}`, {
      data: {
        type: 'sandboxTesters',
        id: ivy.id,
        attributes: { territory: 'GBR', interruptPurchases: true, subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES' },
      },
    });
    expect(patched.status, patched.text).toBe(200);
    const clear = async (...testers: string[]) => {
      const r = await api('POST', '/v2/sandboxTestersClearPurchaseHistoryRequest', {
        data: {
          type: 'sandboxTestersClearPurchaseHistoryRequest',
          relationships: { sandboxTesters: { data: testers.map((id) => ({ type: 'sandboxTesters', id })) } },
        },
      });
      expect(r.status, r.text).toBe(201);
      return r.body.data.id as string;
    };
    const both = await clear(ivy.id, sam.id, gone_.id);
    const again = await clear(sam.id);
    const onlyGone = await clear(gone_.id);
    await s.services.sandboxTesters.remove(gone_.id);

    const before = await state().export();
    const rowsBefore = await stateRows(s.db);
    expect(before.team.issuerId).toBe(s.issuerId);
    expect(before.apps).toHaveLength(2);
    expect(before.users.map((u) => u.username)).toEqual(['Jane@Example.com']);
    expect(before.invitations.map((i) => i.email).sort()).toEqual(['old@example.com', 'pending@example.com', 'stale@example.com']);
    expect(before.endedInvitations.map((e) => e.outcome).sort()).toEqual(['accepted', 'accepted', 'expired']);
    expect(before.apiKeys.find((k) => k.userId === leaver)?.revokedAt).not.toBeNull();
    expect(JSON.stringify(before)).not.toContain('PRIVATE KEY');
    const at = (d: Date) => d.toISOString().replace('Z', '+00:00');
    expect(before.sandboxTesters).toEqual(
      [
        {
          id: sam.id,
          firstName: 'Sam',
          lastName: 'Box',
          email: 'Sam.Box@example.com',
          territory: 'USA',
          applePayCompatible: true,
          interruptPurchases: false,
          subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES',
          createdAt: at(s.clock.now()),
        },
        {
          id: ivy.id,
          firstName: 'Ivy',
          lastName: 'Test',
          email: 'ivy@example.com',
          territory: 'GBR',
          applePayCompatible: true,
          interruptPurchases: true,
          subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES',
          createdAt: at(s.clock.now()),
        },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    expect(before.sandboxClearRequests).toEqual(
      [
        { id: both, sandboxTesterIds: [ivy.id, sam.id].sort(), createdAt: at(s.clock.now()) },
        { id: again, sandboxTesterIds: [sam.id], createdAt: at(s.clock.now()) },
      ].sort((a, b) => (a.id < b.id ? -1 : 1)),
    );
    expect(before.sandboxClearRequests.map((c) => c.id)).not.toContain(onlyGone);
    for (const list of [
      before.apiKeys,
      before.apps,
      before.users,
      before.invitations,
      before.endedInvitations,
      before.sandboxTesters,
      before.sandboxClearRequests,
    ]) {
      expect(list.map((x) => x.id)).toEqual(list.map((x) => x.id).sort());
    }

    await state().reset();
    expect(await state().isEmpty()).toBe(true);
    expect(await state().export()).toEqual({
      format: STATE_FORMAT,
      team: { issuerId: s.issuerId },
      apiKeys: [],
      apps: [],
      users: [],
      invitations: [],
      endedInvitations: [],
      sandboxTesters: [],
      sandboxClearRequests: [],
    });
    const empty = await stateRows(s.db);
    expect([empty.sandboxTesters, empty.clearRequests, empty.clearRequestTesters, empty.claims]).toEqual([[], [], [], []]);

    // as a client would send it: through JSON
    await state().import(JSON.parse(JSON.stringify(before)));
    expect(await state().export()).toEqual(before);
    // the same rows, but the deleted tester's part of the clear records, which the document leaves out
    const kept = new Set([both, again]);
    expect(await stateRows(s.db)).toEqual({
      ...rowsBefore,
      clearRequests: rowsBefore.clearRequests.filter((c) => kept.has(c.id)),
      clearRequestTesters: rowsBefore.clearRequestTesters.filter((c) => c.tester_id !== gone_.id),
    });
    expect(rowsBefore.clearRequests).toHaveLength(3);
    expect(await state().isEmpty()).toBe(false);
  });

  it('fills in what a seed leaves out: ids, dates, public keys, flags', async () => {
    const dev = keyPair();
    await state().import({
      format: STATE_FORMAT,
      apiKeys: [adminKey(), { name: 'Dev key', role: 'DEVELOPER', privateKey: dev.privatePem }],
      apps: [{ name: 'Gamma', bundleId: 'com.example.gamma', sku: 'GAMMA' }],
      users: [{ username: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', roles: ['SALES'] }],
      invitations: [{ email: 'bob@example.com', firstName: 'Bob', lastName: 'Ray', roles: ['ADMIN'] }],
    });
    const now = s.clock.now();
    const doc = await state().export();
    const at = now.toISOString().replace('Z', '+00:00');
    // no team in the seed: the issuer id stays
    expect(doc.team.issuerId).toBe(s.issuerId);
    expect(doc.apiKeys.find((k) => k.name === 'Dev key')).toEqual({
      id: expect.stringMatching(/^[A-Z0-9]{10}$/),
      name: 'Dev key',
      role: 'DEVELOPER',
      publicKey: dev.publicPem,
      userId: null,
      createdAt: at,
      revokedAt: null,
    });
    expect(doc.apps).toEqual([
      {
        id: expect.stringMatching(/^\d{10}$/),
        name: 'Gamma',
        bundleId: 'com.example.gamma',
        sku: 'GAMMA',
        primaryLocale: 'en-US',
        createdAt: at,
      },
    ]);
    expect(doc.users).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        username: 'ann@example.com',
        firstName: 'Ann',
        lastName: 'Lee',
        roles: ['SALES'],
        allAppsVisible: true,
        provisioningAllowed: false,
        visibleAppIds: [],
        createdAt: at,
      },
    ]);
    const expires = new Date(now.getTime() + 72 * HOUR).toISOString().replace('Z', '+00:00');
    expect(doc.invitations[0]).toMatchObject({ createdAt: at, expirationDate: expires, allAppsVisible: true, provisioningAllowed: true });

    // the key given by its private half works, and the API dates the invitation as the document does
    const devKey = { id: doc.apiKeys.find((k) => k.name === 'Dev key')!.id, privatePem: dev.privatePem };
    const invitation = await api('GET', `/v1/userInvitations/${doc.invitations[0]!.id}`, undefined, devKey);
    expect(invitation.status, invitation.text).toBe(200);
    expect(invitation.body.data.attributes.expirationDate).toBe(expires);
  });

  /** A team with one of most things, ids given so that tests can name them. */
  function seed(): Record<string, unknown> {
    return {
      format: STATE_FORMAT,
      team: { issuerId: s.issuerId },
      apiKeys: [adminKey()],
      apps: [
        { id: ALPHA, name: 'Alpha', bundleId: 'com.example.alpha', sku: 'ALPHA' },
        { id: BETA, name: 'Beta', bundleId: 'com.example.beta', sku: 'BETA' },
      ],
      users: [
        { id: JANE, username: 'Jane@example.com', firstName: 'Jane', lastName: 'Appleseed', roles: ['DEVELOPER'], visibleAppIds: [ALPHA] },
        { id: BOSS, username: 'boss@example.com', firstName: 'Big', lastName: 'Boss', roles: ['ACCOUNT_HOLDER', 'ADMIN'] },
        { id: ALICE, username: 'alice@example.com', firstName: 'Alice', lastName: 'Admin', roles: ['ADMIN'] },
      ],
      invitations: [
        { id: JOHN_INVITATION, email: 'john@example.com', firstName: 'John', lastName: 'Doe', roles: ['MARKETING'], visibleAppIds: [BETA] },
        { email: 'kim@example.com', firstName: 'Kim', lastName: 'Lee', roles: ['SALES', 'ACCESS_TO_REPORTS'] },
        // ran out of time a day ago; not swept yet
        {
          email: 'late@example.com',
          firstName: 'Late',
          lastName: 'Comer',
          roles: ['DEVELOPER'],
          createdAt: new Date(s.clock.now().getTime() - 96 * HOUR).toISOString(),
        },
      ],
      endedInvitations: [
        { id: ACCEPTED, outcome: 'accepted' },
        { id: EXPIRED, outcome: 'expired', at: '2026-01-01T00:00:00Z' },
      ],
    };
  }

  it('after an import the API sees it: lists, totals, filters, relationships', async () => {
    await state().import(seed());
    const users = await api('GET', '/v1/users?sort=username');
    expect(users.status, users.text).toBe(200);
    expect(users.body.data.map((u: any) => u.id)).toEqual([ALICE, BOSS, JANE]);
    expect(users.body.meta.paging.total).toBe(3);
    // the roles and visible-apps tables behind the filters
    expect((await api('GET', '/v1/users?filter[roles]=DEVELOPER')).body.data.map((u: any) => u.id)).toEqual([JANE]);
    expect((await api('GET', '/v1/users?filter[roles]=ACCOUNT_HOLDER')).body.data.map((u: any) => u.id)).toEqual([BOSS]);
    expect((await api('GET', `/v1/users?filter[visibleApps]=${ALPHA}`)).body.data.map((u: any) => u.id)).toEqual([JANE]);
    const janeApps = await api('GET', `/v1/users/${JANE}/visibleApps`);
    expect(janeApps.body.data.map((a: any) => a.id)).toEqual([ALPHA]);

    const invitations = await api('GET', '/v1/userInvitations?sort=email');
    expect(invitations.status, invitations.text).toBe(200);
    // pending only: the expired one is left out, and the total is the counter's
    expect(invitations.body.data.map((i: any) => i.attributes.email)).toEqual(['john@example.com', 'kim@example.com']);
    expect(invitations.body.meta.paging.total).toBe(2);
    expect((await api('GET', '/v1/userInvitations?filter[roles]=ACCESS_TO_REPORTS')).body.data.map((i: any) => i.attributes.email)).toEqual(
      ['kim@example.com'],
    );
    expect((await api('GET', `/v1/userInvitations?filter[visibleApps]=${BETA}`)).body.data.map((i: any) => i.id)).toEqual([
      JOHN_INVITATION,
    ]);

    const apps = await api('GET', '/v1/apps');
    expect(apps.body.data.map((a: any) => a.id)).toEqual([ALPHA, BETA]);
    expect(apps.body.meta.paging.total).toBe(2);
  });

  /** seed() with two sandbox testers and a clear request of both. */
  function seedWithTesters(): Record<string, unknown> {
    return {
      ...seed(),
      sandboxTesters: [
        { id: SAM, firstName: 'Sam', lastName: 'Box', email: 'Sam.Box@example.com', territory: 'USA' },
        {
          id: IVY,
          firstName: 'Ivy',
          lastName: 'Test',
          email: 'ivy@example.com',
          territory: 'GBR',
          interruptPurchases: true,
          subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
        },
      ],
      sandboxClearRequests: [{ id: CLEARED, sandboxTesterIds: [IVY, SAM] }],
    };
  }

  it('after an import the API lists the sandbox testers, changes them, and clears them again', async () => {
    await state().import(seedWithTesters());
    const list = await api('GET', '/v2/sandboxTesters');
    expect(list.status, list.text).toBe(200);
    expect(list.body.data).toEqual([
      sandboxTesterResource({ id: SAM, firstName: 'Sam', lastName: 'Box', email: 'Sam.Box@example.com' }),
      sandboxTesterResource({
        id: IVY,
        firstName: 'Ivy',
        lastName: 'Test',
        email: 'ivy@example.com',
        territory: 'GBR',
        interruptPurchases: true,
        subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
      }),
    ]);
    expect(list.body.meta.paging.total).toBe(2);
    const patched = await api('PATCH', `/v2/sandboxTesters/${SAM}`, {
      data: { type: 'sandboxTesters', id: SAM, attributes: { territory: 'DEU' } },
    });
    expect(patched.status, patched.text).toBe(200);
    expect(patched.body.data.attributes.territory).toBe('DEU');
    expect((await s.services.sandboxTesters.findClearRequest(CLEARED))?.testerIds).toEqual([SAM, IVY].sort());
    expect((await state().export()).sandboxTesters.find((t) => t.id === SAM)?.territory).toBe('DEU');
    // the CLI sees them too, and their emails are taken for it
    expect((await s.services.sandboxTesters.list()).map((t) => t.id)).toEqual([SAM, IVY]);
    await expect(
      s.services.sandboxTesters.create({ firstName: 'S', lastName: 'B', email: 'sam.box@EXAMPLE.com', territory: 'USA' }),
    ).rejects.toThrow(`A sandbox tester with the email 'sam.box@EXAMPLE.com' exists already`);
  });

  it("after an import a sandbox tester's email can't be invited; deleting the tester frees it", async () => {
    await state().import(seedWithTesters());
    for (const email of ['sam.box@example.com', 'IVY@example.com']) {
      const res = await api('POST', '/v1/userInvitations', invitationBody({ email }));
      expect(res.status, res.text).toBe(409);
      expect(res.body).toEqual(
        errorBody(
          entityError(
            'ATTRIBUTE.INVALID.DUPLICATE',
            `The email '${email}' is the Apple Account of a sandbox tester of this team; it can't also belong to a team member`,
            '/data/attributes/email',
          ),
        ),
      );
    }
    const r = await stateRows(s.db);
    expect(r.claims.filter((c) => c.owner_type === 'sandboxTester')).toEqual([
      { email_key: 'ivy@example.com', owner_type: 'sandboxTester', owner_id: IVY },
      { email_key: 'sam.box@example.com', owner_type: 'sandboxTester', owner_id: SAM },
    ]);
    await s.services.sandboxTesters.remove(SAM);
    expect((await api('POST', '/v1/userInvitations', invitationBody({ email: 'sam.box@example.com' }))).status).toBe(201);
  });

  it("a sandbox tester with a user's email is refused with a pointer, and nothing changes", async () => {
    await state().import(seedWithTesters());
    const rowsBefore = await stateRows(s.db);
    const doc = seedWithTesters();
    (doc.sandboxTesters as object[]).push({ firstName: 'Jane', lastName: 'Again', email: 'JANE@example.com', territory: 'USA' });
    await expect(state().import(doc)).rejects.toMatchObject({
      name: 'StateDocumentError',
      pointer: '/sandboxTesters/2/email',
      message: expect.stringContaining('/users/0/username'),
    });
    // and one with a pending invitation's
    const doc2 = seedWithTesters();
    (doc2.sandboxTesters as { email: string }[])[0]!.email = 'kim@example.com';
    await expect(state().import(doc2)).rejects.toMatchObject({ pointer: '/sandboxTesters/0/email' });
    expect(await stateRows(s.db)).toEqual(rowsBefore);
  });

  it("after an import a user's or a pending invitation's email can't be invited; an expired one's can", async () => {
    await state().import(seed());
    for (const email of ['jane@EXAMPLE.com', 'John@example.com']) {
      const res = await api('POST', '/v1/userInvitations', invitationBody({ email }));
      expect(res.status, res.text).toBe(409);
      expect(res.body).toEqual(errorBody(duplicateEmail(email)));
    }
    // the expired invitation is buried for the new one: the counter held all three rows
    const again = await api('POST', '/v1/userInvitations', invitationBody({ email: 'late@example.com' }));
    expect(again.status, again.text).toBe(201);
    expect((await api('GET', '/v1/userInvitations')).body.meta.paging.total).toBe(3);
  });

  it('after an import ended invitations answer 410 as accepted and expired ones do; others 404', async () => {
    await state().import(seed());
    const accepted = await api('GET', `/v1/userInvitations/${ACCEPTED}`);
    expect(accepted.status).toBe(410);
    expect(accepted.body).toEqual(errorBody(gone(`The invitation '${ACCEPTED}' was accepted`)));
    const expired = await api('GET', `/v1/userInvitations/${EXPIRED}`);
    expect(expired.status).toBe(410);
    expect(expired.body).toEqual(errorBody(gone(`The invitation '${EXPIRED}' has expired`)));
    expect((await api('DELETE', `/v1/userInvitations/${ACCEPTED}`)).status).toBe(410);
    const unknown = '019b0a6e-0000-7000-8000-0000000000ff';
    const missing = await api('GET', `/v1/userInvitations/${unknown}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(errorBody(notFound('userInvitations', unknown)));
  });

  it('after an import keys sign tokens the server accepts: team keys with their role, individual keys as their user', async () => {
    const dev = { id: 'DEVKEY0001', ...keyPair() };
    const alice = { id: 'ALICEKEY01', ...keyPair() };
    const gone_ = { id: 'GONEKEY001', ...keyPair() };
    const doc = seed();
    doc.apiKeys = [
      adminKey(),
      { id: dev.id, name: 'Dev', role: 'DEVELOPER', publicKey: dev.publicPem },
      { id: alice.id, name: 'Alice key', userId: ALICE, privateKey: alice.privatePem },
      { id: gone_.id, name: 'Revoked', role: 'ADMIN', privateKey: gone_.privatePem, revokedAt: '2026-01-01T00:00:00Z' },
    ];
    await state().import(doc);
    expect((await api('GET', '/v1/apps', undefined, dev)).status).toBe(200);
    // a DEVELOPER team key may not write
    expect((await api('POST', '/v1/userInvitations', invitationBody({ email: 'x@example.com' }), dev)).status).toBe(403);
    const revoked = await api('GET', '/v1/apps', undefined, gone_);
    expect(revoked.status).toBe(401);
    expect(revoked.body).toEqual(NOT_AUTHORIZED);
    // an individual key: no issuer, `sub: "user"`, acting as its ADMIN user
    const token = await s.token({ privateKeyPem: alice.privatePem, keyId: alice.id });
    const created = await s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email: 'via-alice@example.com' }) });
    expect(created.status, created.text).toBe(201);
    const row = await s.db.kysely
      .selectFrom('user_invitations')
      .select('invited_by')
      .where('id', '=', created.body.data.id)
      .executeTakeFirstOrThrow();
    expect(row.invited_by).toBe('Alice Admin');
  });

  it("after an import an invitation's tokenHash opens its activation page, and accepting makes the user", async () => {
    const token = randomBytes(32).toString('base64url');
    const doc = seed();
    const id = '019b0a6e-0000-7000-8000-0000000000aa';
    (doc.invitations as object[]).push({
      id,
      email: 'paula@example.com',
      firstName: 'Paula',
      lastName: 'Page',
      roles: ['APP_MANAGER'],
      visibleAppIds: [ALPHA],
      tokenHash: createHash('sha256').update(token).digest('hex'),
    });
    await state().import(doc);
    const path = activationPath(`${PUBLIC_URL}/activate/${token}`);
    const jar = new CookieJar();
    const page = await openPage(s.baseUrl, 'GET', path, { jar });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Paula');
    const res = await openPage(s.baseUrl, 'POST', `${path}/accept`, {
      jar,
      form: { csrf: csrfField(page.text) },
      headers: { origin: PUBLIC_URL },
    });
    expect(res.status).toBe(303);
    expect(res.headers.get('location')).toBe('../result/accepted');

    const users = await api('GET', `/v1/users?filter[username]=paula@example.com&include=visibleApps`);
    expect(users.body.data).toHaveLength(1);
    expect(users.body.data[0].attributes).toMatchObject({ roles: ['APP_MANAGER'], allAppsVisible: false });
    expect(users.body.included.map((a: any) => a.id)).toEqual([ALPHA]);
    expect((await api('GET', `/v1/userInvitations/${id}`)).status).toBe(410);
    // the document says so too
    const after = await state().export();
    expect(after.endedInvitations.find((e) => e.id === id)?.outcome).toBe('accepted');
  });

  it('reset keeps the apps and keys when asked, revoking the keys of users who are gone', async () => {
    const alice = { id: 'ALICEKEY02', ...keyPair() };
    const doc = seedWithTesters();
    doc.apiKeys = [adminKey(), { id: alice.id, name: 'Alice key', userId: ALICE, privateKey: alice.privatePem }];
    await state().import(doc);
    const before = await state().export();

    s.clock.advance(HOUR);
    await state().reset(['apiKeys', 'apps']);
    const after = await state().export();
    expect(after.apps).toEqual(before.apps);
    expect(after.apiKeys).toEqual(
      before.apiKeys.map((k) => (k.userId === null ? k : { ...k, revokedAt: s.clock.now().toISOString().replace('Z', '+00:00') })),
    );
    // sandbox testers are never kept: the API changes them (RESET_KEEP)
    expect([after.users, after.invitations, after.endedInvitations, after.sandboxTesters, after.sandboxClearRequests]).toEqual([
      [],
      [],
      [],
      [],
      [],
    ]);
    expect(after.team).toEqual(before.team);
    expect(await state().isEmpty()).toBe(false);
    const r = await stateRows(s.db);
    expect([
      r.claims,
      r.userRoles,
      r.userApps,
      r.invitationRoles,
      r.invitationApps,
      r.tombstones,
      r.sandboxTesters,
      r.clearRequests,
      r.clearRequestTesters,
      r.invitationCount,
    ]).toEqual([[], [], [], [], [], [], [], [], [], 0]);

    // through the API: the key still works, the emails are free, the lists are empty
    expect((await api('GET', '/v1/users')).body.meta.paging.total).toBe(0);
    expect((await api('GET', '/v1/userInvitations')).body.meta.paging.total).toBe(0);
    expect((await api('GET', '/v1/apps')).body.meta.paging.total).toBe(2);
    expect((await api('GET', '/v2/sandboxTesters')).body.meta.paging.total).toBe(0);
    expect((await api('POST', '/v1/userInvitations', invitationBody({ email: 'ivy@example.com' }))).status).toBe(201);
    expect((await api('GET', `/v1/userInvitations/${ACCEPTED}`)).status).toBe(404);
    expect((await api('POST', '/v1/userInvitations', invitationBody({ email: 'jane@example.com' }))).status).toBe(201);
    const aliceToken = await s.token({ privateKeyPem: alice.privatePem, keyId: alice.id });
    expect((await s.call('GET', '/v1/apps', { token: aliceToken })).status).toBe(401);

    await state().reset(['apps']);
    expect((await state().export()).apiKeys).toEqual([]);
    expect((await api('GET', '/v1/apps')).status).toBe(401);
    await state().reset();
    expect(await state().isEmpty()).toBe(true);
  });

  it('reset refuses what it cannot keep, with a pointer into its body', async () => {
    await expect(state().reset(['users' as never])).rejects.toMatchObject({ name: 'StateDocumentError', pointer: '/keep/0' });
    await expect(state().reset(['apps', 'sandboxTesters' as never])).rejects.toMatchObject({ pointer: '/keep/1' });
    await expect(state().reset('apps' as never)).rejects.toBeInstanceOf(StateDocumentError);
  });

  it('a team with only a sandbox tester is not empty', async () => {
    await state().import({ format: STATE_FORMAT, apiKeys: [adminKey()] });
    await state().reset();
    expect(await state().isEmpty()).toBe(true);
    await s.services.sandboxTesters.create({ firstName: 'Sam', lastName: 'Box', email: 'lonely@example.com', territory: 'USA' });
    expect(await state().isEmpty()).toBe(false);
  });

  it('an invalid document changes nothing', async () => {
    await state().import(seed());
    const before = await state().export();
    const rowsBefore = await stateRows(s.db);
    const doc = seed();
    // valid up to the very last member
    (doc.endedInvitations as object[]).push({ id: JOHN_INVITATION, outcome: 'expired' });
    await expect(state().import(doc)).rejects.toMatchObject({ name: 'StateDocumentError', pointer: '/endedInvitations/2/id' });
    expect(await state().export()).toEqual(before);
    expect(await stateRows(s.db)).toEqual(rowsBefore);
  });

  it('an import while invitations are created: each create is answered, and the derived tables agree after', async () => {
    await state().import(seed());
    const doc = await state().export();
    const creates = Array.from({ length: 12 }, (_, i) =>
      api('POST', '/v1/userInvitations', invitationBody({ email: `racer${i}@example.com` })),
    );
    const imported = state().import(doc);
    const answers = await Promise.all(creates);
    await imported;
    for (const a of answers) expect(a.status, a.text).toBe(201);
    const r = await stateRows(s.db);
    expect(r.invitationCount).toBe(r.invitations.length);
    expect(r.claims).toHaveLength(r.users.length + r.invitations.length + r.sandboxTesters.length);
    const listed = await api('GET', '/v1/userInvitations');
    const pending = r.invitations.filter((i) => new Date(i.expires_at) > s.clock.now());
    expect(listed.body.meta.paging.total).toBe(pending.length);
  });
});

describe('a state imported before the server starts (a seed file)', () => {
  it("sets the team's issuer id: the server's tokens are the document's", async () => {
    const issuerId = '7e3c2a10-5b4d-4c6e-8f70-91a2b3c4d5e6';
    const key = { id: 'SEEDKEY001', ...keyPair() };
    const config = testConfig();
    const clock = new ManualClock(START);
    const db = await openDatabase(config);
    const seeded: StateDocument | undefined = await (async () => {
      try {
        const state = teamState(db, clock);
        expect(await state.isEmpty()).toBe(true);
        // a refused document writes nothing, not even the team's row
        await expect(state.import({ format: STATE_FORMAT, team: { issuerId } as object, apps: [{}] })).rejects.toMatchObject({
          pointer: '/apps/0/name',
        });
        expect(await db.kysely.selectFrom('team').selectAll().execute()).toEqual([]);
        await state.import({
          format: STATE_FORMAT,
          team: { issuerId },
          apiKeys: [{ id: key.id, name: 'Seed key', role: 'ADMIN', privateKey: key.privatePem }],
        });
        return await state.export();
      } finally {
        await db.close();
      }
    })();
    expect(seeded?.team.issuerId).toBe(issuerId);

    const s = await startTestServer({ config: { dataDir: config.dataDir }, clock });
    try {
      expect(s.issuerId).toBe(issuerId);
      const token = await s.token({ privateKeyPem: key.privatePem, keyId: key.id, issuerId });
      expect((await s.call('GET', '/v1/users', { token })).status).toBe(200);
      const otherIssuer = await s.token({ privateKeyPem: key.privatePem, keyId: key.id, issuerId: '00000000-0000-4000-8000-000000000000' });
      expect((await s.call('GET', '/v1/users', { token: otherIssuer })).status).toBe(401);
    } finally {
      await s.close();
    }
  });
});
