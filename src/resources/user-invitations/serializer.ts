/** Invitations to Apple's `UserInvitation` resource. */
import { formatAppleDate } from '../../clock.js';
import type { Resource } from '../../jsonapi/document.js';
import { visibleAppsRelationship, type VisibleAppsSlice } from '../../jsonapi/include.js';
import type { Invitation } from './service.js';

export function invitationSelfLink(base: string, id: string): string {
  return `${base}/v1/userInvitations/${encodeURIComponent(id)}`;
}

/** `slice` is given when `include=visibleApps` asked for the linkage. */
export function serializeInvitation(inv: Invitation, base: string, slice?: VisibleAppsSlice, sliceLimit?: number): Resource {
  const self = invitationSelfLink(base, inv.id);
  return {
    type: 'userInvitations',
    id: inv.id,
    attributes: {
      email: inv.email,
      firstName: inv.firstName,
      lastName: inv.lastName,
      expirationDate: formatAppleDate(inv.expiresAt),
      roles: inv.roles,
      allAppsVisible: inv.allAppsVisible,
      provisioningAllowed: inv.provisioningAllowed,
    },
    relationships: { visibleApps: visibleAppsRelationship(self, slice, sliceLimit) },
    links: { self },
  };
}
