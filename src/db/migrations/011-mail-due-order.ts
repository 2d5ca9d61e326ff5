import type { Kysely } from 'kysely';

/**
 * Version 11: the mail worker's claim reads its batch from an index, already in order. It takes
 * the pending messages that are due, oldest first by (next_attempt_at, created_at, id), twenty at
 * a time (OutboxRepository.claimDue). The index of 002 held (status, next_attempt_at) only, so the
 * database had to read every due message and sort them to find the first twenty: a claim's cost
 * grew with the backlog. PostgreSQL's statistics, gathered while the log is mostly delivered, even
 * told it that no message waits, and it sorted 15,000 waiting messages for each batch of twenty
 * (22 to 30 ms). With the whole order in the index, a claim reads its twenty and stops.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('mail_outbox_due').execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at', 'created_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('mail_outbox_due').execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
}
