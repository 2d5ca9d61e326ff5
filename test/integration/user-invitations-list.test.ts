/**
 * GET /v1/userInvitations (and the query rules of GET /v1/userInvitations/{id}):
 * docs/behavior.md A4 (parameter errors), A15 (limits, links, keyset cursors), A16 (filters, sorts).
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { formatAppleDate } from '../../src/clock.js';
import { illegalParameter, invalidParameter } from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps, type ApiResponse, type TestServer } from '../helpers/harness.js';
import { ids, local, walkIds } from '../helpers/paging.js';
import { invitationResource } from '../helpers/resources.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';

const HOURS_72 = 72 * 60 * 60 * 1000;
const LIST = `${PUBLIC_URL}/v1/userInvitations`;

interface Attrs {
  email: string;
  firstName?: string;
  lastName: string;
  roles?: string[];
  allAppsVisible?: boolean;
  provisioningAllowed?: boolean;
}

/** Follows links.next verbatim from `path` until there is none (the limit=1 walk takes 205 pages). */
const walk = (s: TestServer, path: string, token?: string) => walkIds(s, path, token, 300);

function cursorOf(link: string): string {
  const c = new URL(link).searchParams.get('cursor');
  expect(c).toBeTruthy();
  return c!;
}

function create(s: TestServer, a: Attrs, apps: string[] = []) {
  return s.services.invitations.create(
    readInvitationCreate(
      invitationBody({ firstName: 'Test', roles: ['DEVELOPER'], ...a }, apps.length > 0 ? visibleApps(...apps) : undefined),
    ),
  );
}

describe('GET /v1/userInvitations: document shape', () => {
  const s = useTestServer();

  it('is an empty page with a bare self link when there are no invitations', async () => {
    const r = await s.call('GET', '/v1/userInvitations');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: [], links: { self: LIST }, meta: { paging: { total: 0, limit: 20 } } });
  });

  it('lists pending invitations in id order with whole resources, links only on relationships', async () => {
    const appId = await s.createApp('Shape');
    const expiry = formatAppleDate(new Date(s.clock.now().getTime() + HOURS_72));
    const a = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'Ann.Lee@Example.com', firstName: 'Ann', lastName: 'Lee', roles: ['ADMIN'] }),
    });
    const b = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'bo@example.com', firstName: 'Bo', lastName: 'Ng', roles: ['DEVELOPER'] }, visibleApps(appId)),
    });
    expect([a.status, b.status]).toEqual([201, 201]);
    const expected = [
      invitationResource(a.body.data.id, {
        email: 'Ann.Lee@Example.com',
        firstName: 'Ann',
        lastName: 'Lee',
        roles: ['ADMIN'],
        allAppsVisible: true,
        provisioningAllowed: true,
        expirationDate: expiry,
      }),
      invitationResource(b.body.data.id, {
        email: 'bo@example.com',
        firstName: 'Bo',
        lastName: 'Ng',
        roles: ['DEVELOPER'],
        allAppsVisible: false,
        provisioningAllowed: false,
        expirationDate: expiry,
      }),
    ].sort((x, y) => (x.id < y.id ? -1 : 1));

    const r = await s.call('GET', '/v1/userInvitations');
    expect(r.status).toBe(200);
    expect(r.body).toEqual({ data: expected, links: { self: LIST }, meta: { paging: { total: 2, limit: 20 } } });
  });

  it('echoes the request in links.self with brackets, commas and @ percent-encoded', async () => {
    const r = await s.call('GET', '/v1/userInvitations?filter[email]=bo@example.com,x@y.z&sort=-lastName,email&limit=5');
    expect(r.status).toBe(200);
    expect(r.body.links).toEqual({
      self: `${LIST}?filter%5Bemail%5D=bo%40example.com%2Cx%40y.z&sort=-lastName%2Cemail&limit=5`,
    });
    expect(r.body.meta).toEqual({ paging: { total: 1, limit: 5 } });
  });

  it('answers raw and percent-encoded parameter names alike', async () => {
    const raw = await fetch(`${s.baseUrl}/v1/userInvitations?filter[email]=BO@example.com&fields[userInvitations]=email`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    const encoded = await fetch(`${s.baseUrl}/v1/userInvitations?filter%5Bemail%5D=BO%40example.com&fields%5BuserInvitations%5D=email`, {
      headers: { authorization: `Bearer ${s.adminToken}` },
    });
    expect([raw.status, encoded.status]).toEqual([200, 200]);
    const rawBody = await raw.json();
    const encodedBody = await encoded.json();
    expect(rawBody).toEqual(encodedBody);
    expect(rawBody.data).toHaveLength(1);
    expect(rawBody.data[0].attributes).toEqual({ email: 'bo@example.com' });
    expect(rawBody.links.self).toBe(`${LIST}?filter%5Bemail%5D=BO%40example.com&fields%5BuserInvitations%5D=email`);
    // the same through the spec-checking client
    const checked = await s.call('GET', '/v1/userInvitations?filter%5Bemail%5D=bo%40example.com');
    expect(checked.body.data).toHaveLength(1);
  });

  it('keeps + literally in a filter value and encodes it in links', async () => {
    await create(s, { email: 'dave+test@example.com', lastName: 'Plus' });
    const r = await s.call('GET', '/v1/userInvitations?filter[email]=dave+test@example.com');
    expect(r.status).toBe(200);
    expect(r.body.data.map((d: { attributes: { email: string } }) => d.attributes.email)).toEqual(['dave+test@example.com']);
    expect(r.body.links.self).toBe(`${LIST}?filter%5Bemail%5D=dave%2Btest%40example.com`);
    const encoded = await s.call('GET', '/v1/userInvitations?filter%5Bemail%5D=dave%2Btest%40example.com');
    expect(ids(encoded)).toEqual(ids(r));
  });
});

describe('GET /v1/userInvitations: limit', () => {
  const s = useTestServer();
  const all: string[] = [];
  beforeAll(async () => {
    for (let i = 0; i < 205; i++) {
      const inv = await create(s, { email: `bulk${String(i).padStart(3, '0')}@example.com`, lastName: `Bulk${i % 7}` });
      all.push(inv.id);
    }
    all.sort();
  });

  it('defaults to 20 and puts limit=20 in links.next', async () => {
    const r = await s.call('GET', '/v1/userInvitations');
    expect(r.status).toBe(200);
    expect(ids(r)).toEqual(all.slice(0, 20));
    expect(r.body.meta).toEqual({ paging: { total: 205, limit: 20 } });
    expect(r.body.links.self).toBe(LIST);
    expect(r.body.links.next).toMatch(new RegExp(`^${LIST.replace(/\./g, '\\.')}\\?cursor=[A-Za-z0-9_.-]+&limit=20$`));
  });

  it('takes 200 at most in one page and ends with a page without next', async () => {
    const first = await s.call('GET', '/v1/userInvitations?limit=200');
    expect(ids(first)).toEqual(all.slice(0, 200));
    expect(first.body.meta).toEqual({ paging: { total: 205, limit: 200 } });
    expect(first.body.links.next).toMatch(/\?cursor=[^&]+&limit=200$/);
    const second = await s.call('GET', local(first.body.links.next));
    expect(ids(second)).toEqual(all.slice(200));
    expect(second.body.links).toEqual({ self: first.body.links.next });
    expect(second.body.meta).toEqual({ paging: { total: 205, limit: 200 } });
  });

  it('has no next link when the page is exactly the rest', async () => {
    const r = await s.call('GET', `/v1/userInvitations?limit=200`);
    const rest = await s.call('GET', `${local(r.body.links.next).replace('limit=200', 'limit=5')}`);
    expect(ids(rest)).toEqual(all.slice(200, 205));
    expect(rest.body.links.next).toBeUndefined();
  });

  it('limit=1 walks every row once', async () => {
    const w = await walk(s, '/v1/userInvitations?limit=1');
    expect(w.ids).toEqual(all);
    expect(w.pages).toHaveLength(205);
    expect(w.pages[204]!.body.links.next).toBeUndefined();
  });

  it.each([
    ['0', '0'],
    ['201', '201'],
    ['-1', '-1'],
    ['abc', 'abc'],
    ['1.5', '1.5'],
    ['', ''],
    ['%2B5', '+5'],
  ])('rejects limit=%s', async (raw, shown) => {
    const r = await s.call('GET', `/v1/userInvitations?limit=${raw}`);
    expect(r.status).toBe(400);
    expect(r.body).toEqual({
      errors: [invalidParameter('limit', `The value '${shown}' is not valid for 'limit'; it must be an integer from 1 to 200`)],
    });
  });

  it('rejects a repeated limit', async () => {
    const r = await s.call('GET', '/v1/userInvitations?limit=5&limit=5');
    expect(r.status).toBe(400);
    expect(r.body).toEqual({ errors: [invalidParameter('limit', "The parameter 'limit' can only be given once")] });
  });

  it('accepts limit 200 and 1 at the bounds', async () => {
    expect((await s.call('GET', '/v1/userInvitations?limit=200')).body.meta.paging.limit).toBe(200);
    expect(ids(await s.call('GET', '/v1/userInvitations?limit=1'))).toEqual(all.slice(0, 1));
  });

  it.each([
    ['0', '0'],
    ['51', '51'],
    ['x', 'x'],
  ])('rejects limit[visibleApps]=%s on the list and on one invitation', async (raw, shown) => {
    const detail = `The value '${shown}' is not valid for 'limit[visibleApps]'; it must be an integer from 1 to 50`;
    const list = await s.call('GET', `/v1/userInvitations?include=visibleApps&limit[visibleApps]=${raw}`);
    expect(list.status).toBe(400);
    expect(list.body).toEqual({ errors: [invalidParameter('limit[visibleApps]', detail)] });
    const one = await s.call('GET', `/v1/userInvitations/${all[0]}?include=visibleApps&limit%5BvisibleApps%5D=${raw}`);
    expect(one.status).toBe(400);
    expect(one.body).toEqual({ errors: [invalidParameter('limit[visibleApps]', detail)] });
  });

  it('accepts limit[visibleApps] 1 and 50', async () => {
    const one = await s.call('GET', '/v1/userInvitations?include=visibleApps&limit[visibleApps]=1&limit=1');
    expect(one.status).toBe(200);
    expect(one.body.data[0].relationships.visibleApps.meta).toEqual({ paging: { total: 0, limit: 1 } });
    const fifty = await s.call('GET', `/v1/userInvitations/${all[0]}?include=visibleApps&limit[visibleApps]=50`);
    expect(fifty.status).toBe(200);
    expect(fifty.body.data.relationships.visibleApps.meta).toEqual({ paging: { total: 0, limit: 50 } });
  });
});

describe('GET /v1/userInvitations: following links.next under every sort', () => {
  const s = useTestServer();
  interface Row {
    id: string;
    email: string;
    lastName: string;
  }
  const rows: Row[] = [];
  // duplicated last names so that ties (and the id tie-breaker) matter; emails in no particular order
  const lastNames = ['Baker', 'Adams', 'Clark', 'Baker', 'adams', 'Diaz', 'Baker', 'Clark', 'Evans', 'Adams', 'Baker', 'Fox', 'Diaz'];
  const locals = [
    'mia',
    'zoe',
    'ava',
    'liam',
    'noah',
    'emma',
    'olga',
    'kai',
    'ivy',
    'ben',
    'cy',
    'tom',
    'uma',
    'rex',
    'dan',
    'eli',
    'fay',
    'gus',
    'hal',
    'jon',
    'pat',
    'quin',
    'sam',
  ];

  beforeAll(async () => {
    for (const [i, name] of locals.entries()) {
      const lastName = lastNames[i % lastNames.length]!;
      const inv = await create(s, { email: `${name}@example.com`, lastName });
      rows.push({ id: inv.id, email: inv.email, lastName });
    }
  });

  function expectedOrder(sort: string): string[] {
    const keys = sort === '' ? [] : sort.split(',');
    const value = (r: Row, field: string) => (field === 'email' ? r.email : r.lastName).toLowerCase();
    return [...rows]
      .sort((x, y) => {
        for (const k of keys) {
          const desc = k.startsWith('-');
          const field = desc ? k.slice(1) : k;
          const a = value(x, field);
          const b = value(y, field);
          if (a !== b) return (a < b ? -1 : 1) * (desc ? -1 : 1);
        }
        return x.id < y.id ? -1 : 1;
      })
      .map((r) => r.id);
  }

  it.each([
    '',
    'email',
    '-email',
    'lastName',
    '-lastName',
    'lastName,email',
    'lastName,-email',
    '-lastName,email',
    '-lastName,-email',
    'email,lastName',
  ])("sort='%s' walks every row exactly once in order", async (sort) => {
    const path = sort === '' ? '/v1/userInvitations?limit=4' : `/v1/userInvitations?sort=${sort}&limit=4`;
    const w = await walk(s, path);
    expect(w.ids).toEqual(expectedOrder(sort));
    expect(new Set(w.ids).size).toBe(rows.length);
    expect(w.pages).toHaveLength(Math.ceil(rows.length / 4));
    const encodedSort = encodeURIComponent(sort);
    w.pages.forEach((p, i) => {
      expect(p.body.meta).toEqual({ paging: { total: rows.length, limit: 4 } });
      if (i === 0) expect(p.body.links.self).toBe(`${PUBLIC_URL}${path.replace(sort, encodedSort)}`);
      else expect(p.body.links.self).toBe(w.pages[i - 1]!.body.links.next);
      if (i < w.pages.length - 1) {
        const next = p.body.links.next as string;
        const sortPart = sort === '' ? '' : `&sort=${encodedSort.replace(/-/g, '\\-')}`;
        expect(next).toMatch(new RegExp(`^${LIST.replace(/\./g, '\\.')}\\?cursor=[A-Za-z0-9_.-]+${sortPart}&limit=4$`));
      } else {
        expect(p.body.links).toEqual({ self: p.body.links.self });
      }
    });
  });

  it('breaks ties by id ascending under a descending last name', async () => {
    const w = await walk(s, '/v1/userInvitations?sort=-lastName&limit=2');
    const bakers = rows
      .filter((r) => r.lastName === 'Baker')
      .map((r) => r.id)
      .sort();
    expect(bakers.length).toBeGreaterThan(2);
    const positions = bakers.map((id) => w.ids.indexOf(id));
    expect(positions).toEqual([...positions].sort((a, b) => a - b));
    // consecutive: no other last name between the Bakers
    expect(positions[positions.length - 1]! - positions[0]!).toBe(bakers.length - 1);
    expect(w.ids).toEqual(expectedOrder('-lastName'));
  });

  it('keeps cursor first and the other parameters in request order, with limit where it was given', async () => {
    const r = await s.call('GET', '/v1/userInvitations?limit=3&filter[roles]=DEVELOPER&sort=email&fields[userInvitations]=email');
    expect(r.status).toBe(200);
    const cursor = cursorOf(r.body.links.next);
    expect(r.body.links.next).toBe(
      `${LIST}?cursor=${cursor}&limit=3&filter%5Broles%5D=DEVELOPER&sort=email&fields%5BuserInvitations%5D=email`,
    );
    const without = await s.call('GET', '/v1/userInvitations?sort=email&fields[userInvitations]=email');
    expect(without.body.links.next).toBe(
      `${LIST}?cursor=${cursorOf(without.body.links.next)}&sort=email&fields%5BuserInvitations%5D=email&limit=20`,
    );
    // a next page keeps the fields and filters of the first request
    const second = await s.call('GET', local(r.body.links.next));
    expect(second.body.data).toHaveLength(3);
    for (const d of second.body.data) expect(Object.keys(d.attributes)).toEqual(['email']);
    expect(ids(second)).toEqual(expectedOrder('email').slice(3, 6));
  });

  it('accepts a percent-encoded cursor name and value', async () => {
    const r = await s.call('GET', '/v1/userInvitations?sort=lastName&limit=5');
    const cursor = cursorOf(r.body.links.next);
    const encoded = await s.call(
      'GET',
      `/v1/userInvitations?%63ursor=${encodeURIComponent(cursor).replace(/\./g, '%2E')}&sort=lastName&limit=5`,
    );
    expect(encoded.status).toBe(200);
    expect(ids(encoded)).toEqual(expectedOrder('lastName').slice(5, 10));
  });

  describe('cursor errors', () => {
    let cursor = '';
    beforeAll(async () => {
      const r = await s.call('GET', '/v1/userInvitations?sort=lastName&limit=3');
      cursor = cursorOf(r.body.links.next);
    });

    const bad = async (query: string, shown: string) => {
      const r = await s.call('GET', `/v1/userInvitations?${query}`);
      expect(r.status).toBe(400);
      // the detail quotes at most 100 characters of the cursor
      expect(r.body).toEqual({ errors: [invalidParameter('cursor', `The cursor '${shown.slice(0, 100)}' is not valid for this request`)] });
    };

    it('rejects an altered signature', async () => {
      const last = cursor.slice(-1);
      const forged = cursor.slice(0, -1) + (last === 'A' ? 'B' : 'A');
      await bad(`cursor=${forged}&sort=lastName&limit=3`, forged);
    });

    it('rejects an altered payload under the original signature', async () => {
      const [payload, mac] = cursor.split('.') as [string, string];
      const decoded = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8')) as [string, string[], string];
      expect(decoded[0]).toMatch(/lastName$/);
      const altered = Buffer.from(JSON.stringify([decoded[0], ['a'], decoded[2]])).toString('base64url');
      await bad(`cursor=${altered}.${mac}&sort=lastName&limit=3`, `${altered}.${mac}`);
    });

    it('rejects a cursor forged without the secret', async () => {
      const payload = Buffer.from(JSON.stringify(['', [], '00000000-0000-0000-0000-000000000000'])).toString('base64url');
      const forged = `${payload}.AAAAAAAAAAAAAAAA`;
      await bad(`cursor=${forged}`, forged);
      // the old offset format is not accepted either
      await bad('cursor=eyJvZmZzZXQiOiIyMCJ9', 'eyJvZmZzZXQiOiIyMCJ9');
    });

    it.each(['garbage', 'abc.def', '.', 'x.', '...'])('rejects the malformed cursor %s', async (c) => {
      await bad(`cursor=${encodeURIComponent(c)}`, c);
    });

    it('rejects an empty or repeated cursor', async () => {
      const empty = await s.call('GET', '/v1/userInvitations?cursor=');
      expect(empty.status).toBe(400);
      expect(empty.body).toEqual({ errors: [invalidParameter('cursor', "The parameter 'cursor' must not be empty")] });
      const twice = await s.call('GET', `/v1/userInvitations?cursor=${cursor}&cursor=${cursor}&sort=lastName`);
      expect(twice.status).toBe(400);
      expect(twice.body).toEqual({ errors: [invalidParameter('cursor', "The parameter 'cursor' can only be given once")] });
    });

    it('rejects a cursor used with a different sort', async () => {
      for (const sort of ['', 'sort=-lastName', 'sort=email', 'sort=lastName,email']) {
        await bad(`cursor=${cursor}&${sort}`, cursor);
      }
      const byDefault = await s.call('GET', '/v1/userInvitations?limit=3');
      const plain = cursorOf(byDefault.body.links.next);
      await bad(`cursor=${plain}&sort=email`, plain);
    });

    it('rejects a cursor of another collection', async () => {
      await s.createApp('Cursor One');
      await s.createApp('Cursor Two');
      const apps = await s.call('GET', '/v1/apps?limit=1');
      const appCursor = cursorOf(apps.body.links.next);
      await bad(`cursor=${appCursor}`, appCursor);
      await bad(`cursor=${appCursor}&limit=3`, appCursor);
    });

    it('accepts a cursor anywhere in the query and puts it first in links.next', async () => {
      const r = await s.call('GET', `/v1/userInvitations?sort=lastName&cursor=${cursor}&limit=3`);
      expect(r.status).toBe(200);
      expect(r.body.links.self).toBe(`${LIST}?sort=lastName&cursor=${cursor}&limit=3`);
      expect(ids(r)).toEqual(expectedOrder('lastName').slice(3, 6));
      const next = cursorOf(r.body.links.next);
      expect(r.body.links.next).toBe(`${LIST}?cursor=${next}&sort=lastName&limit=3`);
      expect(next).not.toBe(cursor);
    });

    it('accepts the same cursor with its own sort', async () => {
      const r = await s.call('GET', `/v1/userInvitations?cursor=${cursor}&sort=lastName&limit=3`);
      expect(r.status).toBe(200);
      expect(ids(r)).toEqual(expectedOrder('lastName').slice(3, 6));
    });
  });
});

describe('GET /v1/userInvitations: a list that changes while it is paged', () => {
  const s = useTestServer();

  it.each(['', 'lastName', '-lastName', 'email', '-email'])('never returns a row twice (sort=%s)', async (sort) => {
    // clean slate for each sort
    for (const id of ids(await s.call('GET', '/v1/userInvitations?limit=200'))) {
      expect((await s.call('DELETE', `/v1/userInvitations/${id}`)).status).toBe(204);
    }
    const stable: string[] = [];
    for (let i = 0; i < 12; i++) {
      stable.push((await create(s, { email: `st${i}-${sort}@example.com`, lastName: `Name${i % 4}` })).id);
    }
    const doomed = (await create(s, { email: `doomed-${sort}@example.com`, lastName: 'Zz' })).id;
    const seen: string[] = [];
    let doomedGone = false;
    let next: string | undefined = `/v1/userInvitations?limit=3${sort === '' ? '' : `&sort=${sort}`}`;
    let round = 0;
    while (next !== undefined) {
      const r: ApiResponse = await s.call('GET', next);
      expect(r.status).toBe(200);
      seen.push(...ids(r));
      // churn between pages: new rows on both sides of the cursor, and deletions of seen and unseen rows
      round++;
      await create(s, { email: `a${round}-${sort}@example.com`, lastName: 'Aa' });
      await create(s, { email: `z${round}-${sort}@example.com`, lastName: 'Zy' });
      if (round === 1) {
        const seenOne = seen.find((id) => stable.includes(id))!;
        expect((await s.call('DELETE', `/v1/userInvitations/${seenOne}`)).status).toBe(204);
        stable.splice(stable.indexOf(seenOne), 1);
        if (!seen.includes(doomed)) {
          expect((await s.call('DELETE', `/v1/userInvitations/${doomed}`)).status).toBe(204);
          doomedGone = true;
        }
      }
      next = r.body.links.next === undefined ? undefined : local(r.body.links.next);
      expect(round).toBeLessThan(100);
    }
    expect(new Set(seen).size).toBe(seen.length);
    for (const id of stable) expect(seen).toContain(id);
    if (doomedGone) expect(seen).not.toContain(doomed);
  });
});

describe('GET /v1/userInvitations: filters', () => {
  const s = useTestServer();
  let app1 = '';
  let app2 = '';
  let app3 = '';
  const inv: Record<string, string> = {};
  beforeAll(async () => {
    app1 = await s.createApp('One', 'com.example.one');
    app2 = await s.createApp('Two', 'com.example.two');
    app3 = await s.createApp('Three', 'com.example.three');
    inv.alice = (await create(s, { email: 'alice@example.com', lastName: 'A' }, [app1, app2])).id;
    inv.bob = (await create(s, { email: 'Bob.Smith@Example.com', lastName: 'B', roles: ['ADMIN'] })).id;
    inv.carol = (await create(s, { email: 'carol@example.org', lastName: 'C', roles: ['MARKETING', 'CREATE_APPS'] }, [app2])).id;
    inv.dave = (await create(s, { email: 'dave@example.com', lastName: 'D', roles: ['DEVELOPER', 'CREATE_APPS'] })).id;
    inv.malice = (await create(s, { email: 'malice@example.com', lastName: 'M', roles: ['SALES'] }, [app3])).id;
  });

  const sorted = (...names: string[]) => names.map((n) => inv[n]!).sort();

  async function list(query: string) {
    const r = await s.call('GET', `/v1/userInvitations?${query}`);
    expect(r.status, r.text).toBe(200);
    expect(r.body.meta.paging.total).toBe(r.body.data.length);
    return ids(r);
  }

  it('filter[email] matches the whole address case-insensitively and keeps the stored case', async () => {
    expect(await list('filter[email]=bob.smith@example.com')).toEqual(sorted('bob'));
    expect(await list('filter[email]=ALICE@EXAMPLE.COM')).toEqual(sorted('alice'));
    const r = await s.call('GET', '/v1/userInvitations?filter[email]=BOB.SMITH@EXAMPLE.COM');
    expect(r.body.data[0].attributes.email).toBe('Bob.Smith@Example.com');
  });

  it('filter[email] does not match parts of addresses', async () => {
    expect(await list('filter[email]=alice')).toEqual([]);
    expect(await list('filter[email]=example.com')).toEqual([]);
    expect(await list('filter[email]=lice@example.com')).toEqual([]);
    expect(await list('filter[email]=alice@example.co')).toEqual([]);
    expect(await list('filter[email]=%25@example.com')).toEqual([]);
    expect(await list('filter[email]=_lice@example.com')).toEqual([]);
  });

  it('values within one filter are OR', async () => {
    expect(await list('filter[email]=alice@example.com,CAROL@example.org,nobody@example.com')).toEqual(sorted('alice', 'carol'));
    expect(await list('filter[roles]=ADMIN,MARKETING')).toEqual(sorted('bob', 'carol'));
    expect(await list(`filter[visibleApps]=${app1},${app3}`)).toEqual(sorted('alice', 'malice'));
  });

  it('an invitation matching several values of a filter is listed and counted once', async () => {
    expect(await list(`filter[visibleApps]=${app1},${app2}`)).toEqual(sorted('alice', 'carol'));
    expect(await list('filter[roles]=DEVELOPER,CREATE_APPS,MARKETING')).toEqual(sorted('alice', 'carol', 'dave'));
    expect(await list('filter[email]=alice@example.com,ALICE@example.com')).toEqual(sorted('alice'));
    const w = await walk(
      s,
      `/v1/userInvitations?filter[visibleApps]=${app1},${app2},${app3}&filter[roles]=DEVELOPER,SALES,MARKETING,CREATE_APPS&limit=1`,
    );
    expect(w.ids).toEqual(sorted('alice', 'carol', 'malice'));
    expect(w.pages.map((p) => p.body.meta.paging.total)).toEqual([3, 3, 3]);
  });

  it('a repeated filter adds its values', async () => {
    expect(await list('filter[email]=alice@example.com&filter[email]=dave@example.com')).toEqual(sorted('alice', 'dave'));
  });

  it('filter[roles] matches any held role, add-ons included', async () => {
    expect(await list('filter[roles]=DEVELOPER')).toEqual(sorted('alice', 'dave'));
    expect(await list('filter[roles]=CREATE_APPS')).toEqual(sorted('carol', 'dave'));
    expect(await list('filter[roles]=FINANCE')).toEqual([]);
  });

  it('filters combine with AND', async () => {
    expect(await list(`filter[roles]=DEVELOPER&filter[visibleApps]=${app1}`)).toEqual(sorted('alice'));
    expect(await list(`filter[roles]=CREATE_APPS&filter[visibleApps]=${app2}`)).toEqual(sorted('carol'));
    expect(await list('filter[email]=alice@example.com,carol@example.org&filter[roles]=MARKETING')).toEqual(sorted('carol'));
    expect(await list('filter[email]=bob.smith@example.com&filter[roles]=DEVELOPER')).toEqual([]);
    expect(await list(`filter[email]=alice@example.com&filter[roles]=DEVELOPER&filter[visibleApps]=${app2}`)).toEqual(sorted('alice'));
  });

  it('filter[visibleApps] takes app ids; a bundle id or an unknown id matches nothing', async () => {
    expect(await list(`filter[visibleApps]=${app2}`)).toEqual(sorted('alice', 'carol'));
    const byBundle = await s.call('GET', '/v1/userInvitations?filter[visibleApps]=com.example.two');
    expect(byBundle.status).toBe(200);
    expect(byBundle.body).toEqual({
      data: [],
      links: { self: `${LIST}?filter%5BvisibleApps%5D=com.example.two` },
      meta: { paging: { total: 0, limit: 20 } },
    });
    expect(await list('filter[visibleApps]=1234567890')).toEqual([]);
  });

  it('filters and sort together page through the matches only', async () => {
    const w = await walk(s, '/v1/userInvitations?filter[roles]=DEVELOPER,SALES,ADMIN&sort=-email&limit=2');
    expect(w.ids).toEqual([inv.malice, inv.dave, inv.bob, inv.alice]);
    expect(w.pages.map((p) => p.body.meta.paging)).toEqual([
      { total: 4, limit: 2 },
      { total: 4, limit: 2 },
    ]);
    expect(w.pages[0]!.body.links.next).toContain('&filter%5Broles%5D=DEVELOPER%2CSALES%2CADMIN&sort=-email&limit=2');
  });
});

describe('GET /v1/userInvitations: parameter errors', () => {
  const s = useTestServer();
  let id = '';
  beforeAll(async () => {
    id = (await create(s, { email: 'one@example.com', lastName: 'One' })).id;
  });

  async function errorsOf(path: string) {
    const r = await s.call('GET', path);
    expect(r.status, r.text).toBe(400);
    return r.body;
  }

  it('an unknown filter key is INVALID with Apple wording', async () => {
    expect(await errorsOf('/v1/userInvitations?filter[emaill]=a@b.c')).toEqual({
      errors: [invalidParameter('filter[emaill]', "'emaill' is not a valid filter type")],
    });
    expect(await errorsOf('/v1/userInvitations?filter%5Busername%5D=a%40b.c')).toEqual({
      errors: [invalidParameter('filter[username]', "'username' is not a valid filter type")],
    });
  });

  it('an unknown parameter is ILLEGAL', async () => {
    expect(await errorsOf('/v1/userInvitations?foo=1')).toEqual({ errors: [illegalParameter('foo')] });
    expect(await errorsOf('/v1/userInvitations?exists[visibleApps]=true')).toEqual({ errors: [illegalParameter('exists[visibleApps]')] });
  });

  it('a parameter of other endpoints is ILLEGAL here', async () => {
    expect(await errorsOf('/v1/userInvitations?fields[users]=username')).toEqual({ errors: [illegalParameter('fields[users]')] });
    expect(await errorsOf('/v1/userInvitations?limit[builds]=5')).toEqual({ errors: [illegalParameter('limit[builds]')] });
  });

  it.each([
    ['sort', `/v1/userInvitations/ID?sort=email`],
    ['limit', `/v1/userInvitations/ID?limit=5`],
    ['cursor', `/v1/userInvitations/ID?cursor=abc.def`],
    ['filter[email]', `/v1/userInvitations/ID?filter[email]=one@example.com`],
    ['foo', `/v1/userInvitations/ID?foo=1`],
  ])("GET /v1/userInvitations/{id} does not take '%s'", async (name, path) => {
    expect(await errorsOf(path.replace('ID', id))).toEqual({ errors: [illegalParameter(name)] });
  });

  it('the detail of an illegal sort follows Apple', async () => {
    const body = await errorsOf(`/v1/userInvitations/${id}?sort=email`);
    expect(body.errors[0].detail).toBe("The parameter 'sort' can not be used with this request");
  });

  it('bad include, fields, sort and role values are INVALID', async () => {
    expect(await errorsOf('/v1/userInvitations?include=x')).toEqual({
      errors: [invalidParameter('include', "'x' is not a valid relationship name")],
    });
    expect(await errorsOf(`/v1/userInvitations/${id}?include=apps`)).toEqual({
      errors: [invalidParameter('include', "'apps' is not a valid relationship name")],
    });
    expect(await errorsOf('/v1/userInvitations?fields[userInvitations]=email,nickname')).toEqual({
      errors: [invalidParameter('fields[userInvitations]', "'nickname' is not a valid field name for 'fields[userInvitations]'")],
    });
    expect(await errorsOf(`/v1/userInvitations/${id}?fields[apps]=colour`)).toEqual({
      errors: [invalidParameter('fields[apps]', "'colour' is not a valid field name for 'fields[apps]'")],
    });
    expect(await errorsOf('/v1/userInvitations?sort=firstName')).toEqual({
      errors: [invalidParameter('sort', "'firstName' is not a valid sort expression")],
    });
    expect(await errorsOf('/v1/userInvitations?sort=username')).toEqual({
      errors: [invalidParameter('sort', "'username' is not a valid sort expression")],
    });
    expect(await errorsOf('/v1/userInvitations?sort=%2Bemail')).toEqual({
      errors: [invalidParameter('sort', "'+email' is not a valid sort expression")],
    });
    expect(await errorsOf('/v1/userInvitations?filter[roles]=KING')).toEqual({
      errors: [invalidParameter('filter[roles]', "'KING' is not a valid value for 'filter[roles]'")],
    });
    expect(await errorsOf('/v1/userInvitations?filter[roles]=admin')).toEqual({
      errors: [invalidParameter('filter[roles]', "'admin' is not a valid value for 'filter[roles]'")],
    });
  });

  it('a sort key given twice is INVALID', async () => {
    const body = await errorsOf('/v1/userInvitations?sort=email,-email');
    expect(body.errors).toEqual([invalidParameter('sort', expect.any(String))]);
  });

  it('empty values are INVALID', async () => {
    for (const name of ['include', 'sort', 'filter[email]', 'fields[userInvitations]']) {
      const body = await errorsOf(`/v1/userInvitations?${name}=`);
      expect(body.errors).toEqual([invalidParameter(name, expect.any(String))]);
    }
  });

  it('reports several bad parameters together, in request order', async () => {
    const body = await errorsOf('/v1/userInvitations?foo=1&limit=0&sort=bogus&filter[emaill]=x&include=x&filter[roles]=KING&bar');
    expect(body).toEqual({
      errors: [
        illegalParameter('foo'),
        invalidParameter('limit', "The value '0' is not valid for 'limit'; it must be an integer from 1 to 200"),
        invalidParameter('sort', "'bogus' is not a valid sort expression"),
        invalidParameter('filter[emaill]', "'emaill' is not a valid filter type"),
        invalidParameter('include', "'x' is not a valid relationship name"),
        invalidParameter('filter[roles]', "'KING' is not a valid value for 'filter[roles]'"),
        illegalParameter('bar'),
      ],
    });
  });

  it('reports several bad values of one parameter', async () => {
    const body = await errorsOf('/v1/userInvitations?filter[roles]=KING,DEVELOPER,QUEEN');
    expect(body).toEqual({
      errors: [
        invalidParameter('filter[roles]', "'KING' is not a valid value for 'filter[roles]'"),
        invalidParameter('filter[roles]', "'QUEEN' is not a valid value for 'filter[roles]'"),
      ],
    });
  });
});

describe('GET /v1/userInvitations: expired invitations', () => {
  const s = useTestServer();

  it('leave the list and its total the moment they expire', async () => {
    const reader = await s.keyWithRole('DEVELOPER');
    const tokenNow = () => s.token({ privateKeyPem: reader.privateKeyPem, keyId: reader.keyId, issuerId: s.issuerId });
    const early: string[] = [];
    for (let i = 0; i < 3; i++) early.push((await create(s, { email: `early${i}@example.com`, lastName: `E${i}` })).id);
    s.clock.advance(60 * 60 * 1000);
    const late = (await create(s, { email: 'late@example.com', lastName: 'L' })).id;

    s.clock.advance(HOURS_72 - 60 * 60 * 1000 - 1);
    let token = await tokenNow();
    const before = await s.call('GET', '/v1/userInvitations?limit=2', { token });
    expect(before.body.meta).toEqual({ paging: { total: 4, limit: 2 } });

    s.clock.advance(1);
    token = await tokenNow();
    const after = await walk(s, '/v1/userInvitations?limit=2', token);
    expect(after.ids).toEqual([late]);
    expect(after.pages[0]!.body.meta).toEqual({ paging: { total: 1, limit: 2 } });
    const filtered = await s.call('GET', '/v1/userInvitations?filter[email]=early0@example.com,late@example.com', { token });
    expect(ids(filtered)).toEqual([late]);
    expect(filtered.body.meta.paging.total).toBe(1);
    const byLastName = await s.call('GET', '/v1/userInvitations?sort=lastName', { token });
    expect(ids(byLastName)).toEqual([late]);

    s.clock.advance(60 * 60 * 1000);
    token = await tokenNow();
    const none = await s.call('GET', '/v1/userInvitations', { token });
    expect(none.body).toEqual({ data: [], links: { self: LIST }, meta: { paging: { total: 0, limit: 20 } } });
  });

  it('a cursor taken before an expiry goes on without the expired rows', async () => {
    const reader = await s.keyWithRole('DEVELOPER');
    const tokenNow = () => s.token({ privateKeyPem: reader.privateKeyPem, keyId: reader.keyId, issuerId: s.issuerId });
    const first: string[] = [];
    for (let i = 0; i < 4; i++) first.push((await create(s, { email: `w1-${i}@example.com`, lastName: 'Wave' })).id);
    s.clock.advance(60 * 1000);
    const second: string[] = [];
    for (let i = 0; i < 4; i++) second.push((await create(s, { email: `w2-${i}@example.com`, lastName: 'Wave' })).id);
    const page1 = await s.call('GET', '/v1/userInvitations?sort=email&limit=2', { token: await tokenNow() });
    expect(ids(page1)).toEqual(first.slice(0, 2));
    s.clock.advance(HOURS_72 - 60 * 1000);
    const rest = await walk(s, local(page1.body.links.next), await tokenNow());
    expect(rest.ids).toEqual(second);
    expect(rest.pages[0]!.body.meta.paging.total).toBe(4);
  });
});
