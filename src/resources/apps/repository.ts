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

/** Apps by id as reads need them: outside any transaction. */
export interface AppReader {
  /** The apps with these ids that exist, each once, in id order. */
  findByIds(ids: readonly string[]): Promise<AppRow[]>;
}

export class AppsRepository implements AppReader {
  constructor(private readonly db: Kysely<Database>) {}

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
    return (await appsByIds.execute(db, ids.length, ids)).rows;
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
