/**
 * POST /v1/userInvitations: the body, checked against the spec's UserInvitationCreateRequest
 * (src/http/request-body.ts), read into the service's input. The rules of a single value that a
 * schema can't state (names, A10; each role once, A11) apply here, so the problems of the
 * attributes come in the attributes' order; rules across attributes, or needing the database,
 * are the service's.
 */
import type { RequestInput } from '../../domain/request-input.js';
import type { UserRole } from '../../domain/roles.js';
import { readResourceDocument } from '../../http/request-body.js';
import { checkName } from '../../domain/names.js';
import type { InvitationCreateInput } from './service.js';

export function readInvitationCreate(body: unknown): RequestInput<InvitationCreateInput> {
  // expirationDate is the invitation's, but only the server sets it (A8)
  const doc = readResourceDocument('POST /v1/userInvitations', body, { notAllowed: ['expirationDate'] });
  const email = doc.value<string>('email');
  const firstName = doc.value<string>('firstName', (v, problems) => checkName('firstName', v, problems));
  const lastName = doc.value<string>('lastName', (v, problems) => checkName('lastName', v, problems));
  const roles = doc.distinctItems<UserRole>('roles');
  const allAppsVisible = doc.value<boolean>('allAppsVisible');
  const provisioningAllowed = doc.value<boolean>('provisioningAllowed');
  const values = { email, firstName, lastName, roles, allAppsVisible, provisioningAllowed, visibleAppIds: doc.linkage('visibleApps') };
  return { values, problems: doc.problems, refused: doc.refused as ReadonlySet<keyof InvitationCreateInput> };
}
