/**
 * The emulator's invitees: accept or decline a pending invitation as its recipient would at the
 * activation page, without the page. The invitation is named by id, or by the address it was sent
 * to (anything with an `@`, any case). The effects are the page's own (ActivationService): an
 * accept creates the user and buries the invitation (its id answers 410 from then on), a decline
 * deletes it (404 from then on) and drops its undelivered mail.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Services } from '../container.js';
import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { sendJson } from '../http/responses.js';
import type { EndedInvitation, InvitationRef } from '../resources/user-invitations/activation.js';
import { answering } from './mail.js';
import type { EmulatorTeam } from './team.js';

export interface AcceptedInvitee {
  userId: string;
  invitationId: string;
}

/** `ref` is an email address when it holds an `@`, else an invitation id. */
export function invitationRef(ref: string): InvitationRef {
  return ref.includes('@') ? { email: ref } : { id: ref };
}

/** No id or address of ours holds a NUL (PostgreSQL text cannot even hold one): such a ref is unknown without a lookup. */
function storable(ref: string): boolean {
  return !ref.includes('\u0000');
}

/** The error names the part of the path it is about (`source.parameter`). */
function about(err: ApiError, parameter: string): ApiError {
  return new ApiError({ status: err.status, code: err.code, title: err.title, detail: err.message, source: { parameter } });
}

/** Why `ref` can't be accepted or declined: 404 when nothing is known of it, 410 when it ended or expired. */
function refused(ref: InvitationRef, why: 'expired' | EndedInvitation, parameter: string): ApiError {
  const name = 'id' in ref ? `The invitation '${ref.id}'` : `The invitation for '${ref.email}'`;
  if (why === 'expired') return about(errors.gone(`${name} has expired`), parameter);
  if (why.state === 'ended') return about(errors.gone(`${name} ${why.outcome === 'accepted' ? 'was accepted' : 'has expired'}`), parameter);
  return about(
    'id' in ref
      ? errors.notFound('userInvitations', ref.id)
      : errors.notFound('userInvitations', ref.email, `There is no pending invitation for the email '${ref.email}'`),
    parameter,
  );
}

/**
 * Accepts the invitation `ref` (an id, or an address) names; throws ApiError 404 (unknown,
 * declined, cancelled) or 410 (expired, accepted already). `parameter` names `ref` in the errors.
 */
export async function acceptInvitee(services: Services, ref: string, parameter = 'idOrEmail'): Promise<AcceptedInvitee> {
  const target = invitationRef(ref);
  if (!storable(ref)) throw refused(target, { state: 'unknown' }, parameter);
  const result = await services.activation.acceptByRef(target);
  if (result.state === 'accepted') return { userId: result.userId, invitationId: result.invitation.id };
  throw refused(target, result.state === 'expired' ? 'expired' : result, parameter);
}

/** Declines the invitation `ref` names; the same errors as acceptInvitee. */
export async function declineInvitee(services: Services, ref: string, parameter = 'idOrEmail'): Promise<void> {
  const target = invitationRef(ref);
  if (!storable(ref)) throw refused(target, { state: 'unknown' }, parameter);
  const result = await services.activation.declineByRef(target);
  if (result === 'declined') return;
  throw refused(target, result, parameter);
}

/**
 * The invitee controls, on `scope` (prefixed with the team's path, `/_emulator/v1/teams/:team`):
 * POST /invitations/:idOrEmail/accept answers 200 `{ userId, invitationId }`, POST
 * /invitations/:idOrEmail/decline 204; `idOrEmail` is an invitation id or the address it was sent to.
 */
export function registerInviteeControls(scope: FastifyInstance, teamOf: (request: FastifyRequest) => EmulatorTeam): void {
  scope.post<{ Params: { idOrEmail: string } }>('/invitations/:idOrEmail/accept', (request, reply) =>
    answering(reply, async () => sendJson(reply, 200, await acceptInvitee(teamOf(request).built.services, request.params.idOrEmail))),
  );
  scope.post<{ Params: { idOrEmail: string } }>('/invitations/:idOrEmail/decline', (request, reply) =>
    answering(reply, async () => {
      await declineInvitee(teamOf(request).built.services, request.params.idOrEmail);
      return reply.code(204).send();
    }),
  );
}
