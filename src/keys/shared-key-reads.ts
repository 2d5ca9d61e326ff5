/**
 * Key reads that arrive together share one statement (PostgreSQL). Every request reads its key, so
 * that a key revoked anywhere is refused everywhere at once (docs/deployment.md); on PostgreSQL
 * that read is a round trip of its own, a third of a list page's statements. Requests come in
 * bursts (one turn of the event loop parses several), and they nearly all name the same few keys.
 *
 * So a read joins the next statement, which reads every key asked for since the previous one was
 * sent (`where id = any($1)`), as src/db/shared-reads.ts sends them: each request is answered from
 * a statement sent after it arrived, in a snapshot taken after it arrived, so what it finds is what
 * reading its key alone would have found then, a revocation committed before the request included.
 *
 * A shortcut behind a seam: ASC_SHARED_KEY_READS=off reads each key on its own (src/container.ts).
 * SQLite reads its keys in-process and keeps them per database version (src/http/read-cache/), so
 * this is for PostgreSQL only.
 */
import { SharedReads } from '../db/shared-reads.js';
import type { ApiKey, KeyLookup } from './service.js';

export { MAX_IN_FLIGHT } from '../db/shared-reads.js';

export class SharedKeyReads implements KeyLookup {
  private readonly shared: SharedReads<string, ApiKey>;

  constructor(
    /** reads these keys now, in one statement: those that exist, in any order */
    readMany: (ids: readonly string[]) => Promise<ApiKey[]>,
    maxInFlight?: number,
  ) {
    this.shared = new SharedReads(async (ids) => new Map((await readMany(ids)).map((k) => [k.id, k])), maxInFlight);
  }

  /** Reads asked for and not answered yet (waiting to go out, or out). */
  get reading(): number {
    return this.shared.reading;
  }

  find(id: string): Promise<ApiKey | undefined> {
    // no key id holds a NUL, and PostgreSQL text cannot even hold one: in the statement's array it
    // would fail the statement, and every read sharing it
    if (id.includes('\u0000')) return Promise.resolve(undefined);
    return this.shared.read(id);
  }
}
