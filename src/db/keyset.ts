/**
 * Keyset paging shared by every repository: ORDER BY the sort columns then id ascending (the
 * final tie-breaker, also under a descending key), and "rows after this position" as a predicate
 * the indexes can seek to.
 */
import { sql, type Expression, type SqlBool } from 'kysely';
import type { SortValue } from '../jsonapi/cursor.js';

export interface SortColumn {
  /** qualified column, e.g. `i.last_name_key` */
  column: string;
  desc: boolean;
}

export interface KeysetPosition {
  keys: readonly SortValue[];
  id: string;
}

/** `(k1 > v1) OR (k1 = v1 AND k2 > v2) OR ... OR (k1 = v1 AND ... AND id > last)` */
export function afterPosition(sort: readonly SortColumn[], idColumn: string, pos: KeysetPosition): Expression<SqlBool> {
  const disjuncts: ReturnType<typeof sql<SqlBool>>[] = [];
  const equalities: ReturnType<typeof sql<SqlBool>>[] = [];
  sort.forEach((s, i) => {
    const value = pos.keys[i]!;
    const cmp = s.desc ? sql`<` : sql`>`;
    disjuncts.push(sql<SqlBool>`(${sql.join([...equalities, sql<SqlBool>`${sql.ref(s.column)} ${cmp} ${value}`], sql` and `)})`);
    equalities.push(sql<SqlBool>`${sql.ref(s.column)} = ${value}`);
  });
  disjuncts.push(sql<SqlBool>`(${sql.join([...equalities, sql<SqlBool>`${sql.ref(idColumn)} > ${pos.id}`], sql` and `)})`);
  return sql<SqlBool>`(${sql.join(disjuncts, sql` or `)})`;
}

/** The ORDER BY clause of a keyset page. */
export function orderBy(sort: readonly SortColumn[], idColumn: string) {
  const parts = sort.map((s) => (s.desc ? sql`${sql.ref(s.column)} desc` : sql`${sql.ref(s.column)} asc`));
  parts.push(sql`${sql.ref(idColumn)} asc`);
  return sql.join(parts);
}

/** One page of a keyset-paged list. */
export interface Page<T> {
  items: T[];
  total: number;
  /** Where the next page starts; absent on the last page. */
  next?: KeysetPosition;
}

/**
 * Turns the `limit + 1` rows a repository fetched into a page: the first `limit` rows, mapped, and
 * the position of the last one when a further row shows there is a next page.
 */
export function keysetPage<R extends { id: string }, T>(
  rows: readonly R[],
  total: number,
  limit: number,
  sort: readonly SortColumn[],
  map: (row: R) => T,
): Page<T> {
  const items = rows.slice(0, limit);
  const page: Page<T> = { items: items.map(map), total };
  const last = items[items.length - 1];
  if (rows.length > limit && last) {
    page.next = { keys: sort.map((s) => (last as unknown as Record<string, SortValue>)[s.column]!), id: last.id };
  }
  return page;
}
