import { describe, expect, it } from 'vitest';
import { InMemoryRateLimiter, rateLimitHeader } from '../../../src/http/rate-limit.js';

const T0 = 1_780_000_000_000; // a whole second, in ms
const s = (seconds: number) => T0 + seconds * 1000;

describe('InMemoryRateLimiter', () => {
  it('counts down to zero, then refuses without counting the refusals', () => {
    const l = new InMemoryRateLimiter(3);
    expect(l.hit('K', s(0))).toEqual({ allowed: true, limit: 3, remaining: 2 });
    expect(l.hit('K', s(0))).toEqual({ allowed: true, limit: 3, remaining: 1 });
    expect(l.hit('K', s(1))).toEqual({ allowed: true, limit: 3, remaining: 0 });
    for (let i = 0; i < 5; i++) expect(l.hit('K', s(2))).toEqual({ allowed: false, limit: 3, remaining: 0 });
    // the refusals were not counted: once the first two leave the hour, exactly two fit again
    expect(l.hit('K', s(3600))).toEqual({ allowed: true, limit: 3, remaining: 1 });
    expect(l.hit('K', s(3600))).toEqual({ allowed: true, limit: 3, remaining: 0 });
    expect(l.hit('K', s(3600)).allowed).toBe(false);
  });

  it('keeps a request in the window for exactly one hour (a rolling hour, not a fixed one)', () => {
    const l = new InMemoryRateLimiter(2);
    l.hit('K', s(0) + 999);
    l.hit('K', s(1800));
    expect(l.hit('K', s(3599) + 999).allowed).toBe(false);
    // second 0 left the window; second 1800 is still in it
    expect(l.hit('K', s(3600))).toEqual({ allowed: true, limit: 2, remaining: 0 });
    expect(l.hit('K', s(5399) + 999).allowed).toBe(false);
    expect(l.hit('K', s(5400))).toEqual({ allowed: true, limit: 2, remaining: 0 });
  });

  it('forgets everything after a gap longer than the hour', () => {
    const l = new InMemoryRateLimiter(2);
    l.hit('K', s(10));
    l.hit('K', s(20));
    expect(l.hit('K', s(10 * 3600)).remaining).toBe(1);
  });

  it('drops seconds one by one when the window slides across the slot ring', () => {
    const l = new InMemoryRateLimiter(1000);
    for (let t = 0; t < 7200; t += 600) l.hit('K', s(t)); // 12 hits, every ten minutes
    // window (3600, 7200]: the hits at 4200..6600 are in it (5 of them), plus this one
    expect(l.hit('K', s(7200)).remaining).toBe(1000 - 6);
  });

  it('keeps one window per key', () => {
    const l = new InMemoryRateLimiter(2);
    l.hit('A', s(0));
    l.hit('A', s(0));
    expect(l.hit('A', s(0)).allowed).toBe(false);
    expect(l.hit('B', s(0))).toEqual({ allowed: true, limit: 2, remaining: 1 });
  });

  it('does not move the window backwards when the clock does', () => {
    const l = new InMemoryRateLimiter(3);
    l.hit('K', s(100));
    l.hit('K', s(50));
    expect(l.hit('K', s(100)).remaining).toBe(0);
  });
});

describe('rateLimitHeader', () => {
  it("is Apple's key:value; pairs with a trailing semicolon", () => {
    expect(rateLimitHeader({ allowed: true, limit: 3600, remaining: 3572 })).toBe('user-hour-lim:3600;user-hour-rem:3572;');
  });
});
