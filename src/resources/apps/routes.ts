/** HTTP for GET /v1/apps and GET /v1/apps/{id}: read-only, so that visible apps resolve. */
import { applyFields } from '../../jsonapi/document.js';
import { collectionDocument } from '../../jsonapi/collection.js';
import { linkTo } from '../../jsonapi/links.js';
import { boolParam, intParam, listParam, stringParam, type ParsedQuery } from '../../jsonapi/query.js';
import { parseSort } from '../../jsonapi/sort.js';
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { APP_SORT_COLUMNS, type AppFilter } from './repository.js';
import { serializeApp, type AppRenderer } from './serializer.js';
import type { AppsService } from './service.js';

/** Filters on related resources this server does not hold: they can match no app. */
const RELATED_FILTERS = [
  'filter[appStoreVersions.appStoreState]',
  'filter[appStoreVersions.platform]',
  'filter[appStoreVersions.appVersionState]',
  'filter[reviewSubmissions.state]',
  'filter[reviewSubmissions.platform]',
  'filter[appStoreVersions]',
];

function relationshipLimits(q: ParsedQuery): Map<string, number> {
  const out = new Map<string, number>();
  for (const [name, value] of q.values) {
    const m = /^limit\[(.+)\]$/.exec(name);
    if (m && typeof value === 'number') out.set(m[1]!, value);
  }
  return out;
}

/** `render`: how apps in their default rendering are rendered (lists, `included`). */
export function appRoutes(apps: AppsService, deps: RouteDeps, render: AppRenderer): Operation[] {
  return [
    {
      key: 'GET /v1/apps',
      write: false,
      // apps do not change with time: only a write changes these answers
      reuse: {},
      body: false,
      async handle({ query, path }) {
        const filter: AppFilter = {};
        const ids = listParam(query, 'filter[id]');
        const names = listParam(query, 'filter[name]');
        const bundleIds = listParam(query, 'filter[bundleId]');
        const skus = listParam(query, 'filter[sku]');
        if (ids) filter.ids = ids;
        if (names) filter.names = names;
        if (bundleIds) filter.bundleIds = bundleIds;
        if (skus) filter.skus = skus;
        if (RELATED_FILTERS.some((f) => query.values.has(f)) || boolParam(query, 'exists[gameCenterEnabledVersions]') === true) {
          filter.nothing = true;
        }
        const sort = parseSort(listParam(query, 'sort'), APP_SORT_COLUMNS);
        const limit = intParam(query, 'limit', 20);
        const cursor = stringParam(query, 'cursor');
        // the collection is bound into the cursor too, so that a cursor of another list is rejected (A15)
        const cursorSort = `apps:${sort.signature}`;
        const after = cursor === undefined ? undefined : deps.cursors.decode(cursor, cursorSort, sort.columns.length);
        const page = await apps.page(filter, sort.columns, after, limit);
        const options = { base: deps.base, include: listParam(query, 'include') ?? [], relationshipLimits: relationshipLimits(query) };
        const fields = listParam(query, 'fields[apps]');
        const body = collectionDocument({
          base: deps.base,
          path,
          pairs: query.pairs,
          data: page.items.map((a) =>
            options.include.length === 0 ? render.render(a, fields) : applyFields(serializeApp(a, options), fields),
          ),
          ...(options.include.length > 0 ? { included: [] } : {}),
          total: page.total,
          limit,
          ...(page.next ? { nextCursor: deps.cursors.encode({ sort: cursorSort, ...page.next }) } : {}),
        });
        return { status: 200, body };
      },
    },
    {
      key: 'GET /v1/apps/{id}',
      write: false,
      reuse: {},
      body: false,
      async handle({ query, params, path }) {
        const app = await apps.get(params.id!);
        const include = listParam(query, 'include') ?? [];
        const data = applyFields(
          serializeApp(app, { base: deps.base, include, relationshipLimits: relationshipLimits(query) }),
          listParam(query, 'fields[apps]'),
        );
        const links = { self: linkTo(deps.base, path, query.pairs) };
        return { status: 200, body: include.length > 0 ? { data, included: [], links } : { data, links } };
      },
    },
  ];
}
