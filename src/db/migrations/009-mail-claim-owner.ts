import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { textType } from './types.js';

/**
 * Version 9: a claim on a message names who holds it: the instance (ASC_INSTANCE_ID, stable across
 * its restarts) and the boot (new at every start). A process that starts again releases at once
 * the claims its earlier boots left behind when they died (kill -9, power loss), instead of leaving
 * their messages to wait for `claimed_until`; another instance's claims it never touches. Both are
 * null until a worker claims the message; they stay as they were after the claim ends
 * (`claimed_until` null).
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const text = textType(dialect);
  await db.schema.alterTable('mail_outbox').addColumn('claimed_by_instance', text).execute();
  await db.schema.alterTable('mail_outbox').addColumn('claimed_by_boot', text).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mail_outbox').dropColumn('claimed_by_boot').execute();
  await db.schema.alterTable('mail_outbox').dropColumn('claimed_by_instance').execute();
}
