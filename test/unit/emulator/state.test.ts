/**
 * Reading a state document (src/emulator/state.ts, readStateDocument): what a seed file may leave
 * out is filled in, an export reads back as itself, and every problem is a StateDocumentError whose
 * pointer names the offending member. No database: import writes only what this accepted.
 */
import { createHash, generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { readStateDocument, StateDocumentError, STATE_FORMAT, type StateDocument } from '../../../src/emulator/state.js';
import { shapeProblem } from '../../../src/emulator/state-schema.js';
import { pointers, replaced } from '../../helpers/json-pointer.js';

const NOW = new Date('2026-03-01T12:00:00.000Z');
const NOW_APPLE = '2026-03-01T12:00:00.000+00:00';
const ISSUER = '6a0b1c2d-3e4f-4a5b-8c6d-7e8f9a0b1c2d';
const USER_ID = '0b7c1c3e-2f5d-4a8e-9b1c-3d4e5f6a7b8c';
const INVITATION_ID = '019b0a6e-1c2d-7e3f-8a4b-5c6d7e8f9a0b';
const APP_ID = '1234567890';
const TESTER_ID = '019b0a6e-5555-7000-8000-000000000001';
const CLEAR_ID = '019b0a6e-5555-7000-8000-0000000000c1';

function keyPair() {
  const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  return {
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
  };
}
const KEY = keyPair();
const OTHER_KEY = keyPair();

const read = (input: unknown) => readStateDocument(input, NOW, ISSUER);

/** The pointer and message `input` is refused with (fails the test if it is accepted). */
function refusal(input: unknown): { pointer: string; message: string } {
  try {
    read(input);
  } catch (err) {
    expect(err).toBeInstanceOf(StateDocumentError);
    const e = err as StateDocumentError;
    expect(e.message.startsWith(e.pointer === '' ? 'The document ' : `${e.pointer} `), e.message).toBe(true);
    return { pointer: e.pointer, message: e.message };
  }
  throw new Error(`accepted: ${JSON.stringify(input).slice(0, 300)}`);
}

/** A complete document with one of everything; `change` edits a copy. */
function full(change: (doc: any) => void = () => {}): any {
  const doc: any = {
    format: STATE_FORMAT,
    team: { issuerId: ISSUER },
    apiKeys: [
      { id: 'ABCDE12345', name: 'CI key', role: 'ADMIN', privateKey: KEY.privatePem },
      { id: 'ZZZZZ99999', name: 'Jane key', userId: USER_ID, publicKey: OTHER_KEY.publicPem },
    ],
    apps: [{ id: APP_ID, name: 'My App', bundleId: 'com.example.app', sku: 'SKU-1' }],
    users: [
      {
        id: USER_ID,
        username: 'jane@example.com',
        firstName: 'Jane',
        lastName: 'Appleseed',
        roles: ['DEVELOPER'],
        visibleAppIds: [APP_ID],
      },
    ],
    invitations: [{ id: INVITATION_ID, email: 'john@example.com', firstName: 'John', lastName: 'Doe', roles: ['ADMIN'] }],
    endedInvitations: [{ id: '019b0a6e-0000-7000-8000-000000000001', outcome: 'accepted' }],
    sandboxTesters: [{ id: TESTER_ID, firstName: 'Sam', lastName: 'Box', email: 'sam.box@example.com', territory: 'USA' }],
    sandboxClearRequests: [{ id: CLEAR_ID, sandboxTesterIds: [TESTER_ID] }],
  };
  change(doc);
  return doc;
}

describe('a seed that leaves things out', () => {
  it('gets ids, dates, the public key, the access flags and the missing arrays', () => {
    const doc = read({
      format: STATE_FORMAT,
      apiKeys: [{ name: 'CI key', role: 'ADMIN', privateKey: KEY.privatePem }],
      apps: [{ name: 'My App', bundleId: 'com.example.app', sku: 'SKU-1' }],
      invitations: [{ email: 'john@example.com', firstName: 'John', lastName: 'Doe', roles: ['DEVELOPER'] }],
    });
    expect(doc.team).toEqual({ issuerId: ISSUER });
    expect(doc.users).toEqual([]);
    expect(doc.endedInvitations).toEqual([]);
    const [key] = doc.apiKeys;
    expect(key).toEqual({
      id: expect.stringMatching(/^[A-Z0-9]{10}$/),
      name: 'CI key',
      role: 'ADMIN',
      publicKey: KEY.publicPem,
      userId: null,
      createdAt: NOW_APPLE,
      revokedAt: null,
    });
    expect(doc.apps).toEqual([
      {
        id: expect.stringMatching(/^\d{10}$/),
        name: 'My App',
        bundleId: 'com.example.app',
        sku: 'SKU-1',
        primaryLocale: 'en-US',
        createdAt: NOW_APPLE,
      },
    ]);
    expect(doc.invitations).toEqual([
      {
        id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
        email: 'john@example.com',
        firstName: 'John',
        lastName: 'Doe',
        roles: ['DEVELOPER'],
        // the API's defaults (A12)
        allAppsVisible: true,
        provisioningAllowed: false,
        visibleAppIds: [],
        createdAt: NOW_APPLE,
        // A13: 72 hours later
        expirationDate: '2026-03-04T12:00:00.000+00:00',
        invitedBy: null,
        tokenHash: null,
      },
    ]);
  });

  it("gets a sandbox tester's and a clear request's id and date, and Apple's defaults for a new tester", () => {
    const doc = read({
      format: STATE_FORMAT,
      sandboxTesters: [
        { id: TESTER_ID, firstName: ' Sam ', lastName: 'Box', email: 'Sam.Box@example.com', territory: 'GBR' },
        {
          firstName: 'Ivy',
          lastName: 'Test',
          email: 'ivy@example.com',
          territory: 'JPN',
          applePayCompatible: false,
          interruptPurchases: true,
          subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
          createdAt: '2026-01-01T00:00:00+01:00',
        },
      ],
      sandboxClearRequests: [{ sandboxTesterIds: [TESTER_ID] }],
    });
    const ivy = doc.sandboxTesters.find((t) => t.email === 'ivy@example.com');
    expect(doc.sandboxTesters.find((t) => t.id === TESTER_ID)).toEqual({
      id: TESTER_ID,
      firstName: 'Sam',
      lastName: 'Box',
      email: 'Sam.Box@example.com',
      territory: 'GBR',
      applePayCompatible: true,
      interruptPurchases: false,
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES',
      createdAt: NOW_APPLE,
    });
    expect(ivy).toEqual({
      id: expect.stringMatching(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/),
      firstName: 'Ivy',
      lastName: 'Test',
      email: 'ivy@example.com',
      territory: 'JPN',
      applePayCompatible: false,
      interruptPurchases: true,
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
      createdAt: '2025-12-31T23:00:00.000+00:00',
    });
    expect(doc.sandboxClearRequests).toEqual([
      { id: expect.stringMatching(/^[0-9a-f-]{36}$/), sandboxTesterIds: [TESTER_ID], createdAt: NOW_APPLE },
    ]);
  });

  it('takes the expiry from a given createdAt, and ADMIN gets provisioning and every app', () => {
    const doc = read({
      format: STATE_FORMAT,
      users: [{ username: 'a@example.com', firstName: 'A', lastName: 'B', roles: ['ADMIN'], createdAt: '2026-01-01T00:00:00+02:00' }],
      invitations: [{ email: 'c@example.com', firstName: 'C', lastName: 'D', roles: ['ADMIN'], createdAt: '2026-01-01T10:00:00Z' }],
    });
    expect(doc.users[0]).toMatchObject({ allAppsVisible: true, provisioningAllowed: true, createdAt: '2025-12-31T22:00:00.000+00:00' });
    expect(doc.invitations[0]).toMatchObject({
      createdAt: '2026-01-01T10:00:00.000+00:00',
      expirationDate: '2026-01-04T10:00:00.000+00:00',
    });
  });

  it('limits access to the apps given, sorted; trims names; keeps roles in their order', () => {
    const doc = read(
      full((d) => {
        d.apps.push({ id: '0000000001', name: 'Other', bundleId: 'com.example.other', sku: 'SKU-2' });
        d.users[0].visibleAppIds = [APP_ID, '0000000001'];
        d.users[0].roles = ['MARKETING', 'DEVELOPER'];
        d.users[0].firstName = '  Jane ';
      }),
    );
    expect(doc.users[0]).toMatchObject({
      firstName: 'Jane',
      roles: ['MARKETING', 'DEVELOPER'],
      allAppsVisible: false,
      visibleAppIds: ['0000000001', APP_ID],
    });
    expect(doc.apps.map((a) => a.id)).toEqual(['0000000001', APP_ID]);
  });

  it("makes an individual key's role INDIVIDUAL", () => {
    expect(read(full()).apiKeys.find((k) => k.userId === USER_ID)?.role).toBe('INDIVIDUAL');
  });

  it('takes a document without team: the issuer id stays the one given by the caller', () => {
    expect(read({ format: STATE_FORMAT }).team.issuerId).toBe(ISSUER);
    expect(read(full((d) => (d.team.issuerId = '00000000-0000-4000-8000-000000000000'))).team.issuerId).toBe(
      '00000000-0000-4000-8000-000000000000',
    );
  });
});

describe('a complete document', () => {
  it('reads back as itself, sorted by id, and passes the schema', () => {
    const once = read(full());
    expect(shapeProblem(once)).toBeUndefined();
    expect(read(once)).toEqual(once);
    expect(once.sandboxTesters.map((t) => t.id)).toEqual([TESTER_ID]);
    expect(once.sandboxClearRequests.map((c) => c.sandboxTesterIds)).toEqual([[TESTER_ID]]);
    const lists = [
      once.apiKeys,
      once.apps,
      once.users,
      once.invitations,
      once.endedInvitations,
      once.sandboxTesters,
      once.sandboxClearRequests,
    ];
    for (const list of lists) {
      expect(list.map((x) => x.id)).toEqual(list.map((x) => x.id).sort());
    }
  });

  it('never holds a private key', () => {
    const doc = read(full());
    expect(JSON.stringify(doc)).not.toContain('PRIVATE');
    expect(doc.apiKeys[0]).not.toHaveProperty('privateKey');
  });

  it('takes a public key with its private half, when they belong together', () => {
    const doc = read(full((d) => (d.apiKeys[0].publicKey = KEY.publicPem)));
    expect(doc.apiKeys.find((k) => k.id === 'ABCDE12345')?.publicKey).toBe(KEY.publicPem);
  });

  it('takes a revoked key of a user who is gone (as DELETE /v1/users leaves them)', () => {
    const doc = read(
      full((d) => {
        d.apiKeys[1].userId = '99999999-9999-4999-8999-999999999999';
        d.apiKeys[1].revokedAt = '2026-02-01T00:00:00.000+00:00';
      }),
    );
    expect(doc.apiKeys.find((k) => k.id === 'ZZZZZ99999')).toMatchObject({
      role: 'INDIVIDUAL',
      revokedAt: '2026-02-01T00:00:00.000+00:00',
    });
  });

  it('takes the Account Holder (ACCOUNT_HOLDER and ADMIN), once', () => {
    const doc = read(
      full((d) => d.users.push({ username: 'boss@example.com', firstName: 'B', lastName: 'H', roles: ['ACCOUNT_HOLDER', 'ADMIN'] })),
    );
    expect(doc.users.find((u) => u.username === 'boss@example.com')).toMatchObject({
      roles: ['ACCOUNT_HOLDER', 'ADMIN'],
      allAppsVisible: true,
      provisioningAllowed: true,
    });
  });

  it('takes the names of keys and apps as the CLI takes them, trimmed', () => {
    const doc = read(
      full((d) => {
        d.apiKeys[0].name = ' CI\tkey ';
        d.apps[0].name = '\u200b';
        d.apps[0].sku = 'SKU\n1';
      }),
    );
    expect(doc.apiKeys.find((k) => k.id === 'ABCDE12345')?.name).toBe('CI\tkey');
    expect(doc.apps[0]).toMatchObject({ name: '\u200b', sku: 'SKU\n1' });
  });

  it('takes a tokenHash: the SHA-256 of an activation token', () => {
    const tokenHash = createHash('sha256').update('A'.repeat(43)).digest('hex');
    expect(read(full((d) => (d.invitations[0].tokenHash = tokenHash))).invitations[0]?.tokenHash).toBe(tokenHash);
  });
});

describe('a document refused', () => {
  const cases: Array<[string, unknown, string, RegExp?]> = [
    ['not an object', [], ''],
    ['no format', {}, '/format', /is required/],
    ['another format', { format: 'asc-access-state/2' }, '/format'],
    ['an unknown member', full((d) => (d.builds = [])), '/builds', /not a member/],
    ['an unknown member of an item', full((d) => (d.apps[0].color = 'red')), '/apps/0/color'],
    ['a member with / in its name', full((d) => (d.apps[0]['a/b~c'] = 1)), '/apps/0/a~1b~0c'],
    ['an array that is not one', full((d) => (d.users = {})), '/users', /must be of type array/],
    ['a bad issuer id', full((d) => (d.team.issuerId = 'not-a-uuid')), '/team/issuerId', /UUID/],
    ['an upper-case issuer id', full((d) => (d.team.issuerId = ISSUER.toUpperCase())), '/team/issuerId'],
    // keys
    ['a key id of the wrong shape', full((d) => (d.apiKeys[0].id = 'abcde12345')), '/apiKeys/0/id', /10 characters/],
    ['a key id twice', full((d) => (d.apiKeys[1].id = 'ABCDE12345')), '/apiKeys/1/id', /another item/],
    ['a key without a name', full((d) => delete d.apiKeys[0].name), '/apiKeys/0/name', /required/],
    ['a key name of spaces', full((d) => (d.apiKeys[0].name = '   ')), '/apiKeys/0/name'],
    ['a key name with a control character', full((d) => (d.apiKeys[0].name = 'a\u0000b')), '/apiKeys/0/name'],
    ['a team key without a role', full((d) => delete d.apiKeys[0].role), '/apiKeys/0/role'],
    ['a team key with a role no team key has', full((d) => (d.apiKeys[0].role = 'CREATE_APPS')), '/apiKeys/0/role'],
    ['a team key with INDIVIDUAL', full((d) => (d.apiKeys[0].role = 'INDIVIDUAL')), '/apiKeys/0/role'],
    ['an individual key with a role', full((d) => (d.apiKeys[1].role = 'ADMIN')), '/apiKeys/1/role'],
    [
      'a key of a user not in the document',
      full((d) => (d.apiKeys[1].userId = '99999999-9999-4999-8999-999999999999')),
      '/apiKeys/1/userId',
    ],
    ['a key without any key', full((d) => delete d.apiKeys[1].publicKey), '/apiKeys/1/publicKey', /required unless privateKey/],
    ['a public key that is not one', full((d) => (d.apiKeys[1].publicKey = 'hello')), '/apiKeys/1/publicKey'],
    [
      'a private key as the public one',
      full((d) => (d.apiKeys[1].publicKey = KEY.privatePem)),
      '/apiKeys/1/publicKey',
      /give it as privateKey/,
    ],
    ['a private key that is not one', full((d) => (d.apiKeys[0].privateKey = 'hello')), '/apiKeys/0/privateKey'],
    [
      'a public key not of the private one',
      full((d) => (d.apiKeys[0].publicKey = OTHER_KEY.publicPem)),
      '/apiKeys/0/publicKey',
      /public half/,
    ],
    [
      'a key on another curve',
      full((d) => {
        const { privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-384' });
        d.apiKeys[0].privateKey = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
      }),
      '/apiKeys/0/privateKey',
    ],
    [
      'an RSA public key',
      full((d) => {
        const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 1024 });
        d.apiKeys[1].publicKey = publicKey.export({ type: 'spki', format: 'pem' }).toString();
      }),
      '/apiKeys/1/publicKey',
    ],
    ['a bad date', full((d) => (d.apiKeys[0].createdAt = '2026-02-30T00:00:00Z')), '/apiKeys/0/createdAt', /date-time/],
    ['a date without offset', full((d) => (d.apiKeys[0].revokedAt = '2026-02-01T00:00:00')), '/apiKeys/0/revokedAt'],
    ['a leap second', full((d) => (d.apps[0].createdAt = '2026-12-31T23:59:60Z')), '/apps/0/createdAt'],
    ['a date that leaves the year 9999 in UTC', full((d) => (d.apps[0].createdAt = '9999-12-31T23:00:00-05:00')), '/apps/0/createdAt'],
    // apps
    ['an app id that is not numeric', full((d) => (d.apps[0].id = 'app-1')), '/apps/0/id'],
    ['an app id twice', full((d) => d.apps.push({ id: APP_ID, name: 'B', bundleId: 'com.b', sku: 'B' })), '/apps/1/id'],
    ['a bundle id twice', full((d) => d.apps.push({ name: 'B', bundleId: 'com.example.app', sku: 'B' })), '/apps/1/bundleId'],
    ['a SKU twice', full((d) => d.apps.push({ name: 'B', bundleId: 'com.b', sku: 'SKU-1' })), '/apps/1/sku'],
    ['a SKU with an unpaired surrogate', full((d) => (d.apps[0].sku = 'a\udc00')), '/apps/0/sku'],
    ['a bad bundle id', full((d) => (d.apps[0].bundleId = 'com example')), '/apps/0/bundleId'],
    ['an app name of 31 characters', full((d) => (d.apps[0].name = 'x'.repeat(31))), '/apps/0/name', /30/],
    ['a bad locale', full((d) => (d.apps[0].primaryLocale = 'English')), '/apps/0/primaryLocale'],
    // users
    ['a user id that is not a UUID', full((d) => (d.users[0].id = '42')), '/users/0/id'],
    ['a username that is no email', full((d) => (d.users[0].username = 'jane')), '/users/0/username', /email/],
    ['a first name too long', full((d) => (d.users[0].firstName = 'x'.repeat(101))), '/users/0/firstName'],
    ['a last name with a bidi control', full((d) => (d.users[0].lastName = 'a\u202eb')), '/users/0/lastName'],
    ['a lone surrogate in a name', full((d) => (d.users[0].lastName = 'a\ud800')), '/users/0/lastName'],
    ['no roles', full((d) => (d.users[0].roles = [])), '/users/0/roles'],
    ['an unknown role', full((d) => (d.users[0].roles = ['DEVELOPER', 'BOSS'])), '/users/0/roles/1', /one of/],
    ['a role twice', full((d) => (d.users[0].roles = ['DEVELOPER', 'DEVELOPER'])), '/users/0/roles/1', /more than once/],
    ['an add-on without its base role', full((d) => (d.users[0].roles = ['ACCESS_TO_REPORTS'])), '/users/0/roles'],
    ['an app that is not in the document', full((d) => (d.users[0].visibleAppIds = ['5'])), '/users/0/visibleAppIds/0', /no app/],
    ['an app twice', full((d) => (d.users[0].visibleAppIds = [APP_ID, APP_ID])), '/users/0/visibleAppIds/1'],
    ['apps for someone who sees them all', full((d) => (d.users[0].roles = ['ADMIN'])), '/users/0/visibleAppIds'],
    [
      'ADMIN with access limited',
      full((d) => ((d.users[0].roles = ['ADMIN']), (d.users[0].visibleAppIds = []), (d.users[0].allAppsVisible = false))),
      '/users/0/allAppsVisible',
    ],
    [
      'two Account Holders',
      full((d) => {
        d.users[0].roles = ['ACCOUNT_HOLDER', 'ADMIN'];
        d.users[0].visibleAppIds = [];
        d.users.push({ username: 'b@example.com', firstName: 'B', lastName: 'B', roles: ['ACCOUNT_HOLDER', 'ADMIN'] });
      }),
      '/users/1/roles',
      /one Account Holder/,
    ],
    [
      'an Account Holder without provisioning',
      full((d) => {
        d.users[0].roles = ['ACCOUNT_HOLDER', 'ADMIN'];
        d.users[0].visibleAppIds = [];
        d.users[0].provisioningAllowed = false;
      }),
      '/users/0/provisioningAllowed',
    ],
    [
      'a user email in another case',
      full((d) => d.users.push({ username: 'JANE@example.com', firstName: 'J', lastName: 'A', roles: ['SALES'] })),
      '/users/1/username',
      /users\/0\/username/,
    ],
    // invitations
    ['an invitation for a user', full((d) => (d.invitations[0].email = 'Jane@Example.com')), '/invitations/0/email', /users\/0\/username/],
    [
      'two invitations for one email',
      full((d) => d.invitations.push({ email: 'JOHN@example.com', firstName: 'J', lastName: 'D', roles: ['SALES'] })),
      '/invitations/1/email',
      /invitations\/0\/email/,
    ],
    ['an invitation with an email that is none', full((d) => (d.invitations[0].email = 'john@')), '/invitations/0/email'],
    ['an invitation for an Account Holder', full((d) => (d.invitations[0].roles = ['ACCOUNT_HOLDER', 'ADMIN'])), '/invitations/0/roles'],
    [
      'an invitation id twice',
      full((d) => d.invitations.push({ id: INVITATION_ID, email: 'x@example.com', firstName: 'X', lastName: 'Y', roles: ['SALES'] })),
      '/invitations/1/id',
    ],
    [
      'an expiry before creation',
      full((d) => ((d.invitations[0].createdAt = '2026-01-02T00:00:00Z'), (d.invitations[0].expirationDate = '2026-01-01T00:00:00Z'))),
      '/invitations/0/expirationDate',
    ],
    ['a creation too late to expire', full((d) => (d.invitations[0].createdAt = '9999-12-31T00:00:00Z')), '/invitations/0/createdAt'],
    ['a tokenHash of the wrong shape', full((d) => (d.invitations[0].tokenHash = 'ABC')), '/invitations/0/tokenHash', /64 hex/],
    [
      'a tokenHash twice',
      full((d) => {
        d.invitations[0].tokenHash = 'a'.repeat(64);
        d.invitations.push({ email: 'x@example.com', firstName: 'X', lastName: 'Y', roles: ['SALES'], tokenHash: 'a'.repeat(64) });
      }),
      '/invitations/1/tokenHash',
    ],
    ['invitedBy with a control character', full((d) => (d.invitations[0].invitedBy = 'Jane\nDoe')), '/invitations/0/invitedBy'],
    ['invitedBy empty', full((d) => (d.invitations[0].invitedBy = ' ')), '/invitations/0/invitedBy'],
    // ended invitations
    ['an ended invitation without an id', full((d) => delete d.endedInvitations[0].id), '/endedInvitations/0/id'],
    ['an ended invitation that is pending', full((d) => (d.endedInvitations[0].id = INVITATION_ID)), '/endedInvitations/0/id', /pending/],
    [
      'an ended invitation twice',
      full((d) => d.endedInvitations.push({ ...d.endedInvitations[0], outcome: 'expired' })),
      '/endedInvitations/1/id',
    ],
    [
      'an outcome that is none',
      full((d) => (d.endedInvitations[0].outcome = 'declined')),
      '/endedInvitations/0/outcome',
      /accepted, expired/,
    ],
    // sandbox testers: an Apple Account used nowhere else (A23), as the CLI and PATCH take them
    [
      "a tester with a user's email",
      full((d) => (d.sandboxTesters[0].email = 'JANE@example.com')),
      '/sandboxTesters/0/email',
      /users\/0\/username/,
    ],
    [
      "a tester with a pending invitation's email",
      full((d) => (d.sandboxTesters[0].email = 'john@EXAMPLE.com')),
      '/sandboxTesters/0/email',
      /invitations\/0\/email/,
    ],
    [
      'two testers with one email',
      full((d) => d.sandboxTesters.push({ firstName: 'S', lastName: 'B', email: 'SAM.box@example.com', territory: 'USA' })),
      '/sandboxTesters/1/email',
      /sandboxTesters\/0\/email/,
    ],
    ['a tester with an email that is none', full((d) => (d.sandboxTesters[0].email = 'sam@')), '/sandboxTesters/0/email', /email address/],
    ['a tester without an email', full((d) => delete d.sandboxTesters[0].email), '/sandboxTesters/0/email', /required/],
    ['a tester without a territory', full((d) => delete d.sandboxTesters[0].territory), '/sandboxTesters/0/territory', /required/],
    ['an unknown territory', full((d) => (d.sandboxTesters[0].territory = 'XYZ')), '/sandboxTesters/0/territory', /TerritoryCode/],
    ['a territory in lower case', full((d) => (d.sandboxTesters[0].territory = 'usa')), '/sandboxTesters/0/territory', /upper case/],
    [
      'a renewal rate that is none',
      full((d) => (d.sandboxTesters[0].subscriptionRenewalRate = 'EVERY_SECOND')),
      '/sandboxTesters/0/subscriptionRenewalRate',
      /MONTHLY_RENEWAL_EVERY_FIVE_MINUTES/,
    ],
    [
      'interruptPurchases not a boolean',
      full((d) => (d.sandboxTesters[0].interruptPurchases = 'yes')),
      '/sandboxTesters/0/interruptPurchases',
    ],
    ['a tester name of spaces', full((d) => (d.sandboxTesters[0].firstName = '  ')), '/sandboxTesters/0/firstName'],
    ['a tester id that is not a UUID', full((d) => (d.sandboxTesters[0].id = 'sam')), '/sandboxTesters/0/id', /UUID/],
    [
      'a tester id twice',
      full((d) => d.sandboxTesters.push({ id: TESTER_ID, firstName: 'S', lastName: 'B', email: 'other@example.com', territory: 'USA' })),
      '/sandboxTesters/1/id',
      /another item/,
    ],
    ['an unknown member of a tester', full((d) => (d.sandboxTesters[0].password = 'secret')), '/sandboxTesters/0/password', /not a member/],
    // clear purchase history requests
    [
      'a clear request of a tester not in the document',
      full((d) => d.sandboxClearRequests[0].sandboxTesterIds.push('019b0a6e-5555-7000-8000-0000000000ff')),
      '/sandboxClearRequests/0/sandboxTesterIds/1',
      /no sandbox tester/,
    ],
    [
      'a clear request of no tester',
      full((d) => (d.sandboxClearRequests[0].sandboxTesterIds = [])),
      '/sandboxClearRequests/0/sandboxTesterIds',
      /at least 1/,
    ],
    [
      'a clear request naming a tester twice',
      full((d) => (d.sandboxClearRequests[0].sandboxTesterIds = [TESTER_ID, TESTER_ID])),
      '/sandboxClearRequests/0/sandboxTesterIds/1',
      /more than once/,
    ],
    [
      'a clear request without testers',
      full((d) => delete d.sandboxClearRequests[0].sandboxTesterIds),
      '/sandboxClearRequests/0/sandboxTesterIds',
    ],
    [
      'a clear request id twice',
      full((d) => d.sandboxClearRequests.push({ id: CLEAR_ID, sandboxTesterIds: [TESTER_ID] })),
      '/sandboxClearRequests/1/id',
      /another item/,
    ],
  ];

  it.each(cases)('%s', (_what, input, pointer, message) => {
    const r = refusal(input);
    expect(r.pointer).toBe(pointer);
    if (message) expect(r.message).toMatch(message);
  });
});

describe('any input', () => {
  const base = full();
  const paths = pointers(base);
  const tricky = fc.constantFrom<unknown>(
    undefined,
    null,
    '',
    ' ',
    '\u0000',
    '\ud800',
    'x'.repeat(300),
    0,
    -1,
    Number.POSITIVE_INFINITY,
    true,
    [],
    {},
    APP_ID,
    USER_ID,
    INVITATION_ID,
    'ABCDE12345',
    'jane@example.com',
    'JOHN@EXAMPLE.COM',
    'ADMIN',
    'ACCOUNT_HOLDER',
    'INDIVIDUAL',
    '2026-01-01T00:00:00Z',
    '0000-01-01T00:00:00+01:00',
    KEY.publicPem,
    KEY.privatePem,
    'a'.repeat(64),
    TESTER_ID,
    'sam.box@example.com',
    'USA',
    'usa',
    'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
    [TESTER_ID, TESTER_ID],
  );
  const mutated = fc
    .array(
      fc.tuple(
        fc.nat({ max: paths.length - 1 }),
        // removing a member is often still valid (ids, dates, flags may be left out): both outcomes come up
        fc.oneof({ weight: 2, arbitrary: fc.constant(undefined) }, tricky, fc.jsonValue({ maxDepth: 2 })),
      ),
      { minLength: 1, maxLength: 3 },
    )
    .map((edits) => edits.reduce<unknown>((doc, [i, value]) => replaced(doc, paths[i]!, value), base));

  it('is read or refused with a StateDocumentError, and what is read reads back as itself', () => {
    let accepted = 0;
    let refused = 0;
    fc.assert(
      fc.property(
        fc.oneof({ weight: 3, arbitrary: mutated }, fc.anything({ withNullPrototype: true, withSparseArray: true }), fc.jsonValue()),
        (input) => {
          let doc: StateDocument;
          try {
            doc = read(input);
          } catch (err) {
            if (!(err instanceof StateDocumentError)) throw err;
            expect(typeof err.pointer).toBe('string');
            expect(err.pointer === '' || err.pointer.startsWith('/')).toBe(true);
            refused++;
            return;
          }
          accepted++;
          expect(shapeProblem(doc)).toBeUndefined();
          expect(read(doc)).toEqual(doc);
        },
      ),
      { numRuns: 400 },
    );
    // the inputs reach both outcomes, not only the schema's first refusal
    expect(accepted).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });
});
