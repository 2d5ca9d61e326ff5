/**
 * All SQL about the team's users, their roles and visible apps. Lists and visible apps are the SQL
 * invitations share (`members`); email claims are shared too (../members/repository.ts).
 */
import { sql, type Kysely, type Transaction } from 'kysely';
import { isPostgres } from '../../db/locks.js';
import type { Database, Executor, UserTable } from '../../db/schema.js';
import { emailClaims, MemberSql, USER_TABLES } from '../members/repository.js';

export type UserRow = UserTable;

export const USER_SORT_COLUMNS = { username: 'username_key', lastName: 'last_name_key' } as const;

/** What an update may change (behavior.md B7.3): roles and flags, never names or username. */
export type UserAccessColumns = Pick<UserRow, 'roles' | 'all_apps_visible' | 'provisioning_allowed'>;

export class UsersRepository {
  /** lists, counts and visible apps */
  readonly members: MemberSql<'users'>;

  constructor(readonly db: Kysely<Database>) {
    this.members = new MemberSql(db, USER_TABLES);
  }

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  async insert(trx: Executor, row: UserRow, appIds: readonly string[]): Promise<void> {
    await trx.insertInto('users').values(row).execute();
    const roles = JSON.parse(row.roles) as string[];
    await trx.insertInto('user_roles').values(roles.map((role) => ({ user_id: row.id, role }))).execute();
    await this.addVisibleApps(trx, row.id, appIds);
  }

  async findById(db: Executor, id: string): Promise<UserRow | undefined> {
    return db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The user, locked until the transaction ends, so that concurrent changes of one user take
   * turns (PostgreSQL; on SQLite the one connection serializes transactions anyway).
   */
  async findForUpdate(trx: Transaction<Database>, id: string): Promise<UserRow | undefined> {
    const q = trx.selectFrom('users').selectAll().where('id', '=', id);
    return (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst();
  }

  /** Every user, by username (for the operator CLI). */
  async list(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username_key').orderBy('id').execute();
  }

  async findAccountHolder(db: Executor): Promise<UserRow | undefined> {
    return db
      .selectFrom('users')
      .selectAll()
      .where((eb) =>
        eb.exists(eb.selectFrom('user_roles as r').select(sql.lit(1).as('one')).whereRef('r.user_id', '=', 'users.id').where('r.role', '=', 'ACCOUNT_HOLDER')),
      )
      .executeTakeFirst();
  }

  /** Sets roles and flags; the roles table follows the roles column. */
  async updateAccess(trx: Executor, id: string, access: UserAccessColumns): Promise<void> {
    await trx.updateTable('users').set(access).where('id', '=', id).execute();
    await trx.deleteFrom('user_roles').where('user_id', '=', id).execute();
    const roles = JSON.parse(access.roles) as string[];
    await trx.insertInto('user_roles').values(roles.map((role) => ({ user_id: id, role }))).execute();
  }

  /** Adds visible apps; ones the user has already stay as they are. */
  async addVisibleApps(trx: Executor, userId: string, appIds: readonly string[]): Promise<void> {
    if (appIds.length === 0) return;
    await trx
      .insertInto('user_visible_apps')
      .values(appIds.map((app_id) => ({ user_id: userId, app_id })))
      .onConflict((oc) => oc.columns(['user_id', 'app_id']).doNothing())
      .execute();
  }

  async removeVisibleApps(trx: Executor, userId: string, appIds: readonly string[]): Promise<void> {
    if (appIds.length === 0) return;
    await trx.deleteFrom('user_visible_apps').where('user_id', '=', userId).where('app_id', 'in', appIds).execute();
  }

  async replaceVisibleApps(trx: Executor, userId: string, appIds: readonly string[]): Promise<void> {
    await trx.deleteFrom('user_visible_apps').where('user_id', '=', userId).execute();
    await this.addVisibleApps(trx, userId, appIds);
  }

  /** Deletes a user (cascading to their roles and visible apps) and frees their email. */
  async delete(trx: Executor, row: UserRow): Promise<void> {
    await trx.deleteFrom('users').where('id', '=', row.id).execute();
    await emailClaims.release(trx, row.username_key, row.id);
  }
}
