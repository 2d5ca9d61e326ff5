import { sql, type Kysely } from 'kysely';

/**
 * Version 3: a team has one Account Holder ("Only one person can be the Account Holder", B6.9).
 * A partial unique index makes a second one impossible, even when two operators try at once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createIndex('user_roles_one_account_holder')
    .on('user_roles')
    .column('role')
    .unique()
    .where(sql.ref('role'), '=', sql.lit('ACCOUNT_HOLDER'))
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('user_roles_one_account_holder').execute();
}
