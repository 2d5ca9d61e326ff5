/**
 * Failed authentications limited per client address (src/http/auth-failures.ts, docs/parity.md):
 * after ASC_AUTH_FAILURE_LIMIT failures in a minute an address gets Apple's 429 with Retry-After
 * before its token is read, until the minute has passed; other addresses and the keys' hourly
 * quotas are untouched. Two client addresses over one loopback socket: X-Forwarded-For, with
 * 127.0.0.1 a trusted proxy; without a trusted proxy the header is ignored.
 */
import { describe, expect, it } from 'vitest';
import { errorBody, rateLimitExceeded } from '../helpers/api-errors.js';
import { useTestServer, type ApiResponse, type TestServer } from '../helpers/harness.js';
import { openPage } from '../helpers/pages.js';

const RATE_LIMIT_EXCEEDED = errorBody(rateLimitExceeded());
const LIMIT = 30;
const ATTACKER = '203.0.113.7';
const NEIGHBOUR = '198.51.100.20';

/** The admin token with its signature's last characters changed: a bad signature for a known key. */
function forged(token: string, n: number): string {
  const [h, p, sig] = token.split('.') as [string, string, string];
  const tail = n
    .toString(36)
    .padStart(4, '0')
    .replace(/[^A-Za-z0-9]/g, 'A');
  return `${h}.${p}.${sig.slice(0, -4)}${tail === sig.slice(-4) ? 'zzzz' : tail}`;
}

const from = (address: string) => ({ 'x-forwarded-for': address });
const quota = (r: ApiResponse) => r.headers.get('x-rate-limit');

async function flood(s: TestServer, headers: Record<string, string>, n: number): Promise<number[]> {
  const statuses: number[] = [];
  for (let i = 0; i < n; i++) {
    const r = await s.call('GET', '/v1/users', { token: forged(s.adminToken, i), headers });
    statuses.push(r.status);
    if (r.status === 401) expect(r.body.errors[0].code).toBe('NOT_AUTHORIZED');
    else {
      expect(r.body).toStrictEqual(RATE_LIMIT_EXCEEDED);
      expect(Number(r.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(Number(r.headers.get('retry-after'))).toBeLessThanOrEqual(60);
      // no key was admitted: no quota to report
      expect(quota(r)).toBeNull();
    }
  }
  return statuses;
}

describe('failed authentications per address, behind a trusted proxy', () => {
  const s = useTestServer({ config: { authFailureLimit: LIMIT, trustProxy: ['127.0.0.1'] } });

  it('answers 429 after the limit, refuses the address until the minute passes, leaves others alone', async () => {
    const before = await s.call('GET', '/v1/users', { headers: from(NEIGHBOUR) });
    expect(before.status).toBe(200);
    expect(quota(before)).toBe('user-hour-lim:3600;user-hour-rem:3599;');

    const statuses = await flood(s, from(ATTACKER), 800);
    expect(statuses.slice(0, LIMIT)).toEqual(Array<number>(LIMIT).fill(401));
    expect(statuses.slice(LIMIT)).toEqual(Array<number>(800 - LIMIT).fill(429));

    // the address is refused before its token is read: a valid key, no key, an unknown path
    const valid = await s.call('GET', '/v1/users', { headers: from(ATTACKER) });
    expect(valid.status).toBe(429);
    expect(valid.body).toStrictEqual(RATE_LIMIT_EXCEEDED);
    expect((await s.call('GET', '/v1/apps', { token: null, headers: from(ATTACKER) })).status).toBe(429);
    expect((await s.call('GET', '/v1/nothing', { headers: from(ATTACKER), unchecked: true })).status).toBe(429);
    // the activation pages are not API authentication: they answer as ever (docs/parity.md)
    expect((await openPage(s.baseUrl, 'GET', `/activate/${'x'.repeat(43)}`, { headers: from(ATTACKER) })).status).toBe(404);

    // another address, the same key: admitted, and the refused requests took nothing from its quota
    const neighbour = await s.call('GET', '/v1/users', { headers: from(NEIGHBOUR) });
    expect(neighbour.status).toBe(200);
    expect(quota(neighbour)).toBe('user-hour-lim:3600;user-hour-rem:3598;');

    // one second short of the minute: still refused; at the minute: a fresh start
    s.clock.advance(59_000);
    expect((await s.call('GET', '/v1/users', { headers: from(ATTACKER) })).status).toBe(429);
    s.clock.advance(1_000);
    // (the admin token lives 20 minutes: still valid)
    const after = await s.call('GET', '/v1/users', { headers: from(ATTACKER) });
    expect(after.status).toBe(200);
    expect(quota(after)).toBe('user-hour-lim:3600;user-hour-rem:3597;');
    const again = await flood(s, from(ATTACKER), LIMIT + 1);
    expect(again).toEqual([...Array<number>(LIMIT).fill(401), 429]);
  });

  it('does not count successes', async () => {
    const key = await s.keyWithRole('DEVELOPER');
    for (let i = 0; i < LIMIT + 5; i++) {
      expect((await s.call('GET', '/v1/apps', { token: key.token, headers: from('192.0.2.1') })).status).toBe(200);
    }
  });
});

describe('failed authentications per address, no trusted proxy', () => {
  const s = useTestServer({ config: { authFailureLimit: LIMIT } });

  it('ignores X-Forwarded-For: the socket is the address', async () => {
    const statuses = await flood(s, from(ATTACKER), LIMIT + 1);
    expect(statuses).toEqual([...Array<number>(LIMIT).fill(401), 429]);
    // naming another client does not escape the limit
    const other = await s.call('GET', '/v1/users', { headers: from(NEIGHBOUR) });
    expect(other.status).toBe(429);
    expect(other.body).toStrictEqual(RATE_LIMIT_EXCEEDED);
  });
});

describe('failed authentications with the limit off (ASC_AUTH_FAILURE_LIMIT=0)', () => {
  const s = useTestServer({ config: { authFailureLimit: 0 } });

  it('answers every bad token 401', async () => {
    const statuses = await flood(s, {}, 100);
    expect(new Set(statuses)).toEqual(new Set([401]));
    expect((await s.call('GET', '/v1/users')).status).toBe(200);
  });
});
