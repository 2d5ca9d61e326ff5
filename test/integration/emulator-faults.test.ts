/**
 * The emulator's injected faults and request journal (src/emulator/faults.ts, journal.ts) installed
 * on the real application through BuildOptions.beforeRoutes, driven over real HTTP with real tokens.
 */
import { createHash } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { beforeEach, describe, expect, it } from 'vitest';
import { faultRules, installFaults, type FaultRuleInput } from '../../src/emulator/faults.js';
import { installJournal, requestJournal, type Journal, type JournalEntry } from '../../src/emulator/journal.js';
import { InMemoryRateLimiter } from '../../src/http/rate-limit.js';
import { errorBody, NOT_AUTHORIZED, unexpectedError, UUID } from '../helpers/api-errors.js';
import { RawConnection } from '../helpers/raw-http.js';
import { invitationBody, startTestServer, useTestServer, type ApiResponse } from '../helpers/harness.js';

const LIMIT = 3600;
const rules = faultRules();
const journal = requestJournal(50);
const limiter = new InMemoryRateLimiter(LIMIT);

const s = useTestServer({
  rateLimiter: limiter,
  beforeRoutes: (app) => {
    installJournal(app, journal);
    installFaults(app, rules, { rateLimitPerHour: LIMIT });
  },
});

beforeEach(() => {
  rules.clear();
  journal.clear();
});

const add = (input: FaultRuleInput) => rules.add(input);

/** Waits until the journal holds `n` entries (it records a request when its connection is done with it). */
async function journalled(n: number, j: Journal = journal): Promise<JournalEntry[]> {
  for (let i = 0; i < 2000 && j.list().length < n; i++) await sleep(5);
  const list = j.list();
  expect(list).toHaveLength(n);
  return list;
}

/** The error body without its random ids. */
const withoutIds = (body: { errors: Array<Record<string, unknown>> }) => ({
  errors: body.errors.map(({ id, ...rest }) => {
    expect(id).toMatch(UUID);
    return rest;
  }),
});

/** Response headers that do not vary between two answers of the same kind. */
function stableHeaders(res: ApiResponse): Record<string, string> {
  const out: Record<string, string> = {};
  res.headers.forEach((value, name) => {
    if (!['date', 'x-request-id', 'content-length'].includes(name)) out[name] = value;
  });
  return out;
}

describe('status faults', () => {
  it("answers a 429 fault exactly as the API's own quota answers its 429", async () => {
    // the API's own: a key whose hour is used up
    const spent = await s.keyWithRole('ADMIN');
    const now = s.clock.now().getTime();
    for (let i = 0; i < LIMIT; i++) limiter.hit(spent.keyId, now);
    const own = await s.call('GET', '/v1/apps', { token: spent.token });
    expect(own.status).toBe(429);

    const rule = add({ path: '/v1/apps', action: { status: 429 } });
    const faulted = await s.call('GET', '/v1/apps');
    expect(faulted.status).toBe(429);
    expect(faulted.headers.get('x-rate-limit')).toBe('user-hour-lim:3600;user-hour-rem:0;');
    expect(stableHeaders(faulted)).toStrictEqual(stableHeaders(own));
    expect(withoutIds(faulted.body)).toStrictEqual(withoutIds(own.body));
    expect(faulted.headers.get('x-request-id')).toMatch(UUID);
    expect(rules.list()).toMatchObject([{ id: rule.id, hits: 1, remaining: null }]);
  });

  it("answers 500 as the API's unexpected error and 503 as its unavailable service", async () => {
    add({ method: 'GET', path: '/v1/users', action: { status: 500 } });
    add({ method: 'GET', path: '/v1/apps', action: { status: 503 } });
    const e500 = await s.call('GET', '/v1/users');
    expect(e500.status).toBe(500);
    expect(e500.body).toStrictEqual(errorBody(unexpectedError()));
    const e503 = await s.call('GET', '/v1/apps');
    expect(e503.status).toBe(503);
    expect(e503.headers.get('retry-after')).toBe('30');
    expect(e503.body).toStrictEqual({
      errors: [
        {
          id: expect.stringMatching(UUID),
          status: '503',
          code: 'SERVICE_UNAVAILABLE',
          title: 'The service is temporarily unavailable.',
          detail: 'The database is unavailable for now. Send the request again later.',
        },
      ],
    });
  });

  it("answers other statuses with Apple's ErrorResponse of that status", async () => {
    add({ path: '/v1/users/*', action: { status: 404 } });
    add({ path: '/v1/userInvitations', action: { status: 418 } });
    const missing = await s.call('GET', '/v1/users/abc');
    expect(missing.status).toBe(404);
    expect(missing.body).toStrictEqual({
      errors: [
        {
          id: expect.stringMatching(UUID),
          status: '404',
          code: 'NOT_FOUND',
          title: 'The specified resource does not exist',
          detail: "There is no resource of type 'users' with id 'abc'",
        },
      ],
    });
    const teapot = await s.call('GET', '/v1/userInvitations');
    expect(teapot.status).toBe(418);
    expect(teapot.body.errors).toMatchObject([{ status: '418', code: 'I_M_A_TEAPOT' }]);
  });

  it('hits the first `times` matching requests, then lets them pass', async () => {
    const rule = add({ path: '/v1/apps', action: { status: 500 }, times: 2 });
    expect((await s.call('GET', '/v1/apps')).status).toBe(500);
    expect((await s.call('GET', '/v1/apps')).status).toBe(500);
    expect((await s.call('GET', '/v1/apps')).status).toBe(200);
    expect(rules.list()).toMatchObject([{ id: rule.id, hits: 2, remaining: 0 }]);
  });

  it('matches the method and the path glob, without the query', async () => {
    add({ method: 'POST', path: '/v1/userInvitations', action: { status: 503 } });
    add({ path: '/v1/users/*', action: { status: 500 } });
    expect((await s.call('GET', '/v1/userInvitations')).status).toBe(200);
    expect((await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'match@example.com' }) })).status).toBe(503);
    expect((await s.call('GET', '/v1/users')).status).toBe(200);
    expect((await s.call('GET', '/v1/users/anything/visibleApps?limit=1')).status).toBe(500);
    // the pages and the health checks are never faulted, whatever the glob
    add({ path: '/*', action: { status: 500 } });
    expect((await s.call('GET', '/healthz', { unchecked: true })).status).toBe(200);
    const page = await fetch(`${s.baseUrl}/activate/not-a-token`);
    expect(page.status).not.toBe(500);
    await page.text();
  });

  it('answers before authentication: no token, or a bad one, still gets the fault', async () => {
    expect((await s.call('GET', '/v1/apps', { token: null })).status).toBe(401);
    add({ path: '/v1/apps', action: { status: 503 } });
    for (const token of [null, 'not-a-token']) {
      const res = await s.call('GET', '/v1/apps', { token });
      expect(res.status).toBe(503);
      expect(res.body.errors).toMatchObject([{ code: 'SERVICE_UNAVAILABLE' }]);
    }
    rules.clear();
    const after = await s.call('GET', '/v1/apps', { token: null });
    expect(after.status).toBe(401);
    expect(after.body).toStrictEqual(NOT_AUTHORIZED);
  });
});

describe('delays and drops', () => {
  it('delays a request, then answers it as usual', async () => {
    const rule = add({ method: 'GET', path: '/v1/apps', action: { delayMs: 200 } });
    const started = performance.now();
    const res = await s.call('GET', '/v1/apps?limit=1');
    const elapsed = performance.now() - started;
    expect(res.status).toBe(200);
    expect(res.body.data).toBeInstanceOf(Array);
    expect(elapsed).toBeGreaterThanOrEqual(195);
    const [entry] = await journalled(1);
    expect(entry).toMatchObject({ fault: rule.id, status: 200 });
    expect(entry!.durationMs).toBeGreaterThanOrEqual(195);
  });

  it('lets a delayed request go on at once when the app closes', async () => {
    const own = faultRules();
    const rule = own.add({ path: '/v1/apps', action: { delayMs: 60_000 } });
    const server = await startTestServer({ beforeRoutes: (app) => installFaults(app, own) });
    // `Connection: close`: a kept-alive client socket would hold the close after the answer
    const conn = await RawConnection.open(server.baseUrl);
    await conn.write(`GET /v1/apps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${server.adminToken}\r\nConnection: close\r\n\r\n`);
    for (let i = 0; i < 2000 && own.list()[0]!.hits === 0; i++) await sleep(5);
    expect(own.list()).toMatchObject([{ id: rule.id, hits: 1 }]);
    const [answer] = await Promise.all([conn.next(), server.close()]);
    expect(answer.status).toBe(200);
  });

  it('drops the connection: the client sees a socket error and no answer', async () => {
    const rule = add({ method: 'POST', path: '/v1/userInvitations', action: { drop: true } });
    const failure = await fetch(`${s.baseUrl}/v1/userInvitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.adminToken}`, 'content-type': 'application/json' },
      body: JSON.stringify(invitationBody({ email: 'dropped@example.com' })),
    }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failure).toBeInstanceOf(TypeError);
    const cause = (failure as { cause?: { code?: string } }).cause;
    expect(['UND_ERR_SOCKET', 'ECONNRESET']).toContain(cause?.code);
    // nothing was created: the request never reached the routes
    expect((await s.call('GET', '/v1/userInvitations?filter[email]=dropped@example.com')).body.data).toEqual([]);
    const [dropped] = (await journalled(2)).filter((e) => e.method === 'POST');
    expect(dropped).toMatchObject({ status: 0, fault: rule.id, path: '/v1/userInvitations' });
  });

  it('drops before authentication, on a raw connection too', async () => {
    add({ path: '/v1/apps', action: { drop: true } });
    const conn = await RawConnection.open(s.baseUrl);
    await conn.write('GET /v1/apps HTTP/1.1\r\nHost: x\r\n\r\n');
    await conn.closed();
    expect(conn.pending()).toBe('');
  });
});

describe('request journal', () => {
  it('records method, path, query, status, key id, the digest of the body as sent, and no fault', async () => {
    const key = await s.keyWithRole('ADMIN');
    // bytes as a client might send them: spacing, a multi-byte name, no trailing newline
    const raw = Buffer.from(JSON.stringify(invitationBody({ email: 'journal@example.com', firstName: 'Zoë' }), null, 1), 'utf8');
    const created = await fetch(`${s.baseUrl}/v1/userInvitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${key.token}`, 'content-type': 'application/json' },
      body: raw,
    });
    expect(created.status).toBe(201);
    await created.text();
    const listed = await s.call('GET', '/v1/users?limit=2&fields[users]=username&fields%5Busers%5D=roles&filter[username]=a%2Bb@x.com', {
      token: key.token,
    });
    expect(listed.status).toBe(200);

    const [post, get] = await journalled(2);
    expect(post).toStrictEqual({
      id: expect.any(Number),
      at: expect.any(String),
      method: 'POST',
      path: '/v1/userInvitations',
      query: {},
      status: 201,
      keyId: key.keyId,
      bodySha256: createHash('sha256').update(raw).digest('hex'),
      bodyLength: raw.length,
      durationMs: expect.any(Number),
      fault: null,
    });
    expect(Date.parse(post!.at)).not.toBeNaN();
    expect(get).toMatchObject({
      method: 'GET',
      path: '/v1/users',
      query: { limit: '2', 'fields[users]': ['username', 'roles'], 'filter[username]': 'a+b@x.com' },
      status: 200,
      keyId: key.keyId,
      bodySha256: null,
      bodyLength: 0,
      fault: null,
    });
    expect(get!.id).toBeGreaterThan(post!.id);
  });

  it('records the fault that answered, refused requests and unknown paths, but not pages or health checks', async () => {
    const rule = add({ path: '/v1/apps', action: { status: 429 }, times: 1 });
    await s.call('GET', '/v1/apps', { token: 'garbage' });
    await s.call('GET', '/v1/apps', { token: 'garbage' });
    await s.call('GET', '/v1/nothing');
    await s.call('GET', '/healthz', { unchecked: true });
    await (await fetch(`${s.baseUrl}/activate/not-a-token`)).text();
    const list = await journalled(3);
    expect(list.map((e) => [e.path, e.status, e.keyId, e.fault])).toEqual([
      ['/v1/apps', 429, null, rule.id],
      ['/v1/apps', 401, null, null],
      ['/v1/nothing', 404, expect.any(String), null],
    ]);
  });

  it('hashes nothing of a body refused unread, and the connection serves the next request', async () => {
    const conn = await RawConnection.open(s.baseUrl);
    const body = 'x'.repeat(1_000_000);
    await conn.write(
      `POST /v1/userInvitations HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.adminToken}\r\nContent-Type: text/plain\r\n` +
        `Content-Length: ${body.length}\r\n\r\n${body}`,
    );
    expect((await conn.next()).status).toBe(415);
    await conn.write(`GET /v1/apps HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${s.adminToken}\r\n\r\n`);
    expect((await conn.next()).status).toBe(200);
    conn.destroy();
    const [refused] = await journalled(2);
    expect(refused).toMatchObject({ status: 415, bodySha256: null });
  });

  it('filters and clears', async () => {
    await s.call('GET', '/v1/apps');
    await s.call('GET', '/v1/users');
    await s.call('GET', '/v1/apps', { token: null });
    await journalled(3);
    expect(journal.list({ path: '/v1/apps', status: 401 }).map((e) => e.keyId)).toEqual([null]);
    expect(journal.list({ method: 'get', path: '/v1/u*' }).map((e) => e.path)).toEqual(['/v1/users']);
    expect(journal.list({ limit: 2 }).map((e) => e.path)).toEqual(['/v1/users', '/v1/apps']);
    journal.clear();
    expect(journal.list()).toEqual([]);
    await s.call('GET', '/v1/apps');
    await journalled(1);
  });
});

describe('without faults or journal', () => {
  const plain = useTestServer();

  it('answers as before: nothing is faulted or journalled', async () => {
    rules.add({ path: '/*', action: { status: 500 } });
    expect((await plain.call('GET', '/v1/apps')).status).toBe(200);
    const unauthorized = await plain.call('GET', '/v1/apps', { token: null });
    expect(unauthorized.status).toBe(401);
    expect(unauthorized.body).toStrictEqual(NOT_AUTHORIZED);
    expect(journal.list()).toEqual([]);
  });

  it('journals without faults when only the journal is installed', async () => {
    const own = requestJournal(10);
    const server = await startTestServer({ beforeRoutes: (app) => installJournal(app, own) });
    try {
      expect((await server.call('GET', '/v1/apps')).status).toBe(200);
      const [entry] = await journalled(1, own);
      expect(entry).toMatchObject({ path: '/v1/apps', status: 200, fault: null });
    } finally {
      await server.close();
    }
  });
});
