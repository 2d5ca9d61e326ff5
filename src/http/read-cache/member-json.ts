/**
 * Members as JSON, rendered once, for resources that never change after they are written: a user
 * invitation is created whole and only ever removed (cancelled, accepted, declined, expired), and
 * the API has no way to change its attributes or its visible apps. Whether an invitation is still
 * listed or found is decided by the database on every request; this only saves rendering it (and,
 * with `include=visibleApps`, reading its visible apps) again. The apps themselves are read fresh
 * on every request (see MemoAppRenderer).
 *
 * Users can be changed (PATCH, visibleApps writes, from any instance), so they are never given one.
 */
import { RawJson } from '../../jsonapi/raw-json.js';
import type { MemberRenderer, MemberView, RenderedMember } from '../../jsonapi/include.js';

/** About 1 KB each (2 KB with a linkage): at most ~20 MB. */
const DEFAULT_CAPACITY = 10_000;

export class MemoMemberRenderer<D> implements MemberRenderer<D> {
  /** by the view's `sliceLimit` ('-' without include), then by id; in the order rendered */
  private readonly entries = new Map<number | '-', Map<string, RenderedMember>>();
  private count = 0;

  constructor(
    private readonly inner: MemberRenderer<D>,
    private readonly capacity = DEFAULT_CAPACITY,
  ) {}

  async render(
    ids: readonly string[],
    load: (ids: readonly string[]) => Promise<D[]>,
    view: MemberView,
  ): Promise<Map<string, RenderedMember>> {
    // only the default fieldset is kept
    if (view.fields) return this.inner.render(ids, load, view);
    const viewKey = view.sliceLimit ?? '-';
    let kept = this.entries.get(viewKey);
    const out = new Map<string, RenderedMember>();
    const missing: string[] = [];
    for (const id of ids) {
      const hit = kept?.get(id);
      if (hit) out.set(id, hit);
      else missing.push(id);
    }
    if (missing.length === 0) return out;
    if (!kept) this.entries.set(viewKey, (kept = new Map<string, RenderedMember>()));
    for (const [id, rendered] of await this.inner.render(missing, load, view)) {
      const member = rendered.resource instanceof RawJson ? rendered : { resource: RawJson.of(rendered.resource), appIds: rendered.appIds };
      if (this.count >= this.capacity) this.dropOldest();
      if (!kept.has(id)) this.count++;
      kept.set(id, member);
      out.set(id, member);
    }
    return out;
  }

  get size(): number {
    return this.count;
  }

  /** Drops everything rendered: the emulator's state import may write other members under the same ids. */
  clear(): void {
    this.entries.clear();
    this.count = 0;
  }

  /** The oldest member of the view kept longest (views are few: with or without include, a limit or two). */
  private dropOldest(): void {
    for (const [view, members] of this.entries) {
      const oldest = members.keys().next();
      if (oldest.done) {
        this.entries.delete(view);
        continue;
      }
      members.delete(oldest.value);
      this.count--;
      return;
    }
  }
}
