/**
 * Identical list reads that arrive together share one statement (PostgreSQL). On PostgreSQL a
 * list's page (with its total, one statement: ./list-query.ts) is a round trip, and a round trip
 * costs the server more than the rest of the page: the pool, the protocol, waking a PostgreSQL
 * backend and being woken by it. Clients that poll a list ask for the same page again and again,
 * and several at once ask for the same page.
 *
 * So a read is not sent at once: it joins the next statement for the same request (the same
 * filters with the same values, sort, cursor and page size), which goes out at the end of the turn
 * of the event loop in which its first read arrived, or, while a statement for that request is
 * out, when it comes back. Each read is answered by a statement sent after it arrived, in a
 * snapshot taken after it arrived: what it finds is what reading alone would have found then,
 * every write committed before it included. Nobody joins a statement already sent.
 *
 * A list's scope (ListDefinition.scope) is the moment of the read, as an ISO 8601 time in UTC
 * (pending invitations: those that expire after now). It is the one part of a request that differs
 * between reads of the same page, and the statement takes the latest of its reads' scopes: a moment
 * no earlier than any of them arrived, so each is answered as of a moment between its arrival and
 * its answer.
 *
 * Reads inside a transaction are never shared: they must see the transaction's own writes.
 *
 * A shortcut behind a seam: ASC_SHARED_LIST_READS=off reads each page on its own
 * (src/container.ts). SQLite reads in-process, where there is no round trip to share, so this is
 * for PostgreSQL only.
 */
import type { ListRequest } from './list-query.js';
import type { Executor } from './schema.js';

/** Statements out at once for one request; reads of it that arrive meanwhile wait for the next. */
export const MAX_IN_FLIGHT_PER_REQUEST = 1;

export interface PageAndCount<R> {
  rows: R[];
  total: number;
}

interface Waiter<R> {
  resolve: (value: PageAndCount<R>) => void;
  reject: (err: unknown) => void;
}

/** The reads of one request (by its key): the next statement's, and how many are out. */
interface Slot<R> {
  /** reads that will share the next statement, and the request it will run (the last to join) */
  next: { req: ListRequest; waiters: Waiter<R>[] } | undefined;
  inFlight: number;
}

/** What a read of a list asks, but its scope's value (the moment of the read). */
function keyOf(req: ListRequest, limit: number): string {
  return JSON.stringify([req.scope !== undefined, req.filters, req.sort, req.after ?? null, limit]);
}

/** The later of two scopes (ISO 8601 times in UTC, which sort as text). */
function later(a: ListRequest, b: ListRequest): ListRequest {
  return a.scope !== undefined && b.scope !== undefined && a.scope > b.scope ? a : b;
}

export class SharedListReads<R> {
  /** per database handle, then per request's key; a slot is dropped when nothing waits or is out */
  private readonly slots = new WeakMap<Executor, Map<string, Slot<R>>>();
  private unanswered = 0;
  private slotCount = 0;

  constructor(
    /** runs the read now, as one statement */
    private readonly run: (db: Executor, req: ListRequest, limit: number) => Promise<PageAndCount<R>>,
    private readonly maxInFlight = MAX_IN_FLIGHT_PER_REQUEST,
  ) {}

  /** Reads asked for and not answered yet (waiting to go out, or out). */
  get reading(): number {
    return this.unanswered;
  }

  /** Pages with reads waiting to go out or out. */
  get pages(): number {
    return this.slotCount;
  }

  read(db: Executor, req: ListRequest, limit: number): Promise<PageAndCount<R>> {
    if (db.isTransaction) return this.run(db, req, limit);
    let byKey = this.slots.get(db);
    if (!byKey) this.slots.set(db, (byKey = new Map<string, Slot<R>>()));
    const key = keyOf(req, limit);
    let slot = byKey.get(key);
    if (!slot) {
      byKey.set(key, (slot = { next: undefined, inFlight: 0 }));
      this.slotCount++;
    }
    this.unanswered++;
    const s = slot;
    const m = byKey;
    return new Promise<PageAndCount<R>>((resolve, reject) => {
      if (s.next) {
        s.next.req = later(s.next.req, req);
        s.next.waiters.push({ resolve, reject });
        return;
      }
      s.next = { req, waiters: [{ resolve, reject }] };
      // the end of this turn: reads that arrive in it go along
      if (s.inFlight < this.maxInFlight) setImmediate(() => this.send(db, m, key, s, limit));
    });
  }

  private send(db: Executor, byKey: Map<string, Slot<R>>, key: string, slot: Slot<R>, limit: number): void {
    const batch = slot.next;
    if (!batch || slot.inFlight >= this.maxInFlight) return;
    slot.next = undefined;
    slot.inFlight++;
    const done = () => {
      this.unanswered -= batch.waiters.length;
      slot.inFlight--;
      if (slot.next) this.send(db, byKey, key, slot, limit);
      else if (slot.inFlight === 0) {
        byKey.delete(key);
        this.slotCount--;
      }
    };
    // a run that throws rather than rejecting fails its reads the same way
    new Promise<PageAndCount<R>>((resolve) => resolve(this.run(db, batch.req, limit))).then(
      ({ rows, total }) => {
        done();
        // each its own array: a caller may take its page apart
        for (const w of batch.waiters) w.resolve({ rows: rows.slice(), total });
      },
      (err: unknown) => {
        done();
        for (const w of batch.waiters) w.reject(err);
      },
    );
  }
}
