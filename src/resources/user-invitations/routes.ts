/** HTTP for /v1/userInvitations and its visibleApps relationship (the reads users share: ../members/routes.ts). */
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { memberReadRoutes } from '../members/routes.js';
import type { Invitation, InvitationsService } from './service.js';
import type { AppRenderer } from '../apps/serializer.js';
import type { MemberRenderer } from '../members/render.js';
import { INVITATION_SORT_COLUMNS } from './repository.js';
import { invitationSelfLink, serializeInvitation } from './serializer.js';

/** `views`: how invitations and apps are rendered in reads (src/container.ts). */
export function invitationRoutes(
  invitations: InvitationsService,
  deps: RouteDeps,
  views: { invitations: MemberRenderer<Invitation>; apps: AppRenderer },
): Operation[] {
  return [
    ...memberReadRoutes(
      invitations,
      {
        type: 'userInvitations',
        emailFilter: 'email',
        sortColumns: INVITATION_SORT_COLUMNS,
        renderer: views.invitations,
        apps: views.apps,
        // an invitation leaves lists (and answers 410) when it expires
        reuse: { changesAt: (now) => invitations.nextExpiryAfter(now) },
      },
      deps,
    ),
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
