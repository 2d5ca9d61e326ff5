/** All SQL about user invitations, their roles and visible apps, and tombstones. */
import { sql, type Kysely, type Transaction } from 'kysely';
import { emailClaims } from '../../db/email-claims.js';
import type { GroupCommit } from '../../db/group-commit.js';
import { PreparedList, type ListDefinition, type ListRequest, type ListRow } from '../../db/list-query.js';
import { tryTransactionLock } from '../../db/locks.js';
import { everyColumn, firstArgs, PreparedInsert, PreparedQuery } from '../../db/prepared.js';
import { addToRowCount, rowCount } from '../../db/row-counts.js';
import type { Database, Executor, UserInvitationRoleTable, UserInvitationTable, UserInvitationVisibleAppTable } from '../../db/schema.js';
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
  scopeCount: (db, now) => {
    const expired = sql`(select count(*) from ${sql.table('user_invitations')} where expires_at <= ${now})`;
    const raw = sql<{ n: number | string }>`select ${rowCount('user_invitations')} - ${expired} as n`;
    return { compile: () => raw.compile(db) };
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

export class InvitationsRepository implements VisibleAppsQueries<InvitationRow> {
  private readonly list = new PreparedList(INVITATION_LIST);

  constructor(
    readonly db: Kysely<Database>,
    private readonly writes: GroupCommit,
  ) {}

  page(req: ListRequest, limit: number): Promise<ListRow[]> {
    return this.list.page(this.db, req, limit);
  }

  count(req: ListRequest): Promise<number> {
    return this.list.count(this.db, req);
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

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
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

  async findTombstone(id: string) {
    return this.db.selectFrom('invitation_tombstones').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Deletes an invitation (cascading to its roles and visible apps) and frees its email. */
  async delete(trx: Executor, row: InvitationRow): Promise<boolean> {
    const r = await trx.deleteFrom('user_invitations').where('id', '=', row.id).executeTakeFirst();
    const deleted = Number(r.numDeletedRows) === 1;
    if (deleted) await addToRowCount(trx, 'user_invitations', -1);
    await emailClaims.release(trx, row.email_key, row.id);
    return deleted;
  }

  /** Deletes the invitation and leaves a tombstone so that its id answers 410. */
  /** False when the row was gone already (someone else deleted or buried it first). */
  async bury(trx: Executor, row: InvitationRow, outcome: 'accepted' | 'expired', at: string): Promise<boolean> {
    if (!(await this.delete(trx, row))) return false;
    await trx
      .insertInto('invitation_tombstones')
      .values({ id: row.id, outcome, at })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    return true;
  }

  /** The sweeper's turn: false when another instance is sweeping (PostgreSQL advisory lock). */
  async takeSweeperTurn(trx: Executor): Promise<boolean> {
    return tryTransactionLock(trx, 'asc-access:expiry-sweeper');
  }

  /** Invitations whose time ran out, oldest first (for the sweeper and lazy expiry). */
  async expired(db: Executor, now: string, limit: number): Promise<InvitationRow[]> {
    return db.selectFrom('user_invitations').selectAll().where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();
  }
}
