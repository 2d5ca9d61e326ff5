/** How users and user invitations are rendered in lists, single documents and `include`. */
import { applyFields, type Resource } from '../../jsonapi/document.js';
import type { RawJson } from '../../jsonapi/raw-json.js';
import type { VisibleAppsSlice } from './repository.js';

/** What a request asks of each member's rendering. */
export interface MemberView {
  /** the sparse fieldset, if any */
  fields: readonly string[] | undefined;
  /** with include=visibleApps: the linkage's `limit[visibleApps]`; else undefined */
  sliceLimit: number | undefined;
}

export interface RenderedMember {
  resource: Resource | RawJson;
  /** with include=visibleApps: the app ids its linkage names, in order */
  appIds: readonly string[];
}

export interface MemberRenderer<D> {
  /**
   * The members with these ids, rendered as `view` asks, by id. `load` reads the members; one that
   * it no longer finds (removed since its page was read) is absent.
   */
  render(ids: readonly string[], load: (ids: readonly string[]) => Promise<D[]>, view: MemberView): Promise<Map<string, RenderedMember>>;
}

/** Renders members anew: reads them, and their visible-apps slices when the view includes them. */
export function memberRenderer<D extends { id: string }>(
  serialize: (item: D, base: string, slice?: VisibleAppsSlice, sliceLimit?: number) => Resource,
  slices: (ids: readonly string[], limit: number) => Promise<Map<string, VisibleAppsSlice>>,
  base: string,
): MemberRenderer<D> {
  return {
    async render(ids, load, { fields, sliceLimit }) {
      const items = await load(ids);
      const found = sliceLimit === undefined ? undefined : await slices(items.map((i) => i.id), sliceLimit);
      const out = new Map<string, RenderedMember>();
      for (const item of items) {
        const slice = found?.get(item.id);
        out.set(item.id, { resource: applyFields(serialize(item, base, slice, sliceLimit), fields), appIds: slice?.ids ?? [] });
      }
      return out;
    },
  };
}
