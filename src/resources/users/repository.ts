/** All SQL about the team's users, their roles and visible apps. */
import type { Kysely } from 'kysely';
import type { Database, Executor, UserTable } from '../../db/schema.js';

export type UserRow = UserTable;

export class UsersRepository {
  constructor(readonly db: Kysely<Database>) {}

  async insert(trx: Executor, row: UserRow, appIds: readonly string[]): Promise<void> {
    await trx.insertInto('users').values(row).execute();
    const roles = JSON.parse(row.roles) as string[];
    await trx.insertInto('user_roles').values(roles.map((role) => ({ user_id: row.id, role }))).execute();
    if (appIds.length > 0) {
      await trx
        .insertInto('user_visible_apps')
        .values(appIds.map((app_id) => ({ user_id: row.id, app_id })))
        .execute();
    }
  }

  async findById(db: Executor, id: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }
}
