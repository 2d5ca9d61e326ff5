/**
 * Keyset-paged lists over HTTP: the request read from the query by the resource's list definition
 * (src/db/list-query.ts), the page read through the resource's queries, the collection document
 * with its cursor. Shared by every list that a ListDefinition describes (users, user invitations).
 */
import type { KeysetPosition, Page } from '../db/keyset.js';
import { keysetPage } from '../db/keyset.js';
import type { ListDefinition, ListRequest, ListRow } from '../db/list-query.js';
import type { CursorCodec } from './cursor.js';
import { intParam, listParam, stringParam, type ParsedQuery } from './query.js';
import { parseSort } from './sort.js';

export const DEFAULT_LIMIT = 20;

/** A list request of `def` as the query gives it, with its page size and the cursor's binding. */
export interface ParsedList {
  request: ListRequest;
  limit: number;
  /** what the list's cursors are bound to: the collection and its order (A15) */
  cursorSort: string;
}

/**
 * Reads `def`'s filters (in the definition's order), `sort`, `limit` and `cursor` from the query.
 * `defaultLimit`: a page's size when `limit` is not given (A15; sandbox testers A20).
 */
export function parseList(
  def: ListDefinition,
  query: ParsedQuery,
  cursors: CursorCodec,
  type: string,
  defaultLimit: number = DEFAULT_LIMIT,
): ParsedList {
  const filters = def.filters.map((f) => {
    if (f.present) return f.present(query) ? [] : undefined;
    const values = listParam(query, f.param);
    return values && f.bind ? values.map(f.bind) : values;
  });
  const sort = parseSort(listParam(query, 'sort'), def.sort);
  const limit = intParam(query, 'limit', defaultLimit);
  const cursor = stringParam(query, 'cursor');
  // the collection is bound into the cursor too, so that a cursor of another list is rejected (A15)
  const cursorSort = `${type}:${sort.signature}`;
  const after: KeysetPosition | undefined = cursor === undefined ? undefined : cursors.decode(cursor, cursorSort, sort.columns.length);
  return { request: { filters, sort: sort.columns, ...(after ? { after } : {}) }, limit, cursorSort };
}

/** A list's SQL, as a resource's repository runs it. */
export interface ListQueries<R extends { id: string } = ListRow> {
  /** up to `limit + 1` rows after the request's cursor */
  page(req: ListRequest, limit: number): Promise<R[]>;
  count(req: ListRequest): Promise<number>;
  /** page() and count() of the same request (in one statement where the database allows) */
  pageAndCount(req: ListRequest, limit: number): Promise<{ rows: R[]; total: number }>;
}

/** A page of ids: the page and the total read together. `scope` narrows every list (ListDefinition.scope). */
export function listPage(queries: ListQueries, req: ListRequest, limit: number, scope?: string): Promise<Page<string>> {
  return mappedListPage(queries, req, limit, scope, (r) => r.id);
}

/** A page of whole rows, each mapped to what the caller serves (apps). */
export async function mappedListPage<R extends { id: string }, T>(
  queries: ListQueries<R>,
  req: ListRequest,
  limit: number,
  scope: string | undefined,
  map: (row: R) => T,
): Promise<Page<T>> {
  const scoped = scope === undefined ? req : { ...req, scope };
  const { rows, total } = await queries.pageAndCount(scoped, limit);
  return keysetPage(rows, total, limit, req.sort, map);
}
