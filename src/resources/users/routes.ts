/** HTTP for /v1/users and its visibleApps relationship. */
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { VisibleAppsDocuments, type AppRenderer, type MemberRenderer } from '../../jsonapi/include.js';
import { USER_LIST } from './repository.js';
import { serializeUser, userSelfLink } from './serializer.js';
import type { User, UsersService, VisibleAppsChange } from './service.js';

/** `views`: how users and apps are rendered in reads (src/container.ts). */
export function userRoutes(users: UsersService, deps: RouteDeps, views: { users: MemberRenderer<User>; apps: AppRenderer }): Operation[] {
  const documents = new VisibleAppsDocuments(users, {
    type: 'users',
    list: USER_LIST,
    renderer: views.users,
    apps: views.apps,
    base: deps.base,
    cursors: deps.cursors,
  });

  /** POST adds, PATCH replaces, DELETE removes; each answers 204 (B7.4). */
  const visibleAppsWrite = (method: 'POST' | 'PATCH' | 'DELETE', change: VisibleAppsChange): Operation => ({
    key: `${method} /v1/users/{id}/relationships/visibleApps`,
    write: true,
    body: true,
    async handle({ params, body }) {
      await users.changeVisibleApps(params.id!, body, change);
      return { status: 204 };
    },
  });

  return [
    {
      key: 'GET /v1/users',
      write: false,
      body: false,
      // users do not change with time: only writes change what reads answer
      reuse: {},
      async handle({ query, path }) {
        return { status: 200, body: await documents.list(query, path) };
      },
    },
    {
      key: 'GET /v1/users/{id}',
      write: false,
      body: false,
      reuse: {},
      async handle({ query, params, path }) {
        return { status: 200, body: await documents.one(params.id!, query, path) };
      },
    },
    {
      key: 'GET /v1/users/{id}/visibleApps',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        return { status: 200, body: await documents.relatedApps(params.id!, query, path) };
      },
    },
    {
      key: 'GET /v1/users/{id}/relationships/visibleApps',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        return { status: 200, body: await documents.relatedAppIds(params.id!, query, path) };
      },
    },
    {
      key: 'PATCH /v1/users/{id}',
      write: true,
      body: true,
      async handle({ params, body }) {
        const user = await users.update(params.id!, body);
        return { status: 200, body: { data: serializeUser(user, deps.base), links: { self: userSelfLink(deps.base, user.id) } } };
      },
    },
    {
      key: 'DELETE /v1/users/{id}',
      write: true,
      body: false,
      async handle({ params }) {
        await users.remove(params.id!);
        return { status: 204 };
      },
    },
    visibleAppsWrite('POST', 'add'),
    visibleAppsWrite('PATCH', 'replace'),
    visibleAppsWrite('DELETE', 'remove'),
  ];
}
