import fc from 'fast-check';
import { validate, version } from 'uuid';
import { describe, expect, it } from 'vitest';
import { RandomPool, UuidV7Source, randomBytesPooled, uuidV7 } from '../../src/random.js';

/** A pool that hands out the bytes it is given, in turn. */
class FixedPool extends RandomPool {
  private i = 0;
  constructor(private readonly bytes: Uint8Array) {
    super();
  }
  override take(n: number): Buffer {
    const out = Buffer.alloc(n);
    for (let k = 0; k < n; k++) out[k] = this.bytes[this.i++ % this.bytes.length]!;
    return out;
  }
}

describe('RandomPool', () => {
  it('hands out fresh bytes of the length asked for, across refills', () => {
    const pool = new RandomPool();
    const seen = new Set<string>();
    // 4096 bytes a fill: 1,000 draws of 32 bytes go through 8 refills
    for (let i = 0; i < 1000; i++) {
      const bytes = pool.take(32);
      expect(bytes).toHaveLength(32);
      seen.add(bytes.toString('hex'));
    }
    expect(seen.size).toBe(1000);
  });

  it('copies what it hands out, so later draws do not change earlier ones', () => {
    const pool = new RandomPool();
    const first = pool.take(16);
    const copy = Buffer.from(first);
    for (let i = 0; i < 600; i++) pool.take(16);
    expect(first.equals(copy)).toBe(true);
  });

  it('refuses more than the pool holds', () => {
    expect(() => new RandomPool().take(4097)).toThrow(RangeError);
    expect(randomBytesPooled(4096)).toHaveLength(4096);
  });
});

describe('uuidV7', () => {
  it('makes valid, distinct version 7 UUIDs', () => {
    const ids = Array.from({ length: 2000 }, () => uuidV7());
    for (const id of ids) {
      expect(validate(id)).toBe(true);
      expect(version(id)).toBe(7);
    }
    expect(new Set(ids).size).toBe(ids.length);
  });

  it('carries the time it was made at', () => {
    const at = Date.UTC(2026, 10, 27, 12, 0, 0, 123);
    const id = new UuidV7Source(new RandomPool(), () => at).next();
    expect(parseInt(id.replace(/-/g, '').slice(0, 12), 16)).toBe(at);
  });

  it('sorts in the order ids were made, whatever the clock and the random bytes do', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ minLength: 16, maxLength: 64 }),
        fc.array(fc.integer({ min: 1_700_000_000_000, max: 1_700_000_000_005 }), { minLength: 2, maxLength: 200 }),
        (bytes, times) => {
          let t = 0;
          const source = new UuidV7Source(new FixedPool(bytes), () => times[t++]!);
          const ids = times.map(() => source.next());
          expect([...ids].sort()).toEqual(ids);
          expect(new Set(ids).size).toBe(ids.length);
          for (const id of ids) expect(version(id)).toBe(7);
        },
      ),
    );
  });

  it('keeps the order through the largest counter value a millisecond can start at', () => {
    // all bytes 0xff: the counter starts at 2^31 - 1 and must carry on past it
    const now = 1_700_000_000_000;
    const source = new UuidV7Source(new FixedPool(Uint8Array.of(0xff)), () => now);
    const ids = Array.from({ length: 5 }, () => source.next());
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(5);
  });
});
