/**
 * Random bytes for the ids and tokens of creates, drawn from a pool filled 4 KiB at a time.
 *
 * Every crypto.getRandomValues() or randomBytes() call goes into OpenSSL, and the call, not the
 * length, is what costs: 3 to 4 µs for 16 bytes as for 4 KiB, unloaded. uuid's v7 makes one such
 * call per id, and a create needs two ids and a token: under a stream of creates the profile put
 * 6% of the server's CPU there. One fill serves 64 creates (64 bytes each). node:crypto's randomUUID()
 * pools the same way.
 *
 * Bytes handed out are copied out of the pool and never handed out again.
 */
import { randomFillSync } from 'node:crypto';
import { v7 } from 'uuid';

const POOL_BYTES = 4096;

export class RandomPool {
  private readonly pool = Buffer.alloc(POOL_BYTES);
  /** the first byte not handed out yet; POOL_BYTES: the pool is used up */
  private offset = POOL_BYTES;

  /** `n` fresh random bytes (at most the pool's size). */
  take(n: number): Buffer {
    if (n > POOL_BYTES) throw new RangeError(`at most ${POOL_BYTES} random bytes at a time`);
    if (this.offset + n > POOL_BYTES) {
      randomFillSync(this.pool);
      this.offset = 0;
    }
    const bytes = Buffer.from(this.pool.subarray(this.offset, this.offset + n));
    this.offset += n;
    return bytes;
  }
}

const shared = new RandomPool();

/** `n` random bytes (n ≤ 4096) from the process's pool. */
export function randomBytesPooled(n: number): Buffer {
  return shared.take(n);
}

/**
 * Time-ordered ids (UUID version 7, RFC 9562) from the pool. uuid keeps its ids in order within a
 * millisecond only when it draws the random bytes itself, so the counter of RFC 9562 section
 * 6.2 (method 1) is kept here: a new millisecond starts it at a random 31-bit value, each further
 * id in the same millisecond adds one, and should it ever wrap, the ids move on to the next
 * millisecond. Ids made in one process therefore sort in the order they were made.
 */
export class UuidV7Source {
  private msecs = -Infinity;
  private seq = 0;

  constructor(
    private readonly pool: RandomPool = shared,
    private readonly now: () => number = Date.now,
  ) {}

  next(): string {
    const random = this.pool.take(16);
    const now = this.now();
    if (now > this.msecs) {
      this.msecs = now;
      this.seq = random.readUInt32BE(6) & 0x7fffffff;
    } else {
      this.seq = (this.seq + 1) | 0;
      if (this.seq === 0) this.msecs++;
    }
    return v7({ random, msecs: this.msecs, seq: this.seq });
  }
}

const ids = new UuidV7Source();

/** A new time-ordered id (UUID version 7). */
export function uuidV7(): string {
  return ids.next();
}
