/** HTTP for /v1/users and its visibleApps relationship (the reads invitations share: ../members/routes.ts). */
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { memberReadRoutes } from '../members/routes.js';
import { USER_SORT_COLUMNS } from './repository.js';
import { serializeUser, userSelfLink } from './serializer.js';
import type { User, UsersService, VisibleAppsChange } from './service.js';
import type { AppRenderer } from '../apps/serializer.js';
import type { MemberRenderer } from '../members/render.js';

/** `views`: how users and apps are rendered in reads (src/container.ts). */
export function userRoutes(users: UsersService, deps: RouteDeps, views: { users: MemberRenderer<User>; apps: AppRenderer }): Operation[] {
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
    ...memberReadRoutes(
      users,
      // users do not change with time: only writes change what reads answer
      { type: 'users', emailFilter: 'username', sortColumns: USER_SORT_COLUMNS, renderer: views.users, apps: views.apps, reuse: {} },
      deps,
    ),
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
