/**
 * HTTP-level behaviour (docs/behavior.md A5, A7, A18): paths, methods, content negotiation, body limits,
 * the headers every response carries and the hourly rate limit.
 */
import { describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../src/http/responses.js';
import {
  apiError,
  errorBody,
  methodNotAllowed,
  pathError,
  rateLimitExceeded,
  unexpectedError,
  unsupportedMediaType,
  UUID,
} from '../helpers/api-errors.js';
import { invitationBody, startTestServer, useTestServer, visibleApps, type ApiResponse } from '../helpers/harness.js';

const METHOD_NOT_ALLOWED = errorBody(methodNotAllowed());
const RATE_LIMIT_EXCEEDED = errorBody(rateLimitExceeded());
const UNEXPECTED_ERROR = errorBody(unexpectedError());

const notAcceptable = (accept: string) =>
  `The provided Accept header is not supported for this request.\n\nRequested: ${accept}\n\nAllowed: application/json`;

describe('paths, methods and media types (A5)', () => {
  const s = useTestServer();

  it('answers an unknown path with 404 PATH_ERROR', async () => {
    for (const path of ['/v1/nothing', '/v2/userInvitations', '/v1/userInvitations/x/y/z', '/']) {
      const res = await s.call('GET', path);
      expect(res.status).toBe(404);
      expect(res.body).toStrictEqual(errorBody(pathError(path)));
    }
  });

  it('answers a trailing slash as Apple does: "\'/v1/apps/\' is not a valid URL"', async () => {
    for (const path of ['/v1/apps/', '/v1/userInvitations/']) {
      const res = await s.call('GET', path);
      expect(res.status).toBe(404);
      expect(res.body).toStrictEqual(errorBody(pathError(path)));
    }
  });

  it('names only the path, not the query, in PATH_ERROR', async () => {
    const res = await s.call('GET', '/v1/apps/?limit=2');
    expect(res.status).toBe(404);
    expect(res.body).toStrictEqual(errorBody(pathError('/v1/apps/')));
  });

  it('answers a method the path does not take with 405 METHOD_NOT_ALLOWED', async () => {
    const cases: Array<[string, string]> = [
      ['PUT', '/v1/userInvitations'],
      ['PATCH', '/v1/userInvitations'],
      ['DELETE', '/v1/userInvitations'],
      ['PATCH', '/v1/userInvitations/4a6e3c1e-0000-4000-8000-000000000000'],
      ['POST', '/v1/apps'],
      ['DELETE', '/v1/apps/1234567890'],
    ];
    for (const [method, path] of cases) {
      const res = await s.call(method, path, { body: invitationBody() });
      expect(res.status, `${method} ${path}`).toBe(405);
      expect(res.body).toStrictEqual(METHOD_NOT_ALLOWED);
    }
  });

  it('answers an Accept header that excludes JSON with 406 in plain text', async () => {
    for (const accept of ['text/html', 'application/xml, text/plain', 'application/json;q=0, text/html']) {
      const res = await s.call('GET', '/v1/userInvitations', { headers: { accept } });
      expect(res.status, accept).toBe(406);
      expect(res.headers.get('content-type')).toMatch(/^text\/plain\b/);
      expect(res.text).toBe(notAcceptable(accept));
    }
  });

  it('accepts */*, application/*, application/json and lists that include JSON', async () => {
    for (const accept of [
      '*/*',
      'application/*',
      'application/json',
      'text/html, application/json;q=0.5',
      'application/json; charset=utf-8',
    ]) {
      const res = await s.call('GET', '/v1/userInvitations', { headers: { accept } });
      expect(res.status, accept).toBe(200);
      expect(res.headers.get('content-type')).toBe('application/json');
    }
  });

  it('answers POST with a non-JSON Content-Type with 415', async () => {
    const res = await s.call('POST', '/v1/userInvitations', {
      rawBody: JSON.stringify(invitationBody()),
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toStrictEqual(errorBody(unsupportedMediaType('text/plain')));
    const form = await s.call('POST', '/v1/userInvitations', {
      rawBody: 'email=a%40b.c',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expect(form.status).toBe(415);
    expect(form.body).toStrictEqual(errorBody(unsupportedMediaType('application/x-www-form-urlencoded')));
    expect((await s.call('GET', '/v1/userInvitations')).body.data).toEqual([]);
  });

  it('answers DELETE with a non-JSON body with 415', async () => {
    const res = await s.call('DELETE', '/v1/userInvitations/4a6e3c1e-0000-4000-8000-000000000000', {
      rawBody: 'hello',
      headers: { 'content-type': 'text/plain' },
    });
    expect(res.status).toBe(415);
    expect(res.body).toStrictEqual(errorBody(unsupportedMediaType('text/plain')));
  });

  it('takes JSON with a charset parameter', async () => {
    const res = await s.call('POST', '/v1/userInvitations', {
      rawBody: JSON.stringify(invitationBody({ email: 'charset@example.com' })),
      headers: { 'content-type': 'application/json; charset=utf-8' },
    });
    expect(res.status, res.text).toBe(201);
  });

  it(`refuses a body over ${BODY_LIMIT_BYTES} bytes with 413 and reads one of exactly that size`, async () => {
    const padded = (size: number) => {
      const base = JSON.stringify(invitationBody({ email: 'big@example.com', firstName: '' }));
      const body = base.replace('"firstName":""', `"firstName":"${'x'.repeat(size - base.length)}"`);
      expect(Buffer.byteLength(body)).toBe(size);
      return body;
    };
    const tooLarge = await s.call('POST', '/v1/userInvitations', {
      rawBody: padded(BODY_LIMIT_BYTES + 1),
      headers: { 'content-type': 'application/json' },
    });
    expect(tooLarge.status).toBe(413);
    expect(tooLarge.body).toStrictEqual(
      errorBody(apiError('ENTITY_TOO_LARGE', `The request body must not exceed ${BODY_LIMIT_BYTES} bytes`)),
    );
    // exactly at the limit the body is read, and the over-long name is the problem
    const atLimit = await s.call('POST', '/v1/userInvitations', {
      rawBody: padded(BODY_LIMIT_BYTES),
      headers: { 'content-type': 'application/json' },
    });
    expect(atLimit.status).toBe(409);
    expect(atLimit.body.errors.map((e: { source?: unknown }) => e.source)).toEqual([{ pointer: '/data/attributes/firstName' }]);
  });
});

describe('headers on every response (A18)', () => {
  const s = useTestServer();

  it('sends Content-Type application/json exactly (no charset) on every JSON response', async () => {
    const app = await s.createApp('Headers');
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'headers@example.com' }) });
    const developer = await s.keyWithRole('DEVELOPER');
    const responses: ApiResponse[] = [
      await s.call('GET', '/v1/userInvitations'),
      created,
      await s.call('GET', `/v1/apps/${app}`),
      await s.call('GET', '/v1/userInvitations?limit=0'),
      await s.call('GET', '/v1/userInvitations', { token: null }),
      await s.call('POST', '/v1/userInvitations', { token: developer.token, body: invitationBody() }),
      await s.call('GET', '/v1/nowhere'),
      await s.call('PUT', '/v1/apps'),
      await s.call('POST', '/v1/userInvitations', { rawBody: '{', headers: { 'content-type': 'application/json' } }),
      await s.call('POST', '/v1/userInvitations', { body: { data: { type: 'apps', attributes: {} } } }),
      await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'headers@example.com' }) }),
      await s.call('POST', '/v1/userInvitations', { rawBody: 'x', headers: { 'content-type': 'text/plain' } }),
    ];
    expect(responses.map((r) => r.status)).toEqual([200, 201, 200, 400, 401, 403, 404, 405, 400, 422, 409, 415]);
    for (const r of responses) expect(r.headers.get('content-type')).toBe('application/json');
    expect(created.headers.get('location')).toBe(`https://asc.example.test/v1/userInvitations/${created.body.data.id}`);
  });

  it('sends no Content-Type and no body with 204', async () => {
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'gone-soon@example.com' }) });
    const res = await s.call('DELETE', `/v1/userInvitations/${created.body.data.id}`);
    expect(res.status).toBe(204);
    expect(res.text).toBe('');
    expect(res.headers.get('content-type')).toBeNull();
    expect(res.headers.get('x-request-id')).toMatch(UUID);
  });

  it('sends a fresh X-Request-ID on every response, errors and 406 included', async () => {
    const responses = [
      await s.call('GET', '/v1/userInvitations'),
      await s.call('GET', '/v1/userInvitations'),
      await s.call('GET', '/v1/userInvitations', { token: 'nope' }),
      await s.call('GET', '/v1/userInvitations', { headers: { accept: 'text/html' } }),
      await s.call('GET', '/nowhere'),
      await s.call('GET', '/healthz', { token: null, unchecked: true }),
    ];
    const ids = responses.map((r) => r.headers.get('x-request-id'));
    for (const id of ids) expect(id).toMatch(UUID);
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('sends X-Rate-Limit per key, counting down independently, and none on 401', async () => {
    const a = await s.keyWithRole('DEVELOPER');
    const b = await s.keyWithRole('SALES');
    const header = (r: ApiResponse) => r.headers.get('x-rate-limit');
    expect(header(await s.call('GET', '/v1/userInvitations', { token: a.token }))).toBe('user-hour-lim:3600;user-hour-rem:3599;');
    expect(header(await s.call('GET', '/v1/apps', { token: a.token }))).toBe('user-hour-lim:3600;user-hour-rem:3598;');
    expect(header(await s.call('GET', '/v1/userInvitations', { token: b.token }))).toBe('user-hour-lim:3600;user-hour-rem:3599;');
    // errors after authentication count too (here a 400 and a 403)
    expect(header(await s.call('GET', '/v1/userInvitations?limit=0', { token: a.token }))).toBe('user-hour-lim:3600;user-hour-rem:3597;');
    expect(header(await s.call('POST', '/v1/userInvitations', { token: a.token, body: invitationBody() }))).toBe(
      'user-hour-lim:3600;user-hour-rem:3596;',
    );
    const unauthorized = await s.call('GET', '/v1/userInvitations', { token: `${a.token}x` });
    expect(unauthorized.status).toBe(401);
    expect(header(unauthorized)).toBeNull();
    expect(header(await s.call('GET', '/v1/userInvitations', { token: null }))).toBeNull();
    // the 401s did not count against the key
    expect(header(await s.call('GET', '/v1/userInvitations', { token: a.token }))).toBe('user-hour-lim:3600;user-hour-rem:3595;');
    expect(header(await s.call('GET', '/v1/userInvitations', { token: b.token }))).toBe('user-hour-lim:3600;user-hour-rem:3598;');
  });

  it('answers GET /healthz without authentication', async () => {
    const res = await s.call('GET', '/healthz', { token: null, unchecked: true });
    expect(res.status).toBe(200);
    expect(res.body).toStrictEqual({ status: 'ok' });
    expect(res.headers.get('content-type')).toBe('application/json');
  });
});

describe('rate limit (A18, B5)', () => {
  const s = useTestServer({ config: { rateLimitPerHour: 3 } });

  it('refuses the request over the limit with 429, until the hour has rolled past', async () => {
    const a = await s.keyWithRole('ADMIN');
    const b = await s.keyWithRole('DEVELOPER');
    const token = (k: typeof a) => s.token({ privateKeyPem: k.privateKeyPem, keyId: k.keyId, issuerId: s.issuerId });
    const header = (r: ApiResponse) => r.headers.get('x-rate-limit');

    const first = await s.call('GET', '/v1/userInvitations', { token: a.token });
    expect(first.status).toBe(200);
    expect(header(first)).toBe('user-hour-lim:3;user-hour-rem:2;');
    s.clock.advance(1800 * 1000);
    const second = await s.call('GET', '/v1/apps', { token: await token(a) });
    expect(header(second)).toBe('user-hour-lim:3;user-hour-rem:1;');
    const third = await s.call('GET', '/v1/userInvitations', { token: await token(a) });
    expect(third.status).toBe(200);
    expect(header(third)).toBe('user-hour-lim:3;user-hour-rem:0;');

    for (const [method, path] of [
      ['GET', '/v1/userInvitations'],
      ['POST', '/v1/userInvitations'],
      ['GET', '/v1/apps'],
    ] as const) {
      const over = await s.call(method, path, { token: await token(a), ...(method === 'POST' ? { body: invitationBody() } : {}) });
      expect(over.status, `${method} ${path}`).toBe(429);
      expect(over.body).toStrictEqual(RATE_LIMIT_EXCEEDED);
      expect(header(over)).toBe('user-hour-lim:3;user-hour-rem:0;');
    }

    // another key has its own hour; the refused POST created nothing
    const other = await s.call('GET', '/v1/userInvitations', { token: await token(b) });
    expect(other.status).toBe(200);
    expect(header(other)).toBe('user-hour-lim:3;user-hour-rem:2;');
    expect(other.body.data).toEqual([]);

    // one second short of an hour after the first request, it is still in the window
    s.clock.advance(1799 * 1000);
    const stillOver = await s.call('GET', '/v1/userInvitations', { token: await token(a) });
    expect(stillOver.status).toBe(429);
    expect(stillOver.body).toStrictEqual(RATE_LIMIT_EXCEEDED);

    // an hour after the first request, that one has left the window (the other two have not)
    s.clock.advance(1000);
    const again = await s.call('GET', '/v1/userInvitations', { token: await token(a) });
    expect(again.status).toBe(200);
    expect(header(again)).toBe('user-hour-lim:3;user-hour-rem:0;');
    expect((await s.call('GET', '/v1/userInvitations', { token: await token(a) })).status).toBe(429);

    // a full hour later every request has left the window
    s.clock.advance(3600 * 1000);
    const fresh = await s.call('GET', '/v1/userInvitations', { token: await token(a) });
    expect(fresh.status).toBe(200);
    expect(header(fresh)).toBe('user-hour-lim:3;user-hour-rem:2;');
  });
});

describe('unexpected failures (A7)', () => {
  it('answer 500 UNEXPECTED_ERROR without internals', async () => {
    const secret = 'SECRET-internal-detail /var/lib/asc/asc-access.sqlite';
    const s = await startTestServer({
      rateLimiter: {
        hit() {
          throw new Error(secret);
        },
      },
    });
    try {
      const res = await s.call('GET', '/v1/userInvitations');
      expect(res.status).toBe(500);
      expect(res.body).toStrictEqual(UNEXPECTED_ERROR);
      expect(res.text).not.toContain('SECRET');
      expect(res.text).not.toContain('asc-access.sqlite');
      expect(res.text).not.toMatch(/at .*\.ts:\d+/);
    } finally {
      await s.close();
    }
  });

  it('answer 500 when the database has gone away', async () => {
    const s = await startTestServer();
    await s.db.close();
    try {
      // liveness does not touch the database; readiness says it is gone (test/integration/operations.test.ts)
      const health = await s.call('GET', '/healthz', { token: null, unchecked: true });
      expect(health.status).toBe(200);
      expect((await s.call('GET', '/readyz', { token: null, unchecked: true })).status).toBe(503);
      const list = await s.call('GET', '/v1/userInvitations');
      expect(list.status).toBe(500);
      expect(list.body).toStrictEqual(UNEXPECTED_ERROR);
    } finally {
      await s.close();
    }
  });
});

describe('bodies written from pre-rendered pieces', () => {
  const s = useTestServer();

  it('writes a page built from pre-rendered pieces whole: Content-Length is its size, HEAD gets the headers alone', async () => {
    const apps = [];
    for (let i = 0; i < 3; i++) apps.push(await s.createApp(`Pieces ${i}`));
    for (let i = 0; i < 3; i++) {
      const r = await s.call('POST', '/v1/userInvitations', {
        body: invitationBody({ email: `pieces${i}@example.com`, roles: ['DEVELOPER'] }, visibleApps(...apps.slice(0, i + 1))),
      });
      expect(r.status, r.text).toBe(201);
    }
    const path = '/v1/userInvitations?include=visibleApps&limit=3';
    const got = await fetch(`${s.baseUrl}${path}`, { headers: { authorization: `Bearer ${s.adminToken}` } });
    const bytes = Buffer.from(await got.arrayBuffer());
    expect(got.status).toBe(200);
    expect(Number(got.headers.get('content-length'))).toBe(bytes.length);
    const doc = JSON.parse(bytes.toString('utf8'));
    expect(doc.data).toHaveLength(3);
    expect(doc.included.map((a: { id: string }) => a.id).sort()).toEqual([...apps].sort());
    for (const name of ['x-request-id', 'x-rate-limit']) expect(got.headers.get(name), name).toBeTruthy();

    const head = await fetch(`${s.baseUrl}${path}`, { method: 'HEAD', headers: { authorization: `Bearer ${s.adminToken}` } });
    expect(head.status).toBe(200);
    expect(head.headers.get('content-type')).toBe('application/json');
    expect(Number(head.headers.get('content-length'))).toBe(bytes.length);
    expect((await head.arrayBuffer()).byteLength).toBe(0);
  });
});
