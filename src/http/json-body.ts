/**
 * The API's `application/json` request bodies, from raw bytes to a parsed value (docs/behavior.md A3):
 * the bytes must be UTF-8 (never silently replaced by U+FFFD), the text must not be empty, and it
 * must not nest arrays and objects deeper than MAX_JSON_DEPTH, checked by a linear scan before
 * JSON.parse so that a body of a million `[` costs one pass over its bytes and no more.
 * Every refusal is a 400 ENTITY_INVALID.
 */
import { errors } from '../errors/catalogue.js';

/** Apple's request documents nest six levels at most (data.relationships.visibleApps.data[i]). */
export const MAX_JSON_DEPTH = 64;

// fatal: invalid bytes throw instead of becoming U+FFFD; ignoreBOM: a byte order mark stays in the
// text (and makes it invalid JSON), as JSON text exchanged between systems has none (RFC 8259 §8.1)
const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const OPEN_BRACKET = 0x5b;
const OPEN_BRACE = 0x7b;
const CLOSE_BRACKET = 0x5d;
const CLOSE_BRACE = 0x7d;
const QUOTE = 0x22;
const BACKSLASH = 0x5c;

/**
 * Whether arrays and objects nest more than `limit` levels deep in the text (brackets inside
 * strings are text), stopping at the first one too deep. Unbalanced or otherwise invalid text is
 * JSON.parse's to refuse.
 */
export function jsonDepthExceeds(text: string, limit: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === BACKSLASH) i++;
      else if (c === QUOTE) inString = false;
    } else if (c === QUOTE) {
      inString = true;
    } else if (c === OPEN_BRACKET || c === OPEN_BRACE) {
      if (++depth > limit) return true;
    } else if (c === CLOSE_BRACKET || c === CLOSE_BRACE) {
      depth--;
    }
  }
  return false;
}

/** The body's JSON value; throws a 400 ENTITY_INVALID ApiError for anything else. */
export function parseJsonBody(raw: Buffer): unknown {
  let text: string;
  try {
    text = utf8.decode(raw);
  } catch {
    throw errors.entityInvalid('The request body is not valid UTF-8');
  }
  if (text.trim() === '') throw errors.entityInvalid('The request body is empty; it must be a JSON document');
  if (jsonDepthExceeds(text, MAX_JSON_DEPTH)) {
    throw errors.entityInvalid(`The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`);
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw errors.entityInvalid('The request body is not valid JSON');
  }
}
