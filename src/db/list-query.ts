/**
 * Keyset-paged lists, declared once per resource and run as prepared statements.
 *
 * A resource declares its list (ListDefinition): the table it reads (`from`, aliased `m`), the rows
 * every list is narrowed to (`scope`, one value, e.g. pending invitations: expires_at > now), each
 * filter parameter of the spec with its SQL condition, and each sort field with its column. Adding
 * a filter or a sort field is a change to that definition only: parsing the query (src/jsonapi/
 * list.ts), building the SQL and binding its arguments all walk the definition.
 *
 * Queries of one shape (which filters a request has and how many values each, its sort, whether it
 * starts after a cursor) differ only in their arguments, so each shape is built once
 * (./prepared.ts). The SQL takes its arguments in one order, the order of `walk()` below: the scope
 * value, then each filter's values in the definition's order, then the cursor's keys and id, then
 * the limit. build() and args() both follow it, and test/unit/db/list-query.test.ts checks that a
 * prepared list binds the same parameters as the same list built directly.
 */
import { sql, type Compilable, type CompiledQuery, type Expression, type RawBuilder, type SelectQueryBuilder } from 'kysely';
import type { SortValue } from '../jsonapi/cursor.js';
import type { ParsedQuery } from '../jsonapi/query.js';
import { afterPosition, orderBy, type KeysetPosition, type SortColumn } from './keyset.js';
import { PreparedQuery, type Arg } from './prepared.js';
import type { Executor } from './schema.js';
import { SharedListReads } from './shared-list-reads.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyQuery = SelectQueryBuilder<any, any, any>;

export interface ListFilter<Q> {
  /** the query parameter exactly as the spec names it, e.g. `filter[roles]` */
  param: string;
  /** a value as the SQL compares it (e.g. lower-cased); as given when absent */
  bind?: (value: string) => string;
  /**
   * For a filter whose condition takes none of its values (one no row can match, on resources this
   * server does not hold): whether the request has it. Such a filter binds no argument.
   */
  present?: (query: ParsedQuery) => boolean;
  /** `q` narrowed to rows that match one of `values` (Values within one filter are OR, filters AND, A16) */
  where(q: Q, values: readonly never[]): Q;
}

export interface ListDefinition<Q extends AnyQuery = AnyQuery> {
  /** the rows listed, from one table aliased `m`, typed: `db.selectFrom('users as m')` */
  from(db: Executor): Q;
  /**
   * what every list is narrowed to, by one value decided by the caller at each request: the moment
   * of the read, an ISO 8601 time in UTC (reads of the same page that share a statement take the
   * latest: ./shared-list-reads.ts), never anything that tells one client's rows from another's
   */
  scope?: (q: Q, value: never) => Q;
  filters: readonly ListFilter<Q>[];
  /** sort field (the spec's `sort` value without `-`) to column of `m` */
  sort: Readonly<Record<string, string>>;
  /** `whole`: a page's rows hold every column of `m` (the list is rendered from them); else ids and sort keys */
  rows?: 'whole';
  /**
   * The count of the scope alone (no filter), when the table keeps a quicker way to it than
   * counting rows (src/db/row-counts.ts); takes the scope value.
   */
  scopeCount?: (db: Executor, value: never) => RawBuilder<{ n: number | string }>;
}

/** How a list reads its page and its count. */
export interface ListOptions {
  /** one statement for both (PostgreSQL: a round trip saved); else two */
  countInPage: boolean;
  /** reads of the same page that arrive together share their statement (PostgreSQL: ./shared-list-reads.ts) */
  sharedReads?: boolean;
}

/** One list request in the terms of its definition. */
export interface ListRequest {
  /** the scope's value, when the definition has a scope */
  scope?: string;
  /** for each filter of the definition, in its order: the bound values, or undefined when absent */
  filters: ReadonlyArray<readonly string[] | undefined>;
  sort: readonly SortColumn[];
  after?: KeysetPosition;
}

export type ListRow = { id: string } & Record<string, SortValue>;

interface Shape {
  scope: boolean;
  /** values per filter, -1: absent */
  counts: readonly number[];
  sort: readonly SortColumn[];
  after: boolean;
}

function shapeOf(req: ListRequest): Shape {
  return {
    scope: req.scope !== undefined,
    counts: req.filters.map((v) => v?.length ?? -1),
    sort: req.sort,
    after: req.after !== undefined,
  };
}

/** What a count of `shape` depends on: neither the sort nor the cursor. */
function countShape(shape: Shape): Shape {
  return { ...shape, sort: [], after: false };
}

function shapeKey(shape: Shape): string {
  const sort = shape.sort.map((s) => `${s.column}${s.desc ? '-' : '+'}`).join(',');
  return `${shape.scope ? 1 : 0}|${shape.counts.join(',')}|${sort}|${shape.after ? 1 : 0}`;
}

/** The SQL's argument order, for the filtering part: the scope value, then each filter's values. */
function walk(shape: Shape, onScope: () => void, onFilter: (index: number, count: number) => void): void {
  if (shape.scope) onScope();
  shape.counts.forEach((count, index) => {
    if (count >= 0) onFilter(index, count);
  });
}

/** A list definition's page and count queries, prepared; `R`: a page's rows (ListRow, or whole rows). */
export class PreparedList<R extends { id: string } = ListRow> {
  private readonly pageQuery: PreparedQuery<Shape, R>;
  private readonly countQuery: PreparedQuery<Shape, { n: number | string }>;
  private readonly pageWithCountQuery: PreparedQuery<Shape, R & { list_total: number | string }>;
  private readonly shared: SharedListReads<R> | undefined;

  constructor(
    private readonly def: ListDefinition,
    private readonly options: ListOptions = { countInPage: false },
  ) {
    this.pageQuery = new PreparedQuery(
      (db, arg, shape) => this.pageSql(db, arg, shape),
      (shape) => this.arity(shape, true),
      shapeKey,
    );
    this.pageWithCountQuery = new PreparedQuery(
      (db, arg, shape) => this.pageWithCountSql(db, arg, shape),
      (shape) => this.arity(shape, true) + this.arity(countShape(shape), false),
      shapeKey,
    );
    this.countQuery = new PreparedQuery(
      (db, arg, shape) => this.countSql(db, arg, shape),
      (shape) => this.arity(shape, false),
      shapeKey,
    );
    this.shared = options.sharedReads ? new SharedListReads((db, req, limit) => this.readPageAndCount(db, req, limit)) : undefined;
  }

  /** Up to `limit + 1` rows after the request's cursor, in keyset order: ids and sort keys only. */
  async page(db: Executor, req: ListRequest, limit: number): Promise<R[]> {
    const shape = shapeOf(req);
    return (await this.pageQuery.execute(db, shape, this.pageArgs(req, shape, limit))).rows;
  }

  /** The page's arguments, in walk() order, then the cursor's and the limit. */
  private pageArgs(req: ListRequest, shape: Shape, limit: number): unknown[] {
    const args = this.args(req, shape);
    if (req.after) args.push(...req.after.keys, req.after.id);
    args.push(limit + 1);
    return args;
  }

  async count(db: Executor, req: ListRequest): Promise<number> {
    // a count depends on neither the sort nor the cursor: one statement per filter shape
    const shape = countShape(shapeOf(req));
    const { rows } = await this.countQuery.execute(db, shape, this.args(req, shape));
    return Number(rows[0]!.n);
  }

  /**
   * page() and count() together. With `countInPage` (PostgreSQL) one statement reads both: every
   * row carries the count, computed once (an uncorrelated subquery), in the page's snapshot. A page
   * with no rows carries none, and is counted by a statement of its own.
   */
  async pageAndCount(db: Executor, req: ListRequest, limit: number): Promise<{ rows: R[]; total: number }> {
    return this.shared ? this.shared.read(db, req, limit) : this.readPageAndCount(db, req, limit);
  }

  private async readPageAndCount(db: Executor, req: ListRequest, limit: number): Promise<{ rows: R[]; total: number }> {
    if (!this.options.countInPage) {
      const [rows, total] = await Promise.all([this.page(db, req, limit), this.count(db, req)]);
      return { rows, total };
    }
    const shape = shapeOf(req);
    const args = this.pageArgs(req, shape, limit);
    args.push(...this.args(req, countShape(shape)));
    const { rows } = await this.pageWithCountQuery.execute(db, shape, args);
    const first = rows[0];
    return { rows, total: first ? Number(first.list_total) : await this.count(db, req) };
  }

  /** The filtering arguments of `req`, in walk() order. */
  private args(req: ListRequest, shape: Shape): unknown[] {
    const args: unknown[] = [];
    walk(
      shape,
      () => args.push(req.scope),
      (index) => args.push(...req.filters[index]!),
    );
    return args;
  }

  private arity(shape: Shape, page: boolean): number {
    let n = 0;
    walk(
      shape,
      () => n++,
      (_, count) => (n += count),
    );
    return page ? n + (shape.after ? shape.sort.length + 1 : 0) + 1 : n;
  }

  /** The definition's rows narrowed by the scope and the filters, taking arguments from `next`. */
  private filtered(db: Executor, next: () => never, shape: Shape): AnyQuery {
    const { def } = this;
    let q = def.from(db);
    walk(
      shape,
      () => (q = def.scope!(q, next())),
      (index, count) => (q = def.filters[index]!.where(q, Array.from({ length: count }, next))),
    );
    return q;
  }

  private pageSql(db: Executor, arg: Arg, shape: Shape): Compilable<R> {
    let i = 0;
    const next = () => arg(i++);
    const qualified = shape.sort.map((s) => ({ column: `m.${s.column}`, desc: s.desc }));
    const filtered = this.filtered(db, next, shape);
    let q =
      this.def.rows === 'whole'
        ? filtered.selectAll('m')
        : filtered.select([sql.ref<string>('m.id').as('id'), ...shape.sort.map((s) => sql.ref<SortValue>(`m.${s.column}`).as(s.column))]);
    if (shape.after) q = q.where(afterPosition(qualified, 'm.id', { keys: shape.sort.map(() => next()), id: next() }));
    return q.orderBy(orderBy(qualified, 'm.id')).limit(next());
  }

  private countSql(db: Executor, arg: Arg, shape: Shape): Compilable<{ n: number | string }> {
    const count = this.countExpression(db, arg, shape);
    return { compile: () => count.compile(db) };
  }

  /** The count of `shape` (its sort and cursor ignored) as a query that selects `n`, taking arguments from `arg(0)` on. */
  private countExpression(
    db: Executor,
    arg: Arg,
    shape: Shape,
  ): Expression<{ n: number | string }> & { compile(db: Executor): CompiledQuery } {
    let i = 0;
    const next = () => arg(i++);
    if (shape.scope && this.def.scopeCount && shape.counts.every((c) => c < 0)) return this.def.scopeCount(db, next());
    return this.filtered(db, next, shape).select((eb) => eb.fn.countAll<number | string>().as('n'));
  }

  /** The page's query with the count as one more column, `list_total`; the count's arguments follow the page's. */
  private pageWithCountSql(db: Executor, arg: Arg, shape: Shape): Compilable<R & { list_total: number | string }> {
    const pageArity = this.arity(shape, true);
    const count = this.countExpression(db, (i) => arg(pageArity + i), countShape(shape));
    return (this.pageSql(db, arg, shape) as unknown as AnyQuery).select(sql<number | string>`(${count})`.as('list_total'));
  }
}
