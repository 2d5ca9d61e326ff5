/**
 * The published npm client `appstore-connect-sdk` (generated from Apple's OpenAPI document),
 * used unmodified against a running asc-access server by its base URL, with a key the server
 * issued: user invitations, and sandbox testers (listed, patched, their purchase history cleared,
 * every body the client sent and got checked against Apple's schemas, the client's own and ours). The client mints its own ES256 token (no `iat`), so the server here runs on real time.
 *
 * Safety net: the client falls back to Apple's real host when a call forgets `client`, so
 * globalThis.fetch is wrapped for the whole file: any URL that is not 127.0.0.1 throws and is
 * recorded, and the file asserts that nothing was recorded.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createClient,
  type AppsWithoutIncludesResponse,
  type Client,
  type ErrorResponse,
  type UserInvitation,
  type UserInvitationsResponse,
  type UserInvitationVisibleAppsLinkagesResponse,
  userInvitationsCreateInstance,
  userInvitationsDeleteInstance,
  userInvitationsGetCollection,
  userInvitationsGetInstance,
  userInvitationsVisibleAppsGetToManyRelated,
  userInvitationsVisibleAppsGetToManyRelationship,
  zErrorResponse,
  sandboxTestersClearPurchaseHistoryRequestV2CreateInstance,
  sandboxTestersV2GetCollection,
  sandboxTestersV2UpdateInstance,
  type SandboxTestersV2Response,
  zSandboxTesterV2Response,
  zSandboxTesterV2UpdateRequest,
  zSandboxTestersClearPurchaseHistoryRequestV2CreateRequest,
  zSandboxTestersClearPurchaseHistoryRequestV2Response,
  zSandboxTestersV2Response,
} from 'appstore-connect-sdk';
import { ManualClock } from '../../src/clock.js';
import { PUBLIC_URL, startTestServer, type TestServer } from '../helpers/harness.js';
import { responseErrors, schemaErrors } from '../helpers/spec-validator.js';

/** The harness only takes a ManualClock; this one always reads the real time, as production does. */
class RealTimeClock extends ManualClock {
  override now(): Date {
    return new Date();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

// ---- fetch guard ----------------------------------------------------------------------------

const originalFetch = globalThis.fetch;
/** Non-local URLs something tried to fetch (must stay empty). */
const blocked: string[] = [];
/** Requests that went through the guard to the local server, with their Authorization header and body. */
const passed: Array<{ method: string; url: string; authorization: string | null; body?: string }> = [];

function urlOf(input: Parameters<typeof fetch>[0]): string {
  if (typeof input === 'string') return input;
  if (input instanceof URL) return input.href;
  return input.url;
}

const guardedFetch: typeof fetch = async (input, init) => {
  const url = urlOf(input);
  let host: string;
  try {
    host = new URL(url).hostname;
  } catch {
    host = '';
  }
  if (host !== '127.0.0.1') {
    blocked.push(url);
    throw new Error(`test fetch guard: refusing to contact ${url}`);
  }
  const request = input instanceof Request ? input : undefined;
  const body = request?.body ? await request.clone().text() : typeof init?.body === 'string' ? init.body : undefined;
  passed.push({
    method: init?.method ?? request?.method ?? 'GET',
    url,
    authorization: new Headers(init?.headers ?? request?.headers).get('authorization'),
    ...(body !== undefined ? { body } : {}),
  });
  return originalFetch(input, init);
};

// ---- helpers --------------------------------------------------------------------------------

/** Follows an absolute `links.next` verbatim: its path and query exactly as the server wrote them. */
async function getNext<T>(c: Client, next: string): Promise<{ data: T; status: number; url: string }> {
  const u = new URL(next);
  const { data, response } = await c.get<{ 200: T }, { [s: number]: ErrorResponse }, true>({
    url: u.pathname,
    query: {}, // a truthy object, or querySerializer is never called
    querySerializer: () => u.search.slice(1),
    security: [{ scheme: 'bearer', type: 'http' }],
    throwOnError: true,
  });
  return { data, status: response.status, url: response.url };
}

function decodeJwtPart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

interface Spec {
  email: string;
  roles: Array<'ADMIN' | 'FINANCE' | 'DEVELOPER' | 'MARKETING' | 'APP_MANAGER' | 'SALES'>;
  apps?: string[];
}

describe('published client appstore-connect-sdk against asc-access', () => {
  let s: TestServer;
  let client: Client;
  let keyId: string;
  let issuerId: string;
  const appIds: string[] = [];
  /** email -> invitation as created */
  const created = new Map<string, UserInvitation>();

  beforeAll(async () => {
    globalThis.fetch = guardedFetch;
    s = await startTestServer({ clock: new RealTimeClock() });
    const key = await s.services.keys.create({ name: 'sdk e2e', role: 'ADMIN' });
    keyId = key.key.id;
    issuerId = key.issuerId;
    client = createClient({ baseUrl: s.baseUrl, issuerId, privateKeyId: keyId, privateKey: key.privateKeyPem });
    for (const name of ['Alpha', 'Bravo', 'Charlie']) appIds.push(await s.createApp(name));
  });

  afterAll(async () => {
    globalThis.fetch = originalFetch;
    await s?.close();
    // the guard is gone now; fail loudly if anything tried to leave the machine
    expect(blocked).toEqual([]);
  });

  it('the fetch guard refuses non-local hosts (self-test) and lets local ones through', async () => {
    await expect(globalThis.fetch('https://api.appstoreconnect.apple.com/v1/apps')).rejects.toThrow(/fetch guard/);
    expect(blocked).toEqual(['https://api.appstoreconnect.apple.com/v1/apps']);
    blocked.length = 0;
    const health = await globalThis.fetch(`${s.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(passed.at(-1)?.url).toBe(`${s.baseUrl}/healthz`);
  });

  const specs: Spec[] = [
    { email: 'ada.admin@example.com', roles: ['ADMIN'] },
    { email: 'bob.dev@example.com', roles: ['DEVELOPER'], apps: ['0', '2'] },
    { email: 'cy.finance@example.com', roles: ['FINANCE'] },
    { email: 'dee.marketing@example.com', roles: ['MARKETING', 'SALES'], apps: ['1'] },
    { email: 'Eve.Manager@Example.com', roles: ['APP_MANAGER'] },
    { email: 'fay.dev@example.com', roles: ['DEVELOPER'], apps: ['0', '1', '2'] },
    { email: 'gus.sales@example.com', roles: ['SALES'] },
  ];

  it('creates invitations (201, Location, defaults) with a token it minted itself', async () => {
    for (const spec of specs) {
      const apps = (spec.apps ?? []).map((i) => appIds[Number(i)]!);
      const { data, error, response } = await userInvitationsCreateInstance({
        client,
        body: {
          data: {
            type: 'userInvitations',
            attributes: { email: spec.email, firstName: 'First', lastName: `Last ${spec.email}`, roles: spec.roles },
            ...(apps.length > 0 ? { relationships: { visibleApps: { data: apps.map((id) => ({ type: 'apps' as const, id })) } } } : {}),
          },
        },
      });
      expect(error, JSON.stringify(error)).toBeUndefined();
      expect(response.status).toBe(201);
      expect(response.headers.get('content-type')).toBe('application/json');
      const inv = data!.data;
      expect(inv.type).toBe('userInvitations');
      expect(inv.id).toMatch(UUID);
      expect(response.headers.get('location')).toBe(`${PUBLIC_URL}/v1/userInvitations/${inv.id}`);
      expect(inv.attributes?.email).toBe(spec.email);
      expect(inv.attributes?.roles).toEqual(spec.roles);
      expect(inv.attributes?.allAppsVisible).toBe(apps.length === 0);
      expect(inv.attributes?.provisioningAllowed).toBe(spec.roles.includes('ADMIN'));
      created.set(spec.email, inv);
    }
    expect(created.size).toBe(specs.length);

    // the token the client minted: ES256, our key id, issuer, audience; no iat (accepted anyway)
    const last = passed.filter((p) => p.method === 'POST').at(-1)!;
    const [header, payload] = last.authorization!.replace(/^Bearer /, '').split('.') as [string, string];
    expect(decodeJwtPart(header)).toEqual({ alg: 'ES256', kid: keyId, typ: 'JWT' });
    const claims = decodeJwtPart(payload);
    expect(Object.keys(claims).sort()).toEqual(['aud', 'exp', 'iss']);
    expect(claims).toMatchObject({ aud: 'appstoreconnect-v1', iss: issuerId });
  });

  it('lists page by page with limit=2, following links.next until it is absent', async () => {
    const first = await userInvitationsGetCollection({ client, query: { limit: 2 } });
    expect(first.error).toBeUndefined();
    let page: UserInvitationsResponse = first.data!;
    const seen: string[] = page.data.map((d) => d.id);
    let pages = 1;
    expect(page.meta?.paging.total).toBe(specs.length);
    expect(page.meta?.paging.limit).toBe(2);
    expect(page.data).toHaveLength(2);
    while (page.links.next) {
      expect(page.links.next.startsWith(`${PUBLIC_URL}/v1/userInvitations?cursor=`)).toBe(true);
      const next = await getNext<UserInvitationsResponse>(client, page.links.next);
      expect(next.status).toBe(200);
      page = next.data;
      expect(page.data.length).toBeGreaterThan(0);
      expect(page.data.length).toBeLessThanOrEqual(2);
      expect(page.meta?.paging.total).toBe(specs.length);
      seen.push(...page.data.map((d) => d.id));
      pages++;
      expect(pages).toBeLessThanOrEqual(specs.length); // no endless loop
    }
    expect(pages).toBe(Math.ceil(specs.length / 2));
    expect(new Set(seen).size).toBe(seen.length); // each exactly once
    expect(seen.sort()).toEqual([...created.values()].map((i) => i.id).sort());
  });

  it('pages a sorted, sparse, included list (the client sends raw brackets and commas; the links encode them)', async () => {
    const first = await userInvitationsGetCollection({
      client,
      query: {
        limit: 2,
        sort: ['-email'],
        include: ['visibleApps'],
        'fields[userInvitations]': ['email', 'visibleApps'],
        'fields[apps]': ['name'],
      },
    });
    expect(first.error).toBeUndefined();
    const requested = passed.at(-1)!.url;
    expect(requested).toContain('fields[userInvitations]=email,visibleApps');
    let page = first.data!;
    const emails: string[] = [];
    const includedIds = new Set<string>();
    for (;;) {
      for (const d of page.data) {
        expect(Object.keys(d.attributes ?? {})).toEqual(['email']);
        emails.push(d.attributes!.email!);
        const rel = d.relationships?.visibleApps;
        expect(rel?.data?.map((x) => x.id)).toEqual(
          (specs.find((sp) => sp.email === d.attributes!.email)!.apps ?? []).map((i) => appIds[Number(i)]!).sort(),
        );
      }
      for (const inc of page.included ?? []) {
        expect(inc.type).toBe('apps');
        expect(Object.keys(inc.attributes ?? {})).toEqual(['name']);
        includedIds.add(inc.id);
      }
      if (!page.links.next) break;
      expect(page.links.next).toContain('fields%5BuserInvitations%5D=email%2CvisibleApps');
      page = (await getNext<UserInvitationsResponse>(client, page.links.next)).data;
    }
    const expected = specs.map((sp) => sp.email).sort((a, b) => (a.toLowerCase() < b.toLowerCase() ? 1 : -1));
    expect(emails).toEqual(expected);
    expect([...includedIds].sort()).toEqual([...appIds].sort());
  });

  it('reads one invitation with include=visibleApps: relationship data and each app once in included', async () => {
    const inv = created.get('fay.dev@example.com')!;
    const { data, error, response } = await userInvitationsGetInstance({
      client,
      path: { id: inv.id },
      query: { include: ['visibleApps'], 'fields[apps]': ['name', 'bundleId'], 'limit[visibleApps]': 5 },
    });
    expect(error).toBeUndefined();
    expect(response.status).toBe(200);
    const rel = data!.data.relationships?.visibleApps;
    expect(rel?.data).toEqual([...appIds].sort().map((id) => ({ type: 'apps', id })));
    expect(rel?.meta?.paging).toEqual({ total: 3, limit: 5 });
    const included = data!.included ?? [];
    expect(included.map((a) => a.id).sort()).toEqual([...appIds].sort());
    for (const app of included) {
      expect(app.type).toBe('apps');
      expect(Object.keys(app.attributes ?? {}).sort()).toEqual(['bundleId', 'name']);
    }
    expect(data!.links.self).toBe(
      `${PUBLIC_URL}/v1/userInvitations/${inv.id}?include=visibleApps&fields%5Bapps%5D=name%2CbundleId&limit%5BvisibleApps%5D=5`,
    );

    // without include: links only
    const plain = await userInvitationsGetInstance({ client, path: { id: inv.id } });
    expect(plain.data?.data.relationships?.visibleApps?.data).toBeUndefined();
    expect(plain.data?.data.relationships?.visibleApps?.links?.related).toBe(`${PUBLIC_URL}/v1/userInvitations/${inv.id}/visibleApps`);
    expect(plain.data?.included).toBeUndefined();
  });

  it('reads /{id}/visibleApps, paging with limit=1', async () => {
    const inv = created.get('fay.dev@example.com')!;
    const first = await userInvitationsVisibleAppsGetToManyRelated({
      client,
      path: { id: inv.id },
      query: { limit: 1, 'fields[apps]': ['name'] },
    });
    expect(first.error).toBeUndefined();
    let page: AppsWithoutIncludesResponse = first.data!;
    const ids = page.data.map((a) => a.id);
    expect(page.meta?.paging).toEqual({ total: 3, limit: 1 });
    while (page.links.next) {
      page = (await getNext<AppsWithoutIncludesResponse>(client, page.links.next)).data;
      ids.push(...page.data.map((a) => a.id));
      expect(ids.length).toBeLessThanOrEqual(3);
    }
    expect(ids).toEqual([...appIds].sort());

    const all = await userInvitationsVisibleAppsGetToManyRelated({ client, path: { id: inv.id } });
    const names = new Map(all.data!.data.map((a) => [a.id, a.attributes?.name]));
    expect(names.get(appIds[0]!)).toBe('Alpha');
    expect(names.get(appIds[2]!)).toBe('Charlie');

    const none = await userInvitationsVisibleAppsGetToManyRelated({ client, path: { id: created.get('ada.admin@example.com')!.id } });
    expect(none.data?.data).toEqual([]);
    expect(none.data?.meta?.paging.total).toBe(0);
  });

  it('reads /{id}/relationships/visibleApps (linkages)', async () => {
    const inv = created.get('bob.dev@example.com')!;
    const { data, error } = await userInvitationsVisibleAppsGetToManyRelationship({ client, path: { id: inv.id } });
    expect(error).toBeUndefined();
    const linkage: UserInvitationVisibleAppsLinkagesResponse = data!;
    expect(linkage.data).toEqual([appIds[0]!, appIds[2]!].sort().map((id) => ({ type: 'apps', id })));
    expect(linkage.links.self).toBe(`${PUBLIC_URL}/v1/userInvitations/${inv.id}/relationships/visibleApps`);
    expect(linkage.meta?.paging.total).toBe(2);
  });

  it('gets a 409 error object for a duplicate email (also in another case)', async () => {
    for (const email of ['bob.dev@example.com', 'BOB.DEV@EXAMPLE.COM', 'eve.manager@example.com']) {
      const { data, error, response } = await userInvitationsCreateInstance({
        client,
        body: { data: { type: 'userInvitations', attributes: { email, firstName: 'Dup', lastName: 'Licate', roles: ['DEVELOPER'] } } },
      });
      expect(data).toBeUndefined();
      expect(response.status).toBe(409);
      expect(zErrorResponse.safeParse(error).success).toBe(true);
      expect(error?.errors).toHaveLength(1);
      const e = error!.errors![0]!;
      expect(e).toMatchObject({
        status: '409',
        code: 'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
        source: { pointer: '/data/attributes/email' },
      });
      expect(e.id).toMatch(UUID);
      expect(typeof e.title).toBe('string');
      expect(typeof e.detail).toBe('string');
    }
    const list = await userInvitationsGetCollection({ client, query: { 'filter[email]': ['bob.dev@example.com'] } });
    expect(list.data?.data.map((d) => d.id)).toEqual([created.get('bob.dev@example.com')!.id]);
  });

  it('deletes invitations (204) and then sees 404 for them', async () => {
    const victims = ['bob.dev@example.com', 'gus.sales@example.com'].map((e) => created.get(e)!);
    for (const inv of victims) {
      const del = await userInvitationsDeleteInstance({ client, path: { id: inv.id } });
      expect(del.error).toBeUndefined();
      expect(del.response.status).toBe(204);

      const get = await userInvitationsGetInstance({ client, path: { id: inv.id } });
      expect(get.response.status).toBe(404);
      expect(get.error?.errors?.[0]).toMatchObject({
        status: '404',
        code: 'NOT_FOUND',
        detail: `There is no resource of type 'userInvitations' with id '${inv.id}'`,
      });
      const again = await userInvitationsDeleteInstance({ client, path: { id: inv.id } });
      expect(again.response.status).toBe(404);
      expect(again.error?.errors?.[0]?.code).toBe('NOT_FOUND');
      const related = await userInvitationsVisibleAppsGetToManyRelated({ client, path: { id: inv.id } });
      expect(related.response.status).toBe(404);
      const linkage = await userInvitationsVisibleAppsGetToManyRelationship({ client, path: { id: inv.id } });
      expect(linkage.response.status).toBe(404);
    }
    // throwOnError throws the parsed error body itself
    await expect(userInvitationsGetInstance({ client, path: { id: victims[0]!.id }, throwOnError: true })).rejects.toMatchObject({
      errors: [{ status: '404', code: 'NOT_FOUND' }],
    });

    const list = await userInvitationsGetCollection({ client, query: { limit: 200 } });
    expect(list.data?.meta?.paging.total).toBe(specs.length - victims.length);
    const remaining = new Set(list.data!.data.map((d) => d.id));
    for (const inv of victims) expect(remaining.has(inv.id)).toBe(false);

    // a cancelled invitation frees its email
    const again = await userInvitationsCreateInstance({
      client,
      body: {
        data: {
          type: 'userInvitations',
          attributes: { email: 'bob.dev@example.com', firstName: 'Bob', lastName: 'Again', roles: ['DEVELOPER'] },
        },
      },
    });
    expect(again.response.status).toBe(201);
    expect(again.data?.data.id).not.toBe(victims[0]!.id);
  });

  it('a request without credentials gets the 401 body without id', async () => {
    const r = await userInvitationsGetCollection({ client, auth: () => undefined });
    expect(r.response.status).toBe(401);
    expect(r.error?.errors?.[0]).toEqual({
      status: '401',
      code: 'NOT_AUTHORIZED',
      title: 'Authentication credentials are missing or invalid.',
      detail: expect.stringContaining('Provide a properly configured and signed bearer token'),
    });
  });

  it('nothing reached any host but 127.0.0.1, and the client did go through the guard', () => {
    expect(blocked).toEqual([]);
    const sdkCalls = passed.filter((p) => p.authorization?.startsWith('Bearer '));
    expect(sdkCalls.length).toBeGreaterThan(20);
    for (const p of passed) expect(new URL(p.url).hostname).toBe('127.0.0.1');
  });
});

describe('published client appstore-connect-sdk: sandbox testers', () => {
  let s: TestServer;
  let client: Client;
  const testers: string[] = [];

  /** The body of the client's last request to `method` on `pathPart`. */
  const sentBody = (method: string, pathPart: string): unknown =>
    JSON.parse(passed.filter((p) => p.method === method && p.url.includes(pathPart)).at(-1)!.body!);

  beforeAll(async () => {
    globalThis.fetch = guardedFetch;
    s = await startTestServer({ clock: new RealTimeClock() });
    // a Developer's team key: sandbox testers are theirs to manage too (A19)
    const key = await s.services.keys.create({ name: 'sdk sandbox', role: 'DEVELOPER' });
    client = createClient({ baseUrl: s.baseUrl, issuerId: key.issuerId, privateKeyId: key.key.id, privateKey: key.privateKeyPem });
    for (const [i, territory] of ['USA', 'CAN', 'GBR', 'JPN', 'DEU'].entries()) {
      const t = await s.services.sandboxTesters.create({
        firstName: 'Sandy',
        lastName: `Box ${i}`,
        email: `sandy${i}@sandbox.example.com`,
        territory,
      });
      testers.push(t.id);
    }
  });

  afterAll(async () => {
    globalThis.fetch = originalFetch;
    await s?.close();
    expect(blocked).toEqual([]);
  });

  it('lists testers page by page (limit=2, a sparse fieldset), following links.next; every page valid', async () => {
    const first = await sandboxTestersV2GetCollection({
      client,
      query: { limit: 2, 'fields[sandboxTesters]': ['acAccountName', 'territory'] },
    });
    expect(first.error).toBeUndefined();
    expect(first.response.status).toBe(200);
    let page: SandboxTestersV2Response = first.data!;
    const seen: string[] = [];
    for (let pages = 1; ; pages++) {
      expect(zSandboxTestersV2Response.safeParse(page).success).toBe(true);
      expect(responseErrors('GET /v2/sandboxTesters', 200, page)).toEqual([]);
      expect(page.meta?.paging).toEqual({ total: testers.length, limit: 2 });
      for (const t of page.data) expect(Object.keys(t.attributes ?? {}).sort()).toEqual(['acAccountName', 'territory']);
      seen.push(...page.data.map((t) => t.id));
      if (!page.links.next) break;
      expect(page.links.next.startsWith(`${PUBLIC_URL}/v2/sandboxTesters?cursor=`)).toBe(true);
      page = (await getNext<SandboxTestersV2Response>(client, page.links.next)).data;
      expect(pages).toBeLessThan(testers.length);
    }
    expect(seen).toEqual(testers);

    const all = await sandboxTestersV2GetCollection({ client });
    expect(all.data?.meta?.paging).toEqual({ total: testers.length, limit: 50 });
    expect(all.data?.data[0]).toEqual({
      type: 'sandboxTesters',
      id: testers[0],
      attributes: {
        firstName: 'Sandy',
        lastName: 'Box 0',
        acAccountName: 'sandy0@sandbox.example.com',
        territory: 'USA',
        applePayCompatible: true,
        interruptPurchases: false,
        subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES',
      },
      links: { self: `${PUBLIC_URL}/v2/sandboxTesters/${testers[0]}` },
    });
  });

  it("patches a tester's territory and renewal rate; the request and the answer are valid", async () => {
    const id = testers[1]!;
    const { data, error, response } = await sandboxTestersV2UpdateInstance({
      client,
      path: { id },
      body: {
        data: {
          type: 'sandboxTesters',
          id,
          attributes: { territory: 'FRA', subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES' },
        },
      },
    });
    expect(error, JSON.stringify(error)).toBeUndefined();
    expect(response.status).toBe(200);
    const sent = sentBody('PATCH', `/v2/sandboxTesters/${id}`);
    expect(zSandboxTesterV2UpdateRequest.safeParse(sent).success).toBe(true);
    expect(schemaErrors('SandboxTesterV2UpdateRequest', sent)).toEqual([]);
    expect(zSandboxTesterV2Response.safeParse(data).success).toBe(true);
    expect(responseErrors('PATCH /v2/sandboxTesters/{id}', 200, data)).toEqual([]);
    expect(data!.data.attributes).toMatchObject({
      territory: 'FRA',
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES',
      interruptPurchases: false,
    });
    expect(data!.links.self).toBe(`${PUBLIC_URL}/v2/sandboxTesters/${id}`);
    const listed = await sandboxTestersV2GetCollection({
      client,
      query: { 'fields[sandboxTesters]': ['territory', 'subscriptionRenewalRate'] },
    });
    expect(listed.data?.data.find((t) => t.id === id)?.attributes).toEqual({
      territory: 'FRA',
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_THIRTY_MINUTES',
    });

    const refused = await sandboxTestersV2UpdateInstance({
      client,
      path: { id },
      // a territory code outside the spec's enum, as a caller without types could send it
      body: { data: { type: 'sandboxTesters', id, attributes: { territory: 'XYZ' as 'USA' } } },
    });
    expect(refused.response.status).toBe(409);
    expect(zErrorResponse.safeParse(refused.error).success).toBe(true);
    expect(refused.error?.errors?.[0]).toMatchObject({
      code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
      source: { pointer: '/data/attributes/territory' },
    });
  });

  it('clears the purchase history of two testers, and of one of them again; requests and answers are valid', async () => {
    const ids: string[] = [];
    for (const named of [[testers[0]!, testers[2]!], [testers[0]!]]) {
      const { data, error, response } = await sandboxTestersClearPurchaseHistoryRequestV2CreateInstance({
        client,
        body: {
          data: {
            type: 'sandboxTestersClearPurchaseHistoryRequest',
            relationships: { sandboxTesters: { data: named.map((id) => ({ type: 'sandboxTesters' as const, id })) } },
          },
        },
      });
      expect(error, JSON.stringify(error)).toBeUndefined();
      expect(response.status).toBe(201);
      const sent = sentBody('POST', '/v2/sandboxTestersClearPurchaseHistoryRequest');
      expect(zSandboxTestersClearPurchaseHistoryRequestV2CreateRequest.safeParse(sent).success).toBe(true);
      expect(schemaErrors('SandboxTestersClearPurchaseHistoryRequestV2CreateRequest', sent)).toEqual([]);
      expect(zSandboxTestersClearPurchaseHistoryRequestV2Response.safeParse(data).success).toBe(true);
      expect(responseErrors('POST /v2/sandboxTestersClearPurchaseHistoryRequest', 201, data)).toEqual([]);
      expect(data!.data.type).toBe('sandboxTestersClearPurchaseHistoryRequest');
      expect(data!.data.id).toMatch(UUID);
      expect(response.headers.get('location')).toBe(data!.data.links?.self);
      expect((await s.services.sandboxTesters.findClearRequest(data!.data.id))?.testerIds).toEqual([...named].sort());
      ids.push(data!.data.id);
    }
    expect(new Set(ids).size).toBe(2);
  });
});
