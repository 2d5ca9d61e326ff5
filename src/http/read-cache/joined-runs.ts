/**
 * Runs of pre-rendered members and apps, joined into one piece once they are seen a second time.
 * A list page with `include=visibleApps` is 50 members and up to hundreds of apps, each kept rendered
 * (./member-json.ts, ./app-json.ts); written as they are, the body is some 250 pieces, each a write
 * of its own into the corked response (sent as one writev of that many buffers), and that costs more
 * than the rest of the page but its SQL.
 *
 * A joined run is the concatenation of the very renderings it was made from, and is handed out only
 * for a run of the same renderings (the same objects, compared one by one): a member or an app
 * rendered anew (an app that changed) is another object, so the run is joined anew. What is listed
 * and which apps are included is decided by the request, from the database, as always; only the
 * bytes of renderings already current are reused.
 */
import { RawJson, type RunJoiner } from '../../jsonapi/raw-json.js';

/** Shorter runs (one member's few apps) are not worth keeping. */
const MIN_RUN = 16;
/** Room for joined runs, in bytes: a list page's apps are 0.5 to 0.8 MB. */
const DEFAULT_MAX_BYTES = 8 * 1024 * 1024;
/** Runs remembered, joined or not. */
const MAX_ENTRIES = 256;

interface Entry {
  items: readonly RawJson[];
  /** joined at the run's second sighting */
  joined: RawJson | undefined;
}

export class JoinedRuns implements RunJoiner {
  /** by the run's first rendering, least recently used first */
  private readonly entries = new Map<RawJson, Entry>();
  private bytes = 0;

  constructor(private readonly maxBytes = DEFAULT_MAX_BYTES) {}

  join(items: readonly RawJson[]): RawJson | undefined {
    if (items.length < MIN_RUN) return undefined;
    const first = items[0]!;
    const entry = this.entries.get(first);
    if (entry) {
      this.entries.delete(first);
      if (sameItems(entry.items, items)) {
        entry.joined ??= this.joinNow(items);
        this.entries.set(first, entry); // most recently used last
        this.evict();
        return entry.joined;
      }
      if (entry.joined) this.bytes -= entry.joined.bytes.length;
    }
    // seen once: remembered, not joined (a page read once costs no copy)
    this.entries.set(first, { items: [...items], joined: undefined });
    this.evict();
    return undefined;
  }

  private joinNow(items: readonly RawJson[]): RawJson | undefined {
    let length = items.length - 1;
    for (const item of items) length += item.bytes.length;
    // one run may take a quarter of the room
    if (length > this.maxBytes / 4) return undefined;
    const joined = Buffer.allocUnsafeSlow(length);
    let at = 0;
    items.forEach((item, i) => {
      if (i > 0) joined[at++] = 0x2c; // ','
      at += item.bytes.copy(joined, at);
    });
    this.bytes += length;
    return new RawJson(joined);
  }

  private evict(): void {
    for (const [key, entry] of this.entries) {
      if (this.bytes <= this.maxBytes && this.entries.size <= MAX_ENTRIES) break;
      this.entries.delete(key);
      if (entry.joined) this.bytes -= entry.joined.bytes.length;
    }
  }

  /** runs remembered and the bytes of those joined */
  stats(): { entries: number; bytes: number } {
    return { entries: this.entries.size, bytes: this.bytes };
  }
}

function sameItems(a: readonly RawJson[], b: readonly RawJson[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}
