import Fastify from 'fastify';
import { generateKeyPair, SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { faultRules, installFaults } from '../../../src/emulator/faults.js';
import { installJournal, journalQuery, requestJournal, tokenKeyId, type JournalEntry } from '../../../src/emulator/journal.js';

function entry(over: Partial<Omit<JournalEntry, 'id'>> = {}): Omit<JournalEntry, 'id'> {
  return {
    at: '2025-01-01T00:00:00.000Z',
    method: 'GET',
    path: '/v1/users',
    query: {},
    status: 200,
    keyId: null,
    bodySha256: null,
    bodyLength: 0,
    durationMs: 1,
    fault: null,
    ...over,
  };
}

describe('ring buffer', () => {
  it('keeps entries in the order recorded, with increasing ids', () => {
    const j = requestJournal(5);
    const a = j.record(entry({ path: '/v1/a' }));
    const b = j.record(entry({ path: '/v1/b' }));
    expect(b.id).toBeGreaterThan(a.id);
    expect(j.list()).toStrictEqual([
      { id: a.id, ...entry({ path: '/v1/a' }) },
      { id: b.id, ...entry({ path: '/v1/b' }) },
    ]);
  });

  it('keeps the newest `size` entries as it wraps, many times over', () => {
    const j = requestJournal(3);
    expect(j.size).toBe(3);
    for (let n = 1; n <= 11; n++) {
      j.record(entry({ path: `/v1/${n}` }));
      const from = Math.max(1, n - 2);
      expect(j.list().map((e) => e.path)).toEqual(Array.from({ length: n - from + 1 }, (_, i) => `/v1/${from + i}`));
    }
    expect(j.list().map((e) => e.id)).toEqual([9, 10, 11]);
  });

  it('keeps one entry with size 1 and none with size 0', () => {
    const one = requestJournal(1);
    one.record(entry({ path: '/v1/a' }));
    one.record(entry({ path: '/v1/b' }));
    expect(one.list().map((e) => e.path)).toEqual(['/v1/b']);
    const none = requestJournal(0);
    expect(none.record(entry()).id).toBe(1);
    expect(none.list()).toEqual([]);
  });

  it('refuses a size that is not a whole number', () => {
    for (const size of [-1, 1.5, NaN, Infinity]) expect(() => requestJournal(size)).toThrow(RangeError);
  });

  it('clears, and goes on counting ids after', () => {
    const j = requestJournal(2);
    j.record(entry());
    j.record(entry());
    j.record(entry());
    j.clear();
    expect(j.list()).toEqual([]);
    const next = j.record(entry({ path: '/v1/after' }));
    expect(next.id).toBe(4);
    expect(j.list().map((e) => e.path)).toEqual(['/v1/after']);
  });
});

describe('filters', () => {
  const j = requestJournal(100);
  j.record(entry({ method: 'GET', path: '/v1/users', status: 200, keyId: 'K1' }));
  j.record(entry({ method: 'POST', path: '/v1/userInvitations', status: 201, keyId: 'K1' }));
  j.record(entry({ method: 'GET', path: '/v1/users/abc/visibleApps', status: 404, keyId: 'K2' }));
  j.record(entry({ method: 'DELETE', path: '/v1/userInvitations/x', status: 0, keyId: null }));
  j.record(entry({ method: 'GET', path: '/v2/apps', status: 429, keyId: 'K2' }));
  const ids = (q: Parameters<typeof j.list>[0]) => j.list(q).map((e) => e.id);

  it('filters by method in any case', () => {
    expect(ids({ method: 'get' })).toEqual([1, 3, 5]);
    expect(ids({ method: 'PATCH' })).toEqual([]);
  });

  it('filters by a path glob over the whole path', () => {
    expect(ids({ path: '/v1/users*' })).toEqual([1, 3]);
    expect(ids({ path: '/v1/users' })).toEqual([1]);
    expect(ids({ path: '*Invitations*' })).toEqual([2, 4]);
    expect(ids({ path: '/v2/*' })).toEqual([5]);
  });

  it('filters by status (0: no answer) and by key id', () => {
    expect(ids({ status: 0 })).toEqual([4]);
    expect(ids({ status: 429 })).toEqual([5]);
    expect(ids({ keyId: 'K2' })).toEqual([3, 5]);
  });

  it('combines filters', () => {
    expect(ids({ method: 'GET', keyId: 'K2', path: '/v1/*' })).toEqual([3]);
  });

  it('limits to the newest matches, listed oldest first', () => {
    expect(ids({ limit: 2 })).toEqual([4, 5]);
    expect(ids({ method: 'GET', limit: 2 })).toEqual([3, 5]);
    expect(ids({ limit: 50 })).toEqual([1, 2, 3, 4, 5]);
    expect(ids({ limit: 0 })).toEqual([]);
  });

  it('hands out copies of the list, not the journal itself', () => {
    const list = j.list();
    list.pop();
    expect(j.list()).toHaveLength(5);
  });
});

describe('query', () => {
  it('decodes names and values as the API does, keeping +', () => {
    expect(journalQuery('filter%5Bemail%5D=a%2Bb%40x.com&limit=2&fields[users]=username,roles&flag')).toStrictEqual({
      'filter[email]': 'a+b@x.com',
      limit: '2',
      'fields[users]': 'username,roles',
      flag: '',
    });
    expect(journalQuery('q=a+b')).toStrictEqual({ q: 'a+b' });
  });

  it('gathers a repeated name into an array, in order', () => {
    expect(journalQuery('a=1&b=2&a=3&a=4')).toStrictEqual({ a: ['1', '3', '4'], b: '2' });
  });

  it('keeps a broken escape as sent and survives odd names', () => {
    expect(journalQuery('bad=%E0%A4%A&x=%zz&&=v')).toStrictEqual({ bad: '%E0%A4%A', x: '%zz', '': 'v' });
    const proto = journalQuery('__proto__=1&constructor=2&__proto__=3');
    expect(Object.keys(proto).sort()).toEqual(['__proto__', 'constructor']);
    expect(proto.constructor).toBe('2');
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('is empty without a query', () => {
    expect(journalQuery('')).toStrictEqual({});
  });
});

describe('key id', () => {
  it("reads the kid of a bearer token's header without verifying it", async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const token = await new SignJWT({}).setProtectedHeader({ alg: 'ES256', kid: 'ABC123DEFG', typ: 'JWT' }).sign(privateKey);
    expect(tokenKeyId(`Bearer ${token}`)).toBe('ABC123DEFG');
    expect(tokenKeyId(`bearer  ${token}`)).toBe('ABC123DEFG');
    // a signature that does not verify is still read: the journal records what the client sent
    expect(tokenKeyId(`Bearer ${token.slice(0, -4)}AAAA`)).toBe('ABC123DEFG');
  });

  it('is null for no header, another scheme, garbage, or a header without a string kid', async () => {
    const header = (h: object) => Buffer.from(JSON.stringify(h)).toString('base64url');
    for (const value of [
      undefined,
      '',
      'Basic dXNlcjpwYXNz',
      'Bearer',
      'Bearer not.a.token',
      'Bearer %%%',
      `Bearer ${header({ alg: 'ES256' })}.e30.sig`,
      `Bearer ${header({ alg: 'ES256', kid: 7 })}.e30.sig`,
      `Bearer ${Buffer.from('not json').toString('base64url')}.e30.sig`,
    ]) {
      expect(tokenKeyId(value), String(value)).toBeNull();
    }
  });
});

describe('installJournal', () => {
  it('must come before installFaults on an app (a fault ends the onRequest hooks after its own)', async () => {
    const app = Fastify();
    installFaults(app, faultRules());
    expect(() => installJournal(app, requestJournal(1))).toThrow(/before installFaults/);
    const other = Fastify();
    installJournal(other, requestJournal(1));
    installFaults(other, faultRules());
    await Promise.all([app.close(), other.close()]);
  });
});
