/**
 * HTTP that /v1/users and /v1/userInvitations share: every read. The list (whole-address email
 * filter, roles and visible-apps filters, sort, keyset cursors, sparse fieldsets,
 * `include=visibleApps`), one member, and the two read endpoints of the visibleApps relationship.
 */
import type { Resource } from '../../jsonapi/document.js';
import { collectionDocument } from '../../jsonapi/collection.js';
import { linkTo } from '../../jsonapi/links.js';
import { intParam, listParam, stringParam, type ParsedQuery } from '../../jsonapi/query.js';
import { parseSort } from '../../jsonapi/sort.js';
import type { Operation, ReuseHint } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import type { AppRenderer } from '../apps/serializer.js';
import type { App } from '../apps/service.js';
import type { RawJson } from '../../jsonapi/raw-json.js';
import type { Page } from '../../db/keyset.js';
import type { MemberFilter } from './repository.js';
import type { MemberRenderer } from './render.js';
import { DEFAULT_VISIBLE_APPS_LIMIT } from './serializer.js';
import type { MemberSource } from './service.js';

const DEFAULT_LIMIT = 20;

export interface MemberResource<D> {
  /** the spec's type, which is also the path segment: `users` or `userInvitations` */
  type: 'users' | 'userInvitations';
  /** the filter on the whole email address (A16): `email` or `username` */
  emailFilter: 'email' | 'username';
  /** sort field to column */
  sortColumns: Readonly<Record<string, string>>;
  renderer: MemberRenderer<D>;
  apps: AppRenderer;
  /** how long a list or single read stands if nothing is written (Operation.reuse) */
  reuse: ReuseHint;
}

/**
 * GET /v1/{type}, GET /v1/{type}/{id}, GET /v1/{type}/{id}/visibleApps and
 * GET /v1/{type}/{id}/relationships/visibleApps.
 */
export function memberReadRoutes<D extends { id: string }>(source: MemberSource<D>, resource: MemberResource<D>, deps: RouteDeps): Operation[] {
  const collection = `/v1/${resource.type}`;

  /**
   * Renders the members with these ids, with `include` and sparse fieldsets applied, in the order
   * given; `load` reads them. A member that `load` no longer finds (removed since its page was read)
   * is left out.
   */
  async function render(
    ids: readonly string[],
    load: (ids: readonly string[]) => Promise<D[]>,
    query: ParsedQuery,
  ): Promise<{ data: Array<Resource | RawJson>; included?: Array<Resource | RawJson> }> {
    const fields = listParam(query, `fields[${resource.type}]`);
    const include = listParam(query, 'include')?.includes('visibleApps') ?? false;
    const sliceLimit = include ? intParam(query, 'limit[visibleApps]', DEFAULT_VISIBLE_APPS_LIMIT) : undefined;
    const rendered = await resource.renderer.render(ids, load, { fields, sliceLimit });
    const data: Array<Resource | RawJson> = [];
    const appIds: string[] = [];
    for (const id of ids) {
      const m = rendered.get(id);
      if (!m) continue;
      data.push(m.resource);
      for (const appId of m.appIds) appIds.push(appId);
    }
    if (sliceLimit === undefined) return { data };
    // appsByIds() drops repeated ids and orders them by id
    const apps = await source.reads.appsByIds(appIds);
    const appFields = listParam(query, 'fields[apps]');
    return { data, included: apps.map((a) => renderApp(a, appFields)) };
  }

  /** An app as lists and `included` show it. */
  function renderApp(app: App, fields: readonly string[] | undefined): Resource | RawJson {
    return resource.apps.render(app, fields);
  }

  /** Decodes the cursor of a related-apps page (keyed by app id). */
  function appCursor(query: ParsedQuery): string | undefined {
    const cursor = stringParam(query, 'cursor');
    return cursor === undefined ? undefined : deps.cursors.decode(cursor, 'apps', 0).id;
  }

  /** A page of apps or app linkages as a collection document. */
  function appCollection<T extends Resource | RawJson | { type: string; id: string }>(query: ParsedQuery, path: string, page: Page<unknown>, data: T[], limit: number) {
    return collectionDocument({
      base: deps.base,
      path,
      pairs: query.pairs,
      data,
      total: page.total,
      limit,
      ...(page.next ? { nextCursor: deps.cursors.encode({ sort: 'apps', keys: [], id: page.next.id }) } : {}),
    });
  }

  return [
    {
      key: `GET ${collection}`,
      write: false,
      reuse: resource.reuse,
      body: false,
      async handle({ query, path }) {
        const filter: MemberFilter = {};
        const emails = listParam(query, `filter[${resource.emailFilter}]`);
        const roles = listParam(query, 'filter[roles]');
        const apps = listParam(query, 'filter[visibleApps]');
        if (emails) filter.emailKeys = emails.map((e) => e.toLowerCase());
        if (roles) filter.roles = roles;
        if (apps) filter.appIds = apps;
        const sort = parseSort(listParam(query, 'sort'), resource.sortColumns);
        const limit = intParam(query, 'limit', DEFAULT_LIMIT);
        const cursor = stringParam(query, 'cursor');
        // the collection is bound into the cursor too, so that a cursor of another list is rejected (A15)
        const cursorSort = `${resource.type}:${sort.signature}`;
        const after = cursor === undefined ? undefined : deps.cursors.decode(cursor, cursorSort, sort.columns.length);
        const page = await source.reads.page(filter, sort.columns, after, limit);
        const { data, included } = await render(page.items, (ids) => source.reads.byIds(ids), query);
        const body = collectionDocument({
          base: deps.base,
          path,
          pairs: query.pairs,
          data,
          ...(included ? { included } : {}),
          total: page.total,
          limit,
          ...(page.next ? { nextCursor: deps.cursors.encode({ sort: cursorSort, ...page.next }) } : {}),
        });
        return { status: 200, body };
      },
    },
    {
      key: `GET ${collection}/{id}`,
      write: false,
      reuse: resource.reuse,
      body: false,
      async handle({ query, params, path }) {
        const member = await source.get(params.id!);
        const { data, included } = await render([member.id], async () => [member], query);
        const links = { self: linkTo(deps.base, path, query.pairs) };
        const body = included ? { data: data[0], included, links } : { data: data[0], links };
        return { status: 200, body };
      },
    },
    {
      key: `GET ${collection}/{id}/visibleApps`,
      write: false,
      body: false,
      async handle({ query, params, path }) {
        const after = appCursor(query);
        await source.get(params.id!);
        const limit = intParam(query, 'limit', DEFAULT_LIMIT);
        const page = await source.reads.visibleAppPage(params.id!, after, limit);
        const fields = listParam(query, 'fields[apps]');
        const data = page.items.map((a) => renderApp(a, fields));
        return { status: 200, body: appCollection(query, path, page, data, limit) };
      },
    },
    {
      key: `GET ${collection}/{id}/relationships/visibleApps`,
      write: false,
      body: false,
      async handle({ query, params, path }) {
        const after = appCursor(query);
        await source.get(params.id!);
        const limit = intParam(query, 'limit', DEFAULT_LIMIT);
        const page = await source.reads.visibleAppIdPage(params.id!, after, limit);
        const data = page.items.map((id) => ({ type: 'apps', id }));
        return { status: 200, body: appCollection(query, path, page, data, limit) };
      },
    },
  ];
}
