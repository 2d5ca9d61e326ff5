/** HTTP for /v1/users and its visibleApps relationship. */
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { VisibleAppsDocuments, type AppRenderer, type MemberRenderer } from '../../jsonapi/include.js';
import { USER_LIST } from './repository.js';
import { readUserUpdate, readVisibleAppIds } from './request.js';
import { serializeUser, userSelfLink } from './serializer.js';
import type { User, UsersService } from './service.js';

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
        const user = await users.update(params.id!, readUserUpdate(body, params.id!));
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
    {
      // adds apps; answers 204 (B7.4)
      key: 'POST /v1/users/{id}/relationships/visibleApps',
      write: true,
      body: true,
      async handle({ params, body }) {
        await users.changeVisibleApps(params.id!, readVisibleAppIds('POST', body), 'add');
        return { status: 204 };
      },
    },
    {
      // replaces the apps; answers 204 (B7.4)
      key: 'PATCH /v1/users/{id}/relationships/visibleApps',
      write: true,
      body: true,
      async handle({ params, body }) {
        await users.changeVisibleApps(params.id!, readVisibleAppIds('PATCH', body), 'replace');
        return { status: 204 };
      },
    },
    {
      // removes apps; answers 204 (B7.4)
      key: 'DELETE /v1/users/{id}/relationships/visibleApps',
      write: true,
      body: true,
      async handle({ params, body }) {
        await users.changeVisibleApps(params.id!, readVisibleAppIds('DELETE', body), 'remove');
        return { status: 204 };
      },
    },
  ];
}
