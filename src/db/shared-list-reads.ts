/**
 * Identical list reads that arrive together share one statement (PostgreSQL). On PostgreSQL a
 * list's page (with its total, one statement: ./list-query.ts) is a round trip, and a round trip
 * costs the server more than the rest of the page: the pool, the protocol, waking a PostgreSQL
 * backend and being woken by it. Clients that poll a list ask for the same page again and again,
 * and several at once ask for the same page.
 *
 * So a read is not sent at once: it joins the next statement for the same request (the same
 * filters with the same values, sort, cursor and page size), sent as ./shared-reads.ts sends them:
 * at the end of the turn of the event loop in which its first read arrived, or, while a statement
 * for that request is out, when it comes back. Each read is answered by a statement sent after it
 * arrived, in a snapshot taken after it arrived: what it finds is what reading alone would have
 * found then, every write committed before it included. Nobody joins a statement already sent.
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
import { SharedReads } from './shared-reads.js';

/** Statements out at once for one request; reads of it that arrive meanwhile wait for the next. */
export const MAX_IN_FLIGHT_PER_REQUEST = 1;

export interface PageAndCount<R> {
  rows: R[];
  total: number;
}

/** The reads of one request (by its key): its statements, and the request the next one runs. */
interface Page<R> {
  reads: SharedReads<null, PageAndCount<R>>;
  /** the latest scope among the reads waiting for the next statement; undefined: none waits */
  next: ListRequest | undefined;
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
  /** per database handle, then per request's key; a page is dropped when nothing waits or is out */
  private readonly pagesByDb = new WeakMap<Executor, Map<string, Page<R>>>();
  private unanswered = 0;
  private pageCount = 0;

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
    return this.pageCount;
  }

  async read(db: Executor, req: ListRequest, limit: number): Promise<PageAndCount<R>> {
    if (db.isTransaction) return this.run(db, req, limit);
    let byKey = this.pagesByDb.get(db);
    if (!byKey) this.pagesByDb.set(db, (byKey = new Map<string, Page<R>>()));
    const key = keyOf(req, limit);
    let page = byKey.get(key);
    if (!page) {
      const fresh: Page<R> = {
        next: undefined,
        reads: new SharedReads(async () => {
          // the statement runs the latest scope of the reads it answers; later reads wait for the next
          const latest = fresh.next!;
          fresh.next = undefined;
          return new Map([[null, await this.run(db, latest, limit)]]);
        }, this.maxInFlight),
      };
      byKey.set(key, (page = fresh));
      this.pageCount++;
    }
    page.next = page.next ? later(page.next, req) : req;
    this.unanswered++;
    try {
      const { rows, total } = (await page.reads.read(null))!;
      // each its own array: a caller may take its page apart
      return { rows: rows.slice(), total };
    } finally {
      this.unanswered--;
      if (page.reads.reading === 0 && byKey.get(key) === page) {
        byKey.delete(key);
        this.pageCount--;
      }
    }
  }
}
