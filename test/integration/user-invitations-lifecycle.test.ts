/**
 * GET and DELETE /v1/userInvitations/{id} over a real socket on a real SQLite file: reading,
 * cancelling, expiry and acceptance (docs/behavior.md A6, A9, A13), the error envelope (A7), the 415 for
 * a DELETE with a non-JSON body (A5) and who may read and write (A1, A2).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { duplicateEmail, errorBody, forbidden, gone, NOT_AUTHORIZED, notFound, unsupportedMediaType } from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps } from '../helpers/harness.js';
import { invitationResource, type ExpectedInvitation } from '../helpers/resources.js';

const HOUR = 3600 * 1000;
const LIFETIME = 72 * HOUR;

const FORBIDDEN = errorBody(forbidden());
const invitationNotFound = (id: string) => errorBody(notFound('userInvitations', id));
const invitationGone = (detail: string) => errorBody(gone(detail));

/** Apple's date-time form: milliseconds and an explicit offset (A13). */
function appleDate(ms: number): string {
  return new Date(ms).toISOString().replace('Z', '+00:00');
}

/** A whole UserInvitation resource, for an invitation created at `createdAt`. */
function resource(id: string, { createdAt, ...e }: Omit<ExpectedInvitation, 'expirationDate'> & { createdAt: number }) {
  return invitationResource(id, { ...e, expirationDate: appleDate(createdAt + LIFETIME) });
}

describe('GET and DELETE /v1/userInvitations/{id}', () => {
  const s = useTestServer();
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@lifecycle.example.com`;

  async function create(attributes: Record<string, unknown>, relationships?: Record<string, unknown>): Promise<string> {
    const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody(attributes, relationships) });
    expect(res.status, res.text).toBe(201);
    return res.body.data.id as string;
  }

  describe('GET', () => {
    it('returns the pending invitation with data and links.self', async () => {
      const address = email('read');
      const id = await create({ email: address, roles: ['APP_MANAGER', 'ACCESS_TO_REPORTS'] });
      const res = await s.call('GET', `/v1/userInvitations/${id}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        data: resource(id, {
          email: address,
          createdAt: s.clock.now().getTime(),
          roles: ['APP_MANAGER', 'ACCESS_TO_REPORTS'],
          allAppsVisible: true,
          provisioningAllowed: false,
        }),
        links: { self: `${PUBLIC_URL}/v1/userInvitations/${id}` },
      });
    });

    it('keys without ADMIN may read an invitation', async () => {
      const address = email('readable');
      const app = await s.createApp('Readable');
      const id = await create({ email: address, roles: ['MARKETING'] }, visibleApps(app));
      const expected = {
        data: resource(id, {
          email: address,
          createdAt: s.clock.now().getTime(),
          roles: ['MARKETING'],
          allAppsVisible: false,
          provisioningAllowed: false,
        }),
        links: { self: `${PUBLIC_URL}/v1/userInvitations/${id}` },
      };
      for (const role of ['DEVELOPER', 'CUSTOMER_SUPPORT', 'FINANCE']) {
        const { token } = await s.keyWithRole(role);
        const res = await s.call('GET', `/v1/userInvitations/${id}`, { token });
        expect(res.status, role).toBe(200);
        expect(res.body).toEqual(expected);
      }
    });

    it("404 NOT_FOUND with Apple's wording for an id that never existed", async () => {
      for (const id of [randomUUID(), 'not-a-uuid', '12345']) {
        const res = await s.call('GET', `/v1/userInvitations/${id}`);
        expect(res.status, id).toBe(404);
        expect(res.body).toEqual(invitationNotFound(id));
      }
    });

    it('401 NOT_AUTHORIZED, without an id, for a request without a token', async () => {
      const id = await create({ email: email('anon') });
      const res = await s.call('GET', `/v1/userInvitations/${id}`, { token: null });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NOT_AUTHORIZED);
    });
  });

  describe('DELETE', () => {
    it('cancels: 204 without a body, then GET and DELETE answer 404', async () => {
      const id = await create({ email: email('cancel') });
      const res = await s.call('DELETE', `/v1/userInvitations/${id}`);
      expect(res.status).toBe(204);
      expect(res.text).toBe('');
      expect(res.headers.get('content-type')).toBeNull();

      const read = await s.call('GET', `/v1/userInvitations/${id}`);
      expect(read.status).toBe(404);
      expect(read.body).toEqual(invitationNotFound(id));

      const again = await s.call('DELETE', `/v1/userInvitations/${id}`);
      expect(again.status).toBe(404);
      expect(again.body).toEqual(invitationNotFound(id));
    });

    it('a cancelled invitation leaves the list, and its visible apps go with it', async () => {
      const address = email('cancel-list');
      const app = await s.createApp('Cancelled');
      const id = await create({ email: address }, visibleApps(app));
      const before = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
      expect(before.body.data.map((d: { id: string }) => d.id)).toEqual([id]);

      expect((await s.call('DELETE', `/v1/userInvitations/${id}`)).status).toBe(204);
      const after = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
      expect(after.body.data).toEqual([]);
      const linkage = await s.call('GET', `/v1/userInvitations/${id}/relationships/visibleApps`);
      expect(linkage.status).toBe(404);
      expect(linkage.body).toEqual(invitationNotFound(id));
    });

    it('404 NOT_FOUND for an id that never existed', async () => {
      const id = randomUUID();
      const res = await s.call('DELETE', `/v1/userInvitations/${id}`);
      expect(res.status).toBe(404);
      expect(res.body).toEqual(invitationNotFound(id));
    });

    it('after a cancel the same email, in any case, can be invited again', async () => {
      const address = email('reinvite');
      const first = await create({ email: address });
      const refused = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: address }) });
      expect(refused.status).toBe(409);
      expect(refused.body.errors.map((e: { code: string }) => e.code)).toEqual(['ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE']);

      expect((await s.call('DELETE', `/v1/userInvitations/${first}`)).status).toBe(204);
      const upper = address.toUpperCase();
      const again = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: upper, roles: ['SALES'] }) });
      expect(again.status).toBe(201);
      expect(again.body.data).toEqual(
        resource(again.body.data.id, {
          email: upper,
          createdAt: s.clock.now().getTime(),
          roles: ['SALES'],
          allAppsVisible: true,
          provisioningAllowed: false,
        }),
      );
      expect(again.body.data.id).not.toBe(first);
      expect((await s.call('GET', `/v1/userInvitations/${first}`)).status).toBe(404);
    });

    it('403 FORBIDDEN_ERROR for a key without ADMIN, and the invitation stays', async () => {
      const address = email('keep');
      const id = await create({ email: address });
      for (const role of ['DEVELOPER', 'APP_MANAGER']) {
        const { token } = await s.keyWithRole(role);
        const res = await s.call('DELETE', `/v1/userInvitations/${id}`, { token });
        expect(res.status, role).toBe(403);
        expect(res.body).toEqual(FORBIDDEN);
      }
      const read = await s.call('GET', `/v1/userInvitations/${id}`);
      expect(read.status).toBe(200);
      expect(read.body.data.id).toBe(id);
    });

    it('403 for a key without ADMIN even when the id does not exist', async () => {
      const { token } = await s.keyWithRole('DEVELOPER');
      const res = await s.call('DELETE', `/v1/userInvitations/${randomUUID()}`, { token });
      expect(res.status).toBe(403);
      expect(res.body).toEqual(FORBIDDEN);
    });

    it('401 NOT_AUTHORIZED for a request without a token, and the invitation stays', async () => {
      const id = await create({ email: email('anon-delete') });
      const res = await s.call('DELETE', `/v1/userInvitations/${id}`, { token: null });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NOT_AUTHORIZED);
      expect((await s.call('GET', `/v1/userInvitations/${id}`)).status).toBe(200);
    });

    it('415 for a DELETE whose body is not JSON (A5), and the invitation stays', async () => {
      const id = await create({ email: email('delete-415') });
      const res = await s.call('DELETE', `/v1/userInvitations/${id}`, { rawBody: 'cancel', headers: { 'content-type': 'text/plain' } });
      expect(res.status).toBe(415);
      expect(res.body).toEqual(errorBody(unsupportedMediaType('text/plain')));
      expect((await s.call('GET', `/v1/userInvitations/${id}`)).status).toBe(200);
    });
  });

  describe('accepted (A6)', () => {
    it('410 GONE saying it was accepted, for GET and DELETE', async () => {
      const id = randomUUID();
      await s.db.kysely.insertInto('invitation_tombstones').values({ id, outcome: 'accepted', at: s.clock.now().toISOString() }).execute();
      const read = await s.call('GET', `/v1/userInvitations/${id}`);
      expect(read.status).toBe(410);
      expect(read.body).toEqual(invitationGone(`The invitation '${id}' was accepted`));
      expect(read.body.errors[0].detail).toMatch(/accepted/);

      const del = await s.call('DELETE', `/v1/userInvitations/${id}`);
      expect(del.status).toBe(410);
      expect(del.body).toEqual(invitationGone(`The invitation '${id}' was accepted`));
    });

    it('after a real acceptance: 410 by id, and the email is taken by the new user', async () => {
      const address = email('accept');
      const id = await create({ email: address });
      const mail = await s.db.kysely
        .selectFrom('mail_outbox')
        .select('activation_link')
        .where('invitation_id', '=', id)
        .executeTakeFirstOrThrow();
      const token = mail.activation_link!.split('/activate/')[1]!;
      const accepted = await s.services.activation.accept(token);
      expect(accepted.state).toBe('accepted');

      const read = await s.call('GET', `/v1/userInvitations/${id}`);
      expect(read.status).toBe(410);
      expect(read.body).toEqual(invitationGone(`The invitation '${id}' was accepted`));
      const del = await s.call('DELETE', `/v1/userInvitations/${id}`);
      expect(del.status).toBe(410);
      expect(del.body).toEqual(invitationGone(`The invitation '${id}' was accepted`));

      const upper = address.toUpperCase();
      const again = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: upper }) });
      expect(again.status).toBe(409);
      expect(again.body).toEqual(errorBody(duplicateEmail(upper)));
    });

    it('410 for a key without ADMIN reading an accepted invitation', async () => {
      const id = randomUUID();
      await s.db.kysely.insertInto('invitation_tombstones').values({ id, outcome: 'accepted', at: s.clock.now().toISOString() }).execute();
      const { token } = await s.keyWithRole('SALES');
      const res = await s.call('GET', `/v1/userInvitations/${id}`, { token });
      expect(res.status).toBe(410);
      expect(res.body).toEqual(invitationGone(`The invitation '${id}' was accepted`));
    });
  });
});

/**
 * Expiry moves the server's clock, so it runs on a server of its own. Tokens are minted at the
 * moment of each request, since a token lives only 20 minutes of that clock.
 */
describe('expiry of /v1/userInvitations/{id} (A6, A9, A13)', () => {
  const s = useTestServer();
  let admin: { keyId: string; privateKeyPem: string };
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@expiry.example.com`;

  beforeAll(async () => {
    admin = await s.keyWithRole('ADMIN');
  });

  const adminToken = () => s.token({ privateKeyPem: admin.privateKeyPem, keyId: admin.keyId, issuerId: s.issuerId });
  const call = async (method: string, path: string, body?: unknown) =>
    s.call(method, path, { token: await adminToken(), ...(body === undefined ? {} : { body }) });

  it('is pending until exactly 72 hours after creation, then 410 GONE saying it expired', async () => {
    const address = email('expire');
    const createdAt = s.clock.now().getTime();
    const created = await call('POST', '/v1/userInvitations', invitationBody({ email: address }));
    expect(created.status).toBe(201);
    const id = created.body.data.id as string;
    expect(created.body.data.attributes.expirationDate).toBe(appleDate(createdAt + LIFETIME));

    s.clock.advance(LIFETIME - 1);
    const pending = await call('GET', `/v1/userInvitations/${id}`);
    expect(pending.status).toBe(200);
    expect(pending.body).toEqual({
      data: resource(id, { email: address, createdAt, allAppsVisible: true, provisioningAllowed: false }),
      links: { self: `${PUBLIC_URL}/v1/userInvitations/${id}` },
    });

    s.clock.advance(1);
    const read = await call('GET', `/v1/userInvitations/${id}`);
    expect(read.status).toBe(410);
    expect(read.body).toEqual(invitationGone(`The invitation '${id}' has expired`));

    const del = await call('DELETE', `/v1/userInvitations/${id}`);
    expect(del.status).toBe(410);
    expect(del.body).toEqual(invitationGone(`The invitation '${id}' has expired`));

    const list = await call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
    expect(list.status).toBe(200);
    expect(list.body.data).toEqual([]);
  });

  it('after expiry the same email can be invited again, and the old id still answers 410', async () => {
    const address = email('again');
    const first = await call('POST', '/v1/userInvitations', invitationBody({ email: address }));
    expect(first.status).toBe(201);
    const oldId = first.body.data.id as string;

    const early = await call('POST', '/v1/userInvitations', invitationBody({ email: address }));
    expect(early.status).toBe(409);
    expect(early.body.errors.map((e: { code: string }) => e.code)).toEqual(['ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE']);

    s.clock.advance(72 * HOUR);
    const renewedAt = s.clock.now().getTime();
    const again = await call('POST', '/v1/userInvitations', invitationBody({ email: address, firstName: 'Janet' }));
    expect(again.status).toBe(201);
    const newId = again.body.data.id as string;
    expect(newId).not.toBe(oldId);
    expect(again.body.data).toEqual(
      resource(newId, { email: address, firstName: 'Janet', createdAt: renewedAt, allAppsVisible: true, provisioningAllowed: false }),
    );

    const old = await call('GET', `/v1/userInvitations/${oldId}`);
    expect(old.status).toBe(410);
    expect(old.body).toEqual(invitationGone(`The invitation '${oldId}' has expired`));
    const fresh = await call('GET', `/v1/userInvitations/${newId}`);
    expect(fresh.status).toBe(200);
    const list = await call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
    expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([newId]);
  });

  it('410 for an id whose tombstone says it expired', async () => {
    const id = randomUUID();
    await s.db.kysely.insertInto('invitation_tombstones').values({ id, outcome: 'expired', at: s.clock.now().toISOString() }).execute();
    const res = await call('GET', `/v1/userInvitations/${id}`);
    expect(res.status).toBe(410);
    expect(res.body).toEqual(invitationGone(`The invitation '${id}' has expired`));
  });
});
