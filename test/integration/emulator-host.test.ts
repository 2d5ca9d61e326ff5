/**
 * The emulator's host over real HTTP, started as `asc-access serve` starts it: off, its paths are
 * any unknown path; on, its guard, clock, state, faults and journal for the default team.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody } from '../helpers/harness.js';
import { oneError, startEmulatorServer, type EmulatorServer, type Key } from '../helpers/emulator-server.js';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** A body without what differs between two requests (ids) and with `path` written as PATH. */
function comparable(text: string, path: string): string {
  return text.replace(/"id":"[^"]*",?/g, '').replaceAll(path, 'PATH');
}

describe('with the emulator off', () => {
  let s: EmulatorServer;
  beforeAll(async () => {
    s = await startEmulatorServer({ emulator: false });
  });
  afterAll(() => s.close());

  it('every control path answers exactly what an unknown path answers', async () => {
    const unknown = '/no-such-thing-here';
    const cases: [string, string, unknown?][] = [
      ['GET', '/_emulator/v1'],
      ['GET', '/_emulator/v1/'],
      ['GET', '/_emulator/v1/teams'],
      ['POST', '/_emulator/v1/teams', {}],
      ['GET', '/_emulator/v1/teams/default/clock'],
      ['POST', '/_emulator/v1/teams/default/clock/advance', { by: '72h' }],
      ['PUT', '/_emulator/v1/teams/default/state', { format: 'x' }],
      ['DELETE', '/_emulator/v1/teams/default/journal'],
      ['GET', '/_emulator'],
    ];
    for (const [method, path, body] of cases) {
      const control = await s.request(method, path, body !== undefined ? { body } : {});
      const other = await s.request(method, unknown, body !== undefined ? { body } : {});
      expect(control.status, `${method} ${path}`).toBe(404);
      expect(comparable(control.text, path)).toBe(comparable(other.text, unknown));
      const headerNames = (h: Headers) => [...h.keys()].filter((k) => k !== 'date').sort();
      expect(headerNames(control.headers)).toEqual(headerNames(other.headers));
      expect(control.headers.get('content-type')).toBe(other.headers.get('content-type'));
      expect(comparable(control.text, path)).not.toMatch(/emulator/i);
    }
  });
});

describe('the guard', () => {
  it('with ASC_EMULATOR_TOKEN: the bearer token is required, a wrong one is 401', async () => {
    const token = 'a-token-long-enough-1234';
    const s = await startEmulatorServer({ emulatorToken: token });
    try {
      oneError(await s.control('GET', ''), 401, 'NOT_AUTHORIZED');
      oneError(
        await s.control('GET', '/teams/default/clock', undefined, { authorization: 'Bearer a-token-long-enough-1235' }),
        401,
        'NOT_AUTHORIZED',
      );
      oneError(await s.control('GET', '', undefined, { authorization: token }), 401, 'NOT_AUTHORIZED');
      const ok = await s.control('GET', '', undefined, { authorization: `Bearer ${token}` });
      expect(ok.status).toBe(200);
      expect(ok.body).toMatchObject({ emulator: true, teams: 1 });
      expect(ok.body.version).toMatch(/^\d+\.\d+\.\d+/);
      // a token answers any peer, proxied or not
      const proxied = await s.control('GET', '/teams', undefined, { authorization: `Bearer ${token}`, 'x-forwarded-for': '203.0.113.9' });
      expect(proxied.status).toBe(200);
    } finally {
      await s.close();
    }
  });

  it('without a token: loopback peers talking directly, not through a proxy; the start says loudly that it is on', async () => {
    const lines: string[] = [];
    const s = await startEmulatorServer({ logLevel: 'warn' }, { write: (line: string) => void lines.push(line) });
    const warnings = lines.map((l) => JSON.parse(l) as { level: number; msg: string }).filter((l) => l.level === 40);
    expect(warnings.map((w) => w.msg)).toEqual([
      expect.stringMatching(/^THE EMULATOR IS ON: .*from this host.*Never run it like this in production/),
    ]);
    try {
      expect((await s.control('GET', '')).status).toBe(200);
      // an empty database without a seed: the first-start key, told to the caller too
      expect(s.server.firstKey?.keyId).toMatch(/^[A-Z0-9]{10}$/);
      expect(s.printed.join('\n')).toContain(s.server.firstKey!.keyId);
      const viaProxy = oneError(await s.control('GET', '', undefined, { 'x-forwarded-for': '203.0.113.9' }), 403, 'FORBIDDEN_ERROR');
      expect(viaProxy.detail).toMatch(/ASC_EMULATOR_TOKEN/);
      oneError(await s.control('GET', '/teams/default/state', undefined, { forwarded: 'for=203.0.113.9' }), 403, 'FORBIDDEN_ERROR');
    } finally {
      await s.close();
    }
  });
});

describe('the default team of an emulator', () => {
  let s: EmulatorServer;
  let key: Key;
  beforeAll(async () => {
    s = await startEmulatorServer();
    key = await s.defaultKey();
  });
  afterAll(() => s.close());

  async function invite(email: string): Promise<any> {
    const res = await s.api(key, 'POST', '/v1/userInvitations', invitationBody({ email }));
    expect(res.status, res.text).toBe(201);
    return res.body.data;
  }

  async function activationPath(invitationId: string): Promise<string> {
    const [mail] = await s.server.services.outbox.forInvitation(invitationId);
    return new URL(mail!.activation_link!).pathname;
  }

  it('clock: reads, advances by durations, sets forward only', async () => {
    const before = await s.control('GET', '/teams/default/clock');
    expect(before.status).toBe(200);
    expect(Math.abs(Date.parse(before.body.now) - Date.now())).toBeLessThan(60_000 + before.body.offsetMs);
    const advanced = await s.control('POST', '/teams/default/clock/advance', { by: '1d2h' });
    expect(advanced.status, advanced.text).toBe(200);
    expect(advanced.body.offsetMs - before.body.offsetMs).toBe(26 * HOUR);
    const iso = await s.control('POST', '/teams/default/clock/advance', { by: 'PT30M' });
    expect(iso.body.offsetMs - advanced.body.offsetMs).toBe(30 * 60_000);
    const ms = await s.control('POST', '/teams/default/clock/advance', { by: 1000 });
    expect(ms.body.offsetMs - iso.body.offsetMs).toBe(1000);

    const target = new Date(Date.parse(ms.body.now) + 10 * DAY);
    const set = await s.control('PUT', '/teams/default/clock', { now: target.toISOString() });
    expect(set.status, set.text).toBe(200);
    expect(Math.abs(Date.parse(set.body.now) - target.getTime())).toBeLessThan(5_000);

    const back = oneError(await s.control('PUT', '/teams/default/clock', { now: '2020-01-01T00:00:00Z' }), 409, 'ENTITY_ERROR');
    expect(back).toMatchObject({ source: { pointer: '/now' } });
    expect(back.detail).toMatch(/only moves forward/);
    expect(oneError(await s.control('POST', '/teams/default/clock/advance', { by: '-1h' }), 422, 'ENTITY_UNPROCESSABLE').source).toEqual({
      pointer: '/by',
    });
    expect(oneError(await s.control('POST', '/teams/default/clock/advance', {}), 422, 'ENTITY_UNPROCESSABLE').source).toEqual({
      pointer: '/by',
    });
    expect(
      oneError(await s.control('POST', '/teams/default/clock/advance', { by: '1h', at: 1 }), 422, 'ENTITY_UNPROCESSABLE').source,
    ).toEqual({
      pointer: '/at',
    });
    expect(oneError(await s.control('PUT', '/teams/default/clock', { now: 'tomorrow' }), 422, 'ENTITY_UNPROCESSABLE').source).toEqual({
      pointer: '/now',
    });
    oneError(await s.control('GET', '/teams/nope/clock'), 404, 'NOT_FOUND');
    expect(oneError(await s.control('PUT', '/teams/default/clock', { now: '9999-01-01T00:00:00Z' }), 409, 'ENTITY_ERROR').source).toEqual({
      pointer: '/now',
    });
  });

  it('advancing 72 hours ends an invitation at once: 410, gone from the list, its page 410; tokens stay valid', async () => {
    const clock = await s.control('GET', '/teams/default/clock');
    const invitation = await invite('expiring@example.com');
    // its expiry is the emulated time's, not the wall clock's
    const expires = Date.parse(invitation.attributes.expirationDate);
    expect(Math.abs(expires - (Date.parse(clock.body.now) + 72 * HOUR))).toBeLessThan(60_000);
    const page = await activationPath(invitation.id);
    expect((await s.request('GET', page)).status).toBe(200);

    const token = await import('../helpers/emulator-server.js').then((m) => m.tokenOf(key));
    const auth = { authorization: `Bearer ${token}` };
    expect((await s.request('GET', `/v1/userInvitations/${invitation.id}`, { headers: auth })).status).toBe(200);

    const moved = await s.control('POST', '/teams/default/clock/advance', { by: '72h' });
    expect(moved.status).toBe(200);
    // no wait for the sweeper: the move swept
    oneError(await s.request('GET', `/v1/userInvitations/${invitation.id}`, { headers: auth }), 410, 'GONE');
    const list = await s.request('GET', '/v1/userInvitations', { headers: auth });
    expect(list.status).toBe(200);
    expect(list.body.data.map((i: any) => i.id)).not.toContain(invitation.id);
    expect((await s.request('GET', page)).status).not.toBe(200);

    // the token minted before the move, 30 days later in emulated time, still works
    expect((await s.control('POST', '/teams/default/clock/advance', { by: '30d' })).status).toBe(200);
    expect((await s.request('GET', '/v1/users', { headers: auth })).status).toBe(200);
    // and a new invitation expires 72 hours after the new emulated now
    const now = Date.parse((await s.control('GET', '/teams/default/clock')).body.now);
    const later = await invite('later@example.com');
    expect(Math.abs(Date.parse(later.attributes.expirationDate) - (now + 72 * HOUR))).toBeLessThan(60_000);
  });

  it('state: export, reset, import, export again gives the same document', async () => {
    await invite('state-one@example.com');
    await s.server.services.apps.create({ name: 'State App', bundleId: 'com.example.state', sku: 'STATE-1' });
    const exported = await s.control('GET', '/teams/default/state');
    expect(exported.status).toBe(200);
    expect(exported.body.invitations.map((i: any) => i.email)).toContain('state-one@example.com');
    expect(exported.body.apps).toHaveLength(1);

    expect((await s.control('POST', '/teams/default/reset', { keep: ['apiKeys'] })).status).toBe(204);
    const empty = await s.control('GET', '/teams/default/state');
    expect(empty.body).toMatchObject({ apps: [], users: [], invitations: [] });
    expect(empty.body.apiKeys.length).toBeGreaterThan(0);
    expect((await s.api(key, 'GET', '/v1/userInvitations')).body.data).toEqual([]);

    const imported = await s.control('PUT', '/teams/default/state', exported.body);
    expect(imported.status, imported.text).toBe(204);
    const again = await s.control('GET', '/teams/default/state');
    expect(again.body).toEqual(exported.body);
    const listed = await s.api(key, 'GET', '/v1/userInvitations');
    expect(listed.body.data.map((i: any) => i.attributes.email)).toContain('state-one@example.com');

    const bad = oneError(
      await s.control('PUT', '/teams/default/state', { ...exported.body, apps: [{ name: 'x' }] }),
      422,
      'ENTITY_UNPROCESSABLE',
    );
    expect(bad.source?.pointer).toMatch(/^\/apps\/0/);
    expect(oneError(await s.control('POST', '/teams/default/reset', { keep: ['users'] }), 422, 'ENTITY_UNPROCESSABLE').source).toEqual({
      pointer: '/keep/0',
    });
    expect((await s.control('GET', '/teams/default/state')).body).toEqual(exported.body);
  });

  it('an import replaces what was listed before, even a member under the same id', async () => {
    const state = (await s.control('GET', '/teams/default/state')).body;
    const id = '019b0a6e-1c2d-7e3f-8a4b-5c6d7e8f9a01';
    const invitation = (email: string) => ({ id, email, firstName: 'Same', lastName: 'Id', roles: ['DEVELOPER'] });
    const emails = async () => (await s.api(key, 'GET', '/v1/userInvitations')).body.data.map((i: any) => i.attributes.email);
    expect((await s.control('PUT', '/teams/default/state', { ...state, invitations: [invitation('first@example.com')] })).status).toBe(204);
    expect(await emails()).toEqual(['first@example.com']);
    expect((await s.control('PUT', '/teams/default/state', { ...state, invitations: [invitation('second@example.com')] })).status).toBe(
      204,
    );
    expect(await emails()).toEqual(['second@example.com']);
    expect((await s.control('PUT', '/teams/default/state', state)).status).toBe(204);
  });

  it('faults: a 429 rule answers with X-Rate-Limit and Apple body, counts its hits, and is removed', async () => {
    const added = await s.control('POST', '/teams/default/faults', { method: 'GET', path: '/v1/users', action: { status: 429 }, times: 1 });
    expect(added.status, added.text).toBe(201);
    expect(added.body).toMatchObject({ method: 'GET', path: '/v1/users', times: 1, hits: 0, remaining: 1 });
    const limited = await s.api(key, 'GET', '/v1/users');
    oneError(limited, 429, 'RATE_LIMIT_EXCEEDED');
    expect(limited.headers.get('x-rate-limit')).toMatch(/user-hour-lim:\d+;user-hour-rem:0;/);
    expect((await s.api(key, 'GET', '/v1/users')).status).toBe(200);
    const listed = await s.control('GET', '/teams/default/faults');
    expect(listed.body.data).toEqual([{ ...added.body, hits: 1, remaining: 0 }]);

    const refused = await s.control('POST', '/teams/default/faults', { path: 'v1', action: { status: 200 }, extra: 1 });
    expect(refused.status).toBe(422);
    expect(refused.body.errors.map((e: any) => e.source.pointer).sort()).toEqual(['/action/status', '/extra', '/path']);

    expect((await s.control('DELETE', `/teams/default/faults/${added.body.id}`)).status).toBe(204);
    oneError(await s.control('DELETE', `/teams/default/faults/${added.body.id}`), 404, 'NOT_FOUND');
    await s.control('POST', '/teams/default/faults', { path: '/v1/*', action: { status: 503 } });
    expect((await s.api(key, 'GET', '/v1/apps')).status).toBe(503);
    expect((await s.control('DELETE', '/teams/default/faults')).status).toBe(204);
    expect((await s.control('GET', '/teams/default/faults')).body.data).toEqual([]);
    expect((await s.api(key, 'GET', '/v1/apps')).status).toBe(200);
  });

  it('journal: records method, path, status and key id; queried and cleared', async () => {
    expect((await s.control('DELETE', '/teams/default/journal')).status).toBe(204);
    await s.api(key, 'GET', '/v1/apps?limit=5');
    await s.api(null, 'GET', '/v1/users');
    await s.api(key, 'POST', '/v1/userInvitations', invitationBody({ email: 'journal@example.com' }));
    const all = await s.control('GET', '/teams/default/journal');
    expect(all.status).toBe(200);
    expect(all.body.data.map((e: any) => [e.method, e.path, e.status, e.keyId])).toEqual([
      ['GET', '/v1/apps', 200, key.keyId],
      ['GET', '/v1/users', 401, null],
      ['POST', '/v1/userInvitations', 201, key.keyId],
    ]);
    expect(all.body.data[0].query).toEqual({ limit: '5' });
    expect(all.body.data[2].bodySha256).toMatch(/^[0-9a-f]{64}$/);
    const byKey = await s.control('GET', `/teams/default/journal?keyId=${key.keyId}&method=post`);
    expect(byKey.body.data.map((e: any) => e.path)).toEqual(['/v1/userInvitations']);
    expect((await s.control('GET', '/teams/default/journal?status=401')).body.data).toHaveLength(1);
    expect((await s.control('GET', '/teams/default/journal?limit=1')).body.data.map((e: any) => e.path)).toEqual(['/v1/userInvitations']);
    expect(oneError(await s.control('GET', '/teams/default/journal?limit=x'), 400, 'PARAMETER_ERROR.INVALID').source).toEqual({
      parameter: 'limit',
    });
    expect(oneError(await s.control('GET', '/teams/default/journal?colour=red'), 400, 'PARAMETER_ERROR.ILLEGAL').source).toEqual({
      parameter: 'colour',
    });
    // the controls are not journaled
    expect((await s.control('DELETE', '/teams/default/journal')).status).toBe(204);
    expect((await s.control('GET', '/teams/default/journal')).body.data).toEqual([]);
  });

  it('reset also clears mail, faults and the journal; the default team can not be deleted', async () => {
    await invite('before-reset@example.com');
    expect((await s.control('GET', '/teams/default/mail?to=before-reset@example.com')).body.data).toHaveLength(1);
    await s.control('POST', '/teams/default/faults', { path: '/v1/nothing', action: { status: 500 } });
    await s.api(key, 'GET', '/v1/apps');
    expect((await s.control('POST', '/teams/default/reset')).status).toBe(204);
    expect((await s.control('GET', '/teams/default/faults')).body.data).toEqual([]);
    expect((await s.control('GET', '/teams/default/journal')).body.data).toEqual([]);
    expect((await s.control('GET', '/teams/default/mail')).body.data).toEqual([]);
    // without keep, the keys went too
    expect((await s.api(key, 'GET', '/v1/apps')).status).toBe(401);
    oneError(await s.control('DELETE', '/teams/default'), 409, 'ENTITY_ERROR');
  });
});

describe('the controls refuse what they can not read, never with a 5xx', () => {
  let s: EmulatorServer;
  beforeAll(async () => {
    s = await startEmulatorServer();
  });
  afterAll(() => s.close());

  it('odd bodies and queries on every control answer 2xx or an ErrorResponse', async () => {
    const bodies: unknown[] = [null, [], 'text', 0, -1, true, {}, { by: {} }, { now: 1 }, { keep: 'apps' }, { keep: [null] }, { seed: [] }];
    bodies.push({ format: 'asc-access/state@1', team: { issuerId: 42 } }, { path: '/v1/*', action: { delayMs: 1e12 } });
    let deep: unknown = 1;
    for (let i = 0; i < 200; i++) deep = { a: deep };
    bodies.push(deep, { by: '9'.repeat(400) + 'd' }, { by: 1e308 }, { now: '2026-13-45T99:99:99Z' });
    const routes: [string, string][] = [
      ['POST', '/teams'],
      ['POST', '/teams/default/clock/advance'],
      ['PUT', '/teams/default/clock'],
      ['PUT', '/teams/default/state'],
      ['POST', '/teams/default/reset'],
      ['POST', '/teams/default/faults'],
      ['POST', '/teams/default/invitations/nobody@example.com/accept'],
    ];
    for (const [method, path] of routes) {
      for (const body of bodies) {
        const res = await s.control(method, path, body);
        const what = `${method} ${path} ${JSON.stringify(body).slice(0, 80)} -> ${res.status} ${res.text.slice(0, 200)}`;
        expect(res.status, what).toBeLessThan(500);
        if (res.status >= 400) expect(res.body.errors?.[0]?.status, what).toBe(String(res.status));
      }
    }
    for (const query of ['?limit=-1', '?status=abc', '?limit=1&limit=2', '?path=%E0%A4%A', '?method=' + 'x'.repeat(5000)]) {
      const res = await s.control('GET', `/teams/default/journal${query}`);
      expect(res.status, query).toBeLessThan(500);
    }
    for (const raw of ['{', '[1,', '"unterminated', '']) {
      const broken = await fetch(`${s.base}/_emulator/v1/teams/default/clock`, {
        method: 'PUT',
        headers: { 'content-type': 'application/json' },
        body: raw,
      });
      expect(broken.status, raw).toBe(400);
      expect(((await broken.json()) as any).errors[0].code).toBe('ENTITY_INVALID');
    }
    // the teams some of those bodies made are real teams: they list, and go
    for (const t of (await s.control('GET', '/teams')).body.data.filter((t: any) => t.id !== 'default')) {
      expect((await s.control('DELETE', `/teams/${t.id}`)).status).toBe(204);
    }
  });
});
