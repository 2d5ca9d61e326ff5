/**
 * The hourly request quota per API key (docs/behavior.md A18, B5): a rolling hour counted in one-second
 * slots, so memory per key is fixed and every check is O(1). Rejected requests are not counted.
 */
const SLOTS = 3600;

export interface RateDecision {
  allowed: boolean;
  limit: number;
  remaining: number;
}

export interface RateLimiter {
  hit(keyId: string, nowMs: number): Promise<RateDecision> | RateDecision;
}

/** One key's counts over the last hour, in one-second slots. */
export class HourWindow {
  /** counts[s % SLOTS] holds the requests of second s, for the seconds of the last hour */
  readonly counts = new Uint32Array(SLOTS);
  total = 0;
  /** the latest second the window has been moved to */
  current = -Infinity;

  /** Moves the window to end at `second`, dropping the seconds that left the hour. */
  advance(second: number): void {
    if (second <= this.current) return;
    if (second - this.current >= SLOTS) {
      this.counts.fill(0);
      this.total = 0;
    } else {
      for (let s = this.current + 1; s <= second; s++) {
        const i = s % SLOTS;
        this.total -= this.counts[i]!;
        this.counts[i] = 0;
      }
    }
    this.current = second;
  }

  /** Counts one request in `second` (the window's current second or earlier within the hour). */
  add(second: number): void {
    const i = second % SLOTS;
    this.counts[i] = this.counts[i]! + 1;
    this.total++;
  }
}

export class InMemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, HourWindow>();
  constructor(private readonly limit: number) {}

  hit(keyId: string, nowMs: number): RateDecision {
    let w = this.windows.get(keyId);
    if (!w) {
      w = new HourWindow();
      this.windows.set(keyId, w);
    }
    const second = Math.floor(nowMs / 1000);
    w.advance(second);
    if (w.total >= this.limit) return { allowed: false, limit: this.limit, remaining: 0 };
    w.add(second);
    return { allowed: true, limit: this.limit, remaining: this.limit - w.total };
  }
}

export function rateLimitHeader(d: RateDecision): string {
  return `user-hour-lim:${d.limit};user-hour-rem:${d.remaining};`;
}

/**
 * The quota kept in the database, for several instances on one PostgreSQL database: one row per
 * key and second, the hour being the last 3600 seconds (as exact as the in-memory window). The increment comes first, so concurrent
 * requests can never together pass the limit; a refused request takes its count back.
 */
export class DatabaseRateLimiter implements RateLimiter {
  constructor(
    private readonly repo: RateLimitRepository,
    private readonly limit: number,
  ) {}

  async hit(keyId: string, nowMs: number): Promise<RateDecision> {
    const second = Math.floor(nowMs / 1000);
    const used = await this.repo.increment(keyId, second);
    if (used > this.limit) {
      await this.repo.decrement(keyId, second);
      return { allowed: false, limit: this.limit, remaining: 0 };
    }
    return { allowed: true, limit: this.limit, remaining: this.limit - used };
  }
}

export interface RateLimitRepository {
  /** Adds one to (key, second) and returns the key's count over the hour ending there. */
  increment(keyId: string, second: number): Promise<number>;
  decrement(keyId: string, second: number): Promise<void>;
  deleteBefore(second: number): Promise<void>;
}
