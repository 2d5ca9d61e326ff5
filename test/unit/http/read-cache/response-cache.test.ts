import { describe, expect, it } from 'vitest';
import { ResponseCache } from '../../../../src/http/read-cache/response-cache.js';

function cache(maxBytes = 1000) {
  return { c: new ResponseCache(maxBytes) };
}

const body = (text: string) => [Buffer.from(text)];
const text = (b: readonly Buffer[] | undefined) => (b === undefined ? undefined : Buffer.concat(b).toString());
const bytes = (n: number) => [Buffer.alloc(n)];

describe('ResponseCache', () => {
  it('answers a target with the body kept for it, at the same version and in its time', () => {
    const { c } = cache();
    expect(c.get('/a', 'v1', 100)).toBeUndefined();
    c.set('/a', 'v1', 100, 200, body('A'));
    expect(text(c.get('/a', 'v1', 100))).toBe('A');
    expect(text(c.get('/a', 'v1', 199))).toBe('A');
    expect(c.get('/b', 'v1', 150)).toBeUndefined();
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 1, hits: 2, misses: 2 });
  });

  it('drops every body once a request sees another version', () => {
    const { c } = cache();
    c.get('/a', 'v1', 0);
    c.set('/a', 'v1', 0, Infinity, body('A'));
    c.set('/b', 'v1', 0, Infinity, body('B'));
    expect(c.get('/b', 'v2', 1)).toBeUndefined();
    expect(c.stats()).toMatchObject({ entries: 0, bytes: 0 });
    // and the old version's bodies do not come back with it
    expect(c.get('/a', 'v1', 2)).toBeUndefined();
  });

  it('does not keep a body read at a version the cache has moved past', () => {
    const { c } = cache();
    expect(c.get('/a', 'v1', 0)).toBeUndefined(); // a request starts at v1 ...
    expect(c.get('/b', 'v2', 0)).toBeUndefined(); // ... another, after a write, at v2
    c.set('/a', 'v1', 1, Infinity, body('old')); // the first one's body is out of date
    expect(c.get('/a', 'v2', 2)).toBeUndefined();
    expect(c.stats().entries).toBe(0);
  });

  it('does not answer at or after validUntil, nor before validFrom (a clock set back)', () => {
    const { c } = cache();
    c.get('/a', 'v1', 0);
    c.set('/a', 'v1', 50, 100, body('A'));
    expect(c.get('/a', 'v1', 49)).toBeUndefined();
    c.set('/a', 'v1', 50, 100, body('A'));
    expect(text(c.get('/a', 'v1', 99))).toBe('A');
    expect(c.get('/a', 'v1', 100)).toBeUndefined();
    expect(c.stats()).toMatchObject({ entries: 0, bytes: 0 });
  });

  it('keeps at most its room in bytes, dropping the least recently used first', () => {
    const { c } = cache(800);
    c.get('/x', 'v1', 0);
    c.set('/a', 'v1', 0, Infinity, bytes(100));
    c.set('/b', 'v1', 0, Infinity, bytes(100));
    for (let i = 0; i < 6; i++) c.set(`/c${i}`, 'v1', 0, Infinity, bytes(100));
    expect(c.stats()).toMatchObject({ entries: 8, bytes: 800 });
    expect(c.get('/a', 'v1', 1)).toBeDefined(); // /a is now the most recently used
    c.set('/d', 'v1', 0, Infinity, bytes(100));
    expect(c.get('/b', 'v1', 1)).toBeUndefined();
    expect(c.get('/a', 'v1', 1)).toBeDefined();
    expect(c.stats()).toMatchObject({ entries: 8, bytes: 800 });
  });

  it('replaces the body of a target kept before, and keeps no body over an eighth of its room', () => {
    const { c } = cache(800);
    c.get('/x', 'v1', 0);
    c.set('/a', 'v1', 0, Infinity, body('first'));
    c.set('/a', 'v1', 0, Infinity, body('second'));
    expect(text(c.get('/a', 'v1', 1))).toBe('second');
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 6 });
    c.set('/big', 'v1', 0, Infinity, bytes(101));
    expect(c.get('/big', 'v1', 1)).toBeUndefined();
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 6 });
  });

  it('keeps a body as its pieces, and joins them into one when it is sent again', () => {
    const { c } = cache();
    c.get('/x', 'v1', 0);
    const pieces = [Buffer.from('{"data":['), Buffer.from('{"id":"1"}'), Buffer.from(']}')];
    c.set('/a', 'v1', 0, Infinity, pieces);
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 21 });
    const first = c.get('/a', 'v1', 1)!;
    expect(first).toHaveLength(1);
    expect(first[0]!.toString()).toBe('{"data":[{"id":"1"}]}');
    expect(c.get('/a', 'v1', 2)![0]).toBe(first[0]);
    expect(c.stats()).toMatchObject({ entries: 1, bytes: 21 });
  });
});
