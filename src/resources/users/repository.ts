/** All SQL about the team's users, their roles and visible apps. */
import { sql, type Kysely, type Transaction } from 'kysely';
import { emailClaims } from '../../db/email-claims.js';
import { PreparedList, type ListOptions, type ListDefinition, type ListRequest, type ListRow } from '../../db/list-query.js';
import { isPostgres } from '../../db/locks.js';
import { firstArgs, PreparedQuery } from '../../db/prepared.js';
import { stderrRetryLog, transaction, type RetryLog } from '../../db/retry.js';
import type { Database, Executor, UserTable } from '../../db/schema.js';
import { slicesFrom, type VisibleAppsQueries, type VisibleAppsSlice } from '../../jsonapi/include.js';

export type UserRow = UserTable;

/** What an update may change (docs/behavior.md B7.3): roles and flags, never names or username. */
export type UserAccessColumns = Pick<UserRow, 'roles' | 'all_apps_visible' | 'provisioning_allowed'>;

const fromUsers = (db: Executor) => db.selectFrom('users as m');

/** GET /v1/users: its filters and sort fields (src/db/list-query.ts). */
export const USER_LIST: ListDefinition<ReturnType<typeof fromUsers>> = {
  from: fromUsers,
  filters: [
    // the whole address, any case (A16)
    { param: 'filter[username]', bind: (v) => v.toLowerCase(), where: (q, values) => q.where('m.username_key', 'in', values) },
    {
      param: 'filter[roles]',
      where: (q, values) =>
        q.where((eb) =>
          eb.exists(
            eb.selectFrom('user_roles as r').select(sql.lit(1).as('one')).whereRef('r.user_id', '=', 'm.id').where('r.role', 'in', values),
          ),
        ),
    },
    {
      // users that list one of these apps explicitly (users who see all apps list none)
      param: 'filter[visibleApps]',
      where: (q, values) =>
        q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('user_visible_apps as v')
              .select(sql.lit(1).as('one'))
              .whereRef('v.user_id', '=', 'm.id')
              .where('v.app_id', 'in', values),
          ),
        ),
    },
  ],
  sort: { username: 'username_key', lastName: 'last_name_key' },
};

// Every list request runs these; each is built once per count (../../db/prepared.ts).
const usersByIds = new PreparedQuery<number, UserRow>(
  (db, arg, count) => db.selectFrom('users').selectAll().where('id', 'in', firstArgs(arg, count)),
  (count) => count,
);
const visibleAppRows = new PreparedQuery<number, { owner_id: string; app_id: string }>(
  (db, arg, count) =>
    db
      .selectFrom('user_visible_apps')
      .select(['user_id as owner_id', 'app_id'])
      .where('user_id', 'in', firstArgs(arg, count))
      .orderBy('user_id')
      .orderBy('app_id'),
  (count) => count,
);

export class UsersRepository implements VisibleAppsQueries<UserRow> {
  private readonly list: PreparedList<ListRow>;

  constructor(
    readonly db: Kysely<Database>,
    private readonly log: RetryLog = stderrRetryLog,
    /** how its list reads a page and its count (src/db/list-query.ts) */
    lists: ListOptions = { countInPage: false },
  ) {
    this.list = new PreparedList(USER_LIST, lists);
  }

  /** A transaction, run again on PostgreSQL after a deadlock or serialization failure (src/db/retry.ts). */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return transaction(this.db, fn, this.log);
  }

  page(req: ListRequest, limit: number): Promise<ListRow[]> {
    return this.list.page(this.db, req, limit);
  }

  count(req: ListRequest): Promise<number> {
    return this.list.count(this.db, req);
  }

  pageAndCount(req: ListRequest, limit: number): Promise<{ rows: ListRow[]; total: number }> {
    return this.list.pageAndCount(this.db, req, limit);
  }

  async findByIds(ids: readonly string[]): Promise<UserRow[]> {
    if (ids.length === 0) return [];
    return (await usersByIds.execute(this.db, ids.length, ids)).rows;
  }

  async visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    const rows = ids.length === 0 ? [] : (await visibleAppRows.execute(this.db, ids.length, ids)).rows;
    return slicesFrom(ids, rows, limit);
  }

  async visibleAppPage(id: string, afterAppId: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('user_visible_apps').select('app_id').where('user_id', '=', id);
    if (afterAppId !== undefined) q = q.where('app_id', '>', afterAppId);
    return (
      await q
        .orderBy('app_id')
        .limit(limit + 1)
        .execute()
    ).map((r) => r.app_id);
  }

  async visibleAppCount(id: string): Promise<number> {
    const row = await this.db
      .selectFrom('user_visible_apps')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('user_id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** All of one user's visible app ids, by id. */
  async visibleAppIds(db: Executor, id: string): Promise<string[]> {
    return (await db.selectFrom('user_visible_apps').select('app_id').where('user_id', '=', id).orderBy('app_id').execute()).map(
      (r) => r.app_id,
    );
  }

  async insert(trx: Executor, row: UserRow, appIds: readonly string[]): Promise<void> {
    await trx.insertInto('users').values(row).execute();
    await this.insertRoles(trx, row.id, row.roles);
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
  async listAll(): Promise<UserRow[]> {
    return this.db.selectFrom('users').selectAll().orderBy('username_key').orderBy('id').execute();
  }

  async findAccountHolder(db: Executor): Promise<UserRow | undefined> {
    return db
      .selectFrom('users')
      .selectAll()
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('user_roles as r')
            .select(sql.lit(1).as('one'))
            .whereRef('r.user_id', '=', 'users.id')
            .where('r.role', '=', 'ACCOUNT_HOLDER'),
        ),
      )
      .executeTakeFirst();
  }

  /** Sets roles and flags; the roles table follows the roles column. */
  async updateAccess(trx: Executor, id: string, access: UserAccessColumns): Promise<void> {
    await trx.updateTable('users').set(access).where('id', '=', id).execute();
    await trx.deleteFrom('user_roles').where('user_id', '=', id).execute();
    await this.insertRoles(trx, id, access.roles);
  }

  /** The roles table's rows for the roles column's JSON. */
  private async insertRoles(trx: Executor, userId: string, rolesJson: string): Promise<void> {
    const roles = JSON.parse(rolesJson) as string[];
    await trx
      .insertInto('user_roles')
      .values(roles.map((role) => ({ user_id: userId, role })))
      .execute();
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

  /**
   * Deletes a user (cascading to their roles and visible apps) and frees their email. The caller
   * holds the user's row (findForUpdate): the row, then the claim, as every path that frees an
   * email (the lock order in ../user-invitations/repository.ts).
   */
  async delete(trx: Executor, row: UserRow): Promise<void> {
    await trx.deleteFrom('users').where('id', '=', row.id).execute();
    await emailClaims.release(trx, row.username_key, row.id);
  }
}
