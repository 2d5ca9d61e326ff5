/**
 * A team's whole state as one JSON document (the emulator's export, import, reset and seed file).
 * Owner: the state work of issue 22; see docs/testing-your-client.md for the document's format.
 *
 * What is state: the team's issuer id, its API keys (public halves), apps, users, pending
 * invitations and the ids of ended ones (accepted or expired: they answer 410, docs/behavior.md
 * A6), sandbox testers and the clear purchase history requests made for them (A19-A23). What is not: private keys (never stored), the mail outbox, rate-limit counts, the clock and
 * the team's cursor secret.
 *
 * A document is read in two steps, neither touching the database: its shape against the JSON Schema
 * of ./state-schema.ts, then what a schema can't say (names as the API takes them, keys that parse,
 * references, uniqueness, the access rules of A11 and A12). The first problem found is thrown as a
 * StateDocumentError with a JSON Pointer to it. Only a document that passes both is written, in
 * one transaction that replaces everything, the derived tables with it.
 */
import { createPrivateKey, createPublicKey, randomBytes, randomInt, randomUUID, type KeyObject } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { formatAppleDate, type Clock } from '../clock.js';
import type { Db } from '../db/database.js';
import { isPostgres } from '../db/locks.js';
import { stderrRetryLog, transaction } from '../db/retry.js';
import type { Database } from '../db/schema.js';
import { resolveAccess, type Access } from '../domain/access.js';
import { isValidEmail } from '../domain/email.js';
import { checkName } from '../domain/names.js';
import { TEAM_KEY_ROLES, type UserRole } from '../domain/roles.js';
import { hasBidiControl, hasLoneSurrogate, hasVisibleCharacter } from '../domain/text.js';
import type { ApiError } from '../errors/api-error.js';
import { KeysRepository } from '../keys/repository.js';
import { INDIVIDUAL_KEY_ROLE, newKeyId } from '../keys/service.js';
import { uuidV7 } from '../random.js';
import { DEFAULT_RENEWAL_RATE, type SandboxTester } from '../resources/sandbox-testers/service.js';
import { INVITATION_LIFETIME_MS } from '../resources/user-invitations/service.js';
import { STATE_FORMAT, shapeProblem } from './state-schema.js';

export { STATE_DOCUMENT_SCHEMA, STATE_FORMAT } from './state-schema.js';

export interface StateApiKey {
  id: string;
  name: string;
  /** a team key's role; INDIVIDUAL for an individual key (userId set) */
  role: string;
  publicKey: string;
  userId: string | null;
  createdAt: string;
  revokedAt: string | null;
}
export interface StateApp {
  id: string;
  name: string;
  bundleId: string;
  sku: string;
  primaryLocale: string;
  createdAt: string;
}
export interface StateUser {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  roles: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  visibleAppIds: string[];
  createdAt: string;
}
export interface StateInvitation {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  visibleAppIds: string[];
  createdAt: string;
  expirationDate: string;
  invitedBy: string | null;
  tokenHash: string | null;
}
export interface StateEndedInvitation {
  id: string;
  outcome: 'accepted' | 'expired';
  at: string;
}

/** A sandbox tester in the document: exactly the API's tester (all its attributes, its id and creation time). */
export type StateSandboxTester = SandboxTester;
export interface StateSandboxClearRequest {
  id: string;
  /** the testers it named, sorted */
  sandboxTesterIds: string[];
  createdAt: string;
}

/** What export gives: complete, every array sorted by id. */
export interface StateDocument {
  format: typeof STATE_FORMAT;
  team: { issuerId: string };
  apiKeys: StateApiKey[];
  apps: StateApp[];
  users: StateUser[];
  invitations: StateInvitation[];
  endedInvitations: StateEndedInvitation[];
  sandboxTesters: StateSandboxTester[];
  sandboxClearRequests: StateSandboxClearRequest[];
}

/** A document's invalid part: answered 422 ENTITY_UNPROCESSABLE with this pointer. */
export class StateDocumentError extends Error {
  constructor(
    message: string,
    /** JSON Pointer into the document, e.g. /apps/3/bundleId */
    readonly pointer: string,
  ) {
    super(message);
    this.name = 'StateDocumentError';
  }
}

/**
 * What a reset may keep: what the API can't change (apps are read-only, keys are the operator's).
 * Sandbox testers are not offered: PATCH changes them and clears are recorded against them, so
 * keeping them would carry one test's changes into the next; a suite imports its seed again.
 */
export type ResetKeep = 'apiKeys' | 'apps';

export const RESET_KEEP: readonly ResetKeep[] = ['apiKeys', 'apps'];

export interface TeamState {
  export(): Promise<StateDocument>;
  /**
   * Replaces the whole state with `input` (a seed file or an export; seed files may leave out ids,
   * dates, public keys given private keys, and whole arrays). Throws StateDocumentError.
   */
  import(input: unknown): Promise<void>;
  /** Deletes everything but the team's issuer id and what `keep` names. */
  reset(keep?: readonly ResetKeep[]): Promise<void>;
  /** true when the team holds no keys, apps, users, invitations or sandbox testers (a seed file applies then) */
  isEmpty(): Promise<boolean>;
}

// ---------------------------------------------------------------------------------------------
// Reading a document

/** A document whose shape ./state-schema.ts accepted. */
interface DocumentInput {
  format: typeof STATE_FORMAT;
  team?: { issuerId: string };
  apiKeys?: KeyInput[];
  apps?: AppInput[];
  users?: UserInput[];
  invitations?: InvitationInput[];
  endedInvitations?: EndedInput[];
  sandboxTesters?: SandboxTesterInput[];
  sandboxClearRequests?: ClearRequestInput[];
}
interface SandboxTesterInput {
  id?: string;
  firstName: string;
  lastName: string;
  email: string;
  territory: string;
  applePayCompatible?: boolean;
  interruptPurchases?: boolean;
  subscriptionRenewalRate?: string;
  createdAt?: string;
}
interface ClearRequestInput {
  id?: string;
  sandboxTesterIds: string[];
  createdAt?: string;
}
interface KeyInput {
  id?: string;
  name: string;
  role?: string;
  publicKey?: string;
  privateKey?: string;
  userId?: string | null;
  createdAt?: string;
  revokedAt?: string | null;
}
interface AppInput {
  id?: string;
  name: string;
  bundleId: string;
  sku: string;
  primaryLocale?: string;
  createdAt?: string;
}
interface AccessInput {
  roles: UserRole[];
  allAppsVisible?: boolean;
  provisioningAllowed?: boolean;
  visibleAppIds?: string[];
}
interface UserInput extends AccessInput {
  id?: string;
  username: string;
  firstName: string;
  lastName: string;
  createdAt?: string;
}
interface InvitationInput extends AccessInput {
  id?: string;
  email: string;
  firstName: string;
  lastName: string;
  createdAt?: string;
  expirationDate?: string;
  invitedBy?: string | null;
  tokenHash?: string | null;
}
interface EndedInput {
  id: string;
  outcome: 'accepted' | 'expired';
  at?: string;
}

function fail(pointer: string, problem: string): never {
  throw new StateDocumentError(`${pointer === '' ? 'The document' : pointer} ${problem}`, pointer);
}

/** An instant as export writes it (Apple's form, A13); the schema has checked that it is one. */
function instant(value: string): string {
  return formatAppleDate(new Date(value));
}

const byId = <T extends { id: string }>(a: T, b: T) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);

/** The ids an array's items give, each once; throws at the second of two equal ones. */
function givenIds(items: readonly { id?: string }[], at: string): Set<string> {
  const ids = new Set<string>();
  items.forEach((item, i) => {
    if (item.id === undefined) return;
    if (ids.has(item.id)) fail(`${at}/${i}/id`, `is the id of another item of ${at}`);
    ids.add(item.id);
  });
  return ids;
}

/** `given`, or a fresh id from `make` that `taken` does not hold yet (then taken holds it). */
function idFor(given: string | undefined, taken: Set<string>, make: () => string): string {
  if (given !== undefined) return given;
  let id = make();
  while (taken.has(id)) id = make();
  taken.add(id);
  return id;
}

/** A person's name as the API takes it (A10): trimmed, 1 to 100 characters, text that shows. */
function personName(pointer: string, member: string, raw: string): string {
  const problems: ApiError[] = [];
  const value = checkName(member, raw, problems);
  if (value === undefined) fail(pointer, `is refused: ${problems[0]?.detail ?? 'not a valid name'}`);
  return value;
}

/**
 * A name the operator gives with the CLI (a key's, an app's, a SKU): trimmed, 1 to `max` characters
 * as KeysService and AppsService take them, so that every state they make exports and imports
 * again; and text every database stores as given (no NUL, no unpaired surrogate).
 */
function operatorName(pointer: string, raw: string, max: number): string {
  const value = raw.trim();
  if (value === '' || value.length > max) fail(pointer, `must have 1 to ${max} characters (trimmed)`);
  if (value.includes('\u0000') || hasLoneSurrogate(value)) fail(pointer, 'must be text without NUL or unpaired surrogates');
  return value;
}

// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f-\u009f\u2028\u2029]/;

/**
 * Who sent an invitation: a user's first and last name (A10 each), so up to 201 characters, with
 * the same characters refused.
 */
function invitedBy(pointer: string, raw: string | null | undefined): string | null {
  if (raw === undefined || raw === null) return null;
  const value = raw.trim();
  if (value === '' || [...value].length > 201 || !hasVisibleCharacter(value)) {
    fail(pointer, 'must be 1 to 201 characters that show, or null');
  }
  if (hasLoneSurrogate(value) || hasBidiControl(value) || CONTROL.test(value)) {
    fail(pointer, 'must be text without control characters or unpaired surrogates');
  }
  return value;
}

/** The member of an item that an access problem (an ApiError of src/domain/access.ts) is about. */
function accessPointer(at: string, problem: ApiError | undefined): string {
  const pointer = problem?.source && 'pointer' in problem.source ? problem.source.pointer : '';
  const attribute = /^\/data\/attributes\/([^/]+)/.exec(pointer);
  if (attribute) return `${at}/${attribute[1]}`;
  if (pointer.startsWith('/data/relationships/visibleApps')) return `${at}/visibleAppIds`;
  return `${at}/roles`;
}

/**
 * Roles, flags and apps with the API's defaults and rules (A11, A12), as a create would have them.
 * `roles` without ACCOUNT_HOLDER, which the API gives no one (the Account Holder's rules are the caller's).
 */
function readAccess(at: string, input: AccessInput, roles: UserRole[], apps: ReadonlySet<string>, provisioningDefault?: boolean): Access {
  (input.visibleAppIds ?? []).forEach((id, j) => {
    if (!apps.has(id)) fail(`${at}/visibleAppIds/${j}`, `names no app of this document ('${id}')`);
  });
  const problems: ApiError[] = [];
  const access = resolveAccess(
    {
      roles,
      allAppsVisible: input.allAppsVisible,
      provisioningAllowed: input.provisioningAllowed ?? provisioningDefault,
      visibleAppIds: input.visibleAppIds ?? [],
    },
    problems,
  );
  if (!access || problems.length > 0) fail(accessPointer(at, problems[0]), `is refused: ${problems[0]?.detail ?? 'not a valid access'}`);
  return { ...access, visibleAppIds: [...access.visibleAppIds].sort() };
}

function isP256(key: KeyObject): boolean {
  return key.asymmetricKeyType === 'ec' && key.asymmetricKeyDetails?.namedCurve === 'prime256v1';
}

function attempt<T>(fn: () => T): T | undefined {
  try {
    return fn();
  } catch {
    return undefined;
  }
}

/** The SPKI PEM of a key's public half: derived from privateKey when given, else publicKey's. */
function publicKeyPem(at: string, key: KeyInput): string {
  let derived: KeyObject | undefined;
  if (key.privateKey !== undefined) {
    const raw = key.privateKey;
    const privateKey = attempt(() => createPrivateKey(raw));
    if (!privateKey || privateKey.type !== 'private' || !isP256(privateKey)) {
      fail(`${at}/privateKey`, 'must be the PEM of an EC P-256 private key (an App Store Connect .p8 file)');
    }
    derived = createPublicKey(privateKey);
  }
  let given: KeyObject | undefined;
  if (key.publicKey !== undefined) {
    const raw = key.publicKey;
    if (raw.includes('PRIVATE KEY')) fail(`${at}/publicKey`, 'holds a private key: give it as privateKey');
    given = attempt(() => createPublicKey(raw));
    if (!given || !isP256(given)) fail(`${at}/publicKey`, 'must be the PEM of an EC P-256 public key');
  }
  const spki = (k: KeyObject) => k.export({ type: 'spki', format: 'der' });
  if (derived && given && !spki(derived).equals(spki(given))) fail(`${at}/publicKey`, 'is not the public half of privateKey');
  const publicKey = derived ?? given;
  if (!publicKey) fail(`${at}/publicKey`, 'is required unless privateKey is given');
  return publicKey.export({ type: 'spki', format: 'pem' }).toString();
}

/**
 * Reads a state document: checks it whole and fills in what a seed file may leave out (ids, dates
 * at `now`, a key's public half, the access flags, whole arrays). `issuerId` is the team's when the
 * document names none. The result is what export gives after importing it: complete, every array
 * sorted by id. Touches no database. Throws StateDocumentError at the first problem.
 */
export function readStateDocument(input: unknown, now: Date, issuerId: string): StateDocument {
  const shape = shapeProblem(input);
  if (shape) fail(shape.pointer, shape.message);
  const doc = input as DocumentInput;
  const created = (value: string | undefined) => instant(value ?? now.toISOString());

  // apps: nothing they refer to
  const appsIn = doc.apps ?? [];
  const appIds = givenIds(appsIn, '/apps');
  const bundleIds = new Map<string, number>();
  const skus = new Map<string, number>();
  const apps = appsIn.map((a, i): StateApp => {
    const at = `/apps/${i}`;
    // the limits of AppsService.create (src/resources/apps/service.ts)
    const appName = operatorName(`${at}/name`, a.name, 30);
    const sku = operatorName(`${at}/sku`, a.sku, 100);
    const sameBundle = bundleIds.get(a.bundleId);
    if (sameBundle !== undefined) fail(`${at}/bundleId`, `is the bundle id of /apps/${sameBundle} already`);
    bundleIds.set(a.bundleId, i);
    const sameSku = skus.get(sku);
    if (sameSku !== undefined) fail(`${at}/sku`, `is the SKU of /apps/${sameSku} already`);
    skus.set(sku, i);
    return {
      // Apple's app ids are numeric strings; ten digits, as AppsService makes them
      id: idFor(a.id, appIds, () => String(randomInt(1_000_000_000, 9_999_999_999))),
      name: appName,
      bundleId: a.bundleId,
      sku,
      primaryLocale: a.primaryLocale ?? 'en-US',
      createdAt: created(a.createdAt),
    };
  });

  // one email, one person: users, pending invitations and sandbox testers share the addresses
  // (A9, A23: a tester's Apple Account is used nowhere else), in any case
  const emails = new Map<string, string>();
  const claimEmail = (pointer: string, email: string) => {
    if (!isValidEmail(email)) fail(pointer, 'must be an email address');
    const holder = emails.get(email.toLowerCase());
    if (holder !== undefined)
      fail(pointer, `is the email of ${holder} already (emails are unique across users, invitations and sandbox testers, in any case)`);
    emails.set(email.toLowerCase(), pointer);
  };

  const usersIn = doc.users ?? [];
  const userIds = givenIds(usersIn, '/users');
  let accountHolder: string | undefined;
  const users = usersIn.map((u, i): StateUser => {
    const at = `/users/${i}`;
    claimEmail(`${at}/username`, u.username);
    const firstName = personName(`${at}/firstName`, 'firstName', u.firstName);
    const lastName = personName(`${at}/lastName`, 'lastName', u.lastName);
    // The Account Holder: one per team (B6.9), made by the operator, not by the API's rules; the
    // other roles follow them, and provisioning is always theirs (UsersService.update).
    const holder = u.roles.includes('ACCOUNT_HOLDER');
    if (holder) {
      if (accountHolder !== undefined) fail(`${at}/roles`, `names ACCOUNT_HOLDER, as ${accountHolder} does: a team has one Account Holder`);
      accountHolder = `${at}/roles`;
      if (u.provisioningAllowed === false) fail(`${at}/provisioningAllowed`, 'must be true for the Account Holder');
    }
    const access = readAccess(
      at,
      u,
      u.roles.filter((r) => r !== 'ACCOUNT_HOLDER'),
      appIds,
      holder ? true : undefined,
    );
    return {
      id: idFor(u.id, userIds, randomUUID),
      username: u.username,
      firstName,
      lastName,
      // as given, in their order (the users table keeps them so)
      roles: [...u.roles],
      allAppsVisible: access.allAppsVisible,
      provisioningAllowed: access.provisioningAllowed,
      visibleAppIds: access.visibleAppIds,
      createdAt: created(u.createdAt),
    };
  });

  const invitationsIn = doc.invitations ?? [];
  const invitationIds = givenIds(invitationsIn, '/invitations');
  const tokenHashes = new Map<string, number>();
  const invitations = invitationsIn.map((inv, i): StateInvitation => {
    const at = `/invitations/${i}`;
    claimEmail(`${at}/email`, inv.email);
    const firstName = personName(`${at}/firstName`, 'firstName', inv.firstName);
    const lastName = personName(`${at}/lastName`, 'lastName', inv.lastName);
    const access = readAccess(at, inv, inv.roles, appIds);
    const createdAt = created(inv.createdAt);
    // A13: created + 72 hours
    const expiresMs = inv.expirationDate === undefined ? Date.parse(createdAt) + INVITATION_LIFETIME_MS : Date.parse(inv.expirationDate);
    if (!/^\d{4}-/.test(new Date(expiresMs).toISOString())) fail(`${at}/createdAt`, 'leaves no expirationDate before the year 10000');
    if (expiresMs <= Date.parse(createdAt)) fail(`${at}/expirationDate`, 'must be after createdAt');
    const tokenHash = inv.tokenHash ?? null;
    if (tokenHash !== null) {
      const other = tokenHashes.get(tokenHash);
      if (other !== undefined) fail(`${at}/tokenHash`, `is the tokenHash of /invitations/${other} already`);
      tokenHashes.set(tokenHash, i);
    }
    return {
      // time-ordered, as the API makes them (InvitationsService.create)
      id: idFor(inv.id, invitationIds, uuidV7),
      email: inv.email,
      firstName,
      lastName,
      roles: access.roles,
      allAppsVisible: access.allAppsVisible,
      provisioningAllowed: access.provisioningAllowed,
      visibleAppIds: access.visibleAppIds,
      createdAt,
      expirationDate: formatAppleDate(new Date(expiresMs)),
      invitedBy: invitedBy(`${at}/invitedBy`, inv.invitedBy),
      tokenHash,
    };
  });

  const endedIn = doc.endedInvitations ?? [];
  givenIds(endedIn, '/endedInvitations');
  const pending = new Set(invitations.map((inv) => inv.id));
  const endedInvitations = endedIn.map((e, i): StateEndedInvitation => {
    if (pending.has(e.id)) fail(`/endedInvitations/${i}/id`, 'is the id of a pending invitation of /invitations');
    return { id: e.id, outcome: e.outcome, at: created(e.at) };
  });

  // sandbox testers as `asc-access sandbox-testers create` makes them (SandboxTestersService.create),
  // with the settings PATCH may have changed since
  const testersIn = doc.sandboxTesters ?? [];
  const testerIds = givenIds(testersIn, '/sandboxTesters');
  const sandboxTesters = testersIn.map((t, i): StateSandboxTester => {
    const at = `/sandboxTesters/${i}`;
    claimEmail(`${at}/email`, t.email);
    return {
      // time-ordered, as the CLI makes them
      id: idFor(t.id, testerIds, uuidV7),
      firstName: personName(`${at}/firstName`, 'firstName', t.firstName),
      lastName: personName(`${at}/lastName`, 'lastName', t.lastName),
      email: t.email,
      territory: t.territory,
      // Apple's defaults for a new tester (B10.7)
      applePayCompatible: t.applePayCompatible ?? true,
      interruptPurchases: t.interruptPurchases ?? false,
      subscriptionRenewalRate: t.subscriptionRenewalRate ?? DEFAULT_RENEWAL_RATE,
      createdAt: created(t.createdAt),
    };
  });

  const clearsIn = doc.sandboxClearRequests ?? [];
  const clearIds = givenIds(clearsIn, '/sandboxClearRequests');
  const knownTesters = new Set(sandboxTesters.map((t) => t.id));
  const sandboxClearRequests = clearsIn.map((c, i): StateSandboxClearRequest => {
    const at = `/sandboxClearRequests/${i}`;
    c.sandboxTesterIds.forEach((id, j) => {
      if (!knownTesters.has(id)) fail(`${at}/sandboxTesterIds/${j}`, `names no sandbox tester of this document ('${id}')`);
    });
    return {
      id: idFor(c.id, clearIds, uuidV7),
      sandboxTesterIds: [...c.sandboxTesterIds].sort(),
      createdAt: created(c.createdAt),
    };
  });

  const keysIn = doc.apiKeys ?? [];
  const keyIds = givenIds(keysIn, '/apiKeys');
  const knownUsers = new Set(users.map((u) => u.id));
  const apiKeys = keysIn.map((k, i): StateApiKey => {
    const at = `/apiKeys/${i}`;
    const keyName = operatorName(`${at}/name`, k.name, 100);
    const userId = k.userId ?? null;
    const revokedAt = k.revokedAt === undefined || k.revokedAt === null ? null : instant(k.revokedAt);
    let role = k.role;
    if (userId !== null) {
      // an individual key acts with its user's roles (docs/behavior.md A2)
      if (role !== undefined && role !== INDIVIDUAL_KEY_ROLE)
        fail(`${at}/role`, `must be ${INDIVIDUAL_KEY_ROLE} (or left out) for a key with a userId`);
      role = INDIVIDUAL_KEY_ROLE;
      // DELETE /v1/users/{id} revokes the user's keys and keeps them: only those may name a user who is gone
      if (!knownUsers.has(userId) && revokedAt === null) fail(`${at}/userId`, `names no user of this document ('${userId}')`);
    } else if (role === undefined || !(TEAM_KEY_ROLES as readonly string[]).includes(role)) {
      fail(`${at}/role`, `must be one of ${TEAM_KEY_ROLES.join(', ')} for a team key (one without a userId)`);
    }
    return {
      id: idFor(k.id, keyIds, newKeyId),
      name: keyName,
      role,
      publicKey: publicKeyPem(at, k),
      userId,
      createdAt: created(k.createdAt),
      revokedAt,
    };
  });

  return {
    format: STATE_FORMAT,
    team: { issuerId: doc.team?.issuerId ?? issuerId },
    apiKeys: apiKeys.sort(byId),
    apps: apps.sort(byId),
    users: users.sort(byId),
    invitations: invitations.sort(byId),
    endedInvitations: endedInvitations.sort(byId),
    sandboxTesters: sandboxTesters.sort(byId),
    sandboxClearRequests: sandboxClearRequests.sort(byId),
  };
}

// ---------------------------------------------------------------------------------------------
// The database

/** Rows per INSERT: 13 columns at most, well under SQLite's and PostgreSQL's bound parameters. */
const CHUNK = 500;

async function insertChunked<R>(rows: readonly R[], insert: (chunk: R[]) => Promise<unknown>): Promise<void> {
  for (let i = 0; i < rows.length; i += CHUNK) await insert(rows.slice(i, i + CHUNK));
}

/**
 * Every table an import or reset writes, in the order of the invitation paths' locks (the lock order
 * in src/resources/user-invitations/repository.ts: owners, claims, what hangs off them, counters).
 */
const STATE_TABLES = [
  'team',
  'user_invitations',
  'users',
  'sandbox_testers',
  'email_claims',
  'user_invitation_roles',
  'user_invitation_visible_apps',
  'user_roles',
  'user_visible_apps',
  'invitation_tombstones',
  'mail_outbox',
  'api_keys',
  'apps',
  'sandbox_clear_requests',
  'sandbox_clear_request_testers',
  'row_counts',
] as const;

/**
 * PostgreSQL: no other instance or request writes while the state is replaced (EXCLUSIVE lets reads
 * through). A create that holds a claim and waits for the invitations' table can deadlock with
 * this; PostgreSQL aborts one of the two and src/db/retry.ts runs it again.
 */
async function lockStateTables(trx: Transaction<Database>): Promise<void> {
  if (!isPostgres(trx)) return;
  await sql`lock table ${sql.join(STATE_TABLES.map((t) => sql.table(t)))} in exclusive mode`.execute(trx);
}

/**
 * Deletes the users, invitations, tombstones, sandbox testers and their clear requests, claims, mail
 * and counters; apps and keys if asked.
 */
async function clear(trx: Transaction<Database>, also: { apps: boolean; apiKeys: boolean }): Promise<void> {
  // what refers to apps and owners first (the visible apps' foreign keys)
  await trx.deleteFrom('user_invitation_visible_apps').execute();
  await trx.deleteFrom('user_invitation_roles').execute();
  await trx.deleteFrom('user_visible_apps').execute();
  await trx.deleteFrom('user_roles').execute();
  await trx.deleteFrom('user_invitations').execute();
  await trx.deleteFrom('users').execute();
  await trx.deleteFrom('invitation_tombstones').execute();
  await trx.deleteFrom('sandbox_clear_request_testers').execute();
  await trx.deleteFrom('sandbox_clear_requests').execute();
  await trx.deleteFrom('sandbox_testers').execute();
  await trx.deleteFrom('email_claims').execute();
  // mail of invitations that are gone; not state (the contract of issue 22)
  await trx.deleteFrom('mail_outbox').execute();
  // no shard: a count of 0 (src/db/row-counts.ts sums them)
  await trx.deleteFrom('row_counts').where('table_name', '=', 'user_invitations').execute();
  if (also.apps) await trx.deleteFrom('apps').execute();
  if (also.apiKeys) await trx.deleteFrom('api_keys').execute();
}

const stored = (value: string) => new Date(value).toISOString();

/** Writes a read document over an empty state (clear() ran), the derived tables with it. */
async function write(trx: Transaction<Database>, doc: StateDocument): Promise<void> {
  await insertChunked(
    doc.apps.map((a) => ({
      id: a.id,
      name: a.name,
      bundle_id: a.bundleId,
      sku: a.sku,
      primary_locale: a.primaryLocale,
      created_at: stored(a.createdAt),
    })),
    (rows) => trx.insertInto('apps').values(rows).execute(),
  );

  await insertChunked(
    doc.users.map((u) => ({
      id: u.id,
      username: u.username,
      username_key: u.username.toLowerCase(),
      first_name: u.firstName,
      last_name: u.lastName,
      last_name_key: u.lastName.toLowerCase(),
      roles: JSON.stringify(u.roles),
      all_apps_visible: u.allAppsVisible ? 1 : 0,
      provisioning_allowed: u.provisioningAllowed ? 1 : 0,
      created_at: stored(u.createdAt),
    })),
    (rows) => trx.insertInto('users').values(rows).execute(),
  );
  await insertChunked(
    doc.users.flatMap((u) => u.roles.map((role) => ({ user_id: u.id, role }))),
    (rows) => trx.insertInto('user_roles').values(rows).execute(),
  );
  await insertChunked(
    doc.users.flatMap((u) => u.visibleAppIds.map((app_id) => ({ user_id: u.id, app_id }))),
    (rows) => trx.insertInto('user_visible_apps').values(rows).execute(),
  );

  await insertChunked(
    doc.invitations.map((inv) => ({
      id: inv.id,
      email: inv.email,
      email_key: inv.email.toLowerCase(),
      first_name: inv.firstName,
      last_name: inv.lastName,
      last_name_key: inv.lastName.toLowerCase(),
      roles: JSON.stringify(inv.roles),
      all_apps_visible: inv.allAppsVisible ? 1 : 0,
      provisioning_allowed: inv.provisioningAllowed ? 1 : 0,
      created_at: stored(inv.createdAt),
      expires_at: stored(inv.expirationDate),
      token_hash: inv.tokenHash,
      invited_by: inv.invitedBy,
    })),
    (rows) => trx.insertInto('user_invitations').values(rows).execute(),
  );
  await insertChunked(
    doc.invitations.flatMap((inv) => inv.roles.map((role) => ({ invitation_id: inv.id, role }))),
    (rows) => trx.insertInto('user_invitation_roles').values(rows).execute(),
  );
  await insertChunked(
    doc.invitations.flatMap((inv) => inv.visibleAppIds.map((app_id) => ({ invitation_id: inv.id, app_id }))),
    (rows) => trx.insertInto('user_invitation_visible_apps').values(rows).execute(),
  );

  await insertChunked(
    doc.sandboxTesters.map((t) => ({
      id: t.id,
      first_name: t.firstName,
      last_name: t.lastName,
      email: t.email,
      email_key: t.email.toLowerCase(),
      territory: t.territory,
      apple_pay_compatible: t.applePayCompatible ? 1 : 0,
      interrupt_purchases: t.interruptPurchases ? 1 : 0,
      subscription_renewal_rate: t.subscriptionRenewalRate,
      created_at: stored(t.createdAt),
    })),
    (rows) => trx.insertInto('sandbox_testers').values(rows).execute(),
  );
  await insertChunked(
    doc.sandboxClearRequests.map((c) => ({ id: c.id, created_at: stored(c.createdAt) })),
    (rows) => trx.insertInto('sandbox_clear_requests').values(rows).execute(),
  );
  await insertChunked(
    doc.sandboxClearRequests.flatMap((c) => c.sandboxTesterIds.map((tester_id) => ({ request_id: c.id, tester_id }))),
    (rows) => trx.insertInto('sandbox_clear_request_testers').values(rows).execute(),
  );

  // each address held by its user, pending invitation or sandbox tester (src/db/email-claims.ts,
  // the claim SandboxTestersRepository.insert takes for a tester); an invitation past its expiry
  // holds it too, until the sweeper or a create buries it, as in the API
  await insertChunked(
    [
      ...doc.users.map((u) => ({ email_key: u.username.toLowerCase(), owner_type: 'user' as const, owner_id: u.id })),
      ...doc.invitations.map((inv) => ({ email_key: inv.email.toLowerCase(), owner_type: 'invitation' as const, owner_id: inv.id })),
      ...doc.sandboxTesters.map((t) => ({ email_key: t.email.toLowerCase(), owner_type: 'sandboxTester' as const, owner_id: t.id })),
    ],
    (rows) => trx.insertInto('email_claims').values(rows).execute(),
  );
  await insertChunked(
    doc.endedInvitations.map((e) => ({ id: e.id, outcome: e.outcome, at: stored(e.at) })),
    (rows) => trx.insertInto('invitation_tombstones').values(rows).execute(),
  );
  await insertChunked(
    doc.apiKeys.map((k) => ({
      id: k.id,
      name: k.name,
      role: k.role,
      public_key: k.publicKey,
      created_at: stored(k.createdAt),
      revoked_at: k.revokedAt === null ? null : stored(k.revokedAt),
      user_id: k.userId,
    })),
    (rows) => trx.insertInto('api_keys').values(rows).execute(),
  );
  // the pending invitations' counter (src/db/row-counts.ts): one shard holds them all
  if (doc.invitations.length > 0) {
    await trx.insertInto('row_counts').values({ table_name: 'user_invitations', shard: 0, n: doc.invitations.length }).execute();
  }
}

class DatabaseTeamState implements TeamState {
  private readonly keys: KeysRepository;

  constructor(
    private readonly db: Db,
    private readonly clock: Clock,
  ) {
    this.keys = new KeysRepository(db.kysely);
  }

  /** The team's issuer id, the team row made first if there is none yet (as KeysService.team does). */
  private async issuerId(): Promise<string> {
    const existing = await this.keys.findTeam();
    if (existing) return existing.issuer_id;
    const team = await this.keys.ensureTeam({
      id: 1,
      issuer_id: randomUUID(),
      cursor_secret: randomBytes(32).toString('base64'),
      created_at: this.clock.now().toISOString(),
    });
    return team.issuer_id;
  }

  async export(): Promise<StateDocument> {
    const issuerId = await this.issuerId();
    // one snapshot: on PostgreSQL other instances write meanwhile
    const reads = this.db.kysely.transaction();
    return (this.db.dialect === 'postgres' ? reads.setIsolationLevel('repeatable read') : reads).execute(async (trx) => {
      const keys = await trx.selectFrom('api_keys').selectAll().orderBy('id').execute();
      const apps = await trx.selectFrom('apps').selectAll().orderBy('id').execute();
      const users = await trx.selectFrom('users').selectAll().orderBy('id').execute();
      const userApps = await trx.selectFrom('user_visible_apps').selectAll().orderBy('user_id').orderBy('app_id').execute();
      const invitations = await trx.selectFrom('user_invitations').selectAll().orderBy('id').execute();
      const invitationApps = await trx
        .selectFrom('user_invitation_visible_apps')
        .selectAll()
        .orderBy('invitation_id')
        .orderBy('app_id')
        .execute();
      const tombstones = await trx.selectFrom('invitation_tombstones').selectAll().orderBy('id').execute();
      const testers = await trx.selectFrom('sandbox_testers').selectAll().orderBy('id').execute();
      const clears = await trx.selectFrom('sandbox_clear_requests').selectAll().orderBy('id').execute();
      const cleared = await trx
        .selectFrom('sandbox_clear_request_testers')
        .selectAll()
        .orderBy('request_id')
        .orderBy('tester_id')
        .execute();

      /** The ids that rows give each owner, sorted. */
      const idsByOwner = (rows: readonly { owner: string; id: string }[]) => {
        const map = new Map<string, string[]>();
        for (const r of rows) {
          const list = map.get(r.owner);
          if (list) list.push(r.id);
          else map.set(r.owner, [r.id]);
        }
        return (owner: string) => (map.get(owner) ?? []).sort();
      };
      const userAppIds = idsByOwner(userApps.map((r) => ({ owner: r.user_id, id: r.app_id })));
      const invitationAppIds = idsByOwner(invitationApps.map((r) => ({ owner: r.invitation_id, id: r.app_id })));
      // A clear request keeps the ids of testers deleted since (migration 010); the document names
      // only testers it holds, so those are left out, and a request with none left with them.
      const testerIds = new Set(testers.map((t) => t.id));
      const clearedTesters = idsByOwner(
        cleared.filter((r) => testerIds.has(r.tester_id)).map((r) => ({ owner: r.request_id, id: r.tester_id })),
      );

      const doc: StateDocument = {
        format: STATE_FORMAT,
        team: { issuerId },
        apiKeys: keys.map((k) => ({
          id: k.id,
          name: k.name,
          role: k.role,
          publicKey: k.public_key,
          userId: k.user_id,
          createdAt: instant(k.created_at),
          revokedAt: k.revoked_at === null ? null : instant(k.revoked_at),
        })),
        apps: apps.map((a) => ({
          id: a.id,
          name: a.name,
          bundleId: a.bundle_id,
          sku: a.sku,
          primaryLocale: a.primary_locale,
          createdAt: instant(a.created_at),
        })),
        users: users.map((u) => ({
          id: u.id,
          username: u.username,
          firstName: u.first_name,
          lastName: u.last_name,
          roles: JSON.parse(u.roles) as string[],
          allAppsVisible: u.all_apps_visible === 1,
          provisioningAllowed: u.provisioning_allowed === 1,
          visibleAppIds: userAppIds(u.id),
          createdAt: instant(u.created_at),
        })),
        invitations: invitations.map((inv) => ({
          id: inv.id,
          email: inv.email,
          firstName: inv.first_name,
          lastName: inv.last_name,
          roles: JSON.parse(inv.roles) as string[],
          allAppsVisible: inv.all_apps_visible === 1,
          provisioningAllowed: inv.provisioning_allowed === 1,
          visibleAppIds: invitationAppIds(inv.id),
          createdAt: instant(inv.created_at),
          expirationDate: instant(inv.expires_at),
          invitedBy: inv.invited_by,
          tokenHash: inv.token_hash,
        })),
        endedInvitations: tombstones.map((t) => ({ id: t.id, outcome: t.outcome, at: instant(t.at) })),
        sandboxTesters: testers.map((t) => ({
          id: t.id,
          firstName: t.first_name,
          lastName: t.last_name,
          email: t.email,
          territory: t.territory,
          applePayCompatible: t.apple_pay_compatible === 1,
          interruptPurchases: t.interrupt_purchases === 1,
          subscriptionRenewalRate: t.subscription_renewal_rate,
          createdAt: instant(t.created_at),
        })),
        sandboxClearRequests: clears
          .map((c) => ({ id: c.id, sandboxTesterIds: clearedTesters(c.id), createdAt: instant(c.created_at) }))
          .filter((c) => c.sandboxTesterIds.length > 0),
      };
      // both databases order text bytewise; sorting again makes the order the document's own
      const lists = [doc.apiKeys, doc.apps, doc.users, doc.invitations, doc.endedInvitations, doc.sandboxTesters, doc.sandboxClearRequests];
      for (const list of lists) list.sort(byId);
      return doc;
    });
  }

  async import(input: unknown): Promise<void> {
    // read, not made: nothing is written for a document that is refused
    const team = await this.keys.findTeam();
    const doc = readStateDocument(input, this.clock.now(), team?.issuer_id ?? randomUUID());
    const now = this.clock.now().toISOString();
    await transaction(
      this.db.kysely,
      async (trx) => {
        await lockStateTables(trx);
        await clear(trx, { apps: true, apiKeys: true });
        const updated = await trx.updateTable('team').set({ issuer_id: doc.team.issuerId }).where('id', '=', 1).executeTakeFirst();
        if (Number(updated.numUpdatedRows) === 0) {
          await trx
            .insertInto('team')
            .values({ id: 1, issuer_id: doc.team.issuerId, cursor_secret: randomBytes(32).toString('base64'), created_at: now })
            .execute();
        }
        await write(trx, doc);
      },
      stderrRetryLog,
    );
  }

  async reset(keep: readonly ResetKeep[] = []): Promise<void> {
    // the controls pass what a request body gives: checked as a document's member `keep`
    const given: unknown = keep;
    if (!Array.isArray(given)) fail('/keep', `must be an array of ${RESET_KEEP.join(', ')}`);
    (given as unknown[]).forEach((k, i) => {
      if (!RESET_KEEP.some((known) => known === k)) fail(`/keep/${i}`, `must be one of ${RESET_KEEP.join(', ')}`);
    });
    const now = this.clock.now().toISOString();
    await transaction(
      this.db.kysely,
      async (trx) => {
        await lockStateTables(trx);
        await clear(trx, { apps: !keep.includes('apps'), apiKeys: !keep.includes('apiKeys') });
        // Individual keys kept lose their users as DELETE /v1/users/{id} does: revoked, kept.
        if (keep.includes('apiKeys')) {
          await trx
            .updateTable('api_keys')
            .set({ revoked_at: now })
            .where('user_id', 'is not', null)
            .where('revoked_at', 'is', null)
            .execute();
        }
      },
      stderrRetryLog,
    );
  }

  async isEmpty(): Promise<boolean> {
    for (const table of ['api_keys', 'apps', 'users', 'user_invitations', 'sandbox_testers', 'sandbox_clear_requests'] as const) {
      const row = await this.db.kysely.selectFrom(table).select(sql.lit(1).as('one')).limit(1).executeTakeFirst();
      if (row) return false;
    }
    return true;
  }
}

/** The state of the team whose database `db` is; `clock` dates what a document leaves undated. */
export function teamState(db: Db, clock: Clock): TeamState {
  return new DatabaseTeamState(db, clock);
}
