/**
 * Key reads that arrive together share one statement (PostgreSQL). Every request reads its key, so
 * that a key revoked anywhere is refused everywhere at once (docs/deployment.md); on PostgreSQL
 * that read is a round trip of its own, a third of a list page's statements. Requests come in
 * bursts (one turn of the event loop parses several), and they nearly all name the same few keys.
 *
 * So a read is not sent at once: it joins the next statement, which reads every key asked for since
 * the previous one was sent (`where id = any($1)`). That statement goes out at the end of the turn
 * in which its first read arrived, or, while MAX_IN_FLIGHT statements are out, when one of them
 * comes back. Each request is answered from a statement sent after it arrived, in a snapshot taken
 * after it arrived: what it finds is what reading its key alone would have found then, a revocation
 * committed before the request included. Nobody joins a statement already sent.
 *
 * A shortcut behind a seam: ASC_SHARED_KEY_READS=off reads each key on its own (src/container.ts).
 * SQLite reads its keys in-process and keeps them per database version (src/http/read-cache/), so
 * this is for PostgreSQL only.
 */
import type { ApiKey, KeyLookup } from './service.js';

/** Statements out at once; reads that arrive meanwhile wait for the next one. */
export const MAX_IN_FLIGHT = 2;

interface Waiter {
  resolve: (key: ApiKey | undefined) => void;
  reject: (err: unknown) => void;
}

/** The reads that will share the next statement: by key id, who waits for it. */
type Batch = Map<string, Waiter[]>;

export class SharedKeyReads implements KeyLookup {
  private pending: Batch | undefined;
  private inFlight = 0;
  private unanswered = 0;

  constructor(
    /** reads these keys now, in one statement: those that exist, in any order */
    private readonly readMany: (ids: readonly string[]) => Promise<ApiKey[]>,
    private readonly maxInFlight = MAX_IN_FLIGHT,
  ) {}

  /** Reads asked for and not answered yet (waiting to go out, or out). */
  get reading(): number {
    return this.unanswered;
  }

  find(id: string): Promise<ApiKey | undefined> {
    // no key id holds a NUL, and PostgreSQL text cannot even hold one: in the statement's array it
    // would fail the statement, and every read sharing it
    if (id.includes('\u0000')) return Promise.resolve(undefined);
    this.unanswered++;
    return new Promise((resolve, reject) => {
      let batch = this.pending;
      if (!batch) {
        batch = this.pending = new Map();
        // the end of this turn: reads that arrive in it go along
        if (this.inFlight < this.maxInFlight) setImmediate(() => this.send());
      }
      const waiters = batch.get(id);
      if (waiters) waiters.push({ resolve, reject });
      else batch.set(id, [{ resolve, reject }]);
    });
  }

  private send(): void {
    const batch = this.pending;
    if (!batch || this.inFlight >= this.maxInFlight) return;
    this.pending = undefined;
    this.inFlight++;
    // a read that throws rather than rejecting fails its statement's reads the same way
    new Promise<ApiKey[]>((resolve) => resolve(this.readMany([...batch.keys()]))).then(
      (keys) => {
        this.done(batch);
        const found = new Map(keys.map((k) => [k.id, k]));
        for (const [id, waiters] of batch) for (const w of waiters) w.resolve(found.get(id));
      },
      (err: unknown) => {
        this.done(batch);
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }

  /** A statement came back: the reads that waited for it to go (all arrived before now) go. */
  private done(batch: Batch): void {
    for (const waiters of batch.values()) this.unanswered -= waiters.length;
    this.inFlight--;
    this.send();
  }
}
