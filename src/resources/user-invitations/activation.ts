/**
 * What the activation link does (Apple: "if they accept, they are added to the team and the
 * invitation is deleted"). Tokens are looked up by hash; each works once.
 */
import { randomUUID } from 'node:crypto';
import type { Clock } from '../../clock.js';
import type { AppReader } from '../apps/repository.js';
import { toApp, type App } from '../../domain/app.js';
import type { OutboxRepository } from '../../mail/outbox-repository.js';
import { emailClaims } from '../../db/email-claims.js';
import type { UsersRepository } from '../users/repository.js';
import type { Transaction } from 'kysely';
import type { Database } from '../../db/schema.js';
import type { InvitationRow, InvitationsRepository } from './repository.js';
import { hashToken, toInvitation, type Invitation } from './service.js';

export type Activation =
  | { state: 'pending'; invitation: Invitation; invitedBy: string | null; apps: App[] | null }
  /** the invitation ran out of time (410) */
  | { state: 'expired' }
  /** unknown, used, declined or cancelled: all look the same (404), so nothing leaks */
  | { state: 'unknown' };

export type AcceptResult = { state: 'accepted'; userId: string; invitation: Invitation } | { state: 'expired' } | { state: 'unknown' };

/**
 * An invitation named other than by its token (the emulator's invitee controls, src/emulator/):
 * by id, or by the address it was sent to (any case).
 */
export type InvitationRef = { id: string } | { email: string };

/**
 * How an invitation named by id ended, when it is no longer there: accepted or expired (its
 * tombstone: the API answers 410), or unknown (never existed, declined or cancelled: 404).
 */
export type EndedInvitation = { state: 'ended'; outcome: 'accepted' | 'expired' } | { state: 'unknown' };

/** A token can only be ours if it looks like one; anything else is unknown without a lookup. */
const TOKEN_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export class ActivationService {
  constructor(
    private readonly invitations: InvitationsRepository,
    private readonly users: UsersRepository,
    private readonly apps: AppReader,
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
  ) {}

  async lookup(token: string): Promise<Activation> {
    if (!TOKEN_SHAPE.test(token)) return { state: 'unknown' };
    const row = await this.invitations.findByTokenHash(this.invitations.db, hashToken(token));
    if (!row) return { state: 'unknown' };
    if (new Date(row.expires_at) <= this.clock.now()) return { state: 'expired' };
    const invitation = toInvitation(row);
    const apps = invitation.allAppsVisible
      ? null
      : (await this.apps.findByIds(await this.invitations.visibleAppIds(this.invitations.db, row.id))).map(toApp);
    return { state: 'pending', invitation, invitedBy: row.invited_by, apps };
  }

  /** Creates the user and deletes the invitation in one transaction (A14). */
  async accept(token: string): Promise<AcceptResult> {
    if (!TOKEN_SHAPE.test(token)) return { state: 'unknown' };
    return this.acceptRow((trx) => this.invitations.findByTokenHashForUpdate(trx, hashToken(token)));
  }

  /** As accept, for an invitation named by id or address instead of its token: exactly the same effects. */
  async acceptByRef(ref: InvitationRef): Promise<AcceptResult | EndedInvitation> {
    const result = await this.acceptRow((trx) => this.findRef(trx, ref));
    return result.state === 'unknown' ? this.ended(ref) : result;
  }

  /** As decline, for an invitation named by id or address instead of its token. */
  async declineByRef(ref: InvitationRef): Promise<'declined' | 'expired' | EndedInvitation> {
    const result = await this.declineRow((trx) => this.findRef(trx, ref));
    return result === 'unknown' ? this.ended(ref) : result;
  }

  private findRef(trx: Transaction<Database>, ref: InvitationRef): Promise<InvitationRow | undefined> {
    return 'id' in ref ? this.invitations.findForUpdate(trx, ref.id) : this.invitations.findByEmailForUpdate(trx, ref.email);
  }

  /** Why an invitation is not there: an id may have a tombstone; an address keeps none. */
  private async ended(ref: InvitationRef): Promise<EndedInvitation> {
    if (!('id' in ref)) return { state: 'unknown' };
    const tomb = await this.invitations.findTombstone(ref.id);
    return tomb ? { state: 'ended', outcome: tomb.outcome } : { state: 'unknown' };
  }

  private async acceptRow(find: (trx: Transaction<Database>) => Promise<InvitationRow | undefined>): Promise<AcceptResult> {
    const now = this.clock.now();
    return this.invitations.transaction(async (trx): Promise<AcceptResult> => {
      // the invitation's row first, then its claim (the lock order in ./repository.ts): a cancel,
      // decline or sweep at the same time waits for this one, or this one for it, and finds it gone
      const row = await find(trx);
      if (!row) return { state: 'unknown' };
      if (new Date(row.expires_at) <= now) return { state: 'expired' };
      const userId = randomUUID();
      // Taking over the email claim decides concurrent accepts: only one request can move it from
      // the invitation to a user; the others find it moved and see the token as used.
      if (!(await emailClaims.transfer(trx, row.email_key, row.id, 'user', userId))) return { state: 'unknown' };
      const appIds = row.all_apps_visible === 1 ? [] : await this.invitations.visibleAppIds(trx, row.id);
      await this.users.insert(
        trx,
        {
          id: userId,
          username: row.email,
          username_key: row.email_key,
          first_name: row.first_name,
          last_name: row.last_name,
          last_name_key: row.last_name_key,
          roles: row.roles,
          all_apps_visible: row.all_apps_visible,
          provisioning_allowed: row.provisioning_allowed,
          created_at: now.toISOString(),
        },
        appIds,
      );
      await this.invitations.bury(trx, row, 'accepted', now.toISOString());
      return { state: 'accepted', userId, invitation: toInvitation(row) };
    });
  }

  /** Declining deletes the invitation: its id answers 404 from then on. */
  async decline(token: string): Promise<'declined' | 'expired' | 'unknown'> {
    if (!TOKEN_SHAPE.test(token)) return 'unknown';
    return this.declineRow((trx) => this.invitations.findByTokenHashForUpdate(trx, hashToken(token)));
  }

  private async declineRow(
    find: (trx: Transaction<Database>) => Promise<InvitationRow | undefined>,
  ): Promise<'declined' | 'expired' | 'unknown'> {
    const now = this.clock.now();
    return this.invitations.transaction(async (trx) => {
      const row = await find(trx);
      if (!row) return 'unknown';
      if (new Date(row.expires_at) <= now) return 'expired';
      if (!(await this.invitations.delete(trx, row))) return 'unknown';
      await this.outbox.cancelForInvitation(trx, row.id);
      return 'declined';
    });
  }
}
