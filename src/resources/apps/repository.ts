/** All SQL about apps. */
import type { Kysely } from 'kysely';
import { afterPosition, orderBy, type KeysetPosition, type SortColumn } from '../../db/keyset.js';
import { firstArgs, PreparedQuery } from '../../db/prepared.js';
import type { AppTable, Database, Executor } from '../../db/schema.js';

export type AppRow = AppTable;

/** The apps of `count` ids, in id order; built once per count (../../db/prepared.ts): creates run it. */
const appsByIds = new PreparedQuery<number, AppRow>(
  (db, arg, count) =>
    db
      .selectFrom('apps')
      .selectAll()
      .where('id', 'in', firstArgs(arg, count))
      .orderBy('id'),
  (count) => count,
);

export interface AppFilter {
  ids?: readonly string[];
  names?: readonly string[];
  bundleIds?: readonly string[];
  skus?: readonly string[];
  /** A filter that no app can satisfy (on related resources this server does not hold). */
  nothing?: boolean;
}

export const APP_SORT_COLUMNS = { name: 'name', bundleId: 'bundle_id', sku: 'sku' } as const;

/** Every app, as read while the database had one version (SQLite: AppsRepository.findByIds). */
interface AppSnapshot {
  version: string;
  /** by id, as list() orders them */
  sorted: AppRow[];
  byId: Map<string, AppRow>;
}

export class AppsRepository {
  private snapshot: AppSnapshot | undefined;

  constructor(
    private readonly db: Kysely<Database>,
    /** the database's version (Db.version), where it has one: SQLite */
    private readonly version?: () => string,
  ) {}

  async insert(row: AppRow): Promise<'ok' | 'id' | 'bundleId' | 'sku'> {
    return this.db.transaction().execute(async (trx) => {
      if (await trx.selectFrom('apps').select('id').where('bundle_id', '=', row.bundle_id).executeTakeFirst()) return 'bundleId';
      if (await trx.selectFrom('apps').select('id').where('sku', '=', row.sku).executeTakeFirst()) return 'sku';
      const r = await trx.insertInto('apps').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
      return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 ? 'ok' : 'id';
    });
  }

  async findById(id: string): Promise<AppRow | undefined> {
    return this.db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByIds(ids: readonly string[], db: Executor = this.db): Promise<AppRow[]> {
    // no app id holds a NUL, and PostgreSQL text cannot even be compared with one
    ids = ids.filter((id) => !id.includes('\u0000'));
    if (ids.length === 0) return [];
    if (db === this.db && this.version) {
      const { byId, sorted } = await this.currentSnapshot(this.version());
      const wanted = new Set(ids);
      // the snapshot is in id order: a page's hundred apps of a few hundred are picked from it
      // without sorting; a few of many are looked up and sorted
      if (wanted.size * 16 >= sorted.length) return sorted.filter((row) => wanted.has(row.id));
      return [...wanted].sort().flatMap((id) => byId.get(id) ?? []);
    }
    return (await appsByIds.execute(db, ids.length, ids)).rows;
  }

  /**
   * On SQLite, every app as of the database's current version, read again whenever it changed:
   * `include=visibleApps` needs up to hundreds of apps per page, and reading them one by one per
   * request cost more than the rest of the page. The version (Db.version) changes with every
   * write, of this process or another (the CLI); it is read before the apps, so a snapshot is kept
   * under a version no later than what it holds. Apps are few (those of one team), so a reload is
   * cheap. PostgreSQL has no such version; there other instances write too, and every request reads.
   */
  private async currentSnapshot(version: string): Promise<AppSnapshot> {
    if (this.snapshot?.version !== version) {
      const sorted = await this.list();
      this.snapshot = { version, sorted, byId: new Map(sorted.map((row) => [row.id, row])) };
    }
    return this.snapshot;
  }

  private filtered(filter: AppFilter) {
    let q = this.db.selectFrom('apps');
    if (filter.nothing) q = q.where((eb) => eb.lit(false));
    if (filter.ids) q = q.where('id', 'in', filter.ids);
    if (filter.names) q = q.where('name', 'in', filter.names);
    if (filter.bundleIds) q = q.where('bundle_id', 'in', filter.bundleIds);
    if (filter.skus) q = q.where('sku', 'in', filter.skus);
    return q;
  }

  /** One page: up to `limit + 1` rows after `after`, in the given order. */
  async page(filter: AppFilter, sort: readonly SortColumn[], after: KeysetPosition | undefined, limit: number): Promise<AppRow[]> {
    let q = this.filtered(filter).selectAll();
    if (after) q = q.where(afterPosition(sort, 'id', after));
    return q.orderBy(orderBy(sort, 'id')).limit(limit + 1).execute();
  }

  async count(filter: AppFilter): Promise<number> {
    const row = await this.filtered(filter)
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  async list(): Promise<AppRow[]> {
    return this.db.selectFrom('apps').selectAll().orderBy('id').execute();
  }
}
