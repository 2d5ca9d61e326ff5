/**
 * Bearer-token authentication as App Store Connect does it (docs/behavior.md A1, B1): ES256 JWTs signed
 * with a key whose id is the `kid` header. Every failure is the one NOT_AUTHORIZED 401.
 */
import { createPublicKey, type KeyObject } from 'node:crypto';
import { decodeProtectedHeader, errors as joseErrors, jwtVerify, type JWTPayload } from 'jose';
import type { Clock } from '../clock.js';
import { SANDBOX_TESTER_ROLES, type UserRole } from '../domain/roles.js';
import { errors } from '../errors/catalogue.js';
import { splitQuery } from '../jsonapi/query.js';
import type { ApiKey, KeyLookup, Team } from '../keys/service.js';
import { KeyCheck, unchanged } from '../keys/key-check.js';

export const AUDIENCE = 'appstoreconnect-v1';
/** Longest accepted token lifetime for these resources: 20 minutes, inclusive (B1.4). */
export const MAX_LIFETIME_SECONDS = 1200;
/** How far `iat` may lie in the future. */
export const MAX_IAT_SKEW_SECONDS = 60;

export interface Principal {
  keyId: string;
  /** the key's name (team keys) or the user's full name (individual keys) */
  name: string;
  kind: 'team' | 'individual';
  roles: readonly UserRole[];
  /** The user an individual key acts for. */
  userId?: string;
  /**
   * Set when the key was taken as last read, to be checked by the request's write or read again
   * before anything is written or answered (src/keys/key-check.ts).
   */
  keyCheck?: KeyCheck;
}

export interface RequestTarget {
  method: string;
  path: string;
  /** raw query string without `?` */
  query: string;
}

/** Resolves the user behind an individual key; undefined when the user is gone. */
export type IndividualRoles = (userId: string) => Promise<{ roles: readonly UserRole[]; name: string } | undefined>;

const SCOPE_IGNORED = new Set(['limit', 'cursor', 'sort']);

function canonicalQuery(raw: string): string[] | undefined {
  const pairs = splitQuery(raw);
  if (!Array.isArray(pairs)) return undefined;
  return pairs
    .filter(([k]) => !SCOPE_IGNORED.has(k))
    .map(([k, v]) => `${k}=${v}`)
    .sort();
}

/** True when one of the token's scope entries matches the request (B1.5). */
export function scopeAllows(scope: unknown, target: RequestTarget): boolean {
  if (!Array.isArray(scope) || scope.length === 0) return false;
  const requestQuery = canonicalQuery(target.query);
  if (!requestQuery) return false;
  return scope.some((entry) => {
    if (typeof entry !== 'string') return false;
    const space = entry.indexOf(' ');
    if (space <= 0) return false;
    const method = entry.slice(0, space).toUpperCase();
    const rest = entry.slice(space + 1).trim();
    const q = rest.indexOf('?');
    const path = q === -1 ? rest : rest.slice(0, q);
    const entryQuery = canonicalQuery(q === -1 ? '' : rest.slice(q + 1));
    if (method !== target.method.toUpperCase() || path !== target.path || !entryQuery) return false;
    return entryQuery.length === requestQuery.length && entryQuery.every((p, i) => p === requestQuery[i]);
  });
}

/** How many team keys are remembered as last read, for writes that check their key (src/keys/key-check.ts). */
const KEYS_AS_READ_CAPACITY = 1000;

/** How many parsed public halves are kept (one per key, and one more per key given a new one). */
const PUBLIC_KEYS_CAPACITY = 1000;

/** How many verified tokens are remembered (each lives at most 20 minutes). */
const VERIFIED_TOKENS_CAPACITY = 10_000;

interface VerifiedToken {
  /** the key that verified the signature, as it was (a key's public half never changes) */
  keyId: string;
  publicKeyPem: string;
  payload: JWTPayload;
}

export class Authenticator {
  /** parsed public halves, by their PEM */
  private readonly publicKeys = new Map<string, KeyObject>();
  /**
   * Tokens whose signature, algorithm and audience were verified, by the token's text: a client
   * sends one token for many requests, and checking an ES256 signature costs more than the rest of
   * a small request. Only what cannot change is taken from here; the key (revocation, its user) and
   * the token's time window are checked on every request as for a new token.
   */
  private readonly verified = new Map<string, VerifiedToken>();

  /**
   * Team keys as last read, by id: kept only when writes check their key (`writesCheckKey`), and
   * used only for requests whose write does (src/keys/key-check.ts).
   */
  private readonly keysAsRead = new Map<string, ApiKey>();

  constructor(
    private readonly keys: KeyLookup,
    /** the team (its issuer id), KeysService.team */
    private readonly team: () => Promise<Team>,
    private readonly clock: Clock,
    private readonly individualRoles: IndividualRoles = async () => undefined,
    /** whether some write can check its own key (the one-statement create on PostgreSQL) */
    private readonly writesCheckKey = false,
  ) {}

  /** The key's public half, parsed once per PEM: a key id given another public half (a state import) gets it parsed anew. */
  private publicKey(key: ApiKey): KeyObject {
    let k = this.publicKeys.get(key.publicKeyPem);
    if (!k) {
      if (this.publicKeys.size >= PUBLIC_KEYS_CAPACITY) this.publicKeys.clear();
      k = createPublicKey(key.publicKeyPem);
      this.publicKeys.set(key.publicKeyPem, k);
    }
    return k;
  }

  /**
   * The token's claims when its signature verifies with `key` and it is valid at `now`
   * (algorithm, audience, exp and nbf as jose checks them); undefined otherwise. `known`: what
   * verifying this token text found before, if anything.
   */
  private async verify(token: string, known: VerifiedToken | undefined, key: ApiKey, now: Date): Promise<JWTPayload | undefined> {
    if (known && known.keyId === key.id && known.publicKeyPem === key.publicKeyPem) {
      // what jose checks against the clock, checked again: exp strictly after now, nbf not after it
      const nowSeconds = Math.floor(now.getTime() / 1000);
      const { exp, nbf } = known.payload;
      if (exp === undefined || exp <= nowSeconds || (nbf !== undefined && nbf > nowSeconds)) return undefined;
      return known.payload;
    }
    let payload: JWTPayload;
    try {
      ({ payload } = await jwtVerify(token, this.publicKey(key), {
        algorithms: ['ES256'],
        audience: AUDIENCE,
        requiredClaims: ['exp', 'aud'],
        currentDate: now,
      }));
    } catch (err) {
      if (err instanceof joseErrors.JOSEError || err instanceof TypeError) return undefined;
      throw err;
    }
    if (this.verified.size >= VERIFIED_TOKENS_CAPACITY) this.forgetExpired(now);
    this.verified.set(token, { keyId: key.id, publicKeyPem: key.publicKeyPem, payload });
    return payload;
  }

  /** Drops expired tokens; if none had expired, the oldest half. */
  private forgetExpired(now: Date): void {
    const nowSeconds = Math.floor(now.getTime() / 1000);
    for (const [token, v] of this.verified) if ((v.payload.exp ?? 0) <= nowSeconds) this.verified.delete(token);
    if (this.verified.size < VERIFIED_TOKENS_CAPACITY) return;
    let n = this.verified.size / 2;
    for (const token of this.verified.keys()) {
      if (n-- <= 0) break;
      this.verified.delete(token);
    }
  }

  /**
   * Returns the principal, or throws the NOT_AUTHORIZED ApiError. `writeChecksKey`: the request's
   * write checks its key itself, so a team key read before may be taken as it was read, with a
   * KeyCheck on the principal (src/keys/key-check.ts); where that fails, the key is read as always.
   */
  async authenticate(authorization: string | undefined, target: RequestTarget, writeChecksKey = false): Promise<Principal> {
    if (writeChecksKey && this.writesCheckKey) {
      try {
        return await this.authenticateWith(authorization, target, true);
      } catch {
        // a key that may have changed since (another public half after a state import, say) is read
      }
    }
    return this.authenticateWith(authorization, target, false);
  }

  private async authenticateWith(authorization: string | undefined, target: RequestTarget, asRead: boolean): Promise<Principal> {
    const fail = errors.notAuthorized;
    const match = authorization === undefined ? null : /^Bearer\s+(\S+)\s*$/i.exec(authorization);
    if (!match) throw fail();
    const token = match[1]!;

    // A token verified before had an ES256 header naming the key it verified with, and the same
    // text has the same header: only a token not seen yet is decoded here.
    const known = this.verified.get(token);
    let kid: unknown = known?.keyId;
    if (kid === undefined) {
      try {
        const header = decodeProtectedHeader(token);
        if (header.alg !== 'ES256') throw fail();
        kid = header.kid;
      } catch {
        throw fail();
      }
    }
    if (typeof kid !== 'string' || kid.length === 0 || kid.length > 64) throw fail();

    const remembered = asRead ? this.keysAsRead.get(kid) : undefined;
    if (asRead && !remembered) throw fail();
    const key = remembered ?? (await this.keys.find(kid));
    if (!key || key.revokedAt !== null) {
      this.keysAsRead.delete(kid);
      throw fail();
    }

    const now = this.clock.now();
    const nowSeconds = Math.floor(now.getTime() / 1000);
    const payload = await this.verify(token, known, key, now);
    if (!payload) throw fail();
    const exp = payload.exp!;
    const iat = payload.iat;
    if (iat !== undefined && iat > nowSeconds + MAX_IAT_SKEW_SECONDS) throw fail();
    if (exp - (iat ?? nowSeconds) > MAX_LIFETIME_SECONDS) throw fail();

    let principal: Principal;
    if (key.userId === null) {
      const team = await this.team();
      if (payload.iss !== team.issuerId || key.role === null) throw fail();
      principal = { keyId: key.id, name: key.name, kind: 'team', roles: [key.role] };
      if (remembered) {
        const asReadKey = { id: key.id, publicKeyPem: key.publicKeyPem, role: key.role };
        principal.keyCheck = new KeyCheck(asReadKey, async () => {
          const now = await this.keys.find(asReadKey.id);
          if (unchanged(now, asReadKey)) return true;
          this.keysAsRead.delete(asReadKey.id);
          return false;
        });
      } else if (this.writesCheckKey) {
        if (this.keysAsRead.size >= KEYS_AS_READ_CAPACITY) this.keysAsRead.clear();
        this.keysAsRead.set(key.id, key);
      }
    } else {
      if (payload.sub !== 'user' || payload.iss !== undefined) throw fail();
      const user = await this.individualRoles(key.userId);
      if (!user) throw fail();
      principal = { keyId: key.id, name: user.name, kind: 'individual', roles: user.roles, userId: key.userId };
    }

    if (payload.scope !== undefined && !scopeAllows(payload.scope, target)) throw fail();
    return principal;
  }
}

/** Writes to users and userInvitations need ADMIN (or an individual key of an ADMIN/ACCOUNT_HOLDER). */
export function mayWrite(principal: Principal): boolean {
  if (principal.kind === 'team') return principal.roles.includes('ADMIN');
  return principal.roles.includes('ADMIN') || principal.roles.includes('ACCOUNT_HOLDER');
}

/**
 * Reads and writes of sandbox testers: the roles Apple's help names for managing Sandbox Apple
 * Accounts (docs/behavior.md A19): team keys of ADMIN, APP_MANAGER or DEVELOPER, individual keys
 * of a user who holds one of those or ACCOUNT_HOLDER.
 */
export function mayManageSandboxTesters(principal: Principal): boolean {
  return principal.roles.some((role) => SANDBOX_TESTER_ROLES.includes(role));
}
