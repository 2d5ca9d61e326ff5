import { describe, expect, it } from 'vitest';
import { AuthFailureLimiter } from '../../../src/http/auth-failures.js';

describe('AuthFailureLimiter', () => {
  it('blocks an address after `limit` failures until its window has passed, with the seconds left', () => {
    const l = new AuthFailureLimiter({ limit: 3, windowMs: 60_000 });
    for (let i = 0; i < 3; i++) {
      expect(l.blockedFor('a', 1_000)).toBeUndefined();
      l.fail('a', 1_000);
    }
    expect(l.blockedFor('a', 1_000)).toBe(60);
    expect(l.blockedFor('a', 60_500)).toBe(1);
    expect(l.blockedFor('b', 1_000)).toBeUndefined();
    expect(l.blockedFor('a', 61_000)).toBeUndefined();
    // the ended window is gone: a new one starts with the next failure
    l.fail('a', 61_000);
    expect(l.blockedFor('a', 61_000)).toBeUndefined();
  });

  it('tracks at most `capacity` addresses, dropping the least recently failing', () => {
    const l = new AuthFailureLimiter({ limit: 1, capacity: 100 });
    for (let i = 0; i < 1000; i++) l.fail(`10.0.${i >> 8}.${i & 255}`, 0);
    expect(l.size).toBe(100);
    expect(l.blockedFor('10.0.3.231', 0)).toBe(60); // the 1000th
    expect(l.blockedFor('10.0.0.0', 0)).toBeUndefined(); // the first, dropped
  });

  it('is off at limit 0', () => {
    const l = new AuthFailureLimiter({ limit: 0 });
    for (let i = 0; i < 100; i++) l.fail('a', 0);
    expect(l.blockedFor('a', 0)).toBeUndefined();
    expect(l.size).toBe(0);
  });
});
