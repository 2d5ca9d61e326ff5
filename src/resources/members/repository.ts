/**
 * SQL that users and user invitations share. Both are team members (an invitation is one who has
 * not accepted yet): a row with a lower-cased email key, a roles table and a visible-apps table of
 * the same shape under other names (MemberTables), and a claim on their email address.
 */
import { sql, type Kysely } from 'kysely';
import { afterPosition, orderBy, type KeysetPosition, type SortColumn } from '../../db/keyset.js';
import type { Database, EmailClaimTable, Executor } from '../../db/schema.js';
import type { SortValue } from '../../jsonapi/cursor.js';
import { rowCount, type CountedTable } from '../../db/row-counts.js';
import { PreparedQuery } from '../../db/prepared.js';

export type MemberTable = 'users' | 'user_invitations';

/** The names under which one kind of member is stored. */
export interface MemberTables<T extends MemberTable> {
  table: T;
  /** the lower-cased email column (`filter[username]`, `filter[email]`) */
  emailKey: 'username_key' | 'email_key';
  roles: 'user_roles' | 'user_invitation_roles';
  apps: 'user_visible_apps' | 'user_invitation_visible_apps';
  /** the member's id in the roles and visible-apps tables */
  owner: 'user_id' | 'invitation_id';
  /** the row counter kept for the table (src/db/row-counts.ts), if any */
  counter?: CountedTable;
}

export const USER_TABLES: MemberTables<'users'> = {
  table: 'users',
  emailKey: 'username_key',
  roles: 'user_roles',
  apps: 'user_visible_apps',
  owner: 'user_id',
};

export const INVITATION_TABLES: MemberTables<'user_invitations'> = {
  table: 'user_invitations',
  emailKey: 'email_key',
  roles: 'user_invitation_roles',
  apps: 'user_invitation_visible_apps',
  owner: 'invitation_id',
  counter: 'user_invitations',
};

/** Values within one filter are OR, filters are AND (behavior.md A16). */
export interface MemberFilter {
  /** lower-cased emails */
  emailKeys?: readonly string[];
  roles?: readonly string[];
  /** members that list one of these apps explicitly (members who see all apps list none) */
  appIds?: readonly string[];
  /** invitations only: those that expire after this instant, i.e. the pending ones */
  pendingAt?: string;
}

export interface VisibleAppsSlice {
  ids: string[];
  total: number;
}

/** Lists, counts and visible apps of one kind of member, on the tables `t` names. */
export class MemberSql<T extends MemberTable> {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly t: MemberTables<T>,
  ) {}

  private filtered(filter: MemberFilter) {
    const { t } = this;
    let q = this.db.selectFrom(this.db.dynamic.table(t.table).as('m'));
    if (filter.pendingAt !== undefined) q = q.where(sql.ref('m.expires_at'), '>', filter.pendingAt);
    if (filter.emailKeys) q = q.where(sql.ref(`m.${t.emailKey}`), 'in', filter.emailKeys);
    if (filter.roles) {
      const roles = filter.roles;
      q = q.where(
        sql<boolean>`exists (select 1 from ${sql.table(t.roles)} r where ${sql.ref(`r.${t.owner}`)} = m.id and r.role in (${sql.join(roles)}))`,
      );
    }
    if (filter.appIds) {
      const appIds = filter.appIds;
      q = q.where(
        sql<boolean>`exists (select 1 from ${sql.table(t.apps)} v where ${sql.ref(`v.${t.owner}`)} = m.id and v.app_id in (${sql.join(appIds)}))`,
      );
    }
    return q;
  }

  /**
   * Up to `limit + 1` members after `after`, in keyset order (the extra one says a page follows):
   * their ids and sort keys only, which the indexes hold; the rows are read by findByIds().
   */
  async page(filter: MemberFilter, sort: readonly SortColumn[], after: KeysetPosition | undefined, limit: number): Promise<Array<{ id: string } & Record<string, SortValue>>> {
    const qualified = sort.map((s) => ({ column: `m.${s.column}`, desc: s.desc }));
    let q = this.filtered(filter).select([sql.ref<string>('m.id').as('id'), ...sort.map((s) => sql.ref<SortValue>(`m.${s.column}`).as(s.column))]);
    if (after) q = q.where(afterPosition(qualified, 'm.id', after));
    const rows = await q.orderBy(orderBy(qualified, 'm.id')).limit(limit + 1).execute();
    return rows as Array<{ id: string } & Record<string, SortValue>>;
  }

  /** The members with these ids, in no particular order (ids that name none are left out). */
  async findByIds(ids: readonly string[]): Promise<Database[T][]> {
    if (ids.length === 0) return [];
    const rows = await this.db.selectFrom(this.db.dynamic.table(this.t.table).as('m')).selectAll('m').where(sql.ref('m.id'), 'in', ids).execute();
    // the table named by t.table holds rows of Database[T]; the dynamic table only hides that
    return rows as Database[T][];
  }

  async count(filter: MemberFilter): Promise<number> {
    const { pendingAt, ...narrowing } = filter;
    if (pendingAt !== undefined && this.t.counter && Object.values(narrowing).every((v) => v === undefined)) {
      // All pending members: the table's row counter (src/db/row-counts.ts) minus the expired rows,
      // which are few (the sweeper buries them). Counting `expires_at > now` instead reads an index
      // entry per pending invitation: 16 ms a request at a million.
      const { rows } = await sql<{ n: number | string }>`select ${rowCount(this.t.counter)} - (select count(*) from ${sql.table(this.t.table)} where expires_at <= ${pendingAt}) as n`.execute(this.db);
      return Number(rows[0]!.n);
    }
    const row = await this.filtered(filter)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** For each member, its first `limit` visible app ids (by id) and how many it has. */
  async visibleAppSlices(ownerIds: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    const out = new Map<string, VisibleAppsSlice>();
    for (const id of ownerIds) out.set(id, { ids: [], total: 0 });
    if (ownerIds.length === 0) return out;
    const owner = sql.ref<string>(`v.${this.t.owner}`);
    const rows = await this.db
      .selectFrom(this.db.dynamic.table(this.t.apps).as('v'))
      .select([owner.as('owner_id'), 'v.app_id'])
      .where(owner, 'in', ownerIds)
      .orderBy(owner)
      .orderBy('v.app_id')
      .execute();
    for (const r of rows) {
      const slice = out.get(r.owner_id)!;
      slice.total++;
      if (slice.ids.length < limit) slice.ids.push(r.app_id);
    }
    return out;
  }

  /** One member's visible app ids after `afterAppId`, by app id: up to `limit + 1`. */
  async visibleAppPage(ownerId: string, afterAppId: string | undefined, limit: number): Promise<string[]> {
    let q = this.db.selectFrom(this.db.dynamic.table(this.t.apps).as('v')).select('v.app_id').where(sql.ref(`v.${this.t.owner}`), '=', ownerId);
    if (afterAppId !== undefined) q = q.where('v.app_id', '>', afterAppId);
    const rows = await q.orderBy('v.app_id').limit(limit + 1).execute();
    return rows.map((r) => r.app_id);
  }

  async visibleAppCount(ownerId: string): Promise<number> {
    const row = await this.db
      .selectFrom(this.db.dynamic.table(this.t.apps).as('v'))
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where(sql.ref(`v.${this.t.owner}`), '=', ownerId)
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** All of one member's visible app ids, by id. */
  async visibleAppIds(db: Executor, ownerId: string): Promise<string[]> {
    const rows = await db
      .selectFrom(db.dynamic.table(this.t.apps).as('v'))
      .select('v.app_id')
      .where(sql.ref(`v.${this.t.owner}`), '=', ownerId)
      .orderBy('v.app_id')
      .execute();
    return rows.map((r) => r.app_id);
  }
}

/** Arguments: email key, owner type, owner id. Built once (../../db/prepared.ts): every create runs it. */
const insertClaim = new PreparedQuery<null>(
  (db, arg) =>
    db
      .insertInto('email_claims')
      .values({ email_key: arg(0), owner_type: arg(1), owner_id: arg(2) })
      .onConflict((oc) => oc.column('email_key').doNothing()),
  () => 3,
);

/**
 * Email claims: one row per address taken by a pending invitation or a user. The primary key makes
 * a second claim fail, even under concurrency (behavior.md A9).
 */
export const emailClaims = {
  /** Takes the email for an owner; false when someone holds it already. */
  async claim(trx: Executor, emailKey: string, ownerType: EmailClaimTable['owner_type'], ownerId: string): Promise<boolean> {
    const r = await insertClaim.execute(trx, null, [emailKey, ownerType, ownerId]);
    return Number(r.numAffectedRows ?? 0n) === 1;
  },

  async find(trx: Executor, emailKey: string): Promise<EmailClaimTable | undefined> {
    return trx.selectFrom('email_claims').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
  },

  /** Frees the email, if `ownerId` holds it. */
  async release(trx: Executor, emailKey: string, ownerId: string): Promise<void> {
    await trx.deleteFrom('email_claims').where('email_key', '=', emailKey).where('owner_id', '=', ownerId).execute();
  },

  /** Hands a claim from one owner to another (an invitation becoming a user). */
  async transfer(trx: Executor, emailKey: string, fromId: string, toType: EmailClaimTable['owner_type'], toId: string): Promise<boolean> {
    const r = await trx
      .updateTable('email_claims')
      .set({ owner_type: toType, owner_id: toId })
      .where('email_key', '=', emailKey)
      .where('owner_id', '=', fromId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
};
