/** All SQL about the mail outbox (which is also the mail log). */
import { sql, type Kysely, type QueryCreator } from 'kysely';
import type { GroupCommit } from '../db/group-commit.js';
import { isPostgres } from '../db/locks.js';
import { everyColumn, PreparedInsert } from '../db/prepared.js';
import type { Database, Executor, MailOutboxTable, MailStatus } from '../db/schema.js';
import { templateDataWithoutLink } from './templates.js';

export type OutboxRow = MailOutboxTable;
/** A message as it is written: nobody has claimed it yet. */
export type NewOutboxRow = Omit<OutboxRow, 'claimed_by_instance' | 'claimed_by_boot'>;

/**
 * Who holds a claim (migration 009): the instance, the same across its restarts (Config.instanceId),
 * and its boot, new at every start of the process.
 */
export interface ClaimOwner {
  instance: string;
  boot: string;
}

/** Built once (../db/prepared.ts): every create writes its message. */
const insertMessage = new PreparedInsert<NewOutboxRow>(
  'mail_outbox',
  everyColumn<NewOutboxRow>({
    id: true,
    invitation_id: true,
    recipient: true,
    subject: true,
    text_body: true,
    html_body: true,
    template_data: true,
    activation_link: true,
    status: true,
    attempts: true,
    next_attempt_at: true,
    claimed_until: true,
    last_error: true,
    created_at: true,
    sent_at: true,
  }),
);

/** Orders text bytewise, as the "C" collation of PostgreSQL's text columns does (ISO instants, UUIDs). */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export class OutboxRepository {
  constructor(
    readonly db: Kysely<Database>,
    private readonly writes: GroupCommit,
  ) {}

  async insert(trx: Executor, row: NewOutboxRow): Promise<void> {
    await insertMessage.execute(trx, [row]);
  }

  /**
   * Messages waiting for delivery and the creation time of the oldest (null when none): what GET
   * /metrics shows. The pending rows are read through the due index (status first).
   */
  async pendingSummary(): Promise<{ pending: number; oldestCreatedAt: string | null }> {
    const row = await this.db
      .selectFrom('mail_outbox')
      .select((eb) => [eb.fn.countAll<number | string | bigint>().as('pending'), eb.fn.min('created_at').as('oldest')])
      .where('status', '=', 'pending')
      .executeTakeFirstOrThrow();
    return { pending: Number(row.pending), oldestCreatedAt: row.oldest ?? null };
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
   * Claims up to `limit` due messages for `owner` until `until`: pending, due, and not claimed by a
   * live worker (a claim that ran out belongs to a worker that died; see also releaseEarlierBoots). The candidates are chosen and claimed in
   * one transaction in which no other writer can take them (below), so two workers never both own
   * a message. Candidates whose invitation is no
   * longer pending (accepted, declined, cancelled or expired by `now`) are dropped ('cancelled')
   * by the same statement instead of claimed: their link could only answer 404 or 410. So each
   * pass costs work in proportion to its batch, never to the backlog.
   *
   * The candidates are read from the due index (status, next_attempt_at, created_at, id: migration
   * 011) in the order they are handed out, so a claim reads its batch and stops, however many wait.
   *
   * One write unit (src/db/group-commit.ts): on SQLite it shares its commit with concurrent
   * creates, and SQLite runs one write transaction at a time. On PostgreSQL the candidates are
   * locked FOR UPDATE SKIP LOCKED: concurrent workers take disjoint batches and cannot deadlock on
   * each other's rows, and no one changes a locked row before this transaction ends.
   */
  async claimDue(now: string, until: string, limit: number, owner: ClaimOwner): Promise<{ claimed: OutboxRow[]; dropped: number }> {
    const due = (db: QueryCreator<Database>) =>
      db
        .selectFrom('mail_outbox')
        .select('id')
        .where('status', '=', 'pending')
        .where('next_attempt_at', '<=', now)
        .where((eb) => eb.or([eb('claimed_until', 'is', null), eb('claimed_until', '<=', now)]))
        .orderBy('next_attempt_at')
        .orderBy('created_at')
        .orderBy('id')
        .limit(limit);
    const claim = (db: QueryCreator<Database>) =>
      db.updateTable('mail_outbox').set((eb) => {
        // the message belongs to an invitation that is no longer pending at `now`
        const stale = eb.and([
          eb('invitation_id', 'is not', null),
          eb.not(
            eb.exists(
              eb
                .selectFrom('user_invitations')
                .select('user_invitations.id')
                .whereRef('user_invitations.id', '=', 'mail_outbox.invitation_id')
                .where('user_invitations.expires_at', '>', now),
            ),
          ),
        ]);
        return {
          status: eb.case().when(stale).then(sql.lit<MailStatus>('cancelled')).else(eb.ref('status')).end(),
          claimed_until: eb.case().when(stale).then(sql.lit(null)).else(until).end(),
          claimed_by_instance: owner.instance,
          claimed_by_boot: owner.boot,
        };
      });

    let rows: OutboxRow[];
    if (isPostgres(this.db)) {
      // One statement, committed on its own: the candidates are chosen and locked once (ARRAY() of
      // an uncorrelated subquery is an init plan, run once before the update) and updated by it.
      rows = await this.writes.runStatement((db) =>
        claim(db)
          .where('id', '=', sql<string>`any(array${due(db).forUpdate().skipLocked()})`)
          .returningAll()
          .execute(),
      );
      // RETURNING has no order: hand the claimed messages out in the order they were due
      rows.sort((a, b) => compare(a.next_attempt_at, b.next_attempt_at) || compare(a.created_at, b.created_at) || compare(a.id, b.id));
    } else {
      rows = await this.writes.run(async (trx) => {
        const candidates = (await due(trx).execute()).map((c) => c.id);
        if (candidates.length === 0) return [];
        // by id alone: the candidates are still pending and unclaimed (see above). With the status
        // repeated here, SQLite took the status index for the UPDATE and read every pending
        // message to find twenty: 150 ms at 90,000 waiting, on the event loop.
        const updated = await claim(trx).where('id', 'in', candidates).returningAll().execute();
        // RETURNING has no order: hand the claimed messages out in the order they were due
        const byId = new Map(updated.map((r) => [r.id, r]));
        return candidates.map((id) => byId.get(id)).filter((r): r is OutboxRow => r !== undefined);
      });
    }
    const claimed = rows.filter((r) => r.status === 'pending');
    return { claimed, dropped: rows.length - claimed.length };
  }

  /**
   * Delivered: the claim ends with it. The status is set even if the invitation went meanwhile (the
   * mail did go out). A write unit, so under load it shares the commit of concurrent creates.
   *
   * A message sent over SMTP loses its activation link in the same update: from then on only the
   * recipient's mailbox holds it, and the database keeps no token in clear (the invitation keeps
   * its SHA-256). A message 'logged' keeps it: without SMTP the mail log is the mailbox.
   */
  async markDelivered(m: Pick<OutboxRow, 'id' | 'template_data'>, status: 'sent' | 'logged', at: string, attempts: number): Promise<void> {
    const forget = status === 'sent' ? { activation_link: null, template_data: templateDataWithoutLink(m.template_data) } : {};
    await this.writes.runStatement((db) =>
      db
        .updateTable('mail_outbox')
        .set({ status, sent_at: at, attempts, claimed_until: null, last_error: null, ...forget })
        .where('id', '=', m.id)
        .execute(),
    );
  }

  /**
   * Kept in the mail log, each one delivered once more: a batch marked by one statement (the mail
   * log keeps the link; see markDelivered). The messages' claims are the caller's.
   */
  async markLogged(ms: readonly Pick<OutboxRow, 'id'>[], at: string): Promise<void> {
    await this.writes.runStatement((db) =>
      db
        .updateTable('mail_outbox')
        .set((eb) => ({ status: 'logged', sent_at: at, attempts: eb('attempts', '+', 1), claimed_until: null, last_error: null }))
        .where(
          'id',
          'in',
          ms.map((m) => m.id),
        )
        .execute(),
    );
  }

  async markFailed(id: string, attempts: number, nextAttemptAt: string, error: string): Promise<void> {
    await this.writes.runStatement((db) =>
      db
        .updateTable('mail_outbox')
        .set({ attempts, next_attempt_at: nextAttemptAt, last_error: error.slice(0, 1000), claimed_until: null })
        .where('id', '=', id)
        .execute(),
    );
  }

  /** An invitation that is gone needs no email any more: its undelivered messages are dropped. */
  async cancelForInvitation(trx: Executor, invitationId: string): Promise<void> {
    await trx
      .updateTable('mail_outbox')
      .set({ status: 'cancelled', claimed_until: null })
      .where('invitation_id', '=', invitationId)
      .where('status', '=', 'pending')
      .execute();
  }

  /**
   * At start-up: releases the claims that earlier boots of this instance left behind when they died
   * (kill -9, power loss, a crash), so that their messages go out now rather than when the claims
   * run out. On SQLite one file has one server, so every claim in it is this instance's. On
   * PostgreSQL only claims naming this instance with another boot are released: another instance's
   * claims are its own business, live or not (they run out as before if it is gone for good).
   * A message whose delivery was under way when its boot died may already have arrived: it is sent
   * again with the same Message-ID (at least once, docs/parity.md). Returns how many were released.
   */
  async releaseEarlierBoots(owner: ClaimOwner): Promise<number> {
    let update = this.db
      .updateTable('mail_outbox')
      .set({ claimed_until: null })
      .where('status', '=', 'pending')
      .where('claimed_until', 'is not', null);
    if (isPostgres(this.db)) update = update.where('claimed_by_instance', '=', owner.instance).where('claimed_by_boot', '<>', owner.boot);
    const result = await update.executeTakeFirst();
    return Number(result.numUpdatedRows);
  }

  /** Hands claimed messages back (a worker that stops), so that the next worker need not wait for the claims to run out. */
  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.updateTable('mail_outbox').set({ claimed_until: null }).where('id', 'in', ids).where('status', '=', 'pending').execute();
  }
}
