/**
 * PATCH /v1/users/{id} and the writes of /v1/users/{id}/relationships/visibleApps: the bodies,
 * checked against the spec's UserUpdateRequest and UserVisibleAppsLinkagesRequest
 * (src/http/request-body.ts), read into the service's input.
 */
import type { RequestInput } from '../../domain/request-input.js';
import type { UserRole } from '../../domain/roles.js';
import { readLinkageDocument, readResourceDocument } from '../../http/request-body.js';
import type { UserUpdateInput } from './service.js';

export function readUserUpdate(body: unknown, pathId: string): RequestInput<UserUpdateInput> {
  // Apple's users manage their own names; the username is their Apple Account (B7.2, B7.3)
  const doc = readResourceDocument('PATCH /v1/users/{id}', body, { notAllowed: ['username', 'firstName', 'lastName'], pathId });
  const roles = doc.distinctItems<UserRole>('roles');
  const allAppsVisible = doc.value<boolean>('allAppsVisible');
  const provisioningAllowed = doc.value<boolean>('provisioningAllowed');
  const values = { roles, allAppsVisible, provisioningAllowed, visibleAppIds: doc.linkage('visibleApps') };
  return { values, problems: doc.problems, refused: doc.refused as ReadonlySet<keyof UserUpdateInput> };
}

/** The app ids of a visibleApps linkage document; `method` is POST, PATCH or DELETE. */
export function readVisibleAppIds(method: 'POST' | 'PATCH' | 'DELETE', body: unknown): string[] {
  return readLinkageDocument(`${method} /v1/users/{id}/relationships/visibleApps`, body);
}
