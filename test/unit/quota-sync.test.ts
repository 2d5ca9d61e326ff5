/** SyncedRateLimiter's bookkeeping when a sync fails (src/http/quota-sync.ts). */
import { describe, expect, it } from 'vitest';
import { SyncedRateLimiter, type QuotaStore } from '../../src/http/quota-sync.js';

/** A store in memory that refuses writes while `failing` is set. */
class FlakyStore implements QuotaStore {
  failing = false;
  readonly counts = new Map<string, number>();
  add(rows: readonly { keyId: string; second: number; count: number }[]): Promise<void> {
    if (this.failing) return Promise.reject(new Error('database unreachable'));
    for (const r of rows) this.counts.set(`${r.keyId}/${r.second}`, (this.counts.get(`${r.keyId}/${r.second}`) ?? 0) + r.count);
    return Promise.resolve();
  }
  totals(keyIds: readonly string[]): Promise<Map<string, number>> {
    const out = new Map<string, number>();
    for (const [k, n] of this.counts) {
      const key = k.split('/')[0]!;
      if (keyIds.includes(key)) out.set(key, (out.get(key) ?? 0) + n);
    }
    return Promise.resolve(out);
  }
}

describe('SyncedRateLimiter', () => {
  it('keeps the counts of a failed sync and writes them with the next one', async () => {
    const store = new FlakyStore();
    const errors: unknown[] = [];
    const now = 1_800_000_000_000;
    const limiter = new SyncedRateLimiter(store, 5, { syncMs: 60_000, now: () => now, onSyncError: (e) => errors.push(e) });
    for (let i = 0; i < 3; i++) expect((await limiter.hit('K', now)).allowed).toBe(true);
    store.failing = true;
    await expect(limiter.sync()).rejects.toThrow('database unreachable');
    expect(errors).toHaveLength(1);
    // the failed sync lost nothing: the counts still decide
    expect((await limiter.hit('K', now)).remaining).toBe(1);
    store.failing = false;
    await limiter.sync();
    expect([...store.counts.values()].reduce((a, b) => a + b, 0)).toBe(4);
    expect((await limiter.hit('K', now)).remaining).toBe(0);
    expect((await limiter.hit('K', now)).allowed).toBe(false);
  });

  it('asks the store for a key it has not seen once, however many requests arrive together', async () => {
    const store = new FlakyStore();
    let asked = 0;
    const counting: QuotaStore = {
      add: (rows) => store.add(rows),
      totals: (ids) => (asked++, store.totals(ids)),
    };
    const limiter = new SyncedRateLimiter(counting, 10, { syncMs: 60_000 });
    const decisions = await Promise.all(Array.from({ length: 5 }, () => limiter.hit('K', Date.now())));
    expect(asked).toBe(1);
    expect(decisions.map((d) => d.remaining).sort((a, b) => a - b)).toEqual([5, 6, 7, 8, 9]);
  });
});
