/** HTTP for /v1/users and its visibleApps relationship (the reads invitations share: ../members/routes.ts). */
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { memberReadRoutes } from '../members/routes.js';
import { USER_SORT_COLUMNS } from './repository.js';
import { readUserUpdate, readVisibleAppIds } from './request.js';
import { serializeUser, userSelfLink } from './serializer.js';
import type { UsersService, VisibleAppsChange } from './service.js';

export function userRoutes(users: UsersService, deps: RouteDeps): Operation[] {
  /** POST adds, PATCH replaces, DELETE removes; each answers 204 (B7.4). */
  const visibleAppsWrite = (method: 'POST' | 'PATCH' | 'DELETE', change: VisibleAppsChange): Operation => ({
    key: `${method} /v1/users/{id}/relationships/visibleApps`,
    write: true,
    body: true,
    async handle({ params, body }) {
      await users.changeVisibleApps(params.id!, readVisibleAppIds(method, body), change);
      return { status: 204 };
    },
  });

  return [
    ...memberReadRoutes(users, { type: 'users', emailFilter: 'username', sortColumns: USER_SORT_COLUMNS, serialize: serializeUser }, deps),
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
    visibleAppsWrite('POST', 'add'),
    visibleAppsWrite('PATCH', 'replace'),
    visibleAppsWrite('DELETE', 'remove'),
  ];
}
