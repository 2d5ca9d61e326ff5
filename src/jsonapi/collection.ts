/** Collection documents: `links.self` echoes the request, `links.next` only when a page follows. */
import type { CollectionInput, PagingMeta, Resource, ResourceIdentifier } from './document.js';
import { linkTo, nextLink } from './links.js';
import type { RawJson } from './raw-json.js';

export function collectionDocument<T extends Resource | ResourceIdentifier | RawJson>(input: CollectionInput<T>) {
  const links: { self: string; next?: string } = { self: linkTo(input.base, input.path, input.pairs) };
  if (input.nextCursor !== undefined) links.next = nextLink(input.base, input.path, input.pairs, input.nextCursor, input.limit);
  const meta: PagingMeta = { paging: { total: input.total, limit: input.limit } };
  // member order as Apple writes it: data, included, links, meta
  return input.included === undefined ? { data: input.data, links, meta } : { data: input.data, included: input.included, links, meta };
}
