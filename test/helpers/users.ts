/**
 * Users made the way real ones join a team: invited through the API, then accepted with the
 * activation link from the invitation's email. And individual API keys for them.
 */
import { expect } from 'vitest';
import { invitationBody, type TestServer } from './harness.js';

/** The activation token of an invitation: the last path segment of the link in its email. */
export async function activationToken(s: TestServer, invitationId: string): Promise<string> {
  const [mail] = await s.services.outbox.forInvitation(invitationId);
  expect(mail?.activation_link, `the email of invitation ${invitationId}`).toBeTruthy();
  return new URL(mail!.activation_link!).pathname.split('/').pop()!;
}

/**
 * Invites `attributes.email` (with `invitationBody`'s defaults for what is not given) and accepts
 * the invitation; returns the new user's id.
 */
export async function createUser(
  s: TestServer,
  attributes: Record<string, unknown>,
  relationships?: Record<string, unknown>,
): Promise<string> {
  const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody(attributes, relationships) });
  expect(res.status, res.text).toBe(201);
  const result = await s.services.activation.accept(await activationToken(s, res.body.data.id as string));
  if (result.state !== 'accepted') throw new Error(`accepting the invitation of ${String(attributes.email)} gave ${result.state}`);
  return result.userId;
}

/** An individual key of a user, and a token for it (`sub: "user"`, no issuer). */
export async function individualKey(s: TestServer, userId: string): Promise<{ keyId: string; privateKeyPem: string; token: string }> {
  const created = await s.services.keys.createIndividual({ name: `key of ${userId}`, userId });
  const token = await s.token({ privateKeyPem: created.privateKeyPem, keyId: created.key.id });
  return { keyId: created.key.id, privateKeyPem: created.privateKeyPem, token };
}
