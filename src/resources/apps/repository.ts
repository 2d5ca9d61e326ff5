/** All SQL about apps. */
import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../../db/database.js';
import { afterPosition, orderBy, type KeysetPosition, type SortColumn } from '../../db/keyset.js';
import type { AppTable, Database, Executor } from '../../db/schema.js';

export type AppRow = AppTable;

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
  /** apps written through this repository; other writers show in SQLite's data_version */
  private ownWrites = 0;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly dialect: Dialect = 'sqlite',
  ) {}

  async insert(row: AppRow): Promise<'ok' | 'id' | 'bundleId' | 'sku'> {
    try {
      return await this.db.transaction().execute(async (trx) => {
        if (await trx.selectFrom('apps').select('id').where('bundle_id', '=', row.bundle_id).executeTakeFirst()) return 'bundleId';
        if (await trx.selectFrom('apps').select('id').where('sku', '=', row.sku).executeTakeFirst()) return 'sku';
        const r = await trx.insertInto('apps').values(row).onConflict((oc) => oc.doNothing()).executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 ? 'ok' : 'id';
      });
    } finally {
      // after the commit: a snapshot read before it must not be kept (see currentSnapshot)
      this.ownWrites++;
    }
  }

  async findById(id: string): Promise<AppRow | undefined> {
    return this.db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByIds(ids: readonly string[], db: Executor = this.db): Promise<AppRow[]> {
    // no app id holds a NUL, and PostgreSQL text cannot even be compared with one
    ids = ids.filter((id) => !id.includes('\u0000'));
    if (ids.length === 0) return [];
    if (db === this.db && this.dialect === 'sqlite') {
      const { byId, sorted } = await this.currentSnapshot();
      const wanted = new Set(ids);
      // the snapshot is in id order: a page's hundred apps of a few hundred are picked from it
      // without sorting; a few of many are looked up and sorted
      if (wanted.size * 16 >= sorted.length) return sorted.filter((row) => wanted.has(row.id));
      return [...wanted].sort().flatMap((id) => byId.get(id) ?? []);
    }
    return db.selectFrom('apps').selectAll().where('id', 'in', ids).orderBy('id').execute();
  }

  /**
   * On SQLite, every app as of the database's current version, read again whenever it changed:
   * `include=visibleApps` needs up to hundreds of apps per page, and reading them one by one per
   * request cost more than the rest of the page. A commit by any other connection (the CLI,
   * another process) changes SQLite's `data_version`; this process writes apps only through
   * insert(), which counts itself. Apps are few (those of one team), so a reload is cheap.
   * PostgreSQL has no such version; there other instances write too, and every request reads.
   */
  private async currentSnapshot(): Promise<AppSnapshot> {
    const { rows } = await sql<{ data_version: number }>`select data_version from pragma_data_version()`.execute(this.db);
    const version = `${rows[0]?.data_version ?? ''}/${this.ownWrites}`;
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
