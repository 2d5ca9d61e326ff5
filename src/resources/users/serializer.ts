/** Users to Apple's `User` resource (docs/behavior.md B7.2). */
import type { Resource } from '../../jsonapi/document.js';
import { visibleAppsRelationship, type VisibleAppsSlice } from '../../jsonapi/include.js';
import type { User } from './service.js';

export function userSelfLink(base: string, id: string): string {
  return `${base}/v1/users/${encodeURIComponent(id)}`;
}

/** `slice` is given when `include=visibleApps` asked for the linkage. */
export function serializeUser(user: User, base: string, slice?: VisibleAppsSlice, sliceLimit?: number): Resource {
  const self = userSelfLink(base, user.id);
  return {
    type: 'users',
    id: user.id,
    attributes: {
      username: user.username,
      firstName: user.firstName,
      lastName: user.lastName,
      roles: user.roles,
      allAppsVisible: user.allAppsVisible,
      provisioningAllowed: user.provisioningAllowed,
    },
    relationships: { visibleApps: visibleAppsRelationship(self, slice, sliceLimit) },
    links: { self },
  };
}
