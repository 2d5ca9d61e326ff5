/**
 * Apps as JSON, rendered once. `include=visibleApps` puts up to hundreds of apps in one page, and an
 * app's 42 relationship links make it about 8.5 KB, so rendering them dominated such pages.
 *
 * Only the default rendering is kept (no sparse fieldset: those go to the plain renderer). Each
 * entry remembers the app it was rendered from, and every lookup brings the app as just read from
 * the database: when any field differs, the app is rendered anew. So this never needs to hear about
 * writes, which may come from another process (the CLI) or another instance, and it can never answer
 * with an app as it was before an acknowledged write.
 */
import { RawJson } from '../../jsonapi/raw-json.js';
import type { App } from '../../domain/app.js';
import type { AppRenderer } from '../../jsonapi/include.js';

/** Enough for every app of a large team; about 8.5 KB each. */
const DEFAULT_CAPACITY = 1_000;

interface Entry {
  /** a copy of the app rendered, and how many fields it has */
  app: App;
  fields: number;
  json: RawJson;
}

export class MemoAppRenderer implements AppRenderer {
  /** in the order they were rendered: the capacity holds a team's apps, so the first out is the oldest */
  private readonly entries = new Map<string, Entry>();

  constructor(
    private readonly inner: AppRenderer,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  render(app: App, fields: readonly string[] | undefined): RawJson | ReturnType<AppRenderer['render']> {
    if (fields) return this.inner.render(app, fields);
    const hit = this.entries.get(app.id);
    if (hit) {
      if (sameApp(hit, app)) return hit.json;
      this.entries.delete(app.id);
    } else if (this.entries.size >= this.capacity) {
      this.entries.delete(this.entries.keys().next().value!);
    }
    const rendered = this.inner.render(app, undefined);
    const copy = { ...app };
    const entry = { app: copy, fields: Object.keys(copy).length, json: rendered instanceof RawJson ? rendered : RawJson.of(rendered) };
    this.entries.set(app.id, entry);
    return entry.json;
  }

  get size(): number {
    return this.entries.size;
  }
}

/** Every field of `app` equal to the one rendered, and no other field (a page compares hundreds). */
function sameApp(entry: Entry, app: App): boolean {
  let fields = 0;
  for (const key in app) {
    if (entry.app[key as keyof App] !== app[key as keyof App]) return false;
    fields++;
  }
  return fields === entry.fields;
}
