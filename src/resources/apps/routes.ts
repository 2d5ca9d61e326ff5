/** HTTP for GET /v1/apps and GET /v1/apps/{id}: read-only, so that visible apps resolve. */
import { applyFields } from '../../jsonapi/document.js';
import { collectionDocument } from '../../jsonapi/collection.js';
import { linkTo } from '../../jsonapi/links.js';
import { parseList } from '../../jsonapi/list.js';
import { listParam, type ParsedQuery } from '../../jsonapi/query.js';
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { APP_LIST } from './repository.js';
import { serializeApp, type AppRenderer } from './serializer.js';
import type { AppsService } from './service.js';

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
        const { request, limit, cursorSort } = parseList(APP_LIST, query, deps.cursors, 'apps');
        const page = await apps.page(request, limit);
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
