/**
 * The hourly quota shared by several instances on one PostgreSQL database, counted in memory and
 * reconciled with the database every `syncMs` (ASC_RATE_LIMIT_SYNC_MS, default one second), so a
 * request costs no write of its own: each sync writes the counts taken since the last one in one
 * statement and reads back every active key's total over the hour.
 *
 * The tolerance (docs/deployment.md, "The shared quota"): each instance keeps its own requests in a
 * rolling window of its own and the other instances' as the number the last sync gave, so a key can get past its quota by at most what the
 * other instances admit for it within one sync interval; on one instance the count is exact. A key
 * first seen by an instance reads its total before the first decision, so a restart grants nothing
 * anew. Counts not yet written when a process is killed (at most one interval's) are lost, which
 * can only favour the client; a graceful shutdown writes them.
 *
 * `syncMs` 0 switches this off: DatabaseRateLimiter, one write per request, exact.
 */
import { HourWindow, type RateDecision, type RateLimiter } from './rate-limit.js';

/** What this limiter needs of the database (SqlRateLimitRepository). */
export interface QuotaStore {
  /** Adds each row's count to (key, second). */
  add(rows: readonly { keyId: string; second: number; count: number }[]): Promise<void>;
  /** Each key's count over the hour ending at `second` (keys with none are left out). */
  totals(keyIds: readonly string[], second: number): Promise<Map<string, number>>;
}

interface KeyQuota {
  /** this instance's requests over the hour, exact */
  own: HourWindow;
  /** the other instances' requests over the hour, as of the last sync */
  others: number;
  /** this instance's requests not yet written, by second */
  pending: Map<number, number>;
  pendingTotal: number;
}

export interface SyncedRateLimiterOptions {
  syncMs: number;
  /** told when a sync fails (the counts are kept and written by the next one) */
  onSyncError?: (err: unknown) => void;
  /** the time syncs are made at, in ms (the app's clock; default the wall clock) */
  now?: () => number;
}

export class SyncedRateLimiter implements RateLimiter {
  private readonly keys = new Map<string, KeyQuota>();
  private readonly loading = new Map<string, Promise<KeyQuota>>();
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly now: () => number;

  constructor(
    private readonly store: QuotaStore,
    private readonly limit: number,
    private readonly options: SyncedRateLimiterOptions,
  ) {
    this.now = options.now ?? Date.now;
  }

  /** Starts the periodic sync. */
  start(): void {
    if (this.timer || this.options.syncMs <= 0) return;
    this.timer = setInterval(() => void this.sync().catch(() => undefined), this.options.syncMs);
    this.timer.unref();
  }

  /** Stops the periodic sync and writes what is still pending. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.sync().catch(() => undefined);
  }

  async hit(keyId: string, nowMs: number): Promise<RateDecision> {
    const q = this.keys.get(keyId) ?? (await this.load(keyId, nowMs));
    const second = Math.floor(nowMs / 1000);
    q.own.advance(second);
    const used = q.others + q.own.total;
    if (used >= this.limit) return { allowed: false, limit: this.limit, remaining: 0 };
    q.own.add(Math.max(second, q.own.current));
    q.pending.set(second, (q.pending.get(second) ?? 0) + 1);
    q.pendingTotal++;
    return { allowed: true, limit: this.limit, remaining: this.limit - used - 1 };
  }

  /** A key's first decision here waits for its total, once, however many requests arrive together. */
  private load(keyId: string, nowMs: number): Promise<KeyQuota> {
    let loading = this.loading.get(keyId);
    if (!loading) {
      loading = this.store
        .totals([keyId], Math.floor(nowMs / 1000))
        .then((totals) => {
          const q: KeyQuota = { own: new HourWindow(), others: totals.get(keyId) ?? 0, pending: new Map(), pendingTotal: 0 };
          this.keys.set(keyId, q);
          return q;
        })
        .finally(() => this.loading.delete(keyId));
      this.loading.set(keyId, loading);
    }
    return loading;
  }

  /**
   * Writes the requests counted since the last sync and reads back every known key's total. One
   * sync at a time: a call while one runs waits for it and then runs its own.
   */
  async sync(): Promise<void> {
    while (this.running) await this.running;
    const run = this.syncOnce();
    this.running = run;
    try {
      await run;
    } finally {
      this.running = undefined;
    }
  }

  private async syncOnce(): Promise<void> {
    const second = Math.floor(this.now() / 1000);
    const rows: { keyId: string; second: number; count: number }[] = [];
    const taken = new Map<string, Map<number, number>>();
    for (const [keyId, q] of this.keys) {
      q.own.advance(second);
      // a key with nothing counted over the hour, here or elsewhere, is forgotten (read again when seen)
      if (q.pendingTotal === 0 && q.own.total === 0 && q.others === 0) {
        this.keys.delete(keyId);
        continue;
      }
      if (q.pendingTotal === 0) continue;
      for (const [s, count] of q.pending) rows.push({ keyId, second: s, count });
      taken.set(keyId, q.pending);
      q.pending = new Map();
      q.pendingTotal = 0;
    }
    try {
      if (rows.length > 0) await this.store.add(rows);
    } catch (err) {
      // one statement: nothing was written, so the counts wait for the next sync
      for (const [keyId, pending] of taken) {
        const q = this.keys.get(keyId);
        if (!q) continue;
        for (const [s, count] of pending) {
          q.pending.set(s, (q.pending.get(s) ?? 0) + count);
          q.pendingTotal += count;
        }
      }
      this.options.onSyncError?.(err);
      throw err;
    }
    const ids = [...this.keys.keys()];
    if (ids.length === 0) return;
    let totals: Map<string, number>;
    try {
      totals = await this.store.totals(ids, second);
    } catch (err) {
      this.options.onSyncError?.(err);
      throw err;
    }
    for (const keyId of ids) {
      const q = this.keys.get(keyId);
      if (!q) continue;
      // the database holds every instance's written requests; this one's are those in its window
      // not still pending (requests counted while the totals were read)
      q.own.advance(second);
      q.others = Math.max(0, (totals.get(keyId) ?? 0) - (q.own.total - q.pendingTotal));
    }
  }
}
