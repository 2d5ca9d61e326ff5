import type { Kysely } from 'kysely';

/**
 * Version 7: the mail of an invitation found by its index. Cancelling, accepting or declining an
 * invitation drops its undelivered mail (OutboxRepository.cancelForInvitation), in the same
 * transaction; without this index that UPDATE read the whole mail log, one row per invitation ever
 * sent, while holding the write lock. Invitation ids are time-ordered, so the index grows at its end.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('mail_outbox_invitation').on('mail_outbox').column('invitation_id').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('mail_outbox_invitation').execute();
}
