/**
 * When a read's answer may next change without a write (ReuseHint.changesAt), remembered under the
 * database's version, on SQLite. Every read whose body is kept asks for it (the list of pending
 * invitations: an index seek for the next expiry), the ones read anew (`no-cache`) too.
 *
 * An answer found at `from` for version `v` is `at`: nothing changes the answer between `from` and
 * `at` but a write. So for any later instant before `at`, the next change is still `at`, as long as
 * the version is still `v`; past `at`, or at another version, it is asked again. A clock set back to
 * before `from` asks again too.
 */
import type { ReuseHint } from '../operation.js';

interface Found {
  version: string;
  /** ms since the epoch: when it was asked */
  fromMs: number;
  at: Date | undefined;
}

export class ChangeTimes {
  private readonly found = new WeakMap<ReuseHint, Found>();

  /**
   * `hint.changesAt(now)`, or what it answered before at `version`. `version` must have been read
   * before this call (the request's, read when it arrived).
   */
  async next(hint: ReuseHint, version: string, now: Date): Promise<Date | undefined> {
    const changesAt = hint.changesAt;
    if (!changesAt) return undefined;
    const nowMs = now.getTime();
    const known = this.found.get(hint);
    if (known && known.version === version && nowMs >= known.fromMs && (known.at === undefined || nowMs < known.at.getTime()))
      return known.at;
    const at = await changesAt(now);
    this.found.set(hint, { version, fromMs: nowMs, at });
    return at;
  }
}
