/** All SQL about user invitations, their roles and visible apps, tombstones and email claims. */
import { sql, type Kysely, type Transaction } from 'kysely';
import { afterPosition, orderBy, type KeysetPosition, type SortColumn } from '../../db/keyset.js';
import type { Database, Executor, UserInvitationTable } from '../../db/schema.js';

export type InvitationRow = UserInvitationTable;

export interface InvitationFilter {
  /** lower-cased emails */
  emailKeys?: readonly string[];
  roles?: readonly string[];
  appIds?: readonly string[];
}

export const INVITATION_SORT_COLUMNS = { email: 'email_key', lastName: 'last_name_key' } as const;

export interface VisibleAppsSlice {
  ids: string[];
  total: number;
}

export class InvitationsRepository {
  constructor(readonly db: Kysely<Database>) {}

  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return this.db.transaction().execute(fn);
  }

  /** Takes the email for an owner; false when someone holds it already. */
  async claimEmail(trx: Executor, emailKey: string, ownerType: 'invitation' | 'user', ownerId: string): Promise<boolean> {
    const r = await trx
      .insertInto('email_claims')
      .values({ email_key: emailKey, owner_type: ownerType, owner_id: ownerId })
      .onConflict((oc) => oc.column('email_key').doNothing())
      .executeTakeFirst();
    return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async findClaim(trx: Executor, emailKey: string) {
    return trx.selectFrom('email_claims').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
  }

  async releaseClaim(trx: Executor, emailKey: string, ownerId: string): Promise<void> {
    await trx.deleteFrom('email_claims').where('email_key', '=', emailKey).where('owner_id', '=', ownerId).execute();
  }

  async insert(trx: Executor, row: InvitationRow, appIds: readonly string[]): Promise<void> {
    await trx.insertInto('user_invitations').values(row).execute();
    const roles = JSON.parse(row.roles) as string[];
    await trx.insertInto('user_invitation_roles').values(roles.map((role) => ({ invitation_id: row.id, role }))).execute();
    if (appIds.length > 0) {
      await trx
        .insertInto('user_invitation_visible_apps')
        .values(appIds.map((app_id) => ({ invitation_id: row.id, app_id })))
        .execute();
    }
  }

  async findById(db: Executor, id: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('user_invitations').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByTokenHash(db: Executor, tokenHash: string): Promise<InvitationRow | undefined> {
    return db.selectFrom('user_invitations').selectAll().where('token_hash', '=', tokenHash).executeTakeFirst();
  }

  async visibleAppIds(db: Executor, invitationId: string): Promise<string[]> {
    const rows = await db
      .selectFrom('user_invitation_visible_apps')
      .select('app_id')
      .where('invitation_id', '=', invitationId)
      .orderBy('app_id')
      .execute();
    return rows.map((r) => r.app_id);
  }

  /** Hands an email claim from one owner to another (an invitation becoming a user). */
  async transferClaim(trx: Executor, emailKey: string, fromId: string, toType: 'invitation' | 'user', toId: string): Promise<boolean> {
    const r = await trx
      .updateTable('email_claims')
      .set({ owner_type: toType, owner_id: toId })
      .where('email_key', '=', emailKey)
      .where('owner_id', '=', fromId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  }

  async findTombstone(id: string) {
    return this.db.selectFrom('invitation_tombstones').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** Deletes an invitation (cascading to its roles and visible apps) and frees its email. */
  async delete(trx: Executor, row: InvitationRow): Promise<boolean> {
    const r = await trx.deleteFrom('user_invitations').where('id', '=', row.id).executeTakeFirst();
    await this.releaseClaim(trx, row.email_key, row.id);
    return Number(r.numDeletedRows) === 1;
  }

  /** Deletes the invitation and leaves a tombstone so that its id answers 410. */
  async bury(trx: Executor, row: InvitationRow, outcome: 'accepted' | 'expired', at: string): Promise<void> {
    await this.delete(trx, row);
    await trx
      .insertInto('invitation_tombstones')
      .values({ id: row.id, outcome, at })
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
  }

  private filtered(filter: InvitationFilter, now: string) {
    let q = this.db.selectFrom('user_invitations as i').where('i.expires_at', '>', now);
    if (filter.emailKeys) q = q.where('i.email_key', 'in', filter.emailKeys);
    if (filter.roles) {
      const roles = filter.roles;
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('user_invitation_roles as r')
            .select(sql.lit(1).as('one'))
            .whereRef('r.invitation_id', '=', 'i.id')
            .where('r.role', 'in', roles),
        ),
      );
    }
    if (filter.appIds) {
      const appIds = filter.appIds;
      q = q.where((eb) =>
        eb.exists(
          eb
            .selectFrom('user_invitation_visible_apps as v')
            .select(sql.lit(1).as('one'))
            .whereRef('v.invitation_id', '=', 'i.id')
            .where('v.app_id', 'in', appIds),
        ),
      );
    }
    return q;
  }

  /** Pending (unexpired) invitations: up to `limit + 1` rows after `after`. */
  async page(
    filter: InvitationFilter,
    sort: readonly SortColumn[],
    after: KeysetPosition | undefined,
    limit: number,
    now: string,
  ): Promise<InvitationRow[]> {
    const qualified = sort.map((s) => ({ column: `i.${s.column}`, desc: s.desc }));
    let q = this.filtered(filter, now).selectAll('i');
    if (after) q = q.where(afterPosition(qualified, 'i.id', after));
    return q.orderBy(orderBy(qualified, 'i.id')).limit(limit + 1).execute();
  }

  async count(filter: InvitationFilter, now: string): Promise<number> {
    const row = await this.filtered(filter, now)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** For each invitation, its first `limit` visible app ids (by id) and how many it has. */
  async visibleApps(invitationIds: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    const out = new Map<string, VisibleAppsSlice>();
    for (const id of invitationIds) out.set(id, { ids: [], total: 0 });
    if (invitationIds.length === 0) return out;
    const rows = await this.db
      .selectFrom('user_invitation_visible_apps')
      .select(['invitation_id', 'app_id'])
      .where('invitation_id', 'in', invitationIds)
      .orderBy('invitation_id')
      .orderBy('app_id')
      .execute();
    for (const r of rows) {
      const slice = out.get(r.invitation_id)!;
      slice.total++;
      if (slice.ids.length < limit) slice.ids.push(r.app_id);
    }
    return out;
  }

  /** One invitation's visible app ids, keyset-paged by app id. */
  async visibleAppPage(invitationId: string, afterAppId: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom('user_invitation_visible_apps').select('app_id').where('invitation_id', '=', invitationId);
    if (afterAppId !== undefined) q = q.where('app_id', '>', afterAppId);
    const rows = await q.orderBy('app_id').limit(limit + 1).execute();
    return rows.map((r) => r.app_id);
  }

  async visibleAppCount(invitationId: string): Promise<number> {
    const row = await this.db
      .selectFrom('user_invitation_visible_apps')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('invitation_id', '=', invitationId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Invitations whose time ran out, oldest first (for the sweeper and lazy expiry). */
  async expired(db: Executor, now: string, limit: number): Promise<InvitationRow[]> {
    return db.selectFrom('user_invitations').selectAll().where('expires_at', '<=', now).orderBy('expires_at').limit(limit).execute();
  }
}
