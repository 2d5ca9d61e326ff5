/**
 * Importing any input into a real database (SQLite or PostgreSQL, as the project runs): random
 * values, random JSON, and a valid state document with members replaced by random or awkward ones
 * (other members' ids and emails, NUL, unpaired surrogates, keys, dates at the ends of the range).
 * Whatever arrives, import either succeeds, leaving derived tables that agree with the document, or
 * throws a StateDocumentError and leaves every row as it was: never another error, never half a state.
 *
 * Runs 150 times in `npm test` and longer under `npm run fuzz` (fuzz-options.ts).
 */
import { generateKeyPairSync } from 'node:crypto';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { StateDocumentError, STATE_FORMAT, teamState, type TeamState } from '../../src/emulator/state.js';
import { testConfig } from '../helpers/harness.js';
import { pointers, replaced } from '../helpers/json-pointer.js';
import { dropDatabase } from '../helpers/scratch-db.js';
import { stateRows } from '../helpers/state-rows.js';
import { FUZZ_TEST_TIMEOUT, fuzzParameters, runsLabel } from './fuzz-options.js';

const RUNS = 150;

function privatePem(curve = 'P-256'): string {
  return generateKeyPairSync('ec', { namedCurve: curve }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}
const KEY = privatePem();
const OTHER = privatePem();
const P384 = privatePem('P-384');

const ISSUER = '3f1e2d3c-4b5a-4968-8776-655443322110';
const USERS = ['11111111-1111-4111-8111-111111111111', '22222222-2222-4222-8222-222222222222'];
const INVITATIONS = ['019b0a6e-0000-7000-8000-000000000001', '019b0a6e-0000-7000-8000-000000000002'];
const ENDED = '019b0a6e-0000-7000-8000-0000000000e1';
const APPS = ['1000000001', '1000000002'];
const TESTERS = ['019b0a6e-5555-7000-8000-000000000001', '019b0a6e-5555-7000-8000-000000000002'];

/** A valid document with two of most things; the fuzzer edits copies of it. */
const BASE = {
  format: STATE_FORMAT,
  team: { issuerId: ISSUER },
  apiKeys: [
    { id: 'KEY0000001', name: 'Admin', role: 'ADMIN', privateKey: KEY },
    { id: 'KEY0000002', name: 'Individual', userId: USERS[0], privateKey: OTHER },
  ],
  apps: [
    { id: APPS[0], name: 'Alpha', bundleId: 'com.example.alpha', sku: 'ALPHA' },
    { id: APPS[1], name: 'Beta', bundleId: 'com.example.beta', sku: 'BETA', primaryLocale: 'de-DE' },
  ],
  users: [
    { id: USERS[0], username: 'ann@example.com', firstName: 'Ann', lastName: 'Lee', roles: ['DEVELOPER'], visibleAppIds: [APPS[0]] },
    { id: USERS[1], username: 'boss@example.com', firstName: 'Big', lastName: 'Boss', roles: ['ACCOUNT_HOLDER', 'ADMIN'] },
  ],
  invitations: [
    { id: INVITATIONS[0], email: 'bob@example.com', firstName: 'Bob', lastName: 'Ray', roles: ['SALES'], tokenHash: 'a'.repeat(64) },
    {
      id: INVITATIONS[1],
      email: 'cy@example.com',
      firstName: 'Cy',
      lastName: 'Day',
      roles: ['MARKETING'],
      visibleAppIds: [APPS[1]],
      invitedBy: 'Ann Lee',
      createdAt: '2026-01-01T00:00:00Z',
    },
  ],
  endedInvitations: [{ id: ENDED, outcome: 'expired', at: '2026-01-01T00:00:00Z' }],
  sandboxTesters: [
    { id: TESTERS[0], firstName: 'Sam', lastName: 'Box', email: 'sam@example.com', territory: 'USA' },
    {
      id: TESTERS[1],
      firstName: 'Ivy',
      lastName: 'Test',
      email: 'Ivy@example.com',
      territory: 'GBR',
      applePayCompatible: false,
      interruptPurchases: true,
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_ONE_HOUR',
      createdAt: '2026-01-01T00:00:00Z',
    },
  ],
  sandboxClearRequests: [{ id: '019b0a6e-5555-7000-8000-0000000000c1', sandboxTesterIds: [TESTERS[0], TESTERS[1]] }],
};

const AWKWARD: unknown[] = [
  undefined,
  null,
  '',
  ' ',
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x'.repeat(256),
  0,
  1.5,
  true,
  [],
  {},
  [null],
  ...USERS,
  ...INVITATIONS,
  ENDED,
  ...APPS,
  'KEY0000001',
  'ann@example.com',
  'BOB@EXAMPLE.COM',
  'com.example.alpha',
  'ALPHA',
  'ADMIN',
  'ACCOUNT_HOLDER',
  'INDIVIDUAL',
  'CREATE_APPS',
  ['DEVELOPER', 'DEVELOPER'],
  [APPS[0], APPS[1]],
  '0000-01-01T00:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-02-29T00:00:00Z',
  'a'.repeat(64),
  ...TESTERS,
  'sam@example.com',
  'IVY@EXAMPLE.COM',
  'USA',
  'usa',
  'XYZ',
  'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES',
  [TESTERS[0], TESTERS[0]],
  KEY,
  P384,
  '-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n',
];

describe('importing any input', () => {
  const clock = new ManualClock(Date.parse('2026-06-01T00:00:00.000Z'));
  const config = testConfig();
  let db: Db;
  let state: TeamState;

  beforeAll(async () => {
    db = await openDatabase(config);
    state = teamState(db, clock);
  });
  afterAll(async () => dropDatabase(config, db));

  const paths = pointers(BASE);
  const edited = fc
    .array(
      fc.tuple(
        fc.nat({ max: paths.length - 1 }),
        // removing a member is often still valid (ids, dates, flags may be left out): both outcomes come up
        fc.oneof({ weight: 3, arbitrary: fc.constant(undefined) }, fc.constantFrom(...AWKWARD), fc.jsonValue({ maxDepth: 2 })),
      ),
      {
        minLength: 1,
        maxLength: 3,
      },
    )
    .map((edits) => edits.reduce<unknown>((doc, [i, value]) => replaced(doc, paths[i]!, value), BASE));
  const input = fc.oneof(
    { weight: 6, arbitrary: edited },
    { weight: 1, arbitrary: fc.jsonValue() },
    { weight: 1, arbitrary: fc.anything({ withNullPrototype: true, withSparseArray: true }) },
  );

  it(
    `succeeds with derived tables that agree, or throws a StateDocumentError and changes nothing (${runsLabel(RUNS)})`,
    async () => {
      await state.import(BASE);
      const baseRows = await stateRows(db);
      let accepted = 0;
      let refused = 0;
      await fc.assert(
        fc.asyncProperty(input, async (doc) => {
          try {
            await state.import(doc);
          } catch (err) {
            if (!(err instanceof StateDocumentError)) throw err;
            refused++;
            expect(await stateRows(db)).toEqual(baseRows);
            return;
          }
          accepted++;
          const r = await stateRows(db);
          expect(r.invitationCount).toBe(r.invitations.length);
          expect(r.claims).toHaveLength(r.users.length + r.invitations.length + r.sandboxTesters.length);
          // each tester holds their email's claim, as the CLI's create leaves it
          for (const t of r.sandboxTesters) {
            expect(r.claims).toContainEqual({ email_key: t.email.toLowerCase(), owner_type: 'sandboxTester', owner_id: t.id });
          }
          const testerIds = new Set(r.sandboxTesters.map((t) => t.id));
          for (const c of r.clearRequestTesters) expect(testerIds.has(c.tester_id)).toBe(true);
          expect(r.userRoles).toHaveLength(r.users.reduce((n, u) => n + (JSON.parse(u.roles) as unknown[]).length, 0));
          // what was stored reads back as itself
          const exported = await state.export();
          await state.import(exported);
          expect(await state.export()).toEqual(exported);
          await state.import(BASE);
        }),
        fuzzParameters(RUNS),
      );
      // both outcomes were reached, not only the schema's first refusal
      expect(accepted).toBeGreaterThan(0);
      expect(refused).toBeGreaterThan(0);
    },
    FUZZ_TEST_TIMEOUT,
  );
});
