/**
 * SQL that users and user invitations share. Both are team members (an invitation is one who has
 * not accepted yet): a row with a lower-cased email key, a roles table and a visible-apps table of
 * the same shape under other names (MemberTables), and a claim on their email address.
 */
import { sql, type Compilable, type Kysely } from 'kysely';
import { afterPosition, orderBy, type KeysetPosition, type SortColumn } from '../../db/keyset.js';
import type { Database, EmailClaimTable, Executor } from '../../db/schema.js';
import type { SortValue } from '../../jsonapi/cursor.js';
import { rowCount, type CountedTable } from '../../db/row-counts.js';
import { firstArgs, PreparedQuery } from '../../db/prepared.js';

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

/**
 * A list query's shape: which filters it has and how many values each (-1: absent), its sort, and
 * whether it starts after a position. Queries of one shape differ only in their arguments, so each
 * shape is built once (../../db/prepared.ts); filterArgs() and boundFilter() agree on the order.
 */
interface ListShape {
  pending: boolean;
  emails: number;
  roles: number;
  apps: number;
  sort: readonly SortColumn[];
  after: boolean;
}

/**
 * The filter's fields, each of which listShape(), filterArgs() and boundFilter() must handle: a
 * field added to MemberFilter fails to compile here until they do (else a prepared list would
 * silently drop it).
 */
export const LIST_FILTER_FIELDS: Record<keyof MemberFilter, true> = { pendingAt: true, emailKeys: true, roles: true, appIds: true };

function listShape(filter: MemberFilter, sort: readonly SortColumn[] = [], after?: KeysetPosition): ListShape {
  return {
    pending: filter.pendingAt !== undefined,
    emails: filter.emailKeys?.length ?? -1,
    roles: filter.roles?.length ?? -1,
    apps: filter.appIds?.length ?? -1,
    sort,
    after: after !== undefined,
  };
}

function listShapeKey(shape: ListShape): string {
  const sort = shape.sort.map((s) => `${s.column}${s.desc ? '-' : '+'}`).join(',');
  return `${shape.pending ? 1 : 0}|${shape.emails}|${shape.roles}|${shape.apps}|${sort}|${shape.after ? 1 : 0}`;
}

/** How many arguments a filter of `shape` takes. */
function filterArity(shape: ListShape): number {
  return (shape.pending ? 1 : 0) + Math.max(shape.emails, 0) + Math.max(shape.roles, 0) + Math.max(shape.apps, 0);
}

/** A filter's values as arguments: pendingAt, the emails, the roles, the apps. */
function filterArgs(filter: MemberFilter): unknown[] {
  return [...(filter.pendingAt !== undefined ? [filter.pendingAt] : []), ...(filter.emailKeys ?? []), ...(filter.roles ?? []), ...(filter.appIds ?? [])];
}

/** A filter of `shape` whose values are arguments taken in filterArgs() order from `next`. */
function boundFilter(shape: ListShape, next: () => never): MemberFilter {
  const values = (count: number) => (count < 0 ? undefined : Array.from({ length: count }, () => next()));
  return {
    pendingAt: shape.pending ? next() : undefined,
    emailKeys: values(shape.emails),
    roles: values(shape.roles),
    appIds: values(shape.apps),
  };
}

type PageRow = { id: string } & Record<string, SortValue>;

export interface VisibleAppsSlice {
  ids: string[];
  total: number;
}

/** Lists, counts and visible apps of one kind of member, on the tables `t` names. */
export class MemberSql<T extends MemberTable> {
  // Every list request runs these; each is built once per shape (../../db/prepared.ts).
  private readonly pageQuery: PreparedQuery<ListShape, PageRow>;
  private readonly countQuery: PreparedQuery<ListShape, { n: number | string }>;
  private readonly byIdsQuery: PreparedQuery<number, Database[T]>;
  private readonly slicesQuery: PreparedQuery<number, { owner_id: string; app_id: string }>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly t: MemberTables<T>,
  ) {
    this.pageQuery = new PreparedQuery(
      (_, arg, shape) => {
        let i = 0;
        const next = () => arg(i++);
        const filter = boundFilter(shape, next);
        const after = shape.after ? { keys: shape.sort.map(() => next()), id: next() } : undefined;
        return this.pageBuilder(filter, shape.sort, after, next());
      },
      (shape) => filterArity(shape) + (shape.after ? shape.sort.length + 1 : 0) + 1,
      listShapeKey,
    );
    this.countQuery = new PreparedQuery(
      (_, arg, shape) => {
        let i = 0;
        return this.countBuilder(boundFilter(shape, () => arg(i++)));
      },
      filterArity,
      listShapeKey,
    );
    this.byIdsQuery = new PreparedQuery(
      (_, arg, count) =>
        this.db
          .selectFrom(this.db.dynamic.table(this.t.table).as('m'))
          .selectAll('m')
          .where(sql.ref('m.id'), 'in', firstArgs(arg, count)) as unknown as Compilable<Database[T]>,
      (count) => count,
    );
    this.slicesQuery = new PreparedQuery(
      (_, arg, count) => {
        const owner = sql.ref<string>(`v.${this.t.owner}`);
        return this.db
          .selectFrom(this.db.dynamic.table(this.t.apps).as('v'))
          .select([owner.as('owner_id'), 'v.app_id'])
          .where(owner, 'in', firstArgs(arg, count))
          .orderBy(owner)
          .orderBy('v.app_id');
      },
      (count) => count,
    );
  }

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
  async page(filter: MemberFilter, sort: readonly SortColumn[], after: KeysetPosition | undefined, limit: number): Promise<PageRow[]> {
    const args = [...filterArgs(filter), ...(after ? [...after.keys, after.id] : []), limit + 1];
    return (await this.pageQuery.execute(this.db, listShape(filter, sort, after), args)).rows;
  }

  private pageBuilder(filter: MemberFilter, sort: readonly SortColumn[], after: KeysetPosition | undefined, limitPlusOne: number) {
    const qualified = sort.map((s) => ({ column: `m.${s.column}`, desc: s.desc }));
    let q = this.filtered(filter).select([sql.ref<string>('m.id').as('id'), ...sort.map((s) => sql.ref<SortValue>(`m.${s.column}`).as(s.column))]);
    if (after) q = q.where(afterPosition(qualified, 'm.id', after));
    return q.orderBy(orderBy(qualified, 'm.id')).limit(limitPlusOne) as unknown as Compilable<PageRow>;
  }

  /** The members with these ids, in no particular order (ids that name none are left out). */
  async findByIds(ids: readonly string[]): Promise<Database[T][]> {
    if (ids.length === 0) return [];
    // the table named by t.table holds rows of Database[T]; the dynamic table only hides that
    return (await this.byIdsQuery.execute(this.db, ids.length, ids)).rows;
  }

  async count(filter: MemberFilter): Promise<number> {
    const { rows } = await this.countQuery.execute(this.db, listShape(filter), filterArgs(filter));
    return Number(rows[0]!.n);
  }

  private countBuilder(filter: MemberFilter): Compilable<{ n: number | string }> {
    const { pendingAt, ...narrowing } = filter;
    if (pendingAt !== undefined && this.t.counter && Object.values(narrowing).every((v) => v === undefined)) {
      // All pending members: the table's row counter (src/db/row-counts.ts) minus the expired rows,
      // which are few (the sweeper buries them). Counting `expires_at > now` instead reads an index
      // entry per pending invitation: 16 ms a request at a million.
      const raw = sql<{ n: number | string }>`select ${rowCount(this.t.counter)} - (select count(*) from ${sql.table(this.t.table)} where expires_at <= ${pendingAt}) as n`;
      return { compile: () => raw.compile(this.db) };
    }
    return this.filtered(filter).select((eb) => eb.fn.countAll<number | string>().as('n'));
  }

  /** For each member, its first `limit` visible app ids (by id) and how many it has. */
  async visibleAppSlices(ownerIds: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    const out = new Map<string, VisibleAppsSlice>();
    for (const id of ownerIds) out.set(id, { ids: [], total: 0 });
    if (ownerIds.length === 0) return out;
    const { rows } = await this.slicesQuery.execute(this.db, ownerIds.length, ownerIds);
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
