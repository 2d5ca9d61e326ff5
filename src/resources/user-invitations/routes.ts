/** HTTP for /v1/userInvitations and its visibleApps relationship (the reads users share: ../members/routes.ts). */
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { MemberJsonCache } from '../members/json-cache.js';
import { memberReadRoutes } from '../members/routes.js';
import type { InvitationsService } from './service.js';
import { INVITATION_SORT_COLUMNS } from './repository.js';
import { readInvitationCreate } from './request.js';
import { invitationSelfLink, serializeInvitation } from './serializer.js';

export function invitationRoutes(invitations: InvitationsService, deps: RouteDeps): Operation[] {
  return [
    ...memberReadRoutes(
      invitations,
      // invitations never change once written: each is rendered once (MemberJsonCache)
      { type: 'userInvitations', emailFilter: 'email', sortColumns: INVITATION_SORT_COLUMNS, serialize: serializeInvitation, cache: new MemberJsonCache() },
      deps,
    ),
    {
      key: 'POST /v1/userInvitations',
      write: true,
      body: true,
      async handle({ body, principal }) {
        const invitation = await invitations.create(readInvitationCreate(body), principal.name);
        const self = invitationSelfLink(deps.base, invitation.id);
        return {
          status: 201,
          headers: { location: self },
          body: { data: serializeInvitation(invitation, deps.base), links: { self } },
        };
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
  ];
}
