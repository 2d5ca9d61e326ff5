/**
 * Reads that arrive together share one statement. A read is not sent at once: it joins the next
 * statement, which reads every key asked for since the previous one was sent. That statement goes
 * out at the end of the turn of the event loop in which its first read arrived, or, while
 * MAX_IN_FLIGHT statements are out, when one of them comes back. Each read is answered by a
 * statement sent after it was asked for, so it finds what reading alone would have found then,
 * every write committed before it included; nobody joins a statement already sent.
 *
 * Used on PostgreSQL, where each statement is a round trip: for the keys every request reads
 * (src/keys/shared-key-reads.ts) and the apps' version an include page reads
 * (src/http/read-cache/app-snapshot.ts).
 */

/** Statements out at once; reads that arrive meanwhile wait for the next one. */
export const MAX_IN_FLIGHT = 2;

interface Waiter<V> {
  resolve: (value: V | undefined) => void;
  reject: (err: unknown) => void;
}

export class SharedReads<K, V> {
  /** the reads that will share the next statement: by key, who waits for it */
  private pending: Map<K, Waiter<V>[]> | undefined;
  private inFlight = 0;
  private unanswered = 0;

  constructor(
    /** reads these keys now, in one statement: the value of each that has one */
    private readonly readMany: (keys: readonly K[]) => Promise<ReadonlyMap<K, V>>,
    private readonly maxInFlight = MAX_IN_FLIGHT,
  ) {}

  /** Reads asked for and not answered yet (waiting to go out, or out). */
  get reading(): number {
    return this.unanswered;
  }

  read(key: K): Promise<V | undefined> {
    this.unanswered++;
    return new Promise((resolve, reject) => {
      let batch = this.pending;
      if (!batch) {
        batch = this.pending = new Map();
        // the end of this turn: reads that arrive in it go along
        if (this.inFlight < this.maxInFlight) setImmediate(() => this.send());
      }
      const waiters = batch.get(key);
      if (waiters) waiters.push({ resolve, reject });
      else batch.set(key, [{ resolve, reject }]);
    });
  }

  private send(): void {
    const batch = this.pending;
    if (!batch || this.inFlight >= this.maxInFlight) return;
    this.pending = undefined;
    this.inFlight++;
    // a read that throws rather than rejecting fails its statement's reads the same way
    new Promise<ReadonlyMap<K, V>>((resolve) => resolve(this.readMany([...batch.keys()]))).then(
      (found) => {
        this.done(batch);
        for (const [key, waiters] of batch) for (const w of waiters) w.resolve(found.get(key));
      },
      (err: unknown) => {
        this.done(batch);
        for (const waiters of batch.values()) for (const w of waiters) w.reject(err);
      },
    );
  }

  /** A statement came back: the reads that waited for it to go (all asked for before now) go. */
  private done(batch: Map<K, Waiter<V>[]>): void {
    for (const waiters of batch.values()) this.unanswered -= waiters.length;
    this.inFlight--;
    this.send();
  }
}
