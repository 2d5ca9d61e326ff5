/** App rows to Apple's `App` resource. */
import { loadSpecDocument } from '../../spec/openapi.js';
import { linkTo } from '../../jsonapi/links.js';
import { applyFields, type Relationship, type Resource } from '../../jsonapi/document.js';
import type { AppRenderer } from '../../jsonapi/include.js';
import type { App } from '../../domain/app.js';

interface RelationshipShape {
  name: string;
  toMany: boolean;
  hasLinks: boolean;
}

/** The App relationships of the vendored spec, in its order; rendered as links only. */
export const APP_RELATIONSHIPS: readonly RelationshipShape[] = (() => {
  const app = loadSpecDocument().components.schemas.App as {
    properties: { relationships: { properties: Record<string, { properties?: Record<string, { type?: string }> }> } };
  };
  return Object.entries(app.properties.relationships.properties).map(([name, schema]) => ({
    name,
    toMany: schema.properties?.data?.type === 'array',
    hasLinks: schema.properties?.links !== undefined,
  }));
})();

export interface AppRenderOptions {
  base: string;
  /** relationship names named in `include`: they carry (empty) data, since this server holds none of those resources */
  include?: readonly string[];
  /** limit[<relationship>] values */
  relationshipLimits?: ReadonlyMap<string, number>;
}

export function appSelfLink(base: string, id: string): string {
  return linkTo(base, `/v1/apps/${encodeURIComponent(id)}`);
}

export function serializeApp(app: App, options: AppRenderOptions): Resource {
  const self = appSelfLink(options.base, app.id);
  const relationships: Record<string, Relationship> = {};
  for (const r of APP_RELATIONSHIPS) {
    if (!r.hasLinks) continue;
    const rel: Relationship = { links: { self: `${self}/relationships/${r.name}`, related: `${self}/${r.name}` } };
    if (r.toMany && options.include?.includes(r.name)) {
      rel.meta = { paging: { total: 0, limit: options.relationshipLimits?.get(r.name) ?? 10 } };
      rel.data = [];
    }
    relationships[r.name] = rel;
  }
  return {
    type: 'apps',
    id: app.id,
    attributes: {
      accessibilityUrl: null,
      name: app.name,
      bundleId: app.bundleId,
      sku: app.sku,
      primaryLocale: app.primaryLocale,
      isOrEverWasMadeForKids: null,
      subscriptionStatusUrl: null,
      subscriptionStatusUrlVersion: null,
      subscriptionStatusUrlForSandbox: null,
      subscriptionStatusUrlVersionForSandbox: null,
      contentRightsDeclaration: null,
      streamlinedPurchasingEnabled: null,
    },
    relationships,
    links: { self },
  };
}

export type { AppRenderer } from '../../jsonapi/include.js';

/** Apps in their default rendering, as lists and `included` show them, rendered anew each time. */
export function appRenderer(base: string): AppRenderer {
  return { render: (app, fields) => applyFields(serializeApp(app, { base }), fields) };
}
