/**
 * All SQL about user invitations, their roles and visible apps, and tombstones. Lists and visible
 * apps are the SQL users share (`members`); email claims are shared too (../members/repository.ts).
 */
import type { Kysely, Transaction } from 'kysely';
import type { GroupCommit } from '../../db/group-commit.js';
import { tryTransactionLock } from '../../db/locks.js';
import { everyColumn, PreparedInsert, PreparedQuery } from '../../db/prepared.js';
import { addToRowCount } from '../../db/row-counts.js';
import type { Database, Executor, UserInvitationRoleTable, UserInvitationTable, UserInvitationVisibleAppTable } from '../../db/schema.js';
import { emailClaims, INVITATION_TABLES, MemberSql } from '../members/repository.js';

export type InvitationRow = UserInvitationTable;

// A create's inserts, built once (../../db/prepared.ts).
const insertInvitation = new PreparedInsert<InvitationRow>(
  'user_invitations',
  everyColumn<InvitationRow>({
    id: true, email: true, email_key: true, first_name: true, last_name: true, last_name_key: true, roles: true,
    all_apps_visible: true, provisioning_allowed: true, created_at: true, expires_at: true, token_hash: true, invited_by: true,
  }),
);
const insertRoles = new PreparedInsert<UserInvitationRoleTable>('user_invitation_roles', everyColumn<UserInvitationRoleTable>({ invitation_id: true, role: true }));
const insertVisibleApps = new PreparedInsert<UserInvitationVisibleAppTable>(
  'user_invitation_visible_apps',
  everyColumn<UserInvitationVisibleAppTable>({ invitation_id: true, app_id: true }),
);

/** Argument: the instant. */
const nextExpiry = new PreparedQuery<null, { expires_at: string }>(
  (db, arg) => db.selectFrom('user_invitations').select('expires_at').where('expires_at', '>', arg(0)).orderBy('expires_at').limit(1),
  () => 1,
);

export const INVITATION_SORT_COLUMNS = { email: 'email_key', lastName: 'last_name_key' } as const;

export class InvitationsRepository {
  /** lists, counts and visible apps */
  readonly members: MemberSql<'user_invitations'>;

  constructor(
    readonly db: Kysely<Database>,
    private readonly writes: GroupCommit,
  ) {
    this.members = new MemberSql(db, INVITATION_TABLES);
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
    await insertRoles.execute(trx, roles.map((role) => ({ invitation_id: row.id, role })));
    if (appIds.length > 0) await insertVisibleApps.execute(trx, appIds.map((app_id) => ({ invitation_id: row.id, app_id })));
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
