/** All SQL about the mail outbox (which is also the mail log). */
import type { Kysely } from 'kysely';
import type { Database, Executor, MailOutboxTable } from '../db/schema.js';

export type OutboxRow = MailOutboxTable;

export class OutboxRepository {
  constructor(readonly db: Kysely<Database>) {}

  async insert(trx: Executor, row: OutboxRow): Promise<void> {
    await trx.insertInto('mail_outbox').values(row).execute();
  }

  async find(id: string): Promise<OutboxRow | undefined> {
    return this.db.selectFrom('mail_outbox').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Newest first. */
  async list(limit: number): Promise<OutboxRow[]> {
    return this.db.selectFrom('mail_outbox').selectAll().orderBy('created_at', 'desc').orderBy('id', 'desc').limit(limit).execute();
  }

  async forInvitation(invitationId: string): Promise<OutboxRow[]> {
    return this.db.selectFrom('mail_outbox').selectAll().where('invitation_id', '=', invitationId).orderBy('created_at').execute();
  }

  /**
   * Claims up to `limit` due messages until `until`: pending, due, and not claimed by a live worker
   * (a claim that ran out belongs to a worker that died). Each claim is a conditional update, so
   * two workers never both own a message.
   */
  async claimDue(now: string, until: string, limit: number): Promise<OutboxRow[]> {
    const candidates = await this.db
      .selectFrom('mail_outbox')
      .select('id')
      .where('status', '=', 'pending')
      .where('next_attempt_at', '<=', now)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .orderBy('next_attempt_at')
      .orderBy('created_at')
      .orderBy('id')
      .limit(limit)
      .execute();
    const claimed: OutboxRow[] = [];
    for (const { id } of candidates) {
      const row = await this.db
        .updateTable('mail_outbox')
        .set({ claimed_until: until })
        .where('id', '=', id)
        .where('status', '=', 'pending')
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .returningAll()
        .executeTakeFirst();
      if (row) claimed.push(row);
    }
    return claimed;
  }

  /** Delivered: the claim ends with it. The status is set even if the invitation went meanwhile (the mail did go out). */
  async markDelivered(id: string, status: 'sent' | 'logged', at: string, attempts: number): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ status, sent_at: at, attempts, claimed_until: null, last_error: null })
      .where('id', '=', id)
      .execute();
  }

  async markFailed(id: string, attempts: number, nextAttemptAt: string, error: string): Promise<void> {
    await this.db
      .updateTable('mail_outbox')
      .set({ attempts, next_attempt_at: nextAttemptAt, last_error: error.slice(0, 1000), claimed_until: null })
      .where('id', '=', id)
      .execute();
  }

  /** An invitation that is gone needs no email any more: its undelivered messages are dropped. */
  async cancelForInvitation(trx: Executor, invitationId: string): Promise<void> {
    await trx.updateTable('mail_outbox').set({ status: 'cancelled', claimed_until: null }).where('invitation_id', '=', invitationId).where('status', '=', 'pending').execute();
  }

  /**
   * Drops the undelivered, unclaimed messages whose invitation is no longer pending (accepted,
   * declined, cancelled or expired by `now`): their link could only answer 404 or 410.
   * Returns how many were dropped.
   */
  async cancelStale(now: string): Promise<number> {
    const r = await this.db
      .updateTable('mail_outbox')
      .set({ status: 'cancelled', claimed_until: null })
      .where('status', '=', 'pending')
      .where('invitation_id', 'is not', null)
      .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
      .where((eb) =>
        eb.not(
          eb.exists(
            eb
              .selectFrom('user_invitations')
              .select('user_invitations.id')
              .whereRef('user_invitations.id', '=', 'mail_outbox.invitation_id')
              .where('user_invitations.expires_at', '>', now),
          ),
        ),
      )
      .executeTakeFirst();
    return Number(r.numUpdatedRows);
  }

  /** Hands claimed messages back (a worker that stops), so that the next worker need not wait for the claims to run out. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('mail_outbox').set({ claimed_until: null }).where('id', 'in', ids).where('status', '=', 'pending').execute();
  }
}
