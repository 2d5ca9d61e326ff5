/** All SQL about apps. */
import { sql, type Kysely } from 'kysely';
import { isPostgres } from '../../db/locks.js';
import { PreparedList, type ListOptions, type ListDefinition, type ListRequest } from '../../db/list-query.js';
import { firstArgs, PreparedQuery } from '../../db/prepared.js';
import { stderrRetryLog, transaction, type RetryLog } from '../../db/retry.js';
import type { AppTable, Database, Executor } from '../../db/schema.js';
import { boolParam, type ParsedQuery } from '../../jsonapi/query.js';

export type AppRow = AppTable;

/** The apps of `count` ids, in id order; built once per count (../../db/prepared.ts): creates run it. */
const appsByIds = new PreparedQuery<number, AppRow>(
  (db, arg, count) => db.selectFrom('apps').selectAll().where('id', 'in', firstArgs(arg, count)).orderBy('id'),
  (count) => count,
);

/**
 * The same on PostgreSQL, the ids as one array: a statement for any number of ids, whose plan
 * (made once, ../../db/pg-statements.ts) hashes them. A list of arguments is compared one by one
 * with each row of a small table: an include page's hundred ids cost 0.3 to 0.5 ms against 0.1.
 */
const appsByIdArray = new PreparedQuery<0, AppRow>(
  (db, arg) =>
    db
      .selectFrom('apps')
      .selectAll()
      .where('id', 'in', sql<string>`(select unnest(${arg(0)}::text[]))`)
      .orderBy('id'),
  () => 1,
);

const fromApps = (db: Executor) => db.selectFrom('apps as m');
type AppList = ReturnType<typeof fromApps>;

/** Filters on related resources this server does not hold: no app can match them. */
const matchesNone = (param: string, present = (query: ParsedQuery) => query.values.has(param)) => ({
  param,
  present,
  where: (q: AppList) => q.where((eb) => eb.lit(false)),
});

/** GET /v1/apps: its filters and sort fields (src/db/list-query.ts). */
export const APP_LIST: ListDefinition<AppList> = {
  from: fromApps,
  filters: [
    { param: 'filter[id]', where: (q, values) => q.where('m.id', 'in', values) },
    { param: 'filter[name]', where: (q, values) => q.where('m.name', 'in', values) },
    { param: 'filter[bundleId]', where: (q, values) => q.where('m.bundle_id', 'in', values) },
    { param: 'filter[sku]', where: (q, values) => q.where('m.sku', 'in', values) },
    matchesNone('filter[appStoreVersions.appStoreState]'),
    matchesNone('filter[appStoreVersions.platform]'),
    matchesNone('filter[appStoreVersions.appVersionState]'),
    matchesNone('filter[reviewSubmissions.state]'),
    matchesNone('filter[reviewSubmissions.platform]'),
    matchesNone('filter[appStoreVersions]'),
    // apps with Game Center enabled versions: none here; `false` asks for every app
    matchesNone('exists[gameCenterEnabledVersions]', (query) => boolParam(query, 'exists[gameCenterEnabledVersions]') === true),
  ],
  sort: { name: 'name', bundleId: 'bundle_id', sku: 'sku' },
  rows: 'whole',
};

/** Apps by id as reads need them: outside any transaction. */
export interface AppReader {
  /** The apps with these ids that exist, each once, in id order. */
  findByIds(ids: readonly string[]): Promise<AppRow[]>;
}

export class AppsRepository implements AppReader {
  private readonly list: PreparedList<AppRow>;

  constructor(
    private readonly db: Kysely<Database>,
    private readonly log: RetryLog = stderrRetryLog,
    /** how its list reads a page and its count (src/db/list-query.ts) */
    lists: ListOptions = { countInPage: false },
  ) {
    this.list = new PreparedList(APP_LIST, lists);
  }

  async insert(row: AppRow): Promise<'ok' | 'id' | 'bundleId' | 'sku'> {
    return transaction(
      this.db,
      async (trx) => {
        if (await trx.selectFrom('apps').select('id').where('bundle_id', '=', row.bundle_id).executeTakeFirst()) return 'bundleId';
        if (await trx.selectFrom('apps').select('id').where('sku', '=', row.sku).executeTakeFirst()) return 'sku';
        const r = await trx
          .insertInto('apps')
          .values(row)
          .onConflict((oc) => oc.doNothing())
          .executeTakeFirst();
        return Number(r.numInsertedOrUpdatedRows ?? 0n) === 1 ? 'ok' : 'id';
      },
      this.log,
    );
  }

  async findById(id: string): Promise<AppRow | undefined> {
    return this.db.selectFrom('apps').selectAll().where('id', '=', id).executeTakeFirst();
  }

  async findByIds(ids: readonly string[], db: Executor = this.db): Promise<AppRow[]> {
    // no app id holds a NUL, and PostgreSQL text cannot even be compared with one
    ids = ids.filter((id) => !id.includes('\u0000'));
    if (ids.length === 0) return [];
    if (isPostgres(db)) return (await appsByIdArray.execute(db, 0, [ids])).rows;
    return (await appsByIds.execute(db, ids.length, ids)).rows;
  }

  /** One page: up to `limit + 1` rows after the request's cursor, in its order. */
  async page(req: ListRequest, limit: number): Promise<AppRow[]> {
    return this.list.page(this.db, req, limit);
  }

  async count(req: ListRequest): Promise<number> {
    return this.list.count(this.db, req);
  }

  pageAndCount(req: ListRequest, limit: number): Promise<{ rows: AppRow[]; total: number }> {
    return this.list.pageAndCount(this.db, req, limit);
  }

  async listAll(): Promise<AppRow[]> {
    return this.db.selectFrom('apps').selectAll().orderBy('id').execute();
  }

  /**
   * PostgreSQL: the apps' version, which every statement that changes them moves (migration 012);
   * undefined on SQLite, or when the row is gone.
   */
  async version(): Promise<string | undefined> {
    if (!isPostgres(this.db)) return undefined;
    const row = await sql<{ n: string }>`select n::text as n from apps_version where id = 1`.execute(this.db);
    return row.rows[0]?.n;
  }
}
