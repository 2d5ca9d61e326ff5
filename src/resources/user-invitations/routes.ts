/** HTTP for /v1/userInvitations and its visibleApps relationship. */
import type { Operation, ReuseHint } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { VisibleAppsDocuments, type AppRenderer, type MemberRenderer } from '../../jsonapi/include.js';
import { INVITATION_LIST } from './repository.js';
import { readInvitationCreate } from './request.js';
import { invitationSelfLink, serializeInvitation } from './serializer.js';
import type { Invitation, InvitationsService } from './service.js';

/** `views`: how invitations and apps are rendered in reads (src/container.ts). */
export function invitationRoutes(
  invitations: InvitationsService,
  deps: RouteDeps,
  views: { invitations: MemberRenderer<Invitation>; apps: AppRenderer },
): Operation[] {
  const documents = new VisibleAppsDocuments(invitations, {
    type: 'userInvitations',
    list: INVITATION_LIST,
    renderer: views.invitations,
    apps: views.apps,
    base: deps.base,
    cursors: deps.cursors,
  });
  // an invitation leaves lists (and answers 410) when it expires
  const untilNextExpiry: ReuseHint = { changesAt: (now) => invitations.nextExpiryAfter(now) };

  return [
    {
      key: 'GET /v1/userInvitations',
      write: false,
      body: false,
      reuse: untilNextExpiry,
      async handle({ query, path }) {
        return { status: 200, body: await documents.list(query, path) };
      },
    },
    {
      key: 'GET /v1/userInvitations/{id}',
      write: false,
      body: false,
      reuse: untilNextExpiry,
      async handle({ query, params, path }) {
        return { status: 200, body: await documents.one(params.id!, query, path) };
      },
    },
    {
      key: 'GET /v1/userInvitations/{id}/visibleApps',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        return { status: 200, body: await documents.relatedApps(params.id!, query, path) };
      },
    },
    {
      key: 'GET /v1/userInvitations/{id}/relationships/visibleApps',
      write: false,
      body: false,
      async handle({ query, params, path }) {
        return { status: 200, body: await documents.relatedAppIds(params.id!, query, path) };
      },
    },
    {
      key: 'POST /v1/userInvitations',
      write: true,
      checksKey: true,
      body: true,
      async handle({ body, principal }) {
        // a person's name reaches the invitee; a team key's label never does
        const invitedBy = principal.kind === 'individual' ? principal.name : null;
        const invitation = await invitations.create(readInvitationCreate(body), invitedBy, principal.keyCheck);
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
