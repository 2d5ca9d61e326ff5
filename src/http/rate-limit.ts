/**
 * The hourly request quota per API key (behavior.md A18, B5): a rolling hour counted in one-second
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

class Window {
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
}

export class InMemoryRateLimiter implements RateLimiter {
  private readonly windows = new Map<string, Window>();
  constructor(private readonly limit: number) {}

  hit(keyId: string, nowMs: number): RateDecision {
    let w = this.windows.get(keyId);
    if (!w) {
      w = new Window();
      this.windows.set(keyId, w);
    }
    const second = Math.floor(nowMs / 1000);
    w.advance(second);
    if (w.total >= this.limit) return { allowed: false, limit: this.limit, remaining: 0 };
    const i = second % SLOTS;
    w.counts[i] = w.counts[i]! + 1;
    w.total++;
    return { allowed: true, limit: this.limit, remaining: this.limit - w.total };
  }
}

export function rateLimitHeader(d: RateDecision): string {
  return `user-hour-lim:${d.limit};user-hour-rem:${d.remaining};`;
}
