/**
 * Reading and removing the team's users over a real socket on a real SQLite file: GET /v1/users
 * (filters, sort, keyset cursors, sparse fieldsets, include=visibleApps; docs/behavior.md A15-A17),
 * GET and DELETE /v1/users/{id}, GET …/visibleApps and …/relationships/visibleApps, and the email
 * a user holds (A9). Users join as real ones do: invited through the API, then accepted.
 */
import { randomUUID } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { serializeApp } from '../../src/resources/apps/serializer.js';
import type { App } from '../../src/resources/apps/service.js';
import { duplicateEmail, forbidden, illegalParameter, invalidParameter, notFound, NOT_AUTHORIZED } from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps } from '../helpers/harness.js';
import { ids, local, walk } from '../helpers/paging.js';
import { createUser } from '../helpers/users.js';

const USERS = `${PUBLIC_URL}/v1/users`;

interface Expected {
  username: string;
  lastName: string;
  roles: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
}

/** The whole `User` resource; `apps` when include=visibleApps asked for the linkage. */
function userResource(id: string, e: Expected, apps?: { ids: string[]; total: number; limit?: number }) {
  const self = `${USERS}/${id}`;
  return {
    type: 'users',
    id,
    attributes: {
      username: e.username,
      firstName: 'Jane',
      lastName: e.lastName,
      roles: e.roles,
      allAppsVisible: e.allAppsVisible,
      provisioningAllowed: e.provisioningAllowed,
    },
    relationships: {
      visibleApps: {
        links: { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` },
        ...(apps
          ? {
              meta: { paging: { total: apps.total, limit: apps.limit ?? 10 } },
              data: apps.ids.map((appId) => ({ type: 'apps', id: appId })),
            }
          : {}),
      },
    },
    links: { self },
  };
}

/** An app as every relationship endpoint renders it (its shape is pinned by the apps tests). */
function appResource(app: App) {
  return serializeApp(app, { base: PUBLIC_URL });
}

describe('GET /v1/users', () => {
  const s = useTestServer();
  let apps: App[];
  /** carol Zed DEVELOPER [A0, A1]; alice young ADMIN; bob Zed MARKETING [A1]; dave Adams FINANCE; eve baker APP_MANAGER+ACCESS_TO_REPORTS */
  const u: Record<'carol' | 'alice' | 'bob' | 'dave' | 'eve', string> = { carol: '', alice: '', bob: '', dave: '', eve: '' };
  const expected: Record<keyof typeof u, Expected> = {
    carol: { username: 'carol@example.com', lastName: 'Zed', roles: ['DEVELOPER'], allAppsVisible: false, provisioningAllowed: false },
    alice: { username: 'Alice@Example.com', lastName: 'young', roles: ['ADMIN'], allAppsVisible: true, provisioningAllowed: true },
    bob: { username: 'bob@example.com', lastName: 'Zed', roles: ['MARKETING'], allAppsVisible: false, provisioningAllowed: false },
    dave: { username: 'dave@example.com', lastName: 'Adams', roles: ['FINANCE'], allAppsVisible: true, provisioningAllowed: false },
    eve: {
      username: 'eve@example.com',
      lastName: 'baker',
      roles: ['APP_MANAGER', 'ACCESS_TO_REPORTS'],
      allAppsVisible: true,
      provisioningAllowed: false,
    },
  };
  const resource = (name: keyof typeof u, apps?: { ids: string[]; total: number; limit?: number }) =>
    userResource(u[name], expected[name], apps);
  const byId = (...names: Array<keyof typeof u>) => names.map((n) => u[n]).sort();

  beforeAll(async () => {
    apps = [];
    for (const name of ['Zeta', 'Alpha']) apps.push(await s.services.apps.create({ name, bundleId: `com.example.${name}`, sku: name }));
    apps.sort((a, b) => (a.id < b.id ? -1 : 1));
    const [a0, a1] = apps.map((a) => a.id) as [string, string];
    u.carol = await createUser(s, { email: 'carol@example.com', lastName: 'Zed', roles: ['DEVELOPER'] }, visibleApps(a1, a0));
    u.alice = await createUser(s, { email: 'Alice@Example.com', lastName: 'young', roles: ['ADMIN'] });
    u.bob = await createUser(s, { email: 'bob@example.com', lastName: 'Zed', roles: ['MARKETING'] }, visibleApps(a1));
    u.dave = await createUser(s, { email: 'dave@example.com', lastName: 'Adams', roles: ['FINANCE'] });
    u.eve = await createUser(s, { email: 'eve@example.com', lastName: 'baker', roles: ['APP_MANAGER', 'ACCESS_TO_REPORTS'] });
    // a pending invitation is not a user
    const pending = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'frank@example.com' }) });
    expect(pending.status).toBe(201);
  });

  it('lists every user in id order, whole resources with relationship links only', async () => {
    const r = await s.call('GET', '/v1/users');
    expect(r.status).toBe(200);
    const data = (Object.keys(u) as Array<keyof typeof u>).map((n) => resource(n)).sort((a, b) => (a.id < b.id ? -1 : 1));
    expect(r.body).toEqual({ data, links: { self: USERS }, meta: { paging: { total: 5, limit: 20 } } });
  });

  it('may be read with any valid key, whatever its role', async () => {
    for (const role of ['DEVELOPER', 'CUSTOMER_SUPPORT', 'FINANCE']) {
      const { token } = await s.keyWithRole(role);
      const r = await s.call('GET', '/v1/users?limit=1', { token });
      expect(r.status, role).toBe(200);
      expect(r.body.meta).toEqual({ paging: { total: 5, limit: 1 } });
    }
  });

  it('401 NOT_AUTHORIZED without a token', async () => {
    const r = await s.call('GET', '/v1/users', { token: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(NOT_AUTHORIZED);
  });

  describe('filters (A16)', () => {
    it('filter[username] matches whole addresses, case-insensitively; several values are OR', async () => {
      const r = await s.call('GET', '/v1/users?filter[username]=ALICE@example.COM');
      expect(r.body).toEqual({
        data: [resource('alice')],
        links: { self: `${USERS}?filter%5Busername%5D=ALICE%40example.COM` },
        meta: { paging: { total: 1, limit: 20 } },
      });
      expect(ids(await s.call('GET', '/v1/users?filter[username]=alice@example.com,BOB@example.com'))).toEqual(byId('alice', 'bob'));
      for (const partial of ['alice', 'example.com', 'alice@example.co', 'frank@example.com']) {
        const none = await s.call('GET', `/v1/users?filter[username]=${partial}`);
        expect(none.body.data, partial).toEqual([]);
        expect(none.body.meta.paging.total).toBe(0);
      }
    });

    it('filter[roles]: a user with any of the roles', async () => {
      expect(ids(await s.call('GET', '/v1/users?filter[roles]=ADMIN,FINANCE'))).toEqual(byId('alice', 'dave'));
      expect(ids(await s.call('GET', '/v1/users?filter[roles]=ACCESS_TO_REPORTS'))).toEqual(byId('eve'));
      expect(ids(await s.call('GET', '/v1/users?filter[roles]=ACCOUNT_HOLDER'))).toEqual([]);
    });

    it('filter[visibleApps]: users who list one of the apps; users who see all apps list none', async () => {
      const [a0, a1] = apps.map((a) => a.id) as [string, string];
      expect(ids(await s.call('GET', `/v1/users?filter[visibleApps]=${a1}`))).toEqual(byId('carol', 'bob'));
      expect(ids(await s.call('GET', `/v1/users?filter[visibleApps]=${a0}`))).toEqual(byId('carol'));
      // an id that is no app (say, a bundle id) matches nobody, without an error (B4.6)
      expect(ids(await s.call('GET', '/v1/users?filter[visibleApps]=com.example.Zeta'))).toEqual([]);
    });

    it('different filters are AND, and the total counts what they match', async () => {
      const a1 = apps[1]!.id;
      const r = await s.call(
        'GET',
        `/v1/users?filter[roles]=DEVELOPER,MARKETING,ADMIN&filter[visibleApps]=${a1}&filter[username]=bob@example.com,alice@example.com`,
      );
      expect(ids(r)).toEqual([u.bob]);
      expect(r.body.meta).toEqual({ paging: { total: 1, limit: 20 } });
    });
  });

  describe('sort, with id as the last tie-breaker (A16)', () => {
    const orders: Array<[string, Array<keyof typeof u>]> = [
      ['username', ['alice', 'bob', 'carol', 'dave', 'eve']],
      ['-username', ['eve', 'dave', 'carol', 'bob', 'alice']],
      ['lastName', ['dave', 'eve', 'alice', ...(['carol', 'bob'] as const)]],
      ['-lastName', [...(['carol', 'bob'] as const), 'alice', 'eve', 'dave']],
      ['lastName,-username', ['dave', 'eve', 'alice', 'carol', 'bob']],
      ['-lastName,username', ['bob', 'carol', 'alice', 'eve', 'dave']],
    ];

    for (const [sort, names] of orders) {
      it(`sort=${sort}: one page, and pages of two that follow links.next`, async () => {
        let order = names.map((n) => u[n]);
        // the two Zeds in `lastName` and `-lastName` come in id order under either direction
        if (sort === 'lastName' || sort === '-lastName') {
          const zeds = [u.carol, u.bob].sort();
          order = order.map((id) => (id === u.carol || id === u.bob ? zeds.shift()! : id));
        }
        const one = await s.call('GET', `/v1/users?sort=${sort}`);
        expect(ids(one)).toEqual(order);

        const pages = await walk(s, `/v1/users?sort=${sort}&limit=2`);
        expect(pages.map((p) => p.body.data.length)).toEqual([2, 2, 1]);
        expect(pages.flatMap(ids)).toEqual(order);
        const first = pages[0]!.body;
        expect(first.links.self).toBe(`${USERS}?sort=${encodeURIComponent(sort)}&limit=2`);
        expect(first.links.next).toMatch(
          new RegExp(`^${USERS}\\?cursor=[A-Za-z0-9_-]+\\.[A-Za-z0-9_-]+&sort=${encodeURIComponent(sort)}&limit=2$`),
        );
        expect(first.meta).toEqual({ paging: { total: 5, limit: 2 } });
        expect(pages[2]!.body.links.next).toBeUndefined();
      });
    }

    it('the default order pages by id with limit added to links.next', async () => {
      const pages = await walk(s, '/v1/users?limit=3');
      expect(pages.flatMap(ids)).toEqual(byId('alice', 'bob', 'carol', 'dave', 'eve'));
      const filtered = await walk(s, '/v1/users?filter[roles]=DEVELOPER,MARKETING,ADMIN&limit=1');
      expect(filtered.flatMap(ids)).toEqual(byId('alice', 'bob', 'carol'));
      expect(filtered[0]!.body.links.next).toMatch(
        new RegExp(`^${USERS}\\?cursor=[^&]+&filter%5Broles%5D=DEVELOPER%2CMARKETING%2CADMIN&limit=1$`),
      );
    });

    it('a user who joins while the list is paged never makes a user come twice', async () => {
      const first = await s.call('GET', '/v1/users?sort=username&limit=2');
      const late = await createUser(s, { email: 'aaron@example.com', lastName: 'Late', roles: ['SALES'] });
      const rest = await walk(s, local(first.body.links.next));
      const seen = [...ids(first), ...rest.flatMap(ids)];
      expect(new Set(seen).size).toBe(seen.length);
      expect(seen).not.toContain(late);
      await s.call('DELETE', `/v1/users/${late}`);
    });
  });

  describe('sparse fieldsets and include=visibleApps (A17)', () => {
    it('fields[users] keeps the named attributes; relationships only when named', async () => {
      const r = await s.call('GET', `/v1/users?filter[username]=bob@example.com&fields[users]=username,roles`);
      expect(r.body.data).toEqual([
        {
          type: 'users',
          id: u.bob,
          attributes: { username: 'bob@example.com', roles: ['MARKETING'] },
          links: { self: `${USERS}/${u.bob}` },
        },
      ]);
      const rel = await s.call('GET', `/v1/users?filter[username]=bob@example.com&fields[users]=visibleApps`);
      expect(rel.body.data).toEqual([
        {
          type: 'users',
          id: u.bob,
          relationships: resource('bob').relationships,
          links: { self: `${USERS}/${u.bob}` },
        },
      ]);
    });

    it('include=visibleApps: each user carries its linkage and paging, `included` holds each app once', async () => {
      const [a0, a1] = apps.map((a) => a.id) as [string, string];
      const r = await s.call('GET', '/v1/users?include=visibleApps&sort=username');
      expect(r.status).toBe(200);
      expect(r.body).toEqual({
        data: [
          resource('alice', { ids: [], total: 0 }),
          resource('bob', { ids: [a1], total: 1 }),
          resource('carol', { ids: [a0, a1], total: 2 }),
          resource('dave', { ids: [], total: 0 }),
          resource('eve', { ids: [], total: 0 }),
        ],
        included: apps.map(appResource),
        links: { self: `${USERS}?include=visibleApps&sort=username` },
        meta: { paging: { total: 5, limit: 20 } },
      });
    });

    it('limit[visibleApps] caps each linkage; fields[apps] trims the included apps', async () => {
      const [a0] = apps.map((a) => a.id) as [string, string];
      const r = await s.call(
        'GET',
        '/v1/users?filter[username]=carol@example.com&include=visibleApps&limit[visibleApps]=1&fields[apps]=name',
      );
      expect(r.body).toEqual({
        data: [resource('carol', { ids: [a0], total: 2, limit: 1 })],
        included: [{ type: 'apps', id: a0, attributes: { name: apps[0]!.name }, links: { self: `${PUBLIC_URL}/v1/apps/${a0}` } }],
        links: {
          self: `${USERS}?filter%5Busername%5D=carol%40example.com&include=visibleApps&limit%5BvisibleApps%5D=1&fields%5Bapps%5D=name`,
        },
        meta: { paging: { total: 1, limit: 20 } },
      });
    });
  });

  describe('parameter errors (A4)', () => {
    const cases: Array<[string, unknown]> = [
      ['filter[email]=a@b.c', invalidParameter('filter[email]', "'email' is not a valid filter type")],
      ['sort=email', invalidParameter('sort', "'email' is not a valid sort expression")],
      ['fields[users]=email', invalidParameter('fields[users]', "'email' is not a valid field name for 'fields[users]'")],
      ['include=apps', invalidParameter('include', "'apps' is not a valid relationship name")],
      ['filter[roles]=OWNER', invalidParameter('filter[roles]', "'OWNER' is not a valid value for 'filter[roles]'")],
      ['limit=201', invalidParameter('limit', "The value '201' is not valid for 'limit'; it must be an integer from 1 to 200")],
      [
        'limit[visibleApps]=51',
        invalidParameter('limit[visibleApps]', "The value '51' is not valid for 'limit[visibleApps]'; it must be an integer from 1 to 50"),
      ],
      ['cursor=nonsense', invalidParameter('cursor', "The cursor 'nonsense' is not valid for this request")],
      ['fields[userInvitations]=email', illegalParameter('fields[userInvitations]')],
      ['foo=1', illegalParameter('foo')],
    ];
    for (const [query, error] of cases) {
      it(`400 for ${query}`, async () => {
        const r = await s.call('GET', `/v1/users?${query}`);
        expect(r.status).toBe(400);
        expect(r.body).toEqual({ errors: [error] });
      });
    }

    it('400 for a cursor of another list or another sort', async () => {
      const invitations = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'grace@example.com' }) });
      expect(invitations.status).toBe(201);
      const other = await s.call('GET', '/v1/userInvitations?limit=1');
      const byUsername = await s.call('GET', '/v1/users?sort=username&limit=1');
      for (const [link, query] of [
        [other.body.links.next as string, 'limit=1'],
        [byUsername.body.links.next as string, 'sort=lastName&limit=1'],
      ] as const) {
        const cursor = new URL(link).searchParams.get('cursor')!;
        const r = await s.call('GET', `/v1/users?cursor=${cursor}&${query}`);
        expect(r.status).toBe(400);
        // the detail quotes at most 100 characters of the cursor
        expect(r.body).toEqual({
          errors: [invalidParameter('cursor', `The cursor '${cursor.slice(0, 100)}' is not valid for this request`)],
        });
      }
    });
  });

  describe('GET /v1/users/{id}', () => {
    it('the user, with links.self', async () => {
      const r = await s.call('GET', `/v1/users/${u.eve}`);
      expect(r.status).toBe(200);
      expect(r.body).toEqual({ data: resource('eve'), links: { self: `${USERS}/${u.eve}` } });
    });

    it('include=visibleApps, limit[visibleApps] and fieldsets', async () => {
      const [a0, a1] = apps.map((a) => a.id) as [string, string];
      const r = await s.call('GET', `/v1/users/${u.carol}?include=visibleApps&limit[visibleApps]=1&fields[users]=lastName,visibleApps`);
      expect(r.body).toEqual({
        data: {
          type: 'users',
          id: u.carol,
          attributes: { lastName: 'Zed' },
          relationships: resource('carol', { ids: [a0], total: 2, limit: 1 }).relationships,
          links: { self: `${USERS}/${u.carol}` },
        },
        included: [appResource(apps[0]!)],
        links: { self: `${USERS}/${u.carol}?include=visibleApps&limit%5BvisibleApps%5D=1&fields%5Busers%5D=lastName%2CvisibleApps` },
      });
      const all = await s.call('GET', `/v1/users/${u.carol}?include=visibleApps`);
      expect(all.body.data.relationships.visibleApps.data).toEqual([a0, a1].map((id) => ({ type: 'apps', id })));
    });

    it('404 NOT_FOUND for an id that is no user (an invitation id is not a user id)', async () => {
      const invitation = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'heidi@example.com' }) });
      for (const id of [randomUUID(), 'not-a-uuid', invitation.body.data.id as string]) {
        const r = await s.call('GET', `/v1/users/${id}`);
        expect(r.status, id).toBe(404);
        expect(r.body).toEqual({ errors: [notFound('users', id)] });
      }
    });

    it('400 for parameters only the list takes', async () => {
      const r = await s.call('GET', `/v1/users/${u.eve}?sort=username&limit=2`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ errors: [illegalParameter('sort'), illegalParameter('limit')] });
    });
  });

  describe('GET /v1/users/{id}/visibleApps and …/relationships/visibleApps', () => {
    it('the apps a user sees, as apps and as linkages', async () => {
      const related = await s.call('GET', `/v1/users/${u.carol}/visibleApps`);
      expect(related.status).toBe(200);
      expect(related.body).toEqual({
        data: apps.map(appResource),
        links: { self: `${USERS}/${u.carol}/visibleApps` },
        meta: { paging: { total: 2, limit: 20 } },
      });
      const linkages = await s.call('GET', `/v1/users/${u.carol}/relationships/visibleApps`);
      expect(linkages.body).toEqual({
        data: apps.map((a) => ({ type: 'apps', id: a.id })),
        links: { self: `${USERS}/${u.carol}/relationships/visibleApps` },
        meta: { paging: { total: 2, limit: 20 } },
      });
    });

    it('page by app id with limit and cursors; fields[apps] trims the apps', async () => {
      for (const kind of ['visibleApps', 'relationships/visibleApps']) {
        const pages = await walk(s, `/v1/users/${u.carol}/${kind}?limit=1`);
        expect(pages.flatMap(ids)).toEqual(apps.map((a) => a.id));
        expect(pages[0]!.body.links.next).toMatch(new RegExp(`^${USERS}/${u.carol}/${kind}\\?cursor=[^&]+&limit=1$`));
      }
      const trimmed = await s.call('GET', `/v1/users/${u.bob}/visibleApps?fields[apps]=bundleId`);
      expect(trimmed.body.data).toEqual([
        {
          type: 'apps',
          id: apps[1]!.id,
          attributes: { bundleId: apps[1]!.bundleId },
          links: { self: `${PUBLIC_URL}/v1/apps/${apps[1]!.id}` },
        },
      ]);
    });

    it('a user who sees all apps lists none', async () => {
      for (const kind of ['visibleApps', 'relationships/visibleApps']) {
        const r = await s.call('GET', `/v1/users/${u.alice}/${kind}`);
        expect(r.body).toEqual({ data: [], links: { self: `${USERS}/${u.alice}/${kind}` }, meta: { paging: { total: 0, limit: 20 } } });
      }
    });

    it('404 for an unknown user, 400 for parameters these endpoints do not take', async () => {
      const id = randomUUID();
      for (const kind of ['visibleApps', 'relationships/visibleApps']) {
        const r = await s.call('GET', `/v1/users/${id}/${kind}`);
        expect(r.status).toBe(404);
        expect(r.body).toEqual({ errors: [notFound('users', id)] });
      }
      const include = await s.call('GET', `/v1/users/${u.carol}/visibleApps?include=visibleApps`);
      expect(include.body).toEqual({ errors: [illegalParameter('include')] });
      const fields = await s.call('GET', `/v1/users/${u.carol}/relationships/visibleApps?fields[apps]=name`);
      expect(fields.body).toEqual({ errors: [illegalParameter('fields[apps]')] });
    });
  });
});

describe('DELETE /v1/users/{id} and the email a user holds (A9)', () => {
  const s = useTestServer();

  it("inviting a user's email, in any case, is refused", async () => {
    await createUser(s, { email: 'Ivan@Example.com', roles: ['SALES'] });
    for (const email of ['Ivan@Example.com', 'ivan@example.com', 'IVAN@EXAMPLE.COM']) {
      const r = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) });
      expect(r.status, email).toBe(409);
      expect(r.body).toEqual({ errors: [duplicateEmail(email)] });
    }
  });

  it('204, then the user is gone: 404 by id and on its relationships, out of the list', async () => {
    const app = await s.createApp('Gone');
    const id = await createUser(s, { email: 'judy@example.com', roles: ['DEVELOPER'] }, visibleApps(app));
    const del = await s.call('DELETE', `/v1/users/${id}`);
    expect(del.status).toBe(204);
    expect(del.text).toBe('');
    for (const path of [`/v1/users/${id}`, `/v1/users/${id}/visibleApps`, `/v1/users/${id}/relationships/visibleApps`]) {
      const r = await s.call('GET', path);
      expect(r.status, path).toBe(404);
      expect(r.body).toEqual({ errors: [notFound('users', id)] });
    }
    expect(ids(await s.call('GET', '/v1/users?filter[username]=judy@example.com'))).toEqual([]);
    const again = await s.call('DELETE', `/v1/users/${id}`);
    expect(again.status).toBe(404);
    expect(again.body).toEqual({ errors: [notFound('users', id)] });
  });

  it('frees the email: the address can be invited again, and accepting makes a new user', async () => {
    const first = await createUser(s, { email: 'Kim@Example.com', roles: ['DEVELOPER'] });
    expect((await s.call('DELETE', `/v1/users/${first}`)).status).toBe(204);
    const invited = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'kim@example.com', roles: ['SALES'] }) });
    expect(invited.status, invited.text).toBe(201);
    await s.call('DELETE', `/v1/userInvitations/${invited.body.data.id}`);
    const second = await createUser(s, { email: 'KIM@example.com', roles: ['MARKETING'] });
    expect(second).not.toBe(first);
    const r = await s.call('GET', '/v1/users?filter[username]=kim@example.com');
    expect(r.body.data.map((d: { id: string; attributes: { username: string } }) => [d.id, d.attributes.username])).toEqual([
      [second, 'KIM@example.com'],
    ]);
  });

  it('404 for an unknown id', async () => {
    const id = randomUUID();
    const r = await s.call('DELETE', `/v1/users/${id}`);
    expect(r.status).toBe(404);
    expect(r.body).toEqual({ errors: [notFound('users', id)] });
  });

  it('403 for keys without ADMIN; the user stays', async () => {
    const id = await createUser(s, { email: 'leo@example.com' });
    for (const role of ['DEVELOPER', 'APP_MANAGER', 'FINANCE']) {
      const { token } = await s.keyWithRole(role);
      const r = await s.call('DELETE', `/v1/users/${id}`, { token });
      expect(r.status, role).toBe(403);
      expect(r.body).toEqual({ errors: [forbidden()] });
    }
    expect((await s.call('GET', `/v1/users/${id}`)).status).toBe(200);
  });

  it('401 without a token', async () => {
    const id = await createUser(s, { email: 'mia@example.com' });
    const r = await s.call('DELETE', `/v1/users/${id}`, { token: null });
    expect(r.status).toBe(401);
    expect(r.body).toEqual(NOT_AUTHORIZED);
  });
});
