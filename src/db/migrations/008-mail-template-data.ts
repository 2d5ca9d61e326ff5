import type { Kysely } from 'kysely';

/**
 * Version 8: a message keeps the data it is rendered from, not its rendering. An invitation's
 * email rendered as text and HTML took about 2 KB of its row: one message filled most of a 4 KiB
 * page, every create wrote a page of mail to the WAL, and the mail log grew by 4 KiB per
 * invitation. Its data (names, roles, apps, expiry, link; JSON) is a few hundred bytes, and the
 * message is rendered from it when it is delivered or shown. Rows written before keep their
 * rendered bodies and no data (null); rows written since have empty bodies.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mail_outbox').addColumn('template_data', 'text').execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('mail_outbox').dropColumn('template_data').execute();
}
