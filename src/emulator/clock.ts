/**
 * The emulator's clock: the wall clock plus an offset that only grows. It keeps running, so
 * durations measured by the code (timeouts, backoffs) stay real while a test jumps days ahead.
 */
import type { Clock } from '../clock.js';

export class EmulatedClock implements Clock {
  private offset = 0;
  constructor(private readonly wall: () => number = Date.now) {}

  now(): Date {
    return new Date(this.wall() + this.offset);
  }

  /** how far ahead of the wall clock it is, in milliseconds */
  get offsetMs(): number {
    return this.offset;
  }

  /** Moves it `ms` (at least 0) ahead. */
  advance(ms: number): void {
    if (!Number.isFinite(ms) || ms < 0) throw new RangeError('the clock only moves forward');
    this.offset += ms;
  }

  /** Sets it to `at`, which may not be earlier than now. */
  set(at: Date): void {
    const delta = at.getTime() - this.now().getTime();
    if (delta < 0) throw new RangeError('the clock only moves forward');
    this.offset += delta;
  }
}
