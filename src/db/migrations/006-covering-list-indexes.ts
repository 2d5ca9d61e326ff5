import type { Kysely } from 'kysely';

/**
 * Version 6: the list of pending invitations reads its page from an index alone. A page is the
 * ids in sort order whose `expires_at` is in the future; with `expires_at` in the same index as the
 * sort keys the database checks it there, instead of reading each candidate's table row (50 rows
 * on 50 pages for a first page, as many again for any row that has expired). The sort indexes of
 * 001 get `expires_at` appended; the default order (by id) gets an index of its own, since the
 * primary key cannot carry another column. Ascending email keeps the unique index of 001.
 */
const SORT_INDEXES = [
  { name: 'user_invitations_email_key_desc_id', columns: ['email_key desc', 'id'] },
  { name: 'user_invitations_last_name_id', columns: ['last_name_key', 'id'] },
  { name: 'user_invitations_last_name_desc_id', columns: ['last_name_key desc', 'id'] },
] as const;

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema.createIndex('user_invitations_id_expires_at').on('user_invitations').columns(['id', 'expires_at']).execute();
  for (const index of SORT_INDEXES) {
    await db.schema.dropIndex(index.name).execute();
    await db.schema
      .createIndex(index.name)
      .on('user_invitations')
      .columns([...index.columns, 'expires_at'])
      .execute();
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('user_invitations_id_expires_at').execute();
  for (const index of SORT_INDEXES) {
    await db.schema.dropIndex(index.name).execute();
    await db.schema
      .createIndex(index.name)
      .on('user_invitations')
      .columns([...index.columns])
      .execute();
  }
}
