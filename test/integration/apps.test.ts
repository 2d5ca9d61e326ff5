/**
 * GET /v1/apps and GET /v1/apps/{id}: Apple's App resource (B9), paging (A15), filters and sorts
 * (A16), includes of relationships this server holds nothing for (A17), parameter errors (A4),
 * unknown ids (A6).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { errorBody, illegalParameter, invalidParameter, notFound } from '../helpers/api-errors.js';
import { PUBLIC_URL, useTestServer } from '../helpers/harness.js';
import { ids, local, walk } from '../helpers/paging.js';
import { appRelationshipLinks, appResource, type AppInfo } from '../helpers/resources.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';

const APPS = `${PUBLIC_URL}/v1/apps`;

describe('GET /v1/apps', () => {
  const s = useTestServer();
  const apps: AppInfo[] = [];
  const byName = (n: string) => apps.find((a) => a.name === n)!;

  beforeAll(async () => {
    // 25 apps: names with repeats (tie-breaks), bundle ids and skus in other orders than names
    const names = ['Kilo', 'Alpha', 'Echo', 'Bravo', 'Alpha', 'Delta', 'Charlie', 'Echo', 'Golf', 'Hotel', 'India', 'Juliet', 'Alpha'];
    for (let i = 0; i < 25; i++) {
      const name = i < names.length ? names[i]! : `Zulu ${String(i).padStart(2, '0')}`;
      const bundleId = `com.example.b${String((i * 7) % 25).padStart(2, '0')}`;
      const sku = `SKU-${String((i * 11) % 25).padStart(2, '0')}`;
      const created = await s.services.apps.create({ name, bundleId, sku, ...(i === 3 ? { primaryLocale: 'de-DE' } : {}) });
      apps.push({ id: created.id, name, bundleId, sku, primaryLocale: i === 3 ? 'de-DE' : 'en-US' });
    }
  });

  function order(sort: string): string[] {
    const keys = sort === '' ? [] : sort.split(',');
    return [...apps]
      .sort((x, y) => {
        for (const k of keys) {
          const desc = k.startsWith('-');
          const f = (desc ? k.slice(1) : k) as 'name' | 'bundleId' | 'sku';
          if (x[f] !== y[f]) return (x[f] < y[f] ? -1 : 1) * (desc ? -1 : 1);
        }
        return x.id < y.id ? -1 : 1;
      })
      .map((a) => a.id);
  }

  it('renders whole App resources: four attributes, the others null, relationships as links', async () => {
    const r = await s.call('GET', `/v1/apps?filter[id]=${byName('Bravo').id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: [appResource(byName('Bravo'))],
      links: { self: `${APPS}?filter%5Bid%5D=${byName('Bravo').id}` },
      meta: { paging: { total: 1, limit: 20 } },
    });
    expect(r.body.data[0].attributes.primaryLocale).toBe('de-DE');
    // relationships carry links only: no data, no meta
    for (const rel of Object.values(r.body.data[0].relationships) as Array<Record<string, unknown>>) {
      expect(Object.keys(rel)).toEqual(['links']);
    }
  });

  it('defaults to 20 per page in id order, with limit=20 in next', async () => {
    const r = await s.call('GET', '/v1/apps');
    expect(ids(r)).toEqual(order('').slice(0, 20));
    expect(r.body.meta).toEqual({ paging: { total: 25, limit: 20 } });
    expect(r.body.links.self).toBe(APPS);
    expect(r.body.links.next).toMatch(/^https:\/\/asc\.example\.test\/v1\/apps\?cursor=[A-Za-z0-9_.-]+&limit=20$/);
    expect(r.body.included).toBeUndefined();
    const rest = await s.call('GET', local(r.body.links.next));
    expect(ids(rest)).toEqual(order('').slice(20));
    expect(rest.body.links).toEqual({ self: r.body.links.next });
  });

  it.each(['0', '201', '-1', 'abc'])('rejects limit=%s', async (v) => {
    const r = await s.call('GET', `/v1/apps?limit=${v}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      errors: [invalidParameter('limit', `The value '${v}' is not valid for 'limit'; it must be an integer from 1 to 200`)],
    });
  });

  it('rejects a repeated limit and takes 200', async () => {
    const twice = await s.call('GET', '/v1/apps?limit=1&limit=1');
    expect(twice.status).toBe(400);
    expect(twice.body).toEqual({ errors: [invalidParameter('limit', "The parameter 'limit' can only be given once")] });
    const max = await s.call('GET', '/v1/apps?limit=200');
    expect(ids(max)).toEqual(order(''));
    expect(max.body.links).toEqual({ self: `${APPS}?limit=200` });
  });

  it.each(['', 'name', '-name', 'bundleId', '-bundleId', 'sku', '-sku', 'name,-sku', '-name,bundleId'])(
    "sort='%s' walks every app exactly once in order",
    async (sort) => {
      const path = sort === '' ? '/v1/apps?limit=4' : `/v1/apps?sort=${sort}&limit=4`;
      const pages = await walk(s, path);
      expect(pages.flatMap(ids)).toEqual(order(sort));
      expect(pages).toHaveLength(7);
      pages.forEach((p, i) => {
        expect(p.body.meta).toEqual({ paging: { total: 25, limit: 4 } });
        if (i > 0) expect(p.body.links.self).toBe(pages[i - 1]!.body.links.next);
      });
      if (sort !== '') expect(pages[0]!.body.links.next).toContain(`&sort=${encodeURIComponent(sort)}&limit=4`);
    },
  );

  it('equal names are ordered by id ascending under -name too', async () => {
    const alphas = apps
      .filter((a) => a.name === 'Alpha')
      .map((a) => a.id)
      .sort();
    expect(alphas).toHaveLength(3);
    const pages = await walk(s, '/v1/apps?sort=-name&limit=2');
    const all = pages.flatMap(ids);
    const at = all.indexOf(alphas[0]!);
    expect(all.slice(at, at + 3)).toEqual(alphas);
  });

  it('a cursor is bound to its sort and signed', async () => {
    const r = await s.call('GET', '/v1/apps?sort=name&limit=2');
    const cursor = new URL(r.body.links.next).searchParams.get('cursor')!;
    for (const other of ['', '&sort=-name', '&sort=sku']) {
      const bad = await s.call('GET', `/v1/apps?cursor=${cursor}${other}`);
      expect(bad.status).toBe(400);
      expect(bad.body).toEqual({
        errors: [invalidParameter('cursor', `The cursor '${cursor.slice(0, 100)}' is not valid for this request`)],
      });
    }
    const forged = cursor.slice(0, -1) + (cursor.endsWith('A') ? 'B' : 'A');
    const f = await s.call('GET', `/v1/apps?cursor=${forged}&sort=name`);
    expect(f.status).toBe(400);
    expect(f.body.errors).toEqual([invalidParameter('cursor', expect.any(String))]);
    // a cursor of another collection is no cursor of this one
    await s.services.invitations.create(
      readInvitationCreate({
        data: { type: 'userInvitations', attributes: { email: 'a@example.com', firstName: 'A', lastName: 'A', roles: ['ADMIN'] } },
      }),
    );
    await s.services.invitations.create(
      readInvitationCreate({
        data: { type: 'userInvitations', attributes: { email: 'b@example.com', firstName: 'B', lastName: 'B', roles: ['ADMIN'] } },
      }),
    );
    const invitations = await s.call('GET', '/v1/userInvitations?limit=1');
    const foreign = new URL(invitations.body.links.next).searchParams.get('cursor')!;
    const fromInvitations = await s.call('GET', `/v1/apps?cursor=${foreign}`);
    expect(fromInvitations.status).toBe(400);
    expect(fromInvitations.body).toEqual({
      errors: [invalidParameter('cursor', `The cursor '${foreign.slice(0, 100)}' is not valid for this request`)],
    });
    const ok = await s.call('GET', `/v1/apps?cursor=${cursor}&sort=name&limit=2`);
    expect(ids(ok)).toEqual(order('name').slice(2, 4));
  });

  it('filter[id], filter[name], filter[bundleId], filter[sku] match exactly; values are OR', async () => {
    const list = async (q: string) => {
      const r = await s.call('GET', `/v1/apps?${q}`);
      expect(r.status, r.text).toBe(200);
      expect(r.body.meta.paging.total).toBe(r.body.data.length);
      return ids(r);
    };
    const sorted = (xs: AppInfo[]) => xs.map((a) => a.id).sort();
    expect(await list(`filter[id]=${apps[4]!.id},${apps[9]!.id}`)).toEqual(sorted([apps[4]!, apps[9]!]));
    expect(await list('filter[name]=Alpha')).toEqual(sorted(apps.filter((a) => a.name === 'Alpha')));
    expect(await list('filter[name]=Alpha,Golf')).toEqual(sorted(apps.filter((a) => a.name === 'Alpha' || a.name === 'Golf')));
    expect(await list('filter[name]=Alph')).toEqual([]);
    expect(await list(`filter[bundleId]=${apps[6]!.bundleId}`)).toEqual([apps[6]!.id]);
    expect(await list(`filter%5BbundleId%5D=${apps[6]!.bundleId}%2C${apps[2]!.bundleId}`)).toEqual(sorted([apps[6]!, apps[2]!]));
    expect(await list(`filter[sku]=${apps[11]!.sku}`)).toEqual([apps[11]!.id]);
    expect(await list('filter[id]=com.example.b00')).toEqual([]);
  });

  it('filters combine with AND', async () => {
    const alpha = apps.filter((a) => a.name === 'Alpha');
    const r = await s.call('GET', `/v1/apps?filter[name]=Alpha&filter[bundleId]=${alpha[1]!.bundleId},${apps[0]!.bundleId}`);
    expect(ids(r)).toEqual([alpha[1]!.id]);
    const none = await s.call('GET', `/v1/apps?filter[name]=Golf&filter[sku]=${apps[0]!.sku}`);
    expect(none.body.data).toEqual([]);
    expect(none.body.meta.paging.total).toBe(0);
  });

  it.each([
    'filter[appStoreVersions.platform]=IOS',
    'filter[appStoreVersions.appStoreState]=READY_FOR_SALE',
    'filter[appStoreVersions.appVersionState]=READY_FOR_DISTRIBUTION',
    'filter[reviewSubmissions.state]=IN_REVIEW',
    'filter[reviewSubmissions.platform]=MAC_OS',
    'filter[appStoreVersions]=123',
    'exists[gameCenterEnabledVersions]=true',
  ])('%s matches nothing (this server holds no such resources)', async (q) => {
    const r = await s.call('GET', `/v1/apps?${q}`);
    expect(r.status).toBe(200);
    const [name, value] = q.split('=') as [string, string];
    expect(r.body).toEqual({
      data: [],
      links: { self: `${APPS}?${encodeURIComponent(name)}=${value}` },
      meta: { paging: { total: 0, limit: 20 } },
    });
  });

  it('exists[gameCenterEnabledVersions]=false leaves the list whole', async () => {
    const r = await s.call('GET', '/v1/apps?exists[gameCenterEnabledVersions]=false&limit=200');
    expect(r.body.meta.paging.total).toBe(25);
  });

  it('a related filter with a bad enum value is INVALID', async () => {
    const r = await s.call('GET', '/v1/apps?filter[appStoreVersions.platform]=WINDOWS');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      errors: [
        invalidParameter('filter[appStoreVersions.platform]', "'WINDOWS' is not a valid value for 'filter[appStoreVersions.platform]'"),
      ],
    });
  });

  it('include of a to-many relationship gives empty data and paging meta; included is empty', async () => {
    const bravo = byName('Bravo');
    const r = await s.call('GET', `/v1/apps?filter[id]=${bravo.id}&include=appStoreVersions,builds&limit[builds]=5`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: [appResource(bravo, { appStoreVersions: 10, builds: 5 })],
      included: [],
      links: { self: `${APPS}?filter%5Bid%5D=${bravo.id}&include=appStoreVersions%2Cbuilds&limit%5Bbuilds%5D=5` },
      meta: { paging: { total: 1, limit: 20 } },
    });
  });

  it('fields[apps] trims attributes and relationships', async () => {
    const golf = byName('Golf');
    const r = await s.call('GET', `/v1/apps?filter[name]=Golf&fields[apps]=name,sku`);
    expect(r.body.data).toEqual([
      { type: 'apps', id: golf.id, attributes: { name: 'Golf', sku: golf.sku }, links: { self: `${APPS}/${golf.id}` } },
    ]);
    const withRel = await s.call('GET', `/v1/apps?filter[name]=Golf&fields[apps]=bundleId,appInfos&include=appInfos`);
    expect(withRel.body.data).toEqual([
      {
        type: 'apps',
        id: golf.id,
        attributes: { bundleId: golf.bundleId },
        relationships: { appInfos: { ...appRelationshipLinks(golf.id, 'appInfos'), meta: { paging: { total: 0, limit: 10 } }, data: [] } },
        links: { self: `${APPS}/${golf.id}` },
      },
    ]);
  });

  it('rejects unknown filters, parameters and values', async () => {
    const cases: Array<[string, unknown]> = [
      ['filter[foo]=1', invalidParameter('filter[foo]', "'foo' is not a valid filter type")],
      ['filter[email]=a@b.c', invalidParameter('filter[email]', "'email' is not a valid filter type")],
      ['foo=1', illegalParameter('foo')],
      ['filter%5Bnam%5D=x', invalidParameter('filter[nam]', "'nam' is not a valid filter type")],
      ['limit[visibleApps]=2', illegalParameter('limit[visibleApps]')],
      ['fields[userInvitations]=email', illegalParameter('fields[userInvitations]')],
      ['sort=primaryLocale', invalidParameter('sort', "'primaryLocale' is not a valid sort expression")],
      ['include=visibleApps', invalidParameter('include', "'visibleApps' is not a valid relationship name")],
      ['fields[apps]=colour', invalidParameter('fields[apps]', "'colour' is not a valid field name for 'fields[apps]'")],
      [
        'limit[builds]=51',
        invalidParameter('limit[builds]', "The value '51' is not valid for 'limit[builds]'; it must be an integer from 1 to 50"),
      ],
      ['exists[gameCenterEnabledVersions]=yes', invalidParameter('exists[gameCenterEnabledVersions]', expect.any(String))],
    ];
    for (const [q, error] of cases) {
      const r = await s.call('GET', `/v1/apps?${q}`);
      expect(r.status, q).toBe(400);
      expect(r.body, q).toEqual({ errors: [error] });
    }
  });

  it('reports several bad parameters together', async () => {
    const r = await s.call('GET', '/v1/apps?limit=0&filter[foo]=1&sort=x&bar=2');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      errors: [
        invalidParameter('limit', "The value '0' is not valid for 'limit'; it must be an integer from 1 to 200"),
        invalidParameter('filter[foo]', "'foo' is not a valid filter type"),
        invalidParameter('sort', "'x' is not a valid sort expression"),
        illegalParameter('bar'),
      ],
    });
  });
});

describe('GET /v1/apps/{id}', () => {
  const s = useTestServer();
  let app: AppInfo;
  beforeAll(async () => {
    const created = await s.services.apps.create({ name: 'Solo', bundleId: 'com.example.solo', sku: 'SOLO-1', primaryLocale: 'fr-FR' });
    app = { id: created.id, name: 'Solo', bundleId: 'com.example.solo', sku: 'SOLO-1', primaryLocale: 'fr-FR' };
  });

  it('returns the whole App resource', async () => {
    const r = await s.call('GET', `/v1/apps/${app.id}`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: appResource(app), links: { self: `${APPS}/${app.id}` } });
    expect(app.id).toMatch(/^\d+$/);
  });

  it('include gives empty linkages with paging meta and an empty included', async () => {
    const r = await s.call('GET', `/v1/apps/${app.id}?include=betaGroups&limit[betaGroups]=50`);
    expect(r.status).toBe(200);
    expect(r.body).toEqual({
      data: appResource(app, { betaGroups: 50 }),
      included: [],
      links: { self: `${APPS}/${app.id}?include=betaGroups&limit%5BbetaGroups%5D=50` },
    });
  });

  it('fields[apps] trims the resource', async () => {
    const r = await s.call('GET', `/v1/apps/${app.id}?fields%5Bapps%5D=primaryLocale`);
    expect(r.body).toEqual({
      data: { type: 'apps', id: app.id, attributes: { primaryLocale: 'fr-FR' }, links: { self: `${APPS}/${app.id}` } },
      links: { self: `${APPS}/${app.id}?fields%5Bapps%5D=primaryLocale` },
    });
  });

  it('an unknown id is 404 NOT_FOUND', async () => {
    for (const id of ['1234567890', 'X', 'com.example.solo']) {
      const r = await s.call('GET', `/v1/apps/${id}`);
      expect(r.status).toBe(404);
      expect(r.body).toEqual(errorBody(notFound('apps', id)));
    }
  });

  it.each([
    ['limit', 'limit=5'],
    ['sort', 'sort=name'],
    ['cursor', 'cursor=abc.def'],
    ['filter[id]', 'filter[id]=1'],
    ['foo', 'foo=1'],
  ])("does not take '%s'", async (name, q) => {
    const r = await s.call('GET', `/v1/apps/${app.id}?${q}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: [illegalParameter(name)] });
  });

  it('a bad include is INVALID', async () => {
    const r = await s.call('GET', `/v1/apps/${app.id}?include=x`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: [invalidParameter('include', "'x' is not a valid relationship name")] });
  });
});
