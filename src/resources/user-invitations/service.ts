/**
 * Apple's rules for user invitations (docs/behavior.md A6, A8-A14). Holds no SQL and no HTTP: it takes
 * validated query values and typed request input (./request.ts reads the body) and returns domain
 * objects or throws ApiErrors.
 */
import { hash, randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { Transaction } from 'kysely';
import type { Database, Executor } from '../../db/schema.js';
import { checkRoles, resolveAccess, unknownAppProblems, type Access } from '../../domain/access.js';
import { toApp } from '../../domain/app.js';
import type { RequestInput } from '../../domain/request-input.js';
import { emailClaims } from '../../db/email-claims.js';
import { memberEmailTaken } from '../../domain/email.js';
import { VisibleAppsReads } from '../../jsonapi/include.js';
import type { UserRole } from '../../domain/roles.js';
import { ApiErrors, type ApiError } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import type { AppReader, AppRow, AppsRepository } from '../apps/repository.js';
import type { NewOutboxRow, OutboxRepository } from '../../mail/outbox-repository.js';
import { storedMail, type InvitationMailInput } from '../../mail/templates.js';
import { randomBytesPooled, uuidV7 } from '../../random.js';
import type { KeyCheck } from '../../keys/key-check.js';
import { NO_CREATE_SHORTCUT, type CreateShortcut } from './one-statement-create.js';
import type { InvitationRow, InvitationsRepository } from './repository.js';

export const INVITATION_LIFETIME_MS = 72 * 60 * 60 * 1000;
const TYPE = 'userInvitations';

/**
 * What POST /v1/userInvitations asks for (read by ./request.ts). Each value is the one the request
 * gives, checked on its own (names trimmed); undefined when left out, null, or refused (then the
 * RequestInput's problems say why).
 */
export interface InvitationCreateInput {
  email: string | undefined;
  firstName: string | undefined;
  lastName: string | undefined;
  /** known roles, each once */
  roles: UserRole[] | undefined;
  allAppsVisible: boolean | undefined;
  provisioningAllowed: boolean | undefined;
  /** the visibleApps linkage, in order as given */
  visibleAppIds: string[];
}

export interface Invitation {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: UserRole[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  createdAt: Date;
  expiresAt: Date;
}

export function toInvitation(row: InvitationRow): Invitation {
  return {
    id: row.id,
    email: row.email,
    firstName: row.first_name,
    lastName: row.last_name,
    roles: JSON.parse(row.roles) as UserRole[],
    allAppsVisible: row.all_apps_visible === 1,
    provisioningAllowed: row.provisioning_allowed === 1,
    createdAt: new Date(row.created_at),
    expiresAt: new Date(row.expires_at),
  };
}

/** Activation tokens: 256 random bits, sent in the link, stored only as a SHA-256 hash. */
export function newActivationToken(): string {
  return randomBytesPooled(32).toString('base64url');
}

export function hashToken(token: string): string {
  return hash('sha256', token, 'hex');
}

export interface InvitationMailSettings {
  teamName: string;
  /** base of the activation link */
  publicUrl: string;
}

export class InvitationsService {
  /** lists and visible apps; lists hold pending invitations only (A6) */
  readonly reads: VisibleAppsReads<InvitationRow, Invitation>;

  constructor(
    private readonly repo: InvitationsRepository,
    private readonly apps: AppsRepository,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
    private readonly mail: InvitationMailSettings,
    /** called after an invitation (and its email) is committed, to wake the mail worker */
    private readonly onMailQueued: () => void = () => {},
    appReads: AppReader = apps,
    /** takes a create before its transaction does, where it can (./one-statement-create.ts) */
    private readonly shortcut: CreateShortcut = NO_CREATE_SHORTCUT,
  ) {
    this.reads = new VisibleAppsReads(
      repo,
      async (ids) => (await appReads.findByIds(ids)).map(toApp),
      toInvitation,
      () => this.clock.now().toISOString(),
    );
  }

  /**
   * POST /v1/userInvitations, its body read by ./request.ts; `invitedBy` is the name of the person
   * who sends it (the user behind an individual key), null when a team key does: the email and the
   * activation page name that person, or only the team. The body's own problems come first, then
   * the rules across attributes (A11, A12), unknown apps and a taken email: all in one response (A3).
   * `keyCheck`: the request's key, taken as last read, which the write must confirm before it
   * writes (src/keys/key-check.ts); a refusal of the request confirms it too.
   */
  async create(request: RequestInput<InvitationCreateInput>, invitedBy: string | null = null, keyCheck?: KeyCheck): Promise<Invitation> {
    const { values: a, refused } = request;
    const problems = [...request.problems];
    const { email, firstName, lastName, visibleAppIds: appIds } = a;

    let access: Access | undefined;
    if (a.roles !== undefined) {
      if (refused.has('allAppsVisible') || refused.has('provisioningAllowed')) {
        // a flag that is not a flag leaves no access to work out; the roles' own rules still apply
        checkRoles(a.roles, problems);
      } else {
        const given = {
          roles: a.roles,
          allAppsVisible: a.allAppsVisible,
          provisioningAllowed: a.provisioningAllowed,
          visibleAppIds: appIds,
        };
        access = resolveAccess(given, problems);
      }
    }
    if (problems.length > 0 || !email || !firstName || !lastName || !access) {
      // Unknown apps and a taken email are reported with the other problems, all in one response
      // (A3). Throwing inside the transaction rolls back the trial claim.
      if (appIds.length > 0 || email) {
        await this.repo.transaction(async (trx) => {
          // a copy: a transaction may run again (src/db/retry.ts)
          const all = [...problems];
          await this.checkApps(trx, appIds, all);
          if (email && !(await this.claim(trx, email.toLowerCase(), randomUUID(), this.clock.now()))) {
            all.push(await this.emailTaken(trx, email));
          }
          throw new ApiErrors(all);
        });
      }
      throw new ApiErrors(problems);
    }

    const now = this.clock.now();
    const token = newActivationToken();
    const row: InvitationRow = {
      // Time-ordered (UUID version 7): creates append to the id-keyed indexes (the primary key,
      // list order, roles, visible apps) instead of each dirtying a random page of every one of
      // them, so a group commit writes a few pages rather than hundreds.
      id: uuidV7(),
      email,
      email_key: email.toLowerCase(),
      first_name: firstName,
      last_name: lastName,
      last_name_key: lastName.toLowerCase(),
      roles: JSON.stringify(access.roles),
      all_apps_visible: access.allAppsVisible ? 1 : 0,
      provisioning_allowed: access.provisioningAllowed ? 1 : 0,
      created_at: now.toISOString(),
      expires_at: new Date(now.getTime() + INVITATION_LIFETIME_MS).toISOString(),
      token_hash: hashToken(token),
      invited_by: invitedBy,
    };

    // The invitation's message, rendered when it is delivered from the data it is kept as (migration 008).
    const link = `${this.mail.publicUrl}/activate/${token}`;
    const message = (appRows: readonly AppRow[]): NewOutboxRow => {
      const mail: InvitationMailInput = {
        teamName: this.mail.teamName,
        invitedBy,
        firstName,
        lastName,
        email,
        roles: access.roles,
        apps: access.allAppsVisible ? null : appRows.map((a) => a.name),
        expiresAt: new Date(row.expires_at),
        link,
      };
      return {
        id: uuidV7(),
        invitation_id: row.id,
        recipient: email,
        ...storedMail(mail),
        activation_link: link,
        status: 'pending',
        attempts: 0,
        next_attempt_at: row.created_at,
        claimed_until: null,
        last_error: null,
        created_at: row.created_at,
        sent_at: null,
      };
    };

    // A shortcut may write it first (on PostgreSQL, ./one-statement-create.ts), or leave it, with
    // nothing written, to the transaction below.
    const plan = { row, requestedAppIds: appIds, visibleAppIds: access.visibleAppIds, message, ...(keyCheck ? { keyCheck } : {}) };
    if (!(await this.shortcut.write(plan))) {
      // the shortcut may have found the key already; if not, it is read now, before anything is written
      await keyCheck?.confirm();
      // Group commit (src/db/group-commit.ts): on SQLite concurrent creates share one commit, each in
      // its own savepoint; this resolves only after the commit. Everything below goes through trx.
      await this.repo.write(async (trx) => {
        // a copy: on PostgreSQL a unit may run again (src/db/retry.ts)
        const found = [...problems];
        const appRows = await this.checkApps(trx, appIds, found);
        if (!(await this.claim(trx, row.email_key, row.id, now))) found.push(await this.emailTaken(trx, email));
        if (found.length > 0) throw new ApiErrors(found);
        await this.repo.insert(trx, row, access.visibleAppIds);
        // The email is written in the same transaction: an acknowledged invitation always has its message.
        await this.outbox.insert(trx, message(appRows));
      });
    }
    this.onMailQueued();
    return toInvitation(row);
  }

  /** The apps `appIds` name; one RELATIONSHIP.INVALID per id that does not exist, at its index. */
  private async checkApps(trx: Executor, appIds: readonly string[], problems: ApiError[]): Promise<AppRow[]> {
    const appRows = await this.apps.findByIds([...new Set(appIds)], trx);
    problems.push(...unknownAppProblems(appIds, new Set(appRows.map((r) => r.id)), '/data/relationships/visibleApps/data'));
    return appRows;
  }

  /**
   * Claims the email for a new invitation. An invitation that holds it but has expired is turned
   * into a tombstone first, so expiry never waits for the sweeper (A13). A claim that is taken
   * is not locked: the holder's row is, before its claim is released (the lock order in
   * ./repository.ts).
   */
  private async claim(trx: Transaction<Database>, emailKey: string, id: string, now: Date): Promise<boolean> {
    if (await emailClaims.claim(trx, emailKey, 'invitation', id)) return true;
    const claim = await emailClaims.find(trx, emailKey);
    if (!claim || claim.owner_type !== 'invitation') return false;
    const holder = await this.repo.findForUpdate(trx, claim.owner_id);
    if (!holder || new Date(holder.expires_at) > now) return false;
    await this.repo.bury(trx, holder, 'expired', now.toISOString());
    return emailClaims.claim(trx, emailKey, 'invitation', id);
  }

  /** The 409 for an email someone holds: an invitation, a user, or a sandbox tester (A9, A23). */
  private async emailTaken(trx: Executor, email: string): Promise<ApiError> {
    const holder = await emailClaims.find(trx, email.toLowerCase());
    return errors.attributeDuplicate('email', memberEmailTaken(email, holder?.owner_type));
  }

  /** The next instant after `now` at which a pending invitation expires (and so leaves lists and answers 410). */
  async nextExpiryAfter(now: Date): Promise<Date | undefined> {
    const next = await this.repo.nextExpiry(now.toISOString());
    return next === undefined ? undefined : new Date(next);
  }

  /** A pending invitation, or 404 (unknown or cancelled) / 410 (accepted or expired). */
  async get(id: string): Promise<Invitation> {
    const row = await this.repo.findById(this.repo.db, id);
    const now = this.clock.now();
    if (row && new Date(row.expires_at) > now) return toInvitation(row);
    throw await this.missing(id, row);
  }

  private async missing(id: string, row: InvitationRow | undefined): Promise<ApiError> {
    if (row) return errors.gone(`The invitation '${id}' has expired`);
    const tomb = await this.repo.findTombstone(id);
    if (tomb?.outcome === 'accepted') return errors.gone(`The invitation '${id}' was accepted`);
    if (tomb?.outcome === 'expired') return errors.gone(`The invitation '${id}' has expired`);
    return errors.notFound(TYPE, id);
  }

  /** DELETE /v1/userInvitations/{id}: cancels a pending invitation. */
  async cancel(id: string): Promise<void> {
    const now = this.clock.now();
    // missing() reads outside the transaction, so it must run after it: inside, it would wait for
    // the one SQLite connection the transaction holds, and the request would never be answered.
    const notPending = await this.repo.transaction(async (trx) => {
      // the invitation's row first, then its claim (the lock order in ./repository.ts): an accept,
      // decline or sweep of it at the same time waits for this one, or this one for it and then
      // finds it gone
      const row = await this.repo.findForUpdate(trx, id);
      if (!row || new Date(row.expires_at) <= now) return { row };
      if (!(await this.repo.delete(trx, row))) return { row: undefined };
      await this.outbox.cancelForInvitation(trx, row.id);
      return undefined;
    });
    if (notPending) throw await this.missing(id, notPending.row);
  }

  /**
   * Turns invitations whose time ran out into tombstones, a batch per transaction. Correctness
   * never waits for this (reads compare expires_at with the clock); it keeps the table small.
   */
  async sweepExpired(batch = 500): Promise<number> {
    let swept = 0;
    for (;;) {
      const now = this.clock.now().toISOString();
      const { found, buried } = await this.repo.transaction(async (trx) => {
        // one instance sweeps at a time; the others skip this round
        if (!(await this.repo.takeSweeperTurn(trx))) return { found: 0, buried: 0 };
        // the whole batch locked first, then each one's claim (the lock order in ./repository.ts)
        const rows = await this.repo.expired(trx, now, batch);
        let n = 0;
        for (const row of rows) if (await this.repo.bury(trx, row, 'expired', now)) n++;
        return { found: rows.length, buried: n };
      });
      swept += buried;
      if (found < batch) return swept;
    }
  }
}
