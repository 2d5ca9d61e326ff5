/** The `visibleApps` relationship, rendered alike on users and user invitations. */
import type { Relationship } from '../../jsonapi/document.js';
import type { VisibleAppsSlice } from './repository.js';

/** The default of `limit[visibleApps]` (behavior.md A15). */
export const DEFAULT_VISIBLE_APPS_LIMIT = 10;

/**
 * Links only; with `include=visibleApps` (a `slice`) also the linkage, capped at `sliceLimit`,
 * and its paging (A17).
 */
export function visibleAppsRelationship(self: string, slice?: VisibleAppsSlice, sliceLimit = DEFAULT_VISIBLE_APPS_LIMIT): Relationship {
  const relationship: Relationship = {
    links: { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` },
  };
  if (slice) {
    relationship.meta = { paging: { total: slice.total, limit: sliceLimit } };
    relationship.data = slice.ids.map((id) => ({ type: 'apps', id }));
  }
  return relationship;
}
