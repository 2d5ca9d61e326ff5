/**
 * Absolute links on the configured public base URL. Names and values are percent-encoded
 * (brackets, commas, `@`), so every link is a valid `uri-reference`.
 */
export type QueryPairs = ReadonlyArray<readonly [string, string]>;

export function encodeQuery(pairs: QueryPairs): string {
  return pairs.map(([k, v]) => `${encodeURIComponent(k)}=${encodeURIComponent(v)}`).join('&');
}

export function linkTo(base: string, path: string, pairs: QueryPairs = []): string {
  const q = encodeQuery(pairs);
  return q === '' ? `${base}${path}` : `${base}${path}?${q}`;
}

/** `links.next`: the request's own query with `cursor` first and `limit` always present. */
export function nextLink(base: string, path: string, pairs: QueryPairs, cursor: string, limit: number): string {
  const rest = pairs.filter(([k]) => k !== 'cursor');
  const withLimit = rest.some(([k]) => k === 'limit') ? rest : [...rest, ['limit', String(limit)] as const];
  return linkTo(base, path, [['cursor', cursor], ...withLimit]);
}
