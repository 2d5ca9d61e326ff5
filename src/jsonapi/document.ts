/** JSON:API document shapes as Apple's spec defines them, and sparse fieldsets. */
import type { RawJson } from './raw-json.js';

export interface ResourceIdentifier {
  type: string;
  id: string;
}

export interface PagingMeta {
  paging: { total: number; limit: number };
}

export interface Relationship {
  links?: { self?: string; related?: string };
  meta?: PagingMeta;
  data?: ResourceIdentifier[] | ResourceIdentifier;
}

export interface Resource {
  type: string;
  id: string;
  attributes?: Record<string, unknown>;
  relationships?: Record<string, Relationship>;
  links: { self: string };
}

/**
 * Trims a resource to a sparse fieldset. Attribute and relationship names share one list
 * (B4.3); with a list, a relationship is kept only when named.
 */
export function applyFields(resource: Resource, fields: readonly string[] | undefined): Resource {
  if (!fields) return resource;
  const out: Resource = { type: resource.type, id: resource.id, links: resource.links };
  if (resource.attributes) {
    const attributes: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(resource.attributes)) if (fields.includes(k)) attributes[k] = v;
    if (Object.keys(attributes).length > 0) out.attributes = attributes;
  }
  if (resource.relationships) {
    const relationships: Record<string, Relationship> = {};
    for (const [k, v] of Object.entries(resource.relationships)) if (fields.includes(k)) relationships[k] = v;
    if (Object.keys(relationships).length > 0) out.relationships = relationships;
  }
  // keep `links` last, as Apple orders members
  const { links, ...rest } = out;
  return { ...rest, links };
}

export interface CollectionInput<T> {
  base: string;
  path: string;
  pairs: ReadonlyArray<readonly [string, string]>;
  data: T[];
  /** resources, or apps as pre-rendered JSON (RawJson) */
  included?: Array<Resource | RawJson>;
  total: number;
  limit: number;
  /** the encoded cursor of the next page, when there is one */
  nextCursor?: string;
}
