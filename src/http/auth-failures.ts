/**
 * Failed authentications per client address: after `limit` failures within a minute, an address's
 * requests are refused with Apple's 429 before their token is looked at, until that minute has
 * passed. Verifying an ES256 signature is the expensive part of a refused request, and a client
 * that fails `limit` times in a minute is not one whose next token is worth verifying.
 *
 * Memory is bounded: at most `capacity` addresses are tracked, the least recently failing dropped
 * first (a dropped address starts again from zero, which only ever lets a request through).
 */

/** One fixed window of failures, starting at the first failure counted in it. */
interface Window {
  startMs: number;
  failures: number;
}

export interface AuthFailureOptions {
  /** failures allowed per window and address; 0 turns the limit off */
  limit: number;
  windowMs?: number;
  /** how many addresses are tracked at most */
  capacity?: number;
}

export class AuthFailureLimiter {
  private readonly windows = new Map<string, Window>();
  private readonly limit: number;
  private readonly windowMs: number;
  private readonly capacity: number;

  constructor(options: AuthFailureOptions) {
    this.limit = options.limit;
    this.windowMs = options.windowMs ?? 60_000;
    this.capacity = options.capacity ?? 10_000;
  }

  get enabled(): boolean {
    return this.limit > 0;
  }

  /** The address's live window, if any (an ended one is dropped). */
  private live(address: string, nowMs: number): Window | undefined {
    const w = this.windows.get(address);
    if (w && nowMs - w.startMs >= this.windowMs) {
      this.windows.delete(address);
      return undefined;
    }
    return w;
  }

  /**
   * Whole seconds until `address` may try again when it has used up its failures (at least 1);
   * undefined when it may try now.
   */
  blockedFor(address: string, nowMs: number): number | undefined {
    if (!this.enabled) return undefined;
    const w = this.live(address, nowMs);
    if (!w || w.failures < this.limit) return undefined;
    return Math.max(1, Math.ceil((w.startMs + this.windowMs - nowMs) / 1000));
  }

  /** Counts one failed authentication from `address`. */
  fail(address: string, nowMs: number): void {
    if (!this.enabled) return;
    const w = this.live(address, nowMs) ?? { startMs: nowMs, failures: 0 };
    w.failures++;
    // re-inserted: the Map's order is the order of the latest failure, oldest first
    this.windows.delete(address);
    this.windows.set(address, w);
    if (this.windows.size > this.capacity) this.windows.delete(this.windows.keys().next().value!);
  }

  /** how many addresses are tracked (for tests) */
  get size(): number {
    return this.windows.size;
  }
}
