/**
 * POST /v1/userInvitations over a real socket on a real SQLite file: request shape (docs/behavior.md A3,
 * A5), required and unknown members (A8), email (A9), names (A10), roles (A11), app visibility
 * (A12), dates and ids (A13), the 201 response (A14), the error envelope (A7) and who may write (A2).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import {
  ALL_APPS_DETAIL,
  apiError,
  duplicateEmail,
  entityError,
  errorBody,
  forbidden,
  NOT_AUTHORIZED,
  required,
  unprocessable,
  unsupportedMediaType,
  UUID,
} from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps } from '../helpers/harness.js';
import { invitationResource, type ExpectedInvitation } from '../helpers/resources.js';

/** The server's clock stands still here (note the milliseconds), so every expirationDate is known. */
const NOW = Date.parse('2026-11-26T10:22:31.123Z');
const EXPIRES = '2026-11-29T10:22:31.123+00:00';

const LIMITED_DETAIL = "A user with these roles or with provisioning access can't have app access limited";
const BASE_ROLES_DETAIL =
  'At least one of the roles ADMIN, FINANCE, APP_MANAGER, DEVELOPER, MARKETING, SALES, CUSTOMER_SUPPORT is required';

const entityInvalid = (detail: string) => apiError('ENTITY_INVALID', detail);
const invalid = (name: string, detail: string) => entityError('ATTRIBUTE.INVALID', detail, `/data/attributes/${name}`);
const relationshipInvalid = (pointer: string, detail: string) => entityError('RELATIONSHIP.INVALID', detail, pointer);
const unknownAttribute = (name: string) =>
  entityError('ATTRIBUTE.UNKNOWN', `'${name}' is not an attribute on the resource 'userInvitations'`, `/data/attributes/${name}`);
const notAllowed = (name: string) =>
  entityError('ATTRIBUTE.NOT_ALLOWED', `The attribute '${name}' can not be included in a 'CREATE' request`, `/data/attributes/${name}`);
const unknownRelationship = (name: string) =>
  entityError('RELATIONSHIP.UNKNOWN', `'${name}' is not a relationship on the resource 'userInvitations'`, `/data/relationships/${name}`);
const unknownApp = (id: string, index: number) =>
  relationshipInvalid(
    `/data/relationships/visibleApps/data/${index}`,
    `'${id}' is not a valid ID for this relationship. There is no app with this id.`,
  );

/** A whole UserInvitation resource as POST and GET render it (without include). */
const resource = (id: string, e: Omit<ExpectedInvitation, 'expirationDate'>) => invitationResource(id, { ...e, expirationDate: EXPIRES });

describe('POST /v1/userInvitations', () => {
  const s = useTestServer({ clock: new ManualClock(NOW) });
  let appA: string;
  let appB: string;
  let seq = 0;
  /** A distinct address for every test. */
  const email = (tag: string) => `${tag}.${++seq}@create.example.com`;

  beforeAll(async () => {
    appA = await s.createApp('Alpha');
    appB = await s.createApp('Beta');
  });

  const post = (body: unknown, headers?: Record<string, string>) =>
    s.call('POST', '/v1/userInvitations', { body, ...(headers ? { headers } : {}) });
  const postRaw = (rawBody: string | undefined, contentType?: string) =>
    s.call('POST', '/v1/userInvitations', {
      ...(rawBody === undefined ? {} : { rawBody }),
      ...(contentType === undefined ? {} : { headers: { 'content-type': contentType } }),
    });

  /** Posts a body that must be refused, and checks nothing with that email was stored. */
  async function refused(body: ReturnType<typeof invitationBody>) {
    const res = await post(body);
    const address = body.data.attributes.email;
    if (typeof address === 'string' && address.length < 200) {
      const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
      expect(list.body.data).toEqual([]);
    }
    return res;
  }

  describe('success (A13, A14)', () => {
    it('answers 201 with Location, the whole resource, links.self, a UUID id and expirationDate 72 hours on', async () => {
      const address = email('jane');
      const res = await post(invitationBody({ email: address }));
      expect(res.status).toBe(201);
      const id = res.body.data.id as string;
      expect(id).toMatch(UUID);
      expect(res.headers.get('location')).toBe(`${PUBLIC_URL}/v1/userInvitations/${id}`);
      expect(res.body).toEqual({
        data: resource(id, { email: address, allAppsVisible: true, provisioningAllowed: false }),
        links: { self: `${PUBLIC_URL}/v1/userInvitations/${id}` },
      });

      const read = await s.call('GET', `/v1/userInvitations/${id}`);
      expect(read.status).toBe(200);
      expect(read.body).toEqual({
        data: resource(id, { email: address, allAppsVisible: true, provisioningAllowed: false }),
        links: { self: `${PUBLIC_URL}/v1/userInvitations/${id}` },
      });
    });

    it('gives every invitation its own id', async () => {
      const one = await post(invitationBody({ email: email('one') }));
      const two = await post(invitationBody({ email: email('two') }));
      expect([one.status, two.status]).toEqual([201, 201]);
      expect(one.body.data.id).toMatch(UUID);
      expect(two.body.data.id).toMatch(UUID);
      expect(one.body.data.id).not.toBe(two.body.data.id);
    });

    it('gives time-ordered ids (UUID version 7): a later invitation sorts after an earlier one', async () => {
      const ids: string[] = [];
      for (const name of ['first', 'second', 'third']) {
        const r = await post(invitationBody({ email: email(`ordered-${name}`) }));
        expect(r.status).toBe(201);
        ids.push(r.body.data.id as string);
      }
      for (const id of ids) expect(id[14], id).toBe('7'); // the version digit
      expect([...ids].sort()).toEqual(ids);
    });

    it('accepts application/json with a charset parameter', async () => {
      const address = email('charset');
      const res = await post(invitationBody({ email: address }), { 'content-type': 'application/json; charset=utf-8' });
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(resource(res.body.data.id, { email: address, allAppsVisible: true, provisioningAllowed: false }));
    });

    it('keeps the email as given and trims the names (A9, A10)', async () => {
      const address = `Mixed.Case.${++seq}@Create.Example.COM`;
      const res = await post(invitationBody({ email: address, firstName: '  Jane ', lastName: '\tAppleseed  ' }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(resource(res.body.data.id, { email: address, allAppsVisible: true, provisioningAllowed: false }));
    });

    it('accepts names of exactly 100 characters after trimming, counted in characters not UTF-16 units', async () => {
      const long = 'n'.repeat(100);
      const emoji = '😀'.repeat(100);
      const address = email('names100');
      const res = await post(invitationBody({ email: address, firstName: ` ${long} `, lastName: emoji }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, firstName: long, lastName: emoji, allAppsVisible: true, provisioningAllowed: false }),
      );
    });

    it('accepts an email of exactly 254 characters', async () => {
      const address = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(57)}.com`;
      expect(address).toHaveLength(254);
      const res = await post(invitationBody({ email: address }));
      expect(res.status).toBe(201);
      expect(res.body.data.attributes.email).toBe(address);
    });

    it('ADMIN: sees all apps and gets provisioning by default (A12)', async () => {
      const address = email('admin');
      const res = await post(invitationBody({ email: address, roles: ['ADMIN'] }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, roles: ['ADMIN'], allAppsVisible: true, provisioningAllowed: true }),
      );
    });

    it('ADMIN may opt out of provisioning and still sees all apps', async () => {
      const address = email('admin-noprov');
      const res = await post(invitationBody({ email: address, roles: ['ADMIN'], provisioningAllowed: false, allAppsVisible: true }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, roles: ['ADMIN'], allAppsVisible: true, provisioningAllowed: false }),
      );
    });

    it('FINANCE sees all apps without provisioning', async () => {
      const address = email('finance');
      const res = await post(invitationBody({ email: address, roles: ['FINANCE'] }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, roles: ['FINANCE'], allAppsVisible: true, provisioningAllowed: false }),
      );
    });

    it('ACCESS_TO_REPORTS with MARKETING sees all apps, roles kept in the order given', async () => {
      const address = email('reports');
      const roles = ['ACCESS_TO_REPORTS', 'MARKETING'];
      const res = await post(invitationBody({ email: address, roles }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, roles, allAppsVisible: true, provisioningAllowed: false }),
      );
    });

    it('provisioningAllowed: true makes a DEVELOPER see all apps', async () => {
      const address = email('dev-prov');
      const res = await post(invitationBody({ email: address, provisioningAllowed: true }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(resource(res.body.data.id, { email: address, allAppsVisible: true, provisioningAllowed: true }));
    });

    it('null flags and an empty visibleApps.data mean "not given", as fastlane sends them (A12)', async () => {
      const address = email('fastlane');
      const res = await post(
        invitationBody({ email: address, allAppsVisible: null, provisioningAllowed: null }, { visibleApps: { data: [] } }),
      );
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(resource(res.body.data.id, { email: address, allAppsVisible: true, provisioningAllowed: false }));

      const admin = email('fastlane-admin');
      const res2 = await post(
        invitationBody({ email: admin, roles: ['ADMIN'], allAppsVisible: null, provisioningAllowed: null }, { visibleApps: { data: [] } }),
      );
      expect(res2.status).toBe(201);
      expect(res2.body.data).toEqual(
        resource(res2.body.data.id, { email: admin, roles: ['ADMIN'], allAppsVisible: true, provisioningAllowed: true }),
      );
    });

    it('visibleApps limit a DEVELOPER: allAppsVisible defaults to false and the apps are stored', async () => {
      const address = email('limited');
      const res = await post(invitationBody({ email: address }, visibleApps(appB, appA)));
      expect(res.status).toBe(201);
      const id = res.body.data.id as string;
      expect(res.body.data).toEqual(resource(id, { email: address, allAppsVisible: false, provisioningAllowed: false }));

      const linkage = await s.call('GET', `/v1/userInvitations/${id}/relationships/visibleApps`);
      expect(linkage.status).toBe(200);
      expect(linkage.body).toEqual({
        data: [appA, appB].sort().map((app) => ({ type: 'apps', id: app })),
        links: { self: `${PUBLIC_URL}/v1/userInvitations/${id}/relationships/visibleApps` },
        meta: { paging: { total: 2, limit: 20 } },
      });
    });

    it('visibleApps with allAppsVisible: false explicitly', async () => {
      const address = email('limited-explicit');
      const res = await post(invitationBody({ email: address, roles: ['APP_MANAGER'], allAppsVisible: false }, visibleApps(appA)));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, roles: ['APP_MANAGER'], allAppsVisible: false, provisioningAllowed: false }),
      );
    });

    it('allAppsVisible: false without visibleApps is kept for a limited role', async () => {
      const address = email('no-apps');
      const res = await post(invitationBody({ email: address, roles: ['CUSTOMER_SUPPORT'], allAppsVisible: false }));
      expect(res.status).toBe(201);
      expect(res.body.data).toEqual(
        resource(res.body.data.id, { email: address, roles: ['CUSTOMER_SUPPORT'], allAppsVisible: false, provisioningAllowed: false }),
      );
    });

    it('add-ons with a base role they fit (A11)', async () => {
      const cases: Array<{
        roles: string[];
        provisioningAllowed?: boolean;
        expected: { allAppsVisible: boolean; provisioningAllowed: boolean };
      }> = [
        {
          roles: ['CUSTOMER_SUPPORT', 'CREATE_APPS', 'GENERATE_INDIVIDUAL_KEYS'],
          expected: { allAppsVisible: true, provisioningAllowed: false },
        },
        { roles: ['SALES', 'ACCESS_TO_REPORTS'], expected: { allAppsVisible: true, provisioningAllowed: false } },
        { roles: ['APP_MANAGER', 'ACCESS_TO_REPORTS'], expected: { allAppsVisible: true, provisioningAllowed: false } },
        { roles: ['DEVELOPER', 'ACCESS_TO_REPORTS'], expected: { allAppsVisible: true, provisioningAllowed: false } },
        {
          roles: ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
          provisioningAllowed: true,
          expected: { allAppsVisible: true, provisioningAllowed: true },
        },
        {
          roles: ['APP_MANAGER', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
          provisioningAllowed: true,
          expected: { allAppsVisible: true, provisioningAllowed: true },
        },
        { roles: ['ADMIN', 'CLOUD_MANAGED_APP_DISTRIBUTION'], expected: { allAppsVisible: true, provisioningAllowed: true } },
        { roles: ['ADMIN', 'CLOUD_MANAGED_DEVELOPER_ID'], expected: { allAppsVisible: true, provisioningAllowed: true } },
      ];
      for (const c of cases) {
        const address = email('addon');
        const attrs = {
          email: address,
          roles: c.roles,
          ...(c.provisioningAllowed === undefined ? {} : { provisioningAllowed: c.provisioningAllowed }),
        };
        const res = await post(invitationBody(attrs));
        expect(res.status, c.roles.join('+')).toBe(201);
        expect(res.body.data).toEqual(resource(res.body.data.id, { email: address, roles: c.roles, ...c.expected }));
      }
    });
  });

  describe('request shape (A3, A5)', () => {
    it('400 ENTITY_INVALID for a body that is not JSON', async () => {
      const res = await postRaw('{"data": {', 'application/json');
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [entityInvalid('The request body is not valid JSON')] });
    });

    it('400 ENTITY_INVALID for an empty or blank JSON body', async () => {
      for (const raw of ['', '   \n']) {
        const res = await postRaw(raw, 'application/json');
        expect(res.status, JSON.stringify(raw)).toBe(400);
        expect(res.body).toEqual({ errors: [entityInvalid('The request body is empty; it must be a JSON document')] });
      }
    });

    it('400 ENTITY_INVALID for a POST with no body at all', async () => {
      const res = await postRaw(undefined);
      expect(res.status).toBe(400);
      expect(res.body).toEqual({ errors: [entityInvalid('The request body is empty; it must be a JSON document')] });
    });

    it('415 for a Content-Type that is not JSON, even when the body is', async () => {
      const res = await postRaw(JSON.stringify(invitationBody({ email: email('text') })), 'text/plain');
      expect(res.status).toBe(415);
      expect(res.body).toEqual({ errors: [unsupportedMediaType('text/plain')] });
      const form = await postRaw('a=b', 'application/x-www-form-urlencoded');
      expect(form.status).toBe(415);
      expect(form.body.errors).toEqual([unsupportedMediaType('application/x-www-form-urlencoded')]);
    });

    it('422 with pointer "" when the body is not an object', async () => {
      for (const raw of ['[]', '"data"', '42', 'null', 'true']) {
        const res = await postRaw(raw, 'application/json');
        expect(res.status, raw).toBe(422);
        expect(res.body).toEqual({ errors: [unprocessable("The request entity must be a JSON object with a 'data' member", '')] });
      }
    });

    it('422 at /data when there is no data object', async () => {
      for (const body of [{}, { data: null }, { data: [] }, { data: 'userInvitations' }, { Data: invitationBody().data }]) {
        const res = await post(body);
        expect(res.status, JSON.stringify(body)).toBe(422);
        expect(res.body).toEqual({ errors: [unprocessable("The request entity must have a 'data' object", '/data')] });
      }
    });

    it('422 at /data/type for a missing or wrong type', async () => {
      const missing = invitationBody({ email: email('notype') }) as { data: Record<string, unknown> };
      delete missing.data.type;
      const res = await post(missing);
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ errors: [unprocessable("The resource object must have the type 'userInvitations'", '/data/type')] });

      const wrong = invitationBody({ email: email('wrongtype') }) as { data: Record<string, unknown> };
      wrong.data.type = 'users';
      const res2 = await post(wrong);
      expect(res2.status).toBe(422);
      expect(res2.body).toEqual({
        errors: [unprocessable("The type 'users' is not valid here; it must be 'userInvitations'", '/data/type')],
      });
    });

    it('422 at /data/id for an id in a create', async () => {
      const body = invitationBody({ email: email('withid') }) as { data: Record<string, unknown> };
      body.data.id = '6ed39e7e-4c71-4da3-9996-dbde8fb663e0';
      const res = await post(body);
      expect(res.status).toBe(422);
      expect(res.body).toEqual({ errors: [unprocessable('The resource object of a create request must not have an id', '/data/id')] });
    });

    it('422 at /data/attributes when attributes are missing or not an object', async () => {
      for (const attributes of [undefined, null, ['email'], 'email']) {
        const body = { data: { type: 'userInvitations', ...(attributes === undefined ? {} : { attributes }) } };
        const res = await post(body);
        expect(res.status, JSON.stringify(attributes)).toBe(422);
        expect(res.body).toEqual({ errors: [unprocessable("The resource object must have an 'attributes' object", '/data/attributes')] });
      }
    });

    it('422 at /data/relationships when relationships are not an object', async () => {
      for (const relationships of [null, [], 'visibleApps']) {
        const body = invitationBody({ email: email('rels') }) as { data: Record<string, unknown> };
        body.data.relationships = relationships;
        const res = await post(body);
        expect(res.status, JSON.stringify(relationships)).toBe(422);
        expect(res.body).toEqual({ errors: [unprocessable("'relationships' must be an object", '/data/relationships')] });
      }
    });

    it('reports every shape problem of the resource object in one 422', async () => {
      const res = await post({ data: { type: 'users', id: 'x', attributes: [], relationships: 1 } });
      expect(res.status).toBe(422);
      expect(res.body).toEqual({
        errors: [
          unprocessable("The type 'users' is not valid here; it must be 'userInvitations'", '/data/type'),
          unprocessable('The resource object of a create request must not have an id', '/data/id'),
          unprocessable("The resource object must have an 'attributes' object", '/data/attributes'),
          unprocessable("'relationships' must be an object", '/data/relationships'),
        ],
      });
    });

    it('422 for a malformed visibleApps linkage, pointing at the offending member', async () => {
      const cases: Array<[unknown, Array<[string, string]>]> = [
        [null, [["The relationship must be an object with a 'data' array", '/data/relationships/visibleApps']]],
        [[{ type: 'apps', id: appA }], [["The relationship must be an object with a 'data' array", '/data/relationships/visibleApps']]],
        [
          { data: { type: 'apps', id: appA } },
          [["'data' must be an array of resource identifiers", '/data/relationships/visibleApps/data']],
        ],
        [{ data: appA }, [["'data' must be an array of resource identifiers", '/data/relationships/visibleApps/data']]],
        [{ data: [appA] }, [["A resource identifier must be an object with 'type' and 'id'", '/data/relationships/visibleApps/data/0']]],
        [{ data: [{ type: 'users', id: appA }] }, [["The type must be 'apps'", '/data/relationships/visibleApps/data/0/type']]],
        [
          { data: [{ type: 'apps', id: appA }, { type: 'apps' }, { type: 'apps', id: 7 }, { id: appB }] },
          [
            ['The id must be a non-empty string', '/data/relationships/visibleApps/data/1/id'],
            ['The id must be a non-empty string', '/data/relationships/visibleApps/data/2/id'],
            ["The type must be 'apps'", '/data/relationships/visibleApps/data/3/type'],
          ],
        ],
        [{ data: [{ type: 'apps', id: '' }] }, [['The id must be a non-empty string', '/data/relationships/visibleApps/data/0/id']]],
      ];
      for (const [linkage, expected] of cases) {
        const res = await refused(invitationBody({ email: email('linkage') }, { visibleApps: linkage }));
        expect(res.status, JSON.stringify(linkage)).toBe(422);
        expect(res.body).toEqual({ errors: expected.map(([detail, pointer]) => unprocessable(detail, pointer)) });
      }
    });
  });

  describe('required, unknown and read-only members (A8)', () => {
    it('409 REQUIRED for each missing attribute, all in one response', async () => {
      const res = await post({ data: { type: 'userInvitations', attributes: {} } });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [required('email'), required('firstName'), required('lastName'), required('roles')] });
    });

    it('409 REQUIRED for null values, with the exact wording and pointer', async () => {
      const res = await refused(invitationBody({ email: email('nullname'), firstName: null }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [required('firstName')] });

      const res2 = await post(invitationBody({ email: null, lastName: null, roles: null }));
      expect(res2.status).toBe(409);
      expect(res2.body).toEqual({ errors: [required('email'), required('lastName'), required('roles')] });
    });

    it('409 REQUIRED for names that are empty after trimming', async () => {
      const res = await refused(invitationBody({ email: email('blank'), firstName: '', lastName: '  \t ' }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [required('firstName'), required('lastName')] });
    });

    it('409 ATTRIBUTE.UNKNOWN for an attribute the resource does not have', async () => {
      const res = await refused(invitationBody({ email: email('unknown'), nickname: 'JJ' }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [unknownAttribute('nickname')] });
    });

    it('409 ATTRIBUTE.NOT_ALLOWED for expirationDate', async () => {
      const res = await refused(invitationBody({ email: email('expiry'), expirationDate: '2030-01-01T00:00:00.000+00:00' }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [notAllowed('expirationDate')] });
    });

    it('409 RELATIONSHIP.UNKNOWN for a relationship the resource does not have', async () => {
      const res = await refused(invitationBody({ email: email('unknownrel') }, { apps: { data: [{ type: 'apps', id: appA }] } }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [unknownRelationship('apps')] });
    });

    it('reports unknown, read-only, missing and invalid members together in one 409', async () => {
      const res = await post({
        data: {
          type: 'userInvitations',
          attributes: { email: 'not-an-address', nickname: 'JJ', expirationDate: null, lastName: 'x'.repeat(101), roles: ['SUPERUSER'] },
          relationships: { apps: { data: [] } },
        },
      });
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [
          unknownAttribute('nickname'),
          notAllowed('expirationDate'),
          unknownRelationship('apps'),
          required('firstName'),
          invalid('email', "'not-an-address' is not a valid email address"),
          invalid('lastName', "'lastName' must not be longer than 100 characters"),
          invalid('roles', "'SUPERUSER' is not a valid role"),
        ],
      });
    });
  });

  describe('email (A9)', () => {
    it('409 INVALID for addresses that are not valid', async () => {
      for (const address of ['not-an-email', 'jane@', '@example.com', 'jane@@example.com', 'jane doe@example.com', ' jane@example.com']) {
        const res = await refused(invitationBody({ email: address }));
        expect(res.status, address).toBe(409);
        expect(res.body).toEqual({ errors: [invalid('email', `'${address}' is not a valid email address`)] });
      }
    });

    it('409 INVALID for an email that is not a string', async () => {
      const res = await post(invitationBody({ email: 42 }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [invalid('email', "'42' is not a valid email address")] });
      const res2 = await post(invitationBody({ email: ['a@example.com'] }));
      expect(res2.status).toBe(409);
      expect(res2.body).toEqual({ errors: [invalid('email', '\'["a@example.com"]\' is not a valid email address')] });
    });

    it('409 INVALID for an email longer than 254 characters', async () => {
      const address = `${'a'.repeat(64)}@${'b'.repeat(63)}.${'c'.repeat(63)}.${'d'.repeat(58)}.com`;
      expect(address).toHaveLength(255);
      const res = await refused(invitationBody({ email: address }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [invalid('email', `'${address}' is not a valid email address`)] });
    });

    it('409 DUPLICATE for an email that has a pending invitation, compared case-insensitively', async () => {
      const first = await post(invitationBody({ email: 'dup.case@create.example.com' }));
      expect(first.status).toBe(201);
      for (const again of ['dup.case@create.example.com', 'DUP.Case@Create.Example.COM']) {
        const res = await post(invitationBody({ email: again, firstName: 'Other', roles: ['MARKETING'] }));
        expect(res.status, again).toBe(409);
        expect(res.body).toEqual({ errors: [duplicateEmail(again)] });
      }
      const list = await s.call('GET', '/v1/userInvitations?filter[email]=dup.case@create.example.com');
      expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([first.body.data.id]);
      expect(list.body.data[0].attributes.email).toBe('dup.case@create.example.com');
    });

    it('of two concurrent creates with one email, exactly one wins', async () => {
      const address = email('race');
      const results = await Promise.all([
        post(invitationBody({ email: address })),
        post(invitationBody({ email: address.toUpperCase() })),
        post(invitationBody({ email: address })),
      ]);
      expect(results.map((r) => r.status).sort()).toEqual([201, 409, 409]);
      const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
      expect(list.body.meta.paging.total).toBe(1);
    });

    it('reports a duplicate email together with the other problems of the request', async () => {
      const address = email('dup-more');
      expect((await post(invitationBody({ email: address }))).status).toBe(201);
      const res = await post(invitationBody({ email: address, firstName: 'Ja\u0007ne' }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [invalid('firstName', "'firstName' must not contain control characters"), duplicateEmail(address)],
      });
    });
  });

  describe('names (A10)', () => {
    it('409 INVALID for a name over 100 characters after trimming', async () => {
      const res = await refused(invitationBody({ email: email('long'), firstName: ` ${'f'.repeat(101)} `, lastName: '😀'.repeat(101) }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [
          invalid('firstName', "'firstName' must not be longer than 100 characters"),
          invalid('lastName', "'lastName' must not be longer than 100 characters"),
        ],
      });
    });

    it('409 INVALID for control characters inside a name', async () => {
      for (const name of ['Ja\u0000ne', 'Ja\tne', 'Ja\nne', 'Ja\u007fne', 'Ja\u0085ne', 'Ja\u2028ne']) {
        const res = await refused(invitationBody({ email: email('ctrl'), lastName: name }));
        expect(res.status, JSON.stringify(name)).toBe(409);
        expect(res.body).toEqual({ errors: [invalid('lastName', "'lastName' must not contain control characters")] });
      }
    });

    it('409 INVALID for a name that is not a string', async () => {
      const res = await refused(invitationBody({ email: email('numname'), firstName: 42, lastName: { text: 'x' } }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [invalid('firstName', "'firstName' must be a string"), invalid('lastName', "'lastName' must be a string")],
      });
    });
  });

  describe('roles (A11)', () => {
    const cases: Array<[string, unknown, Record<string, unknown>, string[]]> = [
      ['empty', [], {}, ['At least one role is required']],
      ['not an array', 'DEVELOPER', {}, ["'roles' must be an array of UserRole values"]],
      ['an object', { DEVELOPER: true }, {}, ["'roles' must be an array of UserRole values"]],
      ['a duplicate', ['DEVELOPER', 'MARKETING', 'DEVELOPER'], {}, ["The role 'DEVELOPER' is given more than once"]],
      ['an unknown value (409, not 422)', ['DEVELOPER', 'SUPERUSER'], {}, ["'SUPERUSER' is not a valid role"]],
      ['a lower-case value', ['developer'], {}, ["'developer' is not a valid role"]],
      ['a value that is not a string', ['DEVELOPER', 7], {}, ["'7' is not a valid role"]],
      ['two unknown values', ['X', 'Y'], {}, ["'X' is not a valid role", "'Y' is not a valid role"]],
      ['ACCOUNT_HOLDER', ['ACCOUNT_HOLDER'], {}, ['The ACCOUNT_HOLDER role can not be assigned']],
      ['ACCOUNT_HOLDER with ADMIN', ['ADMIN', 'ACCOUNT_HOLDER'], {}, ['The ACCOUNT_HOLDER role can not be assigned']],
      ['no base role', ['CREATE_APPS', 'GENERATE_INDIVIDUAL_KEYS'], {}, [BASE_ROLES_DETAIL]],
      ['ACCESS_TO_REPORTS alone', ['ACCESS_TO_REPORTS'], {}, [BASE_ROLES_DETAIL]],
      [
        'ACCESS_TO_REPORTS with FINANCE',
        ['FINANCE', 'ACCESS_TO_REPORTS'],
        {},
        ['ACCESS_TO_REPORTS can only be given with APP_MANAGER, DEVELOPER, MARKETING or SALES'],
      ],
      [
        'ACCESS_TO_REPORTS with CUSTOMER_SUPPORT',
        ['CUSTOMER_SUPPORT', 'ACCESS_TO_REPORTS'],
        {},
        ['ACCESS_TO_REPORTS can only be given with APP_MANAGER, DEVELOPER, MARKETING or SALES'],
      ],
      [
        'CLOUD_MANAGED_APP_DISTRIBUTION with MARKETING',
        ['MARKETING', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
        { provisioningAllowed: true },
        ['CLOUD_MANAGED_APP_DISTRIBUTION can only be given with ADMIN, APP_MANAGER or DEVELOPER'],
      ],
      [
        'CLOUD_MANAGED_APP_DISTRIBUTION without provisioning',
        ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
        {},
        ['CLOUD_MANAGED_APP_DISTRIBUTION requires access to Certificates, Identifiers & Profiles (provisioningAllowed)'],
      ],
      [
        'CLOUD_MANAGED_APP_DISTRIBUTION with provisioningAllowed: false',
        ['APP_MANAGER', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
        { provisioningAllowed: false },
        ['CLOUD_MANAGED_APP_DISTRIBUTION requires access to Certificates, Identifiers & Profiles (provisioningAllowed)'],
      ],
      [
        'CLOUD_MANAGED_DEVELOPER_ID with DEVELOPER',
        ['DEVELOPER', 'CLOUD_MANAGED_DEVELOPER_ID'],
        { provisioningAllowed: true },
        ['CLOUD_MANAGED_DEVELOPER_ID can only be given with ADMIN'],
      ],
      [
        'CLOUD_MANAGED_DEVELOPER_ID for an ADMIN without provisioning',
        ['ADMIN', 'CLOUD_MANAGED_DEVELOPER_ID'],
        { provisioningAllowed: false },
        ['CLOUD_MANAGED_DEVELOPER_ID requires access to Certificates, Identifiers & Profiles (provisioningAllowed)'],
      ],
      [
        'both CLOUD_MANAGED roles for an ADMIN without provisioning',
        ['ADMIN', 'CLOUD_MANAGED_APP_DISTRIBUTION', 'CLOUD_MANAGED_DEVELOPER_ID'],
        { provisioningAllowed: false },
        [
          'CLOUD_MANAGED_APP_DISTRIBUTION requires access to Certificates, Identifiers & Profiles (provisioningAllowed)',
          'CLOUD_MANAGED_DEVELOPER_ID requires access to Certificates, Identifiers & Profiles (provisioningAllowed)',
        ],
      ],
    ];
    for (const [name, roles, extra, details] of cases) {
      it(`409 INVALID on /data/attributes/roles: ${name}`, async () => {
        const res = await refused(invitationBody({ email: email('roles'), roles, ...extra }));
        expect(res.status).toBe(409);
        expect(res.body).toEqual({ errors: details.map((d) => invalid('roles', d)) });
      });
    }

    it('409 INVALID for flags that are not booleans', async () => {
      const res = await refused(invitationBody({ email: email('flags'), allAppsVisible: 'yes', provisioningAllowed: 1 }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [
          invalid('allAppsVisible', "'allAppsVisible' must be true, false or null"),
          invalid('provisioningAllowed', "'provisioningAllowed' must be true, false or null"),
        ],
      });
    });

    it('reports a role problem together with an email problem', async () => {
      const res = await post(invitationBody({ email: 'nobody', roles: ['ACCOUNT_HOLDER'] }));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [
          invalid('email', "'nobody' is not a valid email address"),
          invalid('roles', 'The ACCOUNT_HOLDER role can not be assigned'),
        ],
      });
    });
  });

  describe('app visibility (A12)', () => {
    const seesAll: Array<[string, Record<string, unknown>]> = [
      ['ADMIN', { roles: ['ADMIN'] }],
      ['FINANCE', { roles: ['FINANCE'] }],
      ['ACCESS_TO_REPORTS', { roles: ['SALES', 'ACCESS_TO_REPORTS'] }],
      ['provisioningAllowed: true', { roles: ['DEVELOPER'], provisioningAllowed: true }],
    ];
    for (const [who, attrs] of seesAll) {
      it(`${who}: allAppsVisible: false is refused`, async () => {
        const res = await refused(invitationBody({ email: email('limit'), ...attrs, allAppsVisible: false }));
        expect(res.status).toBe(409);
        expect(res.body).toEqual({ errors: [invalid('allAppsVisible', LIMITED_DETAIL)] });
      });

      it(`${who}: visibleApps are refused with Apple's wording`, async () => {
        const res = await refused(invitationBody({ email: email('apps'), ...attrs }, visibleApps(appA)));
        expect(res.status).toBe(409);
        expect(res.body).toEqual({ errors: [relationshipInvalid('/data/relationships/visibleApps', ALL_APPS_DETAIL)] });
      });

      it(`${who}: both errors at once when both are sent`, async () => {
        const res = await refused(invitationBody({ email: email('both'), ...attrs, allAppsVisible: false }, visibleApps(appA, appB)));
        expect(res.status).toBe(409);
        expect(res.body).toEqual({
          errors: [invalid('allAppsVisible', LIMITED_DETAIL), relationshipInvalid('/data/relationships/visibleApps', ALL_APPS_DETAIL)],
        });
      });
    }

    it('visibleApps with allAppsVisible: true is the same RELATIONSHIP.INVALID', async () => {
      const res = await refused(invitationBody({ email: email('true-apps'), allAppsVisible: true }, visibleApps(appA)));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [relationshipInvalid('/data/relationships/visibleApps', ALL_APPS_DETAIL)] });
    });

    it('an app id that does not exist: RELATIONSHIP.INVALID at its index', async () => {
      const res = await refused(invitationBody({ email: email('noapp') }, visibleApps(appA, '1000000000', appB, 'nope')));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({ errors: [unknownApp('1000000000', 1), unknownApp('nope', 3)] });
    });

    it('reports an unknown app id together with the other problems of the request', async () => {
      const res = await post(invitationBody({ email: 'broken', firstName: '' }, visibleApps('404')));
      expect(res.status).toBe(409);
      expect(res.body).toEqual({
        errors: [invalid('email', "'broken' is not a valid email address"), required('firstName'), unknownApp('404', 0)],
      });
    });
  });

  describe('authorization (A1, A2)', () => {
    it('403 FORBIDDEN_ERROR for a key without ADMIN, and nothing is created', async () => {
      for (const role of ['DEVELOPER', 'APP_MANAGER', 'FINANCE']) {
        const { token } = await s.keyWithRole(role);
        const address = email('forbidden');
        const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: address }), token });
        expect(res.status, role).toBe(403);
        expect(res.body).toEqual(errorBody(forbidden()));
        const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`);
        expect(list.body.data).toEqual([]);
      }
    });

    it('401 NOT_AUTHORIZED without an id when there is no token', async () => {
      const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: email('anon') }), token: null });
      expect(res.status).toBe(401);
      expect(res.body).toEqual(NOT_AUTHORIZED);
    });
  });
});
