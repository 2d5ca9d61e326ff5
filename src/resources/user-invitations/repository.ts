/** All SQL about user invitations, their roles and visible apps, and tombstones. */
import { sql, type Kysely, type Transaction } from 'kysely';
import { emailClaims } from '../../db/email-claims.js';
import type { GroupCommit } from '../../db/group-commit.js';
import { PreparedList, type ListOptions, type ListDefinition, type ListRequest, type ListRow } from '../../db/list-query.js';
import { isPostgres, tryTransactionLock } from '../../db/locks.js';
import { everyColumn, firstArgs, PreparedInsert, PreparedQuery } from '../../db/prepared.js';
import { stderrRetryLog, transaction, type RetryLog } from '../../db/retry.js';
import { addToRowCount, rowCount } from '../../db/row-counts.js';
import type {
  Database,
  Executor,
  InvitationTombstoneTable,
  UserInvitationRoleTable,
  UserInvitationTable,
  UserInvitationVisibleAppTable,
} from '../../db/schema.js';
import { slicesFrom, type VisibleAppsQueries, type VisibleAppsSlice } from '../../jsonapi/include.js';

export type InvitationRow = UserInvitationTable;

// A create's inserts, built once (../../db/prepared.ts).
const insertInvitation = new PreparedInsert<InvitationRow>(
  'user_invitations',
  everyColumn<InvitationRow>({
    id: true,
    email: true,
    email_key: true,
    first_name: true,
    last_name: true,
    last_name_key: true,
    roles: true,
    all_apps_visible: true,
    provisioning_allowed: true,
    created_at: true,
    expires_at: true,
    token_hash: true,
    invited_by: true,
  }),
);
const insertRoles = new PreparedInsert<UserInvitationRoleTable>(
  'user_invitation_roles',
  everyColumn<UserInvitationRoleTable>({ invitation_id: true, role: true }),
);
const insertVisibleApps = new PreparedInsert<UserInvitationVisibleAppTable>(
  'user_invitation_visible_apps',
  everyColumn<UserInvitationVisibleAppTable>({ invitation_id: true, app_id: true }),
);

/** Argument: the instant. */
const nextExpiry = new PreparedQuery<null, { expires_at: string }>(
  (db, arg) => db.selectFrom('user_invitations').select('expires_at').where('expires_at', '>', arg(0)).orderBy('expires_at').limit(1),
  () => 1,
);

const fromInvitations = (db: Executor) => db.selectFrom('user_invitations as m');

/** GET /v1/userInvitations: pending invitations only (A6), its filters and sort fields (src/db/list-query.ts). */
/** Expired rows counted by walking the expiry index before they are counted all at once (scopeCount). */
export const EXPIRED_PROBE = 1000;

export const INVITATION_LIST: ListDefinition<ReturnType<typeof fromInvitations>> = {
  from: fromInvitations,
  // the instant: invitations that expire after it, i.e. the pending ones
  scope: (q, now) => q.where('m.expires_at', '>', now),
  filters: [
    // the whole address, any case (A16)
    { param: 'filter[email]', bind: (v) => v.toLowerCase(), where: (q, values) => q.where('m.email_key', 'in', values) },
    {
      param: 'filter[roles]',
      where: (q, values) =>
        q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('user_invitation_roles as r')
              .select(sql.lit(1).as('one'))
              .whereRef('r.invitation_id', '=', 'm.id')
              .where('r.role', 'in', values),
          ),
        ),
    },
    {
      // invitations that list one of these apps explicitly (those for all apps list none)
      param: 'filter[visibleApps]',
      where: (q, values) =>
        q.where((eb) =>
          eb.exists(
            eb
              .selectFrom('user_invitation_visible_apps as v')
              .select(sql.lit(1).as('one'))
              .whereRef('v.invitation_id', '=', 'm.id')
              .where('v.app_id', 'in', values),
          ),
        ),
    },
  ],
  sort: { email: 'email_key', lastName: 'last_name_key' },
  // All pending invitations: the table's row counter (src/db/row-counts.ts) minus the expired rows,
  // which are few (the sweeper buries them). Counting `expires_at > now` instead reads an index
  // entry per pending invitation: 16 ms a request at a million.
  //
  // The expired rows are counted by walking the expiry index from its start, at most
  // EXPIRED_PROBE of them; only past that (the sweeper far behind) are they all counted. A plan
  // made once for any instant (src/db/pg-statements.ts) guesses that a third of the table has
  // expired: for a plain count it would read the whole table, where the walk, ordered and
  // bounded, costs it a few pages whatever it guesses.
  scopeCount: (db, now) => {
    const probe = sql`(select count(*) from (select 1 from ${sql.table('user_invitations')} where expires_at <= ${now}
      order by expires_at limit ${sql.raw(String(EXPIRED_PROBE))}) probe)`;
    const all = sql`(select count(*) from ${sql.table('user_invitations')} where expires_at <= ${now})`;
    const expired = sql`case when ${probe} < ${sql.raw(String(EXPIRED_PROBE))} then ${probe} else ${all} end`;
    return sql<{ n: number | string }>`select ${rowCount('user_invitations')} - (${expired}) as n`;
  },
};

// Every list request runs these; each is built once per count (../../db/prepared.ts).
const invitationsByIds = new PreparedQuery<number, InvitationRow>(
  (db, arg, count) => db.selectFrom('user_invitations').selectAll().where('id', 'in', firstArgs(arg, count)),
  (count) => count,
);
const visibleAppRows = new PreparedQuery<number, { owner_id: string; app_id: string }>(
  (db, arg, count) =>
    db
      .selectFrom('user_invitation_visible_apps')
      .select(['invitation_id as owner_id', 'app_id'])
      .where('invitation_id', 'in', firstArgs(arg, count))
      .orderBy('invitation_id')
      .orderBy('app_id'),
  (count) => count,
);

/**
 * Lock order. Every path that ends an invitation (accept, decline, cancel, the expiry sweeper, and
 * a create that buries the expired invitation holding its email) and a user delete that frees an
 * email take their locks on PostgreSQL in this order, so that no two of them can wait for each
 * other in a circle:
 *
 *   1. the owner's row: the invitation (findForUpdate, findByTokenHashForUpdate; the sweeper its
 *      whole batch by `expired`, in expires_at order, under its advisory lock) or the user
 *      (UsersRepository.findForUpdate). Whoever comes second waits, then finds the row gone.
 *   2. the email claim (src/db/email-claims.ts): transferred, released or claimed anew only by a
 *      transaction that holds its owner's row (a create's first claim of a new address inserts a
 *      row no one else holds, and one that finds the address taken locks nothing).
 *   3. rows that hang off the owner: the cascaded roles and visible apps (only reachable through
 *      the owner's row), the new user, the tombstone, the mail outbox (the mail worker locks
 *      outbox rows only, by SKIP LOCKED, and waits for nothing of ours), revoked keys.
 *   4. the row counter (src/db/row-counts.ts): last, and one shard per transaction.
 *
 * On SQLite one connection runs one transaction at a time, so the order costs nothing there.
 * Transactions are also run again on a deadlock or serialization failure (src/db/retry.ts), a
 * safety net behind this order, not instead of it.
 */
export class InvitationsRepository implements VisibleAppsQueries<InvitationRow> {
  private readonly list: PreparedList<ListRow>;

  constructor(
    readonly db: Kysely<Database>,
    private readonly writes: GroupCommit,
    private readonly log: RetryLog = stderrRetryLog,
    /** how its list reads a page and its count (src/db/list-query.ts) */
    lists: ListOptions = { countInPage: false },
  ) {
    this.list = new PreparedList(INVITATION_LIST, lists);
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

  async findByIds(ids: readonly string[]): Promise<InvitationRow[]> {
    if (ids.length === 0) return [];
    return (await invitationsByIds.execute(this.db, ids.length, ids)).rows;
  }

  async visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    const rows = ids.length === 0 ? [] : (await visibleAppRows.execute(this.db, ids.length, ids)).rows;
    return slicesFrom(ids, rows, limit);
  }

  async visibleAppPage(id: string, afterAppId: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('user_invitation_visible_apps').select('app_id').where('invitation_id', '=', id);
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
      .selectFrom('user_invitation_visible_apps')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('invitation_id', '=', id)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** All of one invitation's visible app ids, by id. */
  async visibleAppIds(db: Executor, id: string): Promise<string[]> {
    const rows = await db
      .selectFrom('user_invitation_visible_apps')
      .select('app_id')
      .where('invitation_id', '=', id)
      .orderBy('app_id')
      .execute();
    return rows.map((r) => r.app_id);
  }

  /** A transaction, run again on PostgreSQL after a deadlock or serialization failure (src/db/retry.ts). */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return transaction(this.db, fn, this.log);
  }

  /**
   * A transaction that may share its commit with concurrent writes (../../db/group-commit.ts):
   * `fn` must read and write through `trx` only.
   */
  write<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.writes.run(fn);
  }

  /** The earliest `expires_at` after `at`, if an invitation expires after it (an index seek). */
  async nextExpiry(at: string): Promise<string | undefined> {
    return (await nextExpiry.execute(this.db, null, [at])).rows[0]?.expires_at;
  }

  async insert(trx: Executor, row: InvitationRow, appIds: readonly string[]): Promise<void> {
    await insertInvitation.execute(trx, [row]);
    await addToRowCount(trx, 'user_invitations', 1);
    const roles = JSON.parse(row.roles) as string[];
    await insertRoles.execute(
      trx,
      roles.map((role) => ({ invitation_id: row.id, role })),
    );
    if (appIds.length > 0)
      await insertVisibleApps.execute(
        trx,
        appIds.map((app_id) => ({ invitation_id: row.id, app_id })),
      );
  }

  async findById(db: Executor, id: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('user_invitations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByTokenHash(db: Executor, tokenHash: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('user_invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  /**
   * The invitation, locked until the transaction ends (step 1 of the lock order above; PostgreSQL,
   * where a concurrent end of it makes this wait and then find nothing).
   */
  async findForUpdate(trx: Transaction<Database>, id: string): Promise<InvitationRow | undefined> {
    const q = trx.selectFrom('user_invitations').selectAll().where('id', '=', id);
    return (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst();
  }

  /** As findForUpdate, by the activation token's hash. */
  async findByTokenHashForUpdate(trx: Transaction<Database>, tokenHash: string): Promise<InvitationRow | undefined> {
    const q = trx.selectFrom('user_invitations').selectAll().where('token_hash', '=', tokenHash);
    return (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst();
  }

  /** As findForUpdate, by the address (any case): the invitation holding it, pending or expired and not yet buried. */
  async findByEmailForUpdate(trx: Transaction<Database>, email: string): Promise<InvitationRow | undefined> {
    const q = trx.selectFrom('user_invitations').selectAll().where('email_key', '=', email.toLowerCase());
    return (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst();
  }

  async findTombstone(id: string) {
    return this.db.selectFrom('invitation_tombstones').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * Deletes an invitation (cascading to its roles and visible apps) and frees its email. The caller
   * holds the invitation's row (findForUpdate). False when the row was gone already.
   */
  async delete(trx: Executor, row: InvitationRow): Promise<boolean> {
    return this.end(trx, row, undefined);
  }

  /** Deletes the invitation and leaves a tombstone so that its id answers 410. */
  /** False when the row was gone already (someone else deleted or buried it first). */
  async bury(trx: Executor, row: InvitationRow, outcome: 'accepted' | 'expired', at: string): Promise<boolean> {
    return this.end(trx, row, { id: row.id, outcome, at });
  }

  /** The row, then its claim, then the tombstone, and the counter last (the lock order above). */
  private async end(trx: Executor, row: InvitationRow, tombstone: InvitationTombstoneTable | undefined): Promise<boolean> {
    const r = await trx.deleteFrom('user_invitations').where('id', '=', row.id).executeTakeFirst();
    const deleted = Number(r.numDeletedRows) === 1;
    await emailClaims.release(trx, row.email_key, row.id);
    if (!deleted) return false;
    if (tombstone)
      await trx
        .insertInto('invitation_tombstones')
        .values(tombstone)
        .onConflict((oc) => oc.column('id').doNothing())
        .execute();
    await addToRowCount(trx, 'user_invitations', -1);
    return true;
  }

  /** The sweeper's turn: false when another instance is sweeping (PostgreSQL advisory lock). */
  async takeSweeperTurn(trx: Executor): Promise<boolean> {
    return tryTransactionLock(trx, 'asc-access:expiry-sweeper');
  }

  /**
   * Invitations whose time ran out, oldest first, locked until the transaction ends (the sweeper's
   * step 1 of the lock order: all of its batch before any claim).
   */
  async expired(trx: Transaction<Database>, now: string, limit: number): Promise<InvitationRow[]> {
    const q = trx
      .selectFrom('user_invitations')
      .selectAll()
      .where('expires_at', '<=', now)
      .orderBy('expires_at')
      .orderBy('id')
      .limit(limit);
    return (isPostgres(trx) ? q.forUpdate() : q).execute();
  }
}
