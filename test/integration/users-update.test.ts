/**
 * Changing users: PATCH /v1/users/{id} (roles, allAppsVisible, provisioningAllowed, visibleApps;
 * what a request leaves out keeps its value; docs/behavior.md A3, A11, A12, B7.3), the writes of
 * …/relationships/visibleApps (B7.4), and the Account Holder, whom neither can change (B6.9).
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  ALL_APPS_DETAIL,
  apiError,
  duplicateEmail,
  entityError,
  forbidden,
  notFound,
  NOT_AUTHORIZED,
  unprocessable,
} from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps, type TestServer } from '../helpers/harness.js';
import { createUser } from '../helpers/users.js';

const USERS = `${PUBLIC_URL}/v1/users`;

interface Access {
  roles: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
}

function patchBody(id: string, attributes?: Record<string, unknown>, relationships?: Record<string, unknown>) {
  return { data: { type: 'users', id, ...(attributes ? { attributes } : {}), ...(relationships ? { relationships } : {}) } };
}

const linkage = (...ids: string[]) => ({ data: ids.map((id) => ({ type: 'apps', id })) });

/** Apps A, B and C, their ids in order. */
async function threeApps(s: TestServer): Promise<[string, string, string]> {
  return [await s.createApp('A'), await s.createApp('B'), await s.createApp('C')].sort() as [string, string, string];
}

describe('PATCH /v1/users/{id}', () => {
  const s = useTestServer();
  let appA = '';
  let appB = '';
  let appC = '';
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@update.example.com`;

  beforeAll(async () => {
    [appA, appB, appC] = await threeApps(s);
  });

  async function patch(id: string, attributes?: Record<string, unknown>, relationships?: Record<string, unknown>) {
    return s.call('PATCH', `/v1/users/${id}`, { body: patchBody(id, attributes, relationships) });
  }

  /** The user's access and visible apps as GET shows them. */
  async function state(id: string): Promise<Access & { apps: string[] }> {
    const r = await s.call('GET', `/v1/users/${id}?include=visibleApps&limit[visibleApps]=50`);
    expect(r.status, r.text).toBe(200);
    const { roles, allAppsVisible, provisioningAllowed } = r.body.data.attributes;
    const apps = (r.body.data.relationships.visibleApps.data as Array<{ id: string }>).map((d) => d.id);
    return { roles, allAppsVisible, provisioningAllowed, apps };
  }

  it('200 with the whole user and links.self; what is left out keeps its value', async () => {
    const address = email('whole');
    const id = await createUser(s, { email: address, firstName: 'Nia', lastName: 'Ode', roles: ['DEVELOPER'] }, visibleApps(appA, appB));
    const r = await patch(id, { roles: ['APP_MANAGER', 'CREATE_APPS'] });
    expect(r.status, r.text).toBe(200);
    const self = `${USERS}/${id}`;
    expect(r.body).toEqual({
      data: {
        type: 'users',
        id,
        attributes: {
          username: address,
          firstName: 'Nia',
          lastName: 'Ode',
          roles: ['APP_MANAGER', 'CREATE_APPS'],
          allAppsVisible: false,
          provisioningAllowed: false,
        },
        relationships: { visibleApps: { links: { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` } } },
        links: { self },
      },
      links: { self },
    });
    expect(await state(id)).toEqual({
      roles: ['APP_MANAGER', 'CREATE_APPS'],
      allAppsVisible: false,
      provisioningAllowed: false,
      apps: [appA, appB],
    });
    // the list and the filters see the new roles
    const byRole = await s.call('GET', '/v1/users?filter[roles]=CREATE_APPS');
    expect(byRole.body.data.map((d: { id: string }) => d.id)).toEqual([id]);
  });

  it('nulls, an empty visibleApps and no attributes at all change nothing (as fastlane sends them)', async () => {
    const id = await createUser(s, { email: email('nulls'), roles: ['MARKETING'] }, visibleApps(appC));
    const before = await state(id);
    for (const [attributes, relationships] of [
      [{ roles: null, allAppsVisible: null, provisioningAllowed: null }, { visibleApps: { data: [] } }],
      [{}, undefined],
      [undefined, { visibleApps: { data: null } }],
    ] as const) {
      const r = await patch(id, attributes, relationships);
      expect(r.status, r.text).toBe(200);
      expect(await state(id)).toEqual(before);
    }
    expect(before).toEqual({ roles: ['MARKETING'], allAppsVisible: false, provisioningAllowed: false, apps: [appC] });
  });

  it('roles that see all apps: allAppsVisible becomes true and the visible apps go; provisioning keeps its value', async () => {
    for (const roles of [['ADMIN'], ['FINANCE'], ['SALES', 'ACCESS_TO_REPORTS']]) {
      const id = await createUser(s, { email: email('all'), roles: ['DEVELOPER'] }, visibleApps(appA));
      const r = await patch(id, { roles });
      expect(r.status, r.text).toBe(200);
      expect(await state(id)).toEqual({ roles, allAppsVisible: true, provisioningAllowed: false, apps: [] });
      const related = await s.call('GET', `/v1/users/${id}/relationships/visibleApps`);
      expect(related.body.meta.paging.total).toBe(0);
    }
  });

  it('provisioningAllowed true: all apps too (A12)', async () => {
    const id = await createUser(s, { email: email('prov'), roles: ['DEVELOPER'] }, visibleApps(appA));
    expect((await patch(id, { provisioningAllowed: true })).status).toBe(200);
    expect(await state(id)).toEqual({ roles: ['DEVELOPER'], allAppsVisible: true, provisioningAllowed: true, apps: [] });
    // and back: provisioning off keeps all apps visible until someone limits them
    expect((await patch(id, { provisioningAllowed: false })).status).toBe(200);
    expect(await state(id)).toEqual({ roles: ['DEVELOPER'], allAppsVisible: true, provisioningAllowed: false, apps: [] });
  });

  it('visibleApps replace the apps and make allAppsVisible false; allAppsVisible true clears them', async () => {
    const id = await createUser(s, { email: email('apps'), roles: ['CUSTOMER_SUPPORT'] });
    expect(await state(id)).toEqual({ roles: ['CUSTOMER_SUPPORT'], allAppsVisible: true, provisioningAllowed: false, apps: [] });
    expect((await patch(id, undefined, visibleApps(appC, appA, appC))).status).toBe(200);
    expect(await state(id)).toEqual({ roles: ['CUSTOMER_SUPPORT'], allAppsVisible: false, provisioningAllowed: false, apps: [appA, appC] });
    expect((await patch(id, { allAppsVisible: false }, visibleApps(appB))).status).toBe(200);
    expect((await state(id)).apps).toEqual([appB]);
    expect((await patch(id, { allAppsVisible: true })).status).toBe(200);
    expect(await state(id)).toEqual({ roles: ['CUSTOMER_SUPPORT'], allAppsVisible: true, provisioningAllowed: false, apps: [] });
    // leaving the all-apps roles with apps given: limited to them
    const admin = await createUser(s, { email: email('ex-admin'), roles: ['ADMIN'] });
    expect((await patch(admin, { roles: ['DEVELOPER'], provisioningAllowed: false }, visibleApps(appB))).status).toBe(200);
    expect(await state(admin)).toEqual({ roles: ['DEVELOPER'], allAppsVisible: false, provisioningAllowed: false, apps: [appB] });
    // limited access with no app at all is the user's choice to make
    expect((await patch(id, { allAppsVisible: false })).status).toBe(200);
    expect(await state(id)).toEqual({ roles: ['CUSTOMER_SUPPORT'], allAppsVisible: false, provisioningAllowed: false, apps: [] });
  });

  describe('409 ENTITY_ERROR, every problem at once, and nothing changes', () => {
    it('allAppsVisible false or visibleApps for someone who sees all apps (A12)', async () => {
      const admin = await createUser(s, { email: email('admin'), roles: ['ADMIN'] });
      const limited = await createUser(s, { email: email('limited'), roles: ['DEVELOPER'] }, visibleApps(appB));
      const allApps = entityError(
        'ATTRIBUTE.INVALID',
        "A user with these roles or with provisioning access can't have app access limited",
        '/data/attributes/allAppsVisible',
      );
      const noApps = entityError('RELATIONSHIP.INVALID', ALL_APPS_DETAIL, '/data/relationships/visibleApps');
      const cases: Array<[string, Record<string, unknown> | undefined, Record<string, unknown> | undefined, unknown[]]> = [
        [admin, { allAppsVisible: false }, undefined, [allApps]],
        [admin, undefined, visibleApps(appA), [noApps]],
        [admin, { allAppsVisible: false }, visibleApps(appA), [allApps, noApps]],
        // becoming ADMIN while keeping apps limited
        [limited, { roles: ['ADMIN'], allAppsVisible: false }, undefined, [allApps]],
        [limited, { roles: ['FINANCE'] }, visibleApps(appA), [noApps]],
        [limited, { provisioningAllowed: true }, visibleApps(appA), [noApps]],
        // visible apps together with allAppsVisible true
        [limited, { allAppsVisible: true }, visibleApps(appA), [noApps]],
      ];
      for (const [id, attributes, relationships, expected] of cases) {
        const before = await state(id);
        const r = await patch(id, attributes, relationships);
        expect(r.status, JSON.stringify([attributes, relationships])).toBe(409);
        expect(r.body).toEqual({ errors: expected });
        expect(await state(id)).toEqual(before);
      }
    });

    it('names and username can not be changed; unknown attributes and relationships', async () => {
      const id = await createUser(s, { email: email('names') });
      const r = await patch(
        id,
        { firstName: 'X', lastName: 'Y', username: 'x@y.z', email: 'x@y.z', roles: ['SALES'] },
        { apps: linkage(appA) },
      );
      expect(r.status).toBe(409);
      expect(r.body).toEqual({
        errors: [
          entityError(
            'ATTRIBUTE.NOT_ALLOWED',
            "The attribute 'firstName' can not be included in a 'UPDATE' request",
            '/data/attributes/firstName',
          ),
          entityError(
            'ATTRIBUTE.NOT_ALLOWED',
            "The attribute 'lastName' can not be included in a 'UPDATE' request",
            '/data/attributes/lastName',
          ),
          entityError(
            'ATTRIBUTE.NOT_ALLOWED',
            "The attribute 'username' can not be included in a 'UPDATE' request",
            '/data/attributes/username',
          ),
          entityError('ATTRIBUTE.UNKNOWN', "'email' is not an attribute on the resource 'users'", '/data/attributes/email'),
          entityError('RELATIONSHIP.UNKNOWN', "'apps' is not a relationship on the resource 'users'", '/data/relationships/apps'),
        ],
      });
      expect((await state(id)).roles).toEqual(['DEVELOPER']);
    });

    it('roles as for invitations (A11): never ACCOUNT_HOLDER', async () => {
      const id = await createUser(s, { email: email('roles'), roles: ['DEVELOPER'] });
      const roles = (detail: string, pointer = '/data/attributes/roles') => entityError('ATTRIBUTE.INVALID', detail, pointer);
      const cases: Array<[Record<string, unknown>, unknown[]]> = [
        [{ roles: ['ACCOUNT_HOLDER', 'ADMIN'] }, [roles('The ACCOUNT_HOLDER role can not be assigned')]],
        [{ roles: [] }, [roles('At least one role is required')]],
        [{ roles: 'ADMIN' }, [roles("'roles' must be an array of UserRole values")]],
        [{ roles: ['OWNER'] }, [roles("'OWNER' is not a valid role")]],
        [
          { roles: ['CREATE_APPS'] },
          [roles('At least one of the roles ADMIN, FINANCE, APP_MANAGER, DEVELOPER, MARKETING, SALES, CUSTOMER_SUPPORT is required')],
        ],
        [
          { roles: ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'] },
          [roles('CLOUD_MANAGED_APP_DISTRIBUTION requires access to Certificates, Identifiers & Profiles (provisioningAllowed)')],
        ],
        [
          { allAppsVisible: 'yes', provisioningAllowed: 1 },
          [
            roles("'allAppsVisible' must be true, false or null", '/data/attributes/allAppsVisible'),
            roles("'provisioningAllowed' must be true, false or null", '/data/attributes/provisioningAllowed'),
          ],
        ],
      ];
      for (const [attributes, expected] of cases) {
        const r = await patch(id, attributes);
        expect(r.status, JSON.stringify(attributes)).toBe(409);
        expect(r.body).toEqual({ errors: expected });
      }
      expect(await state(id)).toEqual({ roles: ['DEVELOPER'], allAppsVisible: true, provisioningAllowed: false, apps: [] });
    });

    it('provisioning off for a role that needs it points at provisioningAllowed', async () => {
      const id = await createUser(s, {
        email: email('cloud'),
        roles: ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'],
        provisioningAllowed: true,
      });
      const r = await patch(id, { provisioningAllowed: false });
      expect(r.status).toBe(409);
      expect(r.body).toEqual({
        errors: [
          entityError(
            'ATTRIBUTE.INVALID',
            'CLOUD_MANAGED_APP_DISTRIBUTION requires access to Certificates, Identifiers & Profiles (provisioningAllowed)',
            '/data/attributes/provisioningAllowed',
          ),
        ],
      });
      // with roles that do not need it, it may go
      expect((await patch(id, { roles: ['DEVELOPER'], provisioningAllowed: false })).status).toBe(200);
    });

    it('an app id that names no app, at its index', async () => {
      const id = await createUser(s, { email: email('unknown-app'), roles: ['SALES'] }, visibleApps(appA));
      const r = await patch(id, undefined, visibleApps(appB, '999', 'com.example.x'));
      expect(r.status).toBe(409);
      expect(r.body).toEqual({
        errors: ['999', 'com.example.x'].map((bad, i) =>
          entityError(
            'RELATIONSHIP.INVALID',
            `'${bad}' is not a valid ID for this relationship. There is no app with this id.`,
            `/data/relationships/visibleApps/data/${i + 1}`,
          ),
        ),
      });
      expect((await state(id)).apps).toEqual([appA]);
    });
  });

  describe('422 for a document of the wrong shape (A3), before the id is looked up', () => {
    it('type, id (missing, or not the one in the URL), attributes, relationships and linkages', async () => {
      const id = await createUser(s, { email: email('shape') });
      const other = randomUUID();
      const cases: Array<[unknown, unknown[]]> = [
        [{}, [unprocessable("The request entity must have a 'data' object", '/data')]],
        [[], [unprocessable("The request entity must be a JSON object with a 'data' member", '')]],
        [
          { data: { type: 'userInvitations', id } },
          [unprocessable("The type 'userInvitations' is not valid here; it must be 'users'", '/data/type')],
        ],
        [{ data: { type: 'users' } }, [unprocessable('The resource object must have an id', '/data/id')]],
        [{ data: { type: 'users', id: other } }, [unprocessable(`The id '${other}' does not match the id '${id}' in the URL`, '/data/id')]],
        [
          { data: { type: 'users', id, attributes: [], relationships: 'x' } },
          [
            unprocessable("The resource object must have an 'attributes' object", '/data/attributes'),
            unprocessable("'relationships' must be an object", '/data/relationships'),
          ],
        ],
        [
          { data: { type: 'users', id, relationships: { visibleApps: [] } } },
          [unprocessable("The relationship must be an object with a 'data' array", '/data/relationships/visibleApps')],
        ],
        [
          { data: { type: 'users', id, relationships: { visibleApps: { data: [{ type: 'users', id: 'x' }, { type: 'apps' }] } } } },
          [
            unprocessable("The type must be 'apps'", '/data/relationships/visibleApps/data/0/type'),
            unprocessable('The id must be a non-empty string', '/data/relationships/visibleApps/data/1/id'),
          ],
        ],
      ];
      for (const [body, expected] of cases) {
        const r = await s.call('PATCH', `/v1/users/${id}`, { body });
        expect(r.status, JSON.stringify(body)).toBe(422);
        expect(r.body).toEqual({ errors: expected });
      }
      // a mismatching id is 422 even when neither id is a user
      const unknown = randomUUID();
      const r = await s.call('PATCH', `/v1/users/${unknown}`, { body: patchBody(randomUUID(), { roles: ['SALES'] }) });
      expect(r.status).toBe(422);
    });

    it('400 ENTITY_INVALID for a body that is not JSON', async () => {
      const id = await createUser(s, { email: email('json') });
      const r = await s.call('PATCH', `/v1/users/${id}`, { rawBody: '{"data":', headers: { 'content-type': 'application/json' } });
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ errors: [apiError('ENTITY_INVALID', 'The request body is not valid JSON')] });
    });
  });

  it('404 for an unknown user, even with problems a known one would have', async () => {
    const id = randomUUID();
    for (const attributes of [{ roles: ['SALES'] }, { firstName: 'X', roles: ['ACCOUNT_HOLDER'] }]) {
      const r = await patch(id, attributes);
      expect(r.status).toBe(404);
      expect(r.body).toEqual({ errors: [notFound('users', id)] });
    }
  });

  it('403 for keys without ADMIN, 401 without a token; nothing changes', async () => {
    const id = await createUser(s, { email: email('forbidden'), roles: ['DEVELOPER'] });
    for (const role of ['DEVELOPER', 'APP_MANAGER', 'FINANCE', 'SALES']) {
      const { token } = await s.keyWithRole(role);
      const r = await s.call('PATCH', `/v1/users/${id}`, { body: patchBody(id, { roles: ['ADMIN'] }), token });
      expect(r.status, role).toBe(403);
      expect(r.body).toEqual({ errors: [forbidden()] });
    }
    const r = await s.call('PATCH', `/v1/users/${id}`, { body: patchBody(id, { roles: ['ADMIN'] }), token: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(NOT_AUTHORIZED);
    expect((await state(id)).roles).toEqual(['DEVELOPER']);
  });
});

describe('POST, PATCH and DELETE /v1/users/{id}/relationships/visibleApps', () => {
  const s = useTestServer();
  let appA = '';
  let appB = '';
  let appC = '';
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@rel.example.com`;

  beforeAll(async () => {
    [appA, appB, appC] = await threeApps(s);
  });

  const rel = (id: string) => `/v1/users/${id}/relationships/visibleApps`;

  async function apps(id: string): Promise<string[]> {
    const r = await s.call('GET', rel(id));
    expect(r.status, r.text).toBe(200);
    return (r.body.data as Array<{ id: string }>).map((d) => d.id);
  }

  async function write(method: 'POST' | 'PATCH' | 'DELETE', id: string, body: unknown, token?: string | null) {
    return s.call(method, rel(id), { body, ...(token !== undefined ? { token } : {}) });
  }

  it('POST adds (ones already there and repeats are fine), PATCH replaces, DELETE removes: 204 each', async () => {
    const id = await createUser(s, { email: email('writes'), roles: ['DEVELOPER'] }, visibleApps(appA));
    const steps: Array<['POST' | 'PATCH' | 'DELETE', string[], string[]]> = [
      ['POST', [appC, appA, appC], [appA, appC]],
      ['DELETE', [appA, appB], [appC]],
      ['PATCH', [appB, appA], [appA, appB]],
      ['PATCH', [], []],
      ['POST', [appB], [appB]],
      ['DELETE', [], [appB]],
    ];
    for (const [method, given, after] of steps) {
      const r = await write(method, id, linkage(...given));
      expect(r.status, `${method} ${given.join(',')}: ${r.text}`).toBe(204);
      expect(r.text).toBe('');
      expect(await apps(id), `${method} ${given.join(',')}`).toEqual(after);
    }
    // the user's attributes stay as they were
    const user = await s.call('GET', `/v1/users/${id}`);
    expect(user.body.data.attributes).toMatchObject({ roles: ['DEVELOPER'], allAppsVisible: false, provisioningAllowed: false });
  });

  it('409 for apps given to someone who sees all apps (A12); empty lists and removals pass', async () => {
    const admin = await createUser(s, { email: email('admin'), roles: ['ADMIN'] });
    const everyApp = await createUser(s, { email: email('every'), roles: ['DEVELOPER'] });
    for (const id of [admin, everyApp]) {
      for (const method of ['POST', 'PATCH'] as const) {
        const r = await write(method, id, linkage(appA));
        expect(r.status, method).toBe(409);
        expect(r.body).toEqual({ errors: [entityError('RELATIONSHIP.INVALID', ALL_APPS_DETAIL, '/data')] });
      }
      expect((await write('PATCH', id, linkage())).status).toBe(204);
      expect((await write('DELETE', id, linkage(appA))).status).toBe(204);
      expect(await apps(id)).toEqual([]);
      expect((await s.call('GET', `/v1/users/${id}`)).body.data.attributes.allAppsVisible).toBe(true);
    }
  });

  it('409 for an app id that names no app, at its index; nothing changes', async () => {
    const id = await createUser(s, { email: email('unknown'), roles: ['SALES'] }, visibleApps(appA));
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const r = await write(method, id, linkage(appB, 'nope'));
      expect(r.status, method).toBe(409);
      expect(r.body).toEqual({
        errors: [
          entityError('RELATIONSHIP.INVALID', "'nope' is not a valid ID for this relationship. There is no app with this id.", '/data/1'),
        ],
      });
    }
    expect(await apps(id)).toEqual([appA]);
  });

  it('422 for a body that is not a linkage document', async () => {
    const id = await createUser(s, { email: email('shape'), roles: ['SALES'] }, visibleApps(appA));
    const cases: Array<[unknown, unknown[]]> = [
      [{}, [unprocessable("The request entity must have a 'data' array of resource identifiers", '/data')]],
      [
        { data: { type: 'apps', id: appA } },
        [unprocessable("The request entity must have a 'data' array of resource identifiers", '/data')],
      ],
      [
        { data: [{ type: 'users', id: appA }, { type: 'apps', id: '' }, 'x'] },
        [
          unprocessable("The type must be 'apps'", '/data/0/type'),
          unprocessable('The id must be a non-empty string', '/data/1/id'),
          unprocessable("A resource identifier must be an object with 'type' and 'id'", '/data/2'),
        ],
      ],
    ];
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      for (const [body, expected] of cases) {
        const r = await write(method, id, body);
        expect(r.status, `${method} ${JSON.stringify(body)}`).toBe(422);
        expect(r.body).toEqual({ errors: expected });
      }
    }
    expect(await apps(id)).toEqual([appA]);
  });

  it('404 for an unknown user, 403 for keys without ADMIN, 401 without a token', async () => {
    const unknown = randomUUID();
    const id = await createUser(s, { email: email('guard'), roles: ['SALES'] }, visibleApps(appA));
    const { token } = await s.keyWithRole('APP_MANAGER');
    for (const method of ['POST', 'PATCH', 'DELETE'] as const) {
      const missing = await write(method, unknown, linkage(appB));
      expect(missing.status).toBe(404);
      expect(missing.body).toEqual({ errors: [notFound('users', unknown)] });
      const refused = await write(method, id, linkage(appB), token);
      expect(refused.status).toBe(403);
      expect(refused.body).toEqual({ errors: [forbidden()] });
      const anonymous = await write(method, id, linkage(appB), null);
      expect(anonymous.status).toBe(401);
      expect(anonymous.body).toEqual(NOT_AUTHORIZED);
    }
    expect(await apps(id)).toEqual([appA]);
  });
});

describe('the Account Holder (B6.9)', () => {
  const s = useTestServer();
  let holder = '';
  const ROLES = ['ACCOUNT_HOLDER', 'ADMIN'];

  beforeAll(async () => {
    holder = (await s.services.users.createAccountHolder({ email: 'Owner@Example.com', firstName: 'Olga', lastName: 'Owner' })).id;
  });

  it('is a user with every app and provisioning, listed by the ACCOUNT_HOLDER role', async () => {
    const r = await s.call('GET', '/v1/users?filter[roles]=ACCOUNT_HOLDER');
    const self = `${USERS}/${holder}`;
    expect(r.body).toEqual({
      data: [
        {
          type: 'users',
          id: holder,
          attributes: {
            username: 'Owner@Example.com',
            firstName: 'Olga',
            lastName: 'Owner',
            roles: ROLES,
            allAppsVisible: true,
            provisioningAllowed: true,
          },
          relationships: { visibleApps: { links: { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` } } },
          links: { self },
        },
      ],
      links: { self: `${USERS}?filter%5Broles%5D=ACCOUNT_HOLDER` },
      meta: { paging: { total: 1, limit: 20 } },
    });
  });

  it('there is only one', async () => {
    await expect(s.services.users.createAccountHolder({ email: 'second@example.com', firstName: 'S', lastName: 'T' })).rejects.toThrow(
      'The team has an Account Holder already (Owner@Example.com); there can be only one',
    );
  });

  it('their email can not be invited', async () => {
    const r = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'owner@example.com' }) });
    expect(r.status).toBe(409);
    expect(r.body).toEqual({ errors: [duplicateEmail('owner@example.com')] });
  });

  it("PATCH can't change their roles, limit their apps or take their provisioning away", async () => {
    const app = await s.createApp('Holder');
    const cases: Array<[Record<string, unknown> | undefined, Record<string, unknown> | undefined, unknown[]]> = [
      [
        { roles: ['ADMIN'] },
        undefined,
        [entityError('ATTRIBUTE.INVALID', "The Account Holder's roles can not be changed", '/data/attributes/roles')],
      ],
      [
        { roles: ROLES },
        undefined,
        [entityError('ATTRIBUTE.INVALID', "The Account Holder's roles can not be changed", '/data/attributes/roles')],
      ],
      [
        { provisioningAllowed: false, allAppsVisible: false },
        undefined,
        [
          entityError(
            'ATTRIBUTE.INVALID',
            'The Account Holder always has access to Certificates, Identifiers & Profiles',
            '/data/attributes/provisioningAllowed',
          ),
          entityError(
            'ATTRIBUTE.INVALID',
            "A user with these roles or with provisioning access can't have app access limited",
            '/data/attributes/allAppsVisible',
          ),
        ],
      ],
      [undefined, visibleApps(app), [entityError('RELATIONSHIP.INVALID', ALL_APPS_DETAIL, '/data/relationships/visibleApps')]],
    ];
    for (const [attributes, relationships, expected] of cases) {
      const r = await s.call('PATCH', `/v1/users/${holder}`, { body: patchBody(holder, attributes, relationships) });
      expect(r.status, JSON.stringify(attributes)).toBe(409);
      expect(r.body).toEqual({ errors: expected });
    }
    const same = await s.call('PATCH', `/v1/users/${holder}`, {
      body: patchBody(holder, { roles: null, allAppsVisible: true, provisioningAllowed: true }),
    });
    expect(same.status).toBe(200);
    expect(same.body.data.attributes).toMatchObject({ roles: ROLES, allAppsVisible: true, provisioningAllowed: true });
    const rel = await s.call('POST', `/v1/users/${holder}/relationships/visibleApps`, { body: linkage(app) });
    expect(rel.status).toBe(409);
  });

  it('DELETE is refused with 403, and they stay', async () => {
    const r = await s.call('DELETE', `/v1/users/${holder}`);
    expect(r.status).toBe(403);
    expect(r.body).toEqual({ errors: [forbidden('The Account Holder can not be removed from the team')] });
    expect((await s.call('GET', `/v1/users/${holder}`)).status).toBe(200);
  });
});

describe('concurrent writes to one user take turns', () => {
  const s = useTestServer();

  it('PATCHes: every one succeeds, and the roles table agrees with the roles shown', async () => {
    const id = await createUser(s, { email: 'race.patch@example.com', roles: ['DEVELOPER'] });
    const choices = [
      ['SALES'],
      ['MARKETING', 'CREATE_APPS'],
      ['APP_MANAGER'],
      ['CUSTOMER_SUPPORT'],
      ['DEVELOPER', 'CREATE_APPS'],
      ['FINANCE'],
    ];
    const results = await Promise.all(choices.map((roles) => s.call('PATCH', `/v1/users/${id}`, { body: patchBody(id, { roles }) })));
    expect(results.map((r) => r.status)).toEqual(choices.map(() => 200));
    const final = (await s.call('GET', `/v1/users/${id}`)).body.data.attributes.roles as string[];
    expect(choices).toContainEqual(final);
    for (const role of ['SALES', 'MARKETING', 'CREATE_APPS', 'APP_MANAGER', 'CUSTOMER_SUPPORT', 'DEVELOPER', 'FINANCE']) {
      const listed = await s.call('GET', `/v1/users?filter[roles]=${role}`);
      expect(listed.body.data.length, role).toBe(final.includes(role) ? 1 : 0);
    }
  });

  it('relationship POSTs all land; DELETEs of the user: one 204, the rest 404', async () => {
    const apps: string[] = [];
    for (let i = 0; i < 6; i++) apps.push(await s.createApp(`Race${i}`));
    const id = await createUser(s, { email: 'race.apps@example.com', roles: ['SALES'] }, visibleApps(apps[0]!));
    const adds = await Promise.all(
      apps.map((app) => s.call('POST', `/v1/users/${id}/relationships/visibleApps`, { body: linkage(app, apps[0]!) })),
    );
    expect(adds.map((r) => r.status)).toEqual(apps.map(() => 204));
    const linked = await s.call('GET', `/v1/users/${id}/relationships/visibleApps`);
    expect(linked.body.data.map((d: { id: string }) => d.id)).toEqual([...apps].sort());

    const deletes = await Promise.all([1, 2, 3, 4].map(() => s.call('DELETE', `/v1/users/${id}`)));
    expect(deletes.map((r) => r.status).sort()).toEqual([204, 404, 404, 404]);
    const invited = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'race.apps@example.com' }) });
    expect(invited.status, invited.text).toBe(201);
  });
});
