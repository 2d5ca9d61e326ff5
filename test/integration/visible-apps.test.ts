/**
 * An invitation's visible apps: `include=visibleApps`, `limit[visibleApps]`, sparse fieldsets
 * (docs/behavior.md A17, B4.3-4.4) on GET /v1/userInvitations and GET /v1/userInvitations/{id}, and
 * the two relationship endpoints GET /v1/userInvitations/{id}/visibleApps and
 * GET /v1/userInvitations/{id}/relationships/visibleApps (A15 paging, A4 parameters, A6 404/410).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, gone, illegalParameter, invalidParameter, notFound } from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps, type TestServer } from '../helpers/harness.js';
import { ids, local, walk } from '../helpers/paging.js';
import { appResource, invitationResource, type AppInfo } from '../helpers/resources.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';

const HOURS_72 = 72 * 60 * 60 * 1000;
const LIST = `${PUBLIC_URL}/v1/userInvitations`;

function relLinks(invitationId: string) {
  const self = `${LIST}/${invitationId}`;
  return { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` };
}

/** Creates `count` apps, the i-th with these name and bundle id; returns them in id order. */
async function createApps(s: TestServer, count: number, name: (i: number) => string, bundleId: (i: number) => string): Promise<AppInfo[]> {
  const apps: AppInfo[] = [];
  for (let i = 0; i < count; i++) {
    const id = await s.createApp(name(i), bundleId(i));
    apps.push({ id, name: name(i), bundleId: bundleId(i), sku: (await s.services.apps.get(id)).sku });
  }
  return apps.sort((a, b) => (a.id < b.id ? -1 : 1));
}

describe('include=visibleApps and sparse fieldsets', () => {
  const s = useTestServer();
  const apps: AppInfo[] = [];
  let alice = '';
  let bob = '';
  let admin = '';
  let many = '';
  let manyApps: AppInfo[] = [];
  let expiry = '';

  beforeAll(async () => {
    apps.push(
      ...(await createApps(
        s,
        12,
        (i) => `App ${String(i).padStart(2, '0')}`,
        (i) => `com.example.inc${i}`,
      )),
    );
    expiry = new Date(s.clock.now().getTime() + HOURS_72).toISOString().replace('Z', '+00:00');
    // alice and bob share apps[1]; admin sees all apps; many has all twelve
    const post = async (email: string, roles: string[], appIds: string[]) => {
      const r = await s.call('POST', '/v1/userInvitations', {
        body: invitationBody(
          { email, firstName: 'F', lastName: email.split('@')[0], roles },
          appIds.length ? visibleApps(...appIds) : undefined,
        ),
      });
      expect(r.status, r.text).toBe(201);
      return r.body.data.id as string;
    };
    alice = await post('alice@example.com', ['DEVELOPER'], [apps[2]!.id, apps[0]!.id, apps[1]!.id]);
    bob = await post('bob@example.com', ['MARKETING'], [apps[1]!.id]);
    admin = await post('admin@example.com', ['ADMIN'], []);
    many = await post('many@example.com', ['APP_MANAGER'], apps.map((a) => a.id).reverse());
    manyApps = apps;
  });

  function invitation(id: string, email: string, roles: string[], allAppsVisible: boolean, provisioningAllowed: boolean, rel: object) {
    return invitationResource(
      id,
      { email, firstName: 'F', lastName: email.split('@')[0], expirationDate: expiry, roles, allAppsVisible, provisioningAllowed },
      rel,
    );
  }

  it('GET /{id} without include: relationship with links only, no included', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${alice}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: invitation(alice, 'alice@example.com', ['DEVELOPER'], false, false, { links: relLinks(alice) }),
      links: { self: `${LIST}/${alice}` },
    });
  });

  it('GET /{id}?include=visibleApps: linkage by app id, paging meta, each app included', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${alice}?include=visibleApps`);
    expect(r.status).toBe(200);
    const mine = [apps[0]!, apps[1]!, apps[2]!];
    expect(r.body).toEqual({
      data: invitation(alice, 'alice@example.com', ['DEVELOPER'], false, false, {
        links: relLinks(alice),
        meta: { paging: { total: 3, limit: 10 } },
        data: mine.map((a) => ({ type: 'apps', id: a.id })),
      }),
      included: mine.map((a) => appResource(a)),
      links: { self: `${LIST}/${alice}?include=visibleApps` },
    });
  });

  it('GET /{id}: limit[visibleApps] caps the linkage and the included apps, total stays', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${many}?include=visibleApps&limit[visibleApps]=5`);
    expect(r.status).toBe(200);
    const rel = r.body.data.relationships.visibleApps;
    expect(rel.meta).toEqual({ paging: { total: 12, limit: 5 } });
    expect(rel.data).toEqual(manyApps.slice(0, 5).map((a) => ({ type: 'apps', id: a.id })));
    expect(r.body.included).toEqual(manyApps.slice(0, 5).map((a) => appResource(a)));
    expect(r.body.links.self).toBe(`${LIST}/${many}?include=visibleApps&limit%5BvisibleApps%5D=5`);
  });

  it('GET /{id}: limit[visibleApps] defaults to 10', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${many}?include=visibleApps`);
    expect(r.body.data.relationships.visibleApps.meta).toEqual({ paging: { total: 12, limit: 10 } });
    expect(r.body.data.relationships.visibleApps.data).toHaveLength(10);
    expect(r.body.included.map((a: { id: string }) => a.id)).toEqual(manyApps.slice(0, 10).map((a) => a.id));
  });

  it('GET /{id}: limit[visibleApps]=50 shows all twelve', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${many}?limit%5BvisibleApps%5D=50&include=visibleApps`);
    expect(r.body.data.relationships.visibleApps).toEqual({
      links: relLinks(many),
      meta: { paging: { total: 12, limit: 50 } },
      data: manyApps.map((a) => ({ type: 'apps', id: a.id })),
    });
    expect(r.body.included).toHaveLength(12);
  });

  it('an invitation that sees all apps has an empty linkage and nothing included', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${admin}?include=visibleApps`);
    expect(r.body).toEqual({
      data: invitation(admin, 'admin@example.com', ['ADMIN'], true, true, {
        links: relLinks(admin),
        meta: { paging: { total: 0, limit: 10 } },
        data: [],
      }),
      included: [],
      links: { self: `${LIST}/${admin}?include=visibleApps` },
    });
  });

  it('list with include: each resource carries its linkage; a shared app is included once', async () => {
    const r = await s.call(
      'GET',
      `/v1/userInvitations?include=visibleApps&limit[visibleApps]=2&filter[email]=alice@example.com,bob@example.com,admin@example.com`,
    );
    expect(r.status).toBe(200);
    const byId = new Map((r.body.data as Array<{ id: string; relationships: unknown }>).map((d) => [d.id, d.relationships]));
    expect(byId.get(alice)).toEqual({
      visibleApps: {
        links: relLinks(alice),
        meta: { paging: { total: 3, limit: 2 } },
        data: [apps[0]!, apps[1]!].map((a) => ({ type: 'apps', id: a.id })),
      },
    });
    expect(byId.get(bob)).toEqual({
      visibleApps: { links: relLinks(bob), meta: { paging: { total: 1, limit: 2 } }, data: [{ type: 'apps', id: apps[1]!.id }] },
    });
    expect(byId.get(admin)).toEqual({ visibleApps: { links: relLinks(admin), meta: { paging: { total: 0, limit: 2 } }, data: [] } });
    // apps[1] belongs to alice and bob but appears once; apps[2] is beyond alice's limit
    expect(r.body.included).toEqual([apps[0]!, apps[1]!].map((a) => appResource(a)));
    expect(r.body.meta).toEqual({ paging: { total: 3, limit: 20 } });
  });

  it('list with include: included holds exactly the apps linked from the page', async () => {
    const r = await s.call('GET', '/v1/userInvitations?include=visibleApps&limit=200&limit[visibleApps]=50');
    const linked = new Set<string>();
    for (const d of r.body.data) for (const l of d.relationships.visibleApps.data) linked.add(l.id);
    const included = (r.body.included as Array<{ id: string }>).map((a) => a.id);
    expect(new Set(included).size).toBe(included.length);
    expect([...included].sort()).toEqual([...linked].sort());
    expect(included).toHaveLength(12);
  });

  it('list without include: links only and no included member', async () => {
    const r = await s.call('GET', '/v1/userInvitations?filter[email]=alice@example.com');
    expect(r.body).toEqual({
      data: [invitation(alice, 'alice@example.com', ['DEVELOPER'], false, false, { links: relLinks(alice) })],
      links: { self: `${LIST}?filter%5Bemail%5D=alice%40example.com` },
      meta: { paging: { total: 1, limit: 20 } },
    });
  });

  it('limit[visibleApps] without include changes nothing', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${alice}?limit[visibleApps]=1`);
    expect(r.status).toBe(200);
    expect(r.body.data.relationships).toEqual({ visibleApps: { links: relLinks(alice) } });
    expect(r.body.included).toBeUndefined();
  });

  it('fields[userInvitations] without visibleApps drops relationships; included is still returned', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${alice}?include=visibleApps&fields[userInvitations]=email,roles`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: {
        type: 'userInvitations',
        id: alice,
        attributes: { email: 'alice@example.com', roles: ['DEVELOPER'] },
        links: { self: `${LIST}/${alice}` },
      },
      included: [apps[0]!, apps[1]!, apps[2]!].map((a) => appResource(a)),
      links: { self: `${LIST}/${alice}?include=visibleApps&fields%5BuserInvitations%5D=email%2Croles` },
    });
  });

  it('fields[userInvitations] naming visibleApps keeps the relationship (with data when included)', async () => {
    const plain = await s.call('GET', `/v1/userInvitations/${bob}?fields[userInvitations]=visibleApps,lastName`);
    expect(plain.body.data).toEqual({
      type: 'userInvitations',
      id: bob,
      attributes: { lastName: 'bob' },
      relationships: { visibleApps: { links: relLinks(bob) } },
      links: { self: `${LIST}/${bob}` },
    });
    const included = await s.call('GET', `/v1/userInvitations/${bob}?fields[userInvitations]=visibleApps&include=visibleApps`);
    expect(included.body.data.relationships.visibleApps).toEqual({
      links: relLinks(bob),
      meta: { paging: { total: 1, limit: 10 } },
      data: [{ type: 'apps', id: apps[1]!.id }],
    });
    expect(included.body.included).toEqual([appResource(apps[1]!)]);
  });

  it('fields[apps] trims the included apps', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${bob}?include=visibleApps&fields[apps]=name,bundleId`);
    expect(r.body.included).toEqual([
      {
        type: 'apps',
        id: apps[1]!.id,
        attributes: { name: apps[1]!.name, bundleId: apps[1]!.bundleId },
        links: { self: `${PUBLIC_URL}/v1/apps/${apps[1]!.id}` },
      },
    ]);
    // the primary resource is untouched by fields[apps]
    expect(r.body.data.attributes.email).toBe('bob@example.com');
    const list = await s.call(
      'GET',
      '/v1/userInvitations?include=visibleApps&fields[apps]=sku&fields[userInvitations]=email&filter[email]=bob@example.com',
    );
    expect(list.body).toEqual({
      data: [{ type: 'userInvitations', id: bob, attributes: { email: 'bob@example.com' }, links: { self: `${LIST}/${bob}` } }],
      included: [
        { type: 'apps', id: apps[1]!.id, attributes: { sku: apps[1]!.sku }, links: { self: `${PUBLIC_URL}/v1/apps/${apps[1]!.id}` } },
      ],
      links: {
        self: `${LIST}?include=visibleApps&fields%5Bapps%5D=sku&fields%5BuserInvitations%5D=email&filter%5Bemail%5D=bob%40example.com`,
      },
      meta: { paging: { total: 1, limit: 20 } },
    });
  });

  it('fields[apps] naming a relationship keeps only that relationship of included apps', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${bob}?include=visibleApps&fields[apps]=name,builds`);
    const self = `${PUBLIC_URL}/v1/apps/${apps[1]!.id}`;
    expect(r.body.included).toEqual([
      {
        type: 'apps',
        id: apps[1]!.id,
        attributes: { name: apps[1]!.name },
        relationships: { builds: { links: { self: `${self}/relationships/builds`, related: `${self}/builds` } } },
        links: { self },
      },
    ]);
  });

  it('paging the list with include keeps include and limit[visibleApps] in links.next', async () => {
    const pages = await walk(s, '/v1/userInvitations?include=visibleApps&limit[visibleApps]=1&limit=1&sort=email');
    expect(pages).toHaveLength(4);
    for (const p of pages) {
      expect(p.body.data).toHaveLength(1);
      const rel = p.body.data[0].relationships.visibleApps;
      expect(rel.meta.paging.limit).toBe(1);
      expect(p.body.included.map((a: { id: string }) => a.id)).toEqual(rel.data.map((l: { id: string }) => l.id));
    }
    expect(pages[0]!.body.links.next).toMatch(/\?cursor=[^&]+&include=visibleApps&limit%5BvisibleApps%5D=1&limit=1&sort=email$/);
  });
});

describe('GET /v1/userInvitations/{id}/visibleApps and /relationships/visibleApps', () => {
  const s = useTestServer();
  const apps: AppInfo[] = [];
  let big = '';
  let small = '';
  let none = '';

  beforeAll(async () => {
    apps.push(
      ...(await createApps(
        s,
        25,
        (i) => `Rel ${i}`,
        (i) => `com.example.rel${i}`,
      )),
    );
    big = (
      await s.services.invitations.create(
        readInvitationCreate(invitationBody({ email: 'big@example.com' }, visibleApps(...apps.map((a) => a.id)))),
      )
    ).id;
    small = (
      await s.services.invitations.create(
        readInvitationCreate(invitationBody({ email: 'small@example.com' }, visibleApps(apps[7]!.id, apps[3]!.id))),
      )
    ).id;
    none = (await s.services.invitations.create(readInvitationCreate(invitationBody({ email: 'none@example.com', roles: ['FINANCE'] }))))
      .id;
  });

  it('/visibleApps: whole document, apps by id', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${small}/visibleApps`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: [apps[3]!, apps[7]!].map((a) => appResource(a)),
      links: { self: `${LIST}/${small}/visibleApps` },
      meta: { paging: { total: 2, limit: 20 } },
    });
  });

  it('/relationships/visibleApps: whole document of linkages', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${small}/relationships/visibleApps`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: [apps[3]!, apps[7]!].map((a) => ({ type: 'apps', id: a.id })),
      links: { self: `${LIST}/${small}/relationships/visibleApps` },
      meta: { paging: { total: 2, limit: 20 } },
    });
  });

  it('an invitation that sees all apps has none listed', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${none}/visibleApps`);
    expect(r.body).toEqual({ data: [], links: { self: `${LIST}/${none}/visibleApps` }, meta: { paging: { total: 0, limit: 20 } } });
    const l = await s.call('GET', `/v1/userInvitations/${none}/relationships/visibleApps`);
    expect(l.body).toEqual({
      data: [],
      links: { self: `${LIST}/${none}/relationships/visibleApps` },
      meta: { paging: { total: 0, limit: 20 } },
    });
  });

  it.each(['visibleApps', 'relationships/visibleApps'])('/%s defaults to 20 and follows next to the end', async (sub) => {
    const first = await s.call('GET', `/v1/userInvitations/${big}/${sub}`);
    expect(ids(first)).toEqual(apps.slice(0, 20).map((a) => a.id));
    expect(first.body.meta).toEqual({ paging: { total: 25, limit: 20 } });
    expect(first.body.links.next).toMatch(new RegExp(`^${LIST.replace(/\./g, '\\.')}/${big}/${sub}\\?cursor=[A-Za-z0-9_.-]+&limit=20$`));
    const second = await s.call('GET', local(first.body.links.next));
    expect(ids(second)).toEqual(apps.slice(20).map((a) => a.id));
    expect(second.body.links).toEqual({ self: first.body.links.next });
  });

  it.each(['visibleApps', 'relationships/visibleApps'])('/%s with limit=4 walks every app once', async (sub) => {
    const pages = await walk(s, `/v1/userInvitations/${big}/${sub}?limit=4`);
    expect(pages.flatMap(ids)).toEqual(apps.map((a) => a.id));
    expect(pages).toHaveLength(7);
    for (const p of pages) expect(p.body.meta).toEqual({ paging: { total: 25, limit: 4 } });
  });

  it('/visibleApps with limit=200 returns all in one page', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${big}/visibleApps?limit=200`);
    expect(r.body.data).toEqual(apps.map((a) => appResource(a)));
    expect(r.body.links).toEqual({ self: `${LIST}/${big}/visibleApps?limit=200` });
  });

  it('/visibleApps takes fields[apps], also across pages', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${big}/visibleApps?fields[apps]=bundleId&limit=24`);
    expect(r.body.data[0]).toEqual({
      type: 'apps',
      id: apps[0]!.id,
      attributes: { bundleId: apps[0]!.bundleId },
      links: { self: `${PUBLIC_URL}/v1/apps/${apps[0]!.id}` },
    });
    expect(r.body.links.next).toMatch(/\?cursor=[^&]+&fields%5Bapps%5D=bundleId&limit=24$/);
    const next = await s.call('GET', local(r.body.links.next));
    expect(next.body.data).toEqual([
      {
        type: 'apps',
        id: apps[24]!.id,
        attributes: { bundleId: apps[24]!.bundleId },
        links: { self: `${PUBLIC_URL}/v1/apps/${apps[24]!.id}` },
      },
    ]);
  });

  it.each(['visibleApps', 'relationships/visibleApps'])('/%s rejects bad limits', async (sub) => {
    for (const v of ['0', '201', '-1', 'abc']) {
      const r = await s.call('GET', `/v1/userInvitations/${small}/${sub}?limit=${v}`);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({
        errors: [invalidParameter('limit', `The value '${v}' is not valid for 'limit'; it must be an integer from 1 to 200`)],
      });
    }
    const twice = await s.call('GET', `/v1/userInvitations/${small}/${sub}?limit=1&limit=2`);
    expect(twice.body).toEqual({ errors: [invalidParameter('limit', "The parameter 'limit' can only be given once")] });
  });

  it.each([
    ['visibleApps', 'sort', 'sort=name'],
    ['visibleApps', 'include', 'include=builds'],
    ['visibleApps', 'filter[id]', 'filter[id]=1'],
    ['visibleApps', 'limit[visibleApps]', 'limit[visibleApps]=2'],
    ['visibleApps', 'foo', 'foo=1'],
    ['relationships/visibleApps', 'fields[apps]', 'fields[apps]=name'],
    ['relationships/visibleApps', 'include', 'include=visibleApps'],
    ['relationships/visibleApps', 'sort', 'sort=name'],
  ])('/%s does not take %s', async (sub, name, query) => {
    const r = await s.call('GET', `/v1/userInvitations/${small}/${sub}?${query}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: [illegalParameter(name)] });
  });

  it('/visibleApps rejects a bad fields[apps] value', async () => {
    const r = await s.call('GET', `/v1/userInvitations/${small}/visibleApps?fields[apps]=name,colour`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: [invalidParameter('fields[apps]', "'colour' is not a valid field name for 'fields[apps]'")] });
  });

  describe('cursors', () => {
    let cursor = '';
    beforeAll(async () => {
      const r = await s.call('GET', `/v1/userInvitations/${big}/visibleApps?limit=2`);
      cursor = new URL(r.body.links.next).searchParams.get('cursor')!;
    });

    const rejects = async (path: string, shown: string) => {
      const r = await s.call('GET', path);
      expect(r.status).toBe(400);
      expect(r.body).toEqual({ errors: [invalidParameter('cursor', `The cursor '${shown.slice(0, 100)}' is not valid for this request`)] });
    };

    it('a cursor works on both relationship endpoints of the invitation', async () => {
      const a = await s.call('GET', `/v1/userInvitations/${big}/visibleApps?cursor=${cursor}&limit=2`);
      const b = await s.call('GET', `/v1/userInvitations/${big}/relationships/visibleApps?cursor=${cursor}&limit=2`);
      expect(ids(a)).toEqual(apps.slice(2, 4).map((x) => x.id));
      expect(ids(b)).toEqual(ids(a));
    });

    it('a forged or malformed cursor is rejected', async () => {
      const forged = cursor.slice(0, -1) + (cursor.endsWith('A') ? 'B' : 'A');
      await rejects(`/v1/userInvitations/${big}/visibleApps?cursor=${forged}`, forged);
      await rejects(`/v1/userInvitations/${big}/relationships/visibleApps?cursor=${forged}`, forged);
      await rejects(`/v1/userInvitations/${big}/visibleApps?cursor=nonsense`, 'nonsense');
      const payload = Buffer.from(JSON.stringify(['apps', [], '0'])).toString('base64url');
      await rejects(`/v1/userInvitations/${big}/visibleApps?cursor=${payload}.AAAAAAAAAAAAAAAA`, `${payload}.AAAAAAAAAAAAAAAA`);
    });

    it('a cursor of the invitation list is rejected here, and the other way round', async () => {
      const list = await s.call('GET', '/v1/userInvitations?limit=1');
      const listCursor = new URL(list.body.links.next).searchParams.get('cursor')!;
      await rejects(`/v1/userInvitations/${big}/visibleApps?cursor=${listCursor}`, listCursor);
      await rejects(`/v1/userInvitations?cursor=${cursor}`, cursor);
      const appsList = await s.call('GET', '/v1/apps?limit=1');
      const appsCursor = new URL(appsList.body.links.next).searchParams.get('cursor')!;
      await rejects(`/v1/userInvitations/${big}/visibleApps?cursor=${appsCursor}`, appsCursor);
      await rejects(`/v1/apps?cursor=${cursor}`, cursor);
    });
  });

  it('an unknown invitation is 404 on both endpoints', async () => {
    for (const sub of ['visibleApps', 'relationships/visibleApps']) {
      const r = await s.call('GET', `/v1/userInvitations/nope/${sub}`);
      expect(r.status).toBe(404);
      expect(r.body).toEqual(errorBody(notFound('userInvitations', 'nope')));
    }
  });

  it('a cancelled invitation is 404 and an expired one 410 on both endpoints', async () => {
    const cancelled = (
      await s.services.invitations.create(readInvitationCreate(invitationBody({ email: 'cancel@example.com' }, visibleApps(apps[0]!.id))))
    ).id;
    expect((await s.call('DELETE', `/v1/userInvitations/${cancelled}`)).status).toBe(204);
    for (const sub of ['visibleApps', 'relationships/visibleApps']) {
      const r = await s.call('GET', `/v1/userInvitations/${cancelled}/${sub}`);
      expect(r.status).toBe(404);
      expect(r.body.errors[0].detail).toBe(`There is no resource of type 'userInvitations' with id '${cancelled}'`);
    }
    s.clock.advance(HOURS_72);
    const key = await s.keyWithRole('DEVELOPER');
    for (const sub of ['visibleApps', 'relationships/visibleApps']) {
      const r = await s.call('GET', `/v1/userInvitations/${small}/${sub}`, { token: key.token });
      expect(r.status).toBe(410);
      expect(r.body).toEqual(errorBody(gone(`The invitation '${small}' has expired`)));
    }
  });
});
