/** HTTP for /v1/userInvitations and its visibleApps relationship. */
import { applyFields, type Resource } from '../../jsonapi/document.js';
import { collectionDocument } from '../../jsonapi/collection.js';
import { linkTo } from '../../jsonapi/links.js';
import { intParam, listParam, stringParam, type ParsedQuery } from '../../jsonapi/query.js';
import { parseSort } from '../../jsonapi/sort.js';
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { serializeApp } from '../apps/serializer.js';
import type { Invitation, InvitationsService } from './service.js';
import { INVITATION_SORT_COLUMNS, type InvitationFilter } from './repository.js';
import { invitationSelfLink, serializeInvitation } from './serializer.js';

const DEFAULT_LIMIT = 20;
const DEFAULT_RELATED_LIMIT = 10;

export function invitationRoutes(invitations: InvitationsService, deps: RouteDeps): Operation[] {
  /** Serializes invitations with `include` and sparse fieldsets applied. */
  async function render(items: Invitation[], query: ParsedQuery): Promise<{ data: Resource[]; included?: Resource[] }> {
    const fields = listParam(query, 'fields[userInvitations]');
    const include = listParam(query, 'include')?.includes('visibleApps') ?? false;
    if (!include) return { data: items.map((i) => applyFields(serializeInvitation(i, deps.base), fields)) };
    const sliceLimit = intParam(query, 'limit[visibleApps]', DEFAULT_RELATED_LIMIT);
    const { slices, apps } = await invitations.visibleAppsOf(
      items.map((i) => i.id),
      sliceLimit,
    );
    const appFields = listParam(query, 'fields[apps]');
    return {
      data: items.map((i) => applyFields(serializeInvitation(i, deps.base, slices.get(i.id), sliceLimit), fields)),
      included: apps.map((a) => applyFields(serializeApp(a, { base: deps.base }), appFields)),
    };
  }

  /** Decodes the cursor of a related-apps page (keyed by app id). */
  function appCursor(query: ParsedQuery): string | undefined {
    const cursor = stringParam(query, 'cursor');
    return cursor === undefined ? undefined : deps.cursors.decode(cursor, 'apps', 0).id;
  }

  return [
    {
      key: 'GET /v1/userInvitations',
      write: false,
      body: false,
      async handle({ query, path }) {
        const filter: InvitationFilter = {};
        const emails = listParam(query, 'filter[email]');
        const roles = listParam(query, 'filter[roles]');
        const apps = listParam(query, 'filter[visibleApps]');
        if (emails) filter.emailKeys = emails.map((e) => e.toLowerCase());
        if (roles) filter.roles = roles;
        if (apps) filter.appIds = apps;
        const sort = parseSort(listParam(query, 'sort'), INVITATION_SORT_COLUMNS);
        const limit = intParam(query, 'limit', DEFAULT_LIMIT);
        const cursor = stringParam(query, 'cursor');
        const after = cursor === undefined ? undefined : deps.cursors.decode(cursor, sort.signature, sort.columns.length);
        const page = await invitations.page(filter, sort.columns, after, limit);
        const { data, included } = await render(page.items, query);
        const body = collectionDocument({
          base: deps.base,
          path,
          pairs: query.pairs,
          data,
          ...(included ? { included } : {}),
          total: page.total,
          limit,
          ...(page.next ? { nextCursor: deps.cursors.encode({ sort: sort.signature, ...page.next }) } : {}),
        });
        return { status: 200, body };
      },
    },
    {
      key: 'POST /v1/userInvitations',
      write: true,
      body: true,
      async handle({ body, principal }) {
        const invitation = await invitations.create(body, principal.name);
        const self = invitationSelfLink(deps.base, invitation.id);
        return {
          status: 201,
          headers: { location: self },
          body: { data: serializeInvitation(invitation, deps.base), links: { self } },
        };
      },
    },
    {
      key: 'GET /v1/userInvitations/{id}',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        const invitation = await invitations.get(params.id!);
        const { data, included } = await render([invitation], query);
        const links = { self: linkTo(deps.base, path, query.pairs) };
        return { status: 200, body: included ? { data: data[0], included, links } : { data: data[0], links } };
      },
    },
    {
      key: 'DELETE /v1/userInvitations/{id}',
      write: true,
      body: false,
      async handle({ params }) {
        await invitations.cancel(params.id!);
        return { status: 204 };
      },
    },
    {
      key: 'GET /v1/userInvitations/{id}/visibleApps',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        const limit = intParam(query, 'limit', DEFAULT_LIMIT);
        const page = await invitations.visibleAppPage(params.id!, appCursor(query), limit);
        const fields = listParam(query, 'fields[apps]');
        const body = collectionDocument({
          base: deps.base,
          path,
          pairs: query.pairs,
          data: page.items.map((a) => applyFields(serializeApp(a, { base: deps.base }), fields)),
          total: page.total,
          limit,
          ...(page.next ? { nextCursor: deps.cursors.encode({ sort: 'apps', keys: [], id: page.next.id }) } : {}),
        });
        return { status: 200, body };
      },
    },
    {
      key: 'GET /v1/userInvitations/{id}/relationships/visibleApps',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        const limit = intParam(query, 'limit', DEFAULT_LIMIT);
        const page = await invitations.visibleAppIdPage(params.id!, appCursor(query), limit);
        const body = collectionDocument({
          base: deps.base,
          path,
          pairs: query.pairs,
          data: page.items.map((id) => ({ type: 'apps', id })),
          total: page.total,
          limit,
          ...(page.next ? { nextCursor: deps.cursors.encode({ sort: 'apps', keys: [], id: page.next.id }) } : {}),
        });
        return { status: 200, body };
      },
    },
  ];
}
