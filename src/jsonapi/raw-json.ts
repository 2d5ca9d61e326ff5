/**
 * Response bodies as bytes, with room for JSON rendered earlier. A resource that is expensive to
 * render and rarely changes (an app carries 42 relationship links, about 8.5 KB) is kept as
 * `RawJson` and copied into each response instead of being built and stringified again.
 */

/** JSON text (UTF-8) spliced verbatim into a response. */
export class RawJson {
  constructor(readonly bytes: Buffer) {}

  static of(value: unknown): RawJson {
    return new RawJson(Buffer.from(JSON.stringify(value)));
  }
}

/**
 * Joins runs of pre-rendered array elements into one piece (the read cache keeps them:
 * src/http/read-cache/joined-runs.ts): a page of 50 members and their apps is otherwise written as
 * some 250 pieces, each a write of its own into the corked response.
 */
export interface RunJoiner {
  /** `items`, consecutive elements of one array, as one RawJson joined by commas; or undefined */
  join(items: readonly RawJson[]): RawJson | undefined;
}

/** The separator between elements, the most frequent piece. */
const COMMA = Buffer.from(',');

/**
 * The body as UTF-8 JSON, exactly what `JSON.stringify` writes, except that `RawJson` found as a
 * member of the top-level object, or as an element of one of its arrays (`data`, `included`), is
 * copied in as it is. Deeper `RawJson` is not looked for: documents never put it there.
 */
export function encodeJson(body: unknown, joiner?: RunJoiner): Buffer {
  const parts = encodeJsonParts(body, joiner);
  return parts.length === 1 ? parts[0]! : Buffer.concat(parts);
}

/**
 * encodeJson() as the pieces it is joined from, in order: the pre-rendered bytes themselves and the
 * text between them. A response can be written from these as they are, without copying a large
 * body into one buffer first. `joiner` may hand a run of consecutive RawJson elements back as one.
 */
export function encodeJsonParts(body: unknown, joiner?: RunJoiner): Buffer[] {
  if (body === null || typeof body !== 'object' || Array.isArray(body)) return [Buffer.from(JSON.stringify(body) ?? 'null')];
  const chunks: Buffer[] = [];
  let text = '{';
  const splice = (raw: RawJson) => {
    if (text === ',') chunks.push(COMMA);
    else if (text !== '') chunks.push(Buffer.from(text));
    chunks.push(raw.bytes);
    text = '';
  };
  let first = true;
  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || typeof value === 'function' || typeof value === 'symbol') continue;
    text += `${first ? '' : ','}${JSON.stringify(key)}:`;
    first = false;
    if (value instanceof RawJson) {
      splice(value);
    } else if (Array.isArray(value)) {
      text += '[';
      for (let i = 0; i < value.length;) {
        if (i > 0) text += ',';
        const item: unknown = value[i];
        if (!(item instanceof RawJson)) {
          text += JSON.stringify(item) ?? 'null';
          i++;
          continue;
        }
        let end = i + 1;
        while (end < value.length && value[end] instanceof RawJson) end++;
        const joined = joiner && end - i > 1 ? joiner.join(value.slice(i, end) as RawJson[]) : undefined;
        if (joined) {
          splice(joined);
          i = end;
        } else {
          splice(item);
          i++;
        }
      }
      text += ']';
    } else {
      text += JSON.stringify(value);
    }
  }
  text += '}';
  chunks.push(Buffer.from(text));
  return chunks;
}
