/**
 * Members as JSON, rendered once, for resources that never change after they are written: a user
 * invitation is created whole and only ever removed (cancelled, accepted, declined, expired), and
 * the API has no way to change its attributes or its visible apps. Whether an invitation is still
 * listed or found is decided by the database on every request; this only saves rendering it (and,
 * with `include=visibleApps`, reading its visible apps) again. The apps themselves are read fresh
 * on every request (see AppJsonCache).
 *
 * Users can be changed (PATCH, visibleApps writes, from any instance), so they are not kept here.
 */
import type { RawJson } from '../../jsonapi/raw-json.js';

export interface RenderedMember {
  /** the resource object, default fieldset */
  json: RawJson;
  /** with include=visibleApps: the app ids its linkage names, in order */
  appIds: readonly string[];
}

/** About 1 KB each (2 KB with a linkage): at most ~20 MB. */
const DEFAULT_CAPACITY = 10_000;

export class MemberJsonCache {
  private readonly entries = new Map<string, RenderedMember>();

  constructor(private readonly capacity = DEFAULT_CAPACITY) {}

  /** `sliceLimit`: the linkage's `limit[visibleApps]` with include=visibleApps, else undefined. */
  get(id: string, sliceLimit: number | undefined): RenderedMember | undefined {
    return this.entries.get(key(id, sliceLimit));
  }

  set(id: string, sliceLimit: number | undefined, rendered: RenderedMember): void {
    if (this.entries.size >= this.capacity) this.entries.delete(this.entries.keys().next().value!);
    this.entries.set(key(id, sliceLimit), rendered);
  }

  get size(): number {
    return this.entries.size;
  }
}

function key(id: string, sliceLimit: number | undefined): string {
  return `${sliceLimit ?? '-'} ${id}`;
}
