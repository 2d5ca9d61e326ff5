/**
 * The shared quota counted in memory and reconciled through PostgreSQL (src/http/quota-sync.ts):
 * two limiters on one real database stand for two instances; syncs are called by the test, so the
 * tolerance is checked exactly, without timers.
 */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { SqlRateLimitRepository } from '../../src/http/rate-limit-repository.js';
import { SyncedRateLimiter } from '../../src/http/quota-sync.js';
import { testConfig } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';

const T0 = Date.UTC(2026, 0, 1, 12);
const HOUR = 3_600_000;

let config: ReturnType<typeof testConfig>;
let db: Db;
let now: number;

function limiter(limit: number): SyncedRateLimiter {
  // syncMs is not used: the test calls sync() itself
  return new SyncedRateLimiter(new SqlRateLimitRepository(db.kysely), limit, { syncMs: 60_000, now: () => now });
}

async function hits(l: SyncedRateLimiter, n: number, key = 'KEY0000001'): Promise<boolean[]> {
  const out: boolean[] = [];
  for (let i = 0; i < n; i++) out.push((await l.hit(key, now)).allowed);
  return out;
}

async function stored(key = 'KEY0000001'): Promise<number> {
  const row = await db.kysely
    .selectFrom('rate_limit_counts')
    .select((eb) => eb.fn.sum<string | number>('count').as('n'))
    .where('key_id', '=', key)
    .executeTakeFirst();
  return Number(row?.n ?? 0);
}

describe('the shared quota on PostgreSQL, counted in memory', () => {
  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
    now = T0;
  });
  afterEach(() => dropDatabase(config, db));

  it('is exact on one instance, and a restart reads what was counted', async () => {
    const one = limiter(5);
    const remaining: number[] = [];
    for (let i = 0; i < 6; i++) remaining.push((await one.hit('KEY0000001', now)).remaining);
    expect(remaining).toEqual([4, 3, 2, 1, 0, 0]);
    expect((await one.hit('KEY0000001', now)).allowed).toBe(false);
    expect(await stored()).toBe(0);
    await one.stop();
    expect(await stored()).toBe(5);
    const restarted = limiter(5);
    expect(await restarted.hit('KEY0000001', now)).toEqual({ allowed: false, limit: 5, remaining: 0 });
  });

  it('lets two instances past the quota by at most what the other admitted since the last sync', async () => {
    const a = limiter(10);
    const b = limiter(10);
    // neither has synced: each knows only its own counts
    expect(await hits(a, 6)).toEqual(Array(6).fill(true));
    expect(await hits(b, 7)).toEqual([true, true, true, true, true, true, true]);
    // a admitted 6 beyond b's view, b 7 beyond a's: 13 in all, 3 over, within either bound
    await a.sync();
    await b.sync();
    await a.sync();
    expect(await stored()).toBe(13);
    expect((await a.hit('KEY0000001', now)).allowed).toBe(false);
    expect((await b.hit('KEY0000001', now)).allowed).toBe(false);
    // synced, they share it exactly: nothing more is admitted anywhere until the hour moves on
    const c = limiter(10);
    expect((await c.hit('KEY0000001', now)).allowed).toBe(false);
    expect(await stored()).toBe(13);
  });

  it('once synced, the instances share the quota: one spends what the other left', async () => {
    const a = limiter(10);
    const b = limiter(10);
    expect(await hits(a, 4)).toEqual(Array(4).fill(true));
    await a.sync();
    const fromB = await hits(b, 8);
    expect(fromB).toEqual([true, true, true, true, true, true, false, false]);
    await b.sync();
    await a.sync();
    expect((await a.hit('KEY0000001', now)).remaining).toBe(0);
    expect(await stored()).toBe(10);
  });

  it('counts a rolling hour: what was counted an hour ago is free again', async () => {
    const a = limiter(3);
    expect(await hits(a, 4)).toEqual([true, true, true, false]);
    await a.sync();
    now = T0 + HOUR + 1000;
    await a.sync();
    expect(await hits(a, 4)).toEqual([true, true, true, false]);
    await a.stop();
    expect(await stored()).toBe(6);
  });

  it('keeps keys apart', async () => {
    const a = limiter(2);
    expect(await hits(a, 3, 'KEYAAAAAAA')).toEqual([true, true, false]);
    expect(await hits(a, 3, 'KEYBBBBBBB')).toEqual([true, true, false]);
    await a.stop();
    expect([await stored('KEYAAAAAAA'), await stored('KEYBBBBBBB')]).toEqual([2, 2]);
  });
});
