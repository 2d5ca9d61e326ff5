/**
 * Whole bodies of successful reads, by request target, on SQLite: a client that asks for the same
 * page again (a dashboard, a script polling its pending invitations, a CLI listing with includes)
 * gets the bytes sent last time, as long as they are still the answer.
 *
 * They are, as long as two things hold, both checked on every request:
 * - nothing was written to the database since the body was read: the database's version (Db.version),
 *   read when the request arrived, before the handler reads anything, must be the same at a later
 *   request; any write by any process changes it, so an acknowledged write is never followed by a
 *   body read before it;
 * - the body is not past its own time: what a read answers can change with the clock alone (an
 *   invitation stops being pending when it expires), so each operation says when its answer may
 *   change without a write (Operation.reuse), and a body is sent only before that instant.
 * Reads do not depend on who asks (any valid key reads the same), so the key is the target alone;
 * authentication, scope and the quota are checked for every request, cached body or not.
 * Only 200s are kept; errors are always made anew.
 */

/**
 * A body as the pieces it was written from (encodeJsonParts(): pre-rendered members and apps, which
 * other caches hold too, and the text between them), joined into one at its first reuse: a body
 * read once costs no copy, one sent again and again goes out as one buffer.
 */
type Body = readonly Buffer[];

interface Entry {
  /** ms since the epoch: the body stands from validFrom (when it was read) to before validUntil */
  validFrom: number;
  /** Infinity when only a write can change the body */
  validUntil: number;
  body: Body;
  /** the body's length in bytes */
  bytes: number;
}

export class ResponseCache {
  /** bodies read at version `held`, least recently used first */
  private readonly entries = new Map<string, Entry>();
  /**
   * The version every kept body was read at. A version only ever moves on, so once a request sees
   * another one, every body kept is out of date and all are dropped at once.
   */
  private held: string | undefined;
  private bytes = 0;
  private hits = 0;
  private misses = 0;

  constructor(
    /** room for bodies, in bytes (ASC_RESPONSE_CACHE_MB); an include page is 0.5 to 0.8 MB */
    private readonly maxBytes: number,
  ) {}

  /** The body kept for `target`, if it stands at `version` and at `nowMs`. */
  get(target: string, version: string, nowMs: number): Body | undefined {
    if (version !== this.held) {
      this.entries.clear();
      this.bytes = 0;
      this.held = version;
      this.misses++;
      return undefined;
    }
    const entry = this.entries.get(target);
    if (entry) {
      this.entries.delete(target);
      // a clock set back to before the read is not trusted with it either
      if (nowMs < entry.validUntil && nowMs >= entry.validFrom) {
        if (entry.body.length > 1) entry.body = [Buffer.concat(entry.body, entry.bytes)];
        this.entries.set(target, entry);
        this.hits++;
        return entry.body;
      }
      this.bytes -= entry.bytes;
    }
    this.misses++;
    return undefined;
  }

  /**
   * Keeps `body` as the answer to `target` from `validFrom` (the time after it was read) until
   * `validUntil`. `version` is the one read before the body was (the one its get() was given); if
   * the cache has seen another one since, the body is already out of date and is not kept.
   */
  set(target: string, version: string, validFrom: number, validUntil: number, body: Body): void {
    let bytes = 0;
    for (const part of body) bytes += part.length;
    // one body may take an eighth of the room, so that a few large pages do not push out the rest
    if (version !== this.held || bytes > this.maxBytes / 8) return;
    const old = this.entries.get(target);
    if (old) {
      this.entries.delete(target);
      this.bytes -= old.bytes;
    }
    for (const [key, entry] of this.entries) {
      if (this.bytes + bytes <= this.maxBytes) break;
      this.entries.delete(key);
      this.bytes -= entry.bytes;
    }
    this.entries.set(target, { validFrom, validUntil, body, bytes });
    this.bytes += bytes;
  }

  /** bodies kept and their bytes; requests answered from the cache and not */
  stats(): { entries: number; bytes: number; hits: number; misses: number } {
    return { entries: this.entries.size, bytes: this.bytes, hits: this.hits, misses: this.misses };
  }
}
