/** JSON Pointers (RFC 6901) for tests that edit documents member by member. */

const escape = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescape = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/** Every pointer into a JSON value, the root's ('') and the containers' included. */
export function pointers(value: unknown, at = ''): string[] {
  const out = [at];
  if (Array.isArray(value)) value.forEach((v, i) => out.push(...pointers(v, `${at}/${i}`)));
  else if (value !== null && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) out.push(...pointers(v, `${at}/${escape(k)}`));
  }
  return out;
}

/**
 * A copy of `doc` with the member at `pointer` replaced by `value`, or removed when it is undefined;
 * `doc` as it is when the pointer's parent is not there (an earlier edit took it away).
 */
export function replaced(doc: unknown, pointer: string, value: unknown): unknown {
  if (pointer === '') return value;
  if (doc === null || typeof doc !== 'object') return doc;
  const copy = structuredClone(doc) as Record<string, unknown>;
  const segments = pointer.slice(1).split('/').map(unescape);
  let parent: any = copy;
  for (const s of segments.slice(0, -1)) {
    parent = parent[s];
    if (parent === null || typeof parent !== 'object') return doc;
  }
  const last = segments.at(-1)!;
  if (value === undefined) {
    if (Array.isArray(parent)) parent.splice(Number(last), 1);
    else delete parent[last];
  } else parent[last] = value;
  return copy;
}
