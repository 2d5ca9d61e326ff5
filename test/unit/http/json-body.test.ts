/**
 * src/http/json-body.ts: the API's JSON request bodies from raw bytes (docs/behavior.md A3): UTF-8 only,
 * not empty, nested at most MAX_JSON_DEPTH levels, valid JSON; every refusal a 400 ENTITY_INVALID.
 */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/errors/api-error.js';
import { jsonDepthExceeds, MAX_JSON_DEPTH, parseJsonBody } from '../../../src/http/json-body.js';

/** The detail of the 400 ENTITY_INVALID the body gets. */
function refusal(bytes: Buffer | string): string {
  try {
    parseJsonBody(typeof bytes === 'string' ? Buffer.from(bytes) : bytes);
  } catch (err) {
    expect(err).toBeInstanceOf(ApiError);
    const e = err as ApiError;
    expect([e.status, e.code]).toEqual([400, 'ENTITY_INVALID']);
    return e.detail ?? '';
  }
  throw new Error('the body was taken');
}

const DEPTH = `The request body nests arrays and objects more than ${MAX_JSON_DEPTH} levels deep`;
const nested = (levels: number, inner = '') => '['.repeat(levels) + inner + ']'.repeat(levels);

describe('parseJsonBody', () => {
  it('parses a JSON document, keeping every character as sent', () => {
    const value = { data: { attributes: { firstName: '😀 José 李 דוד', lastName: 'e\u0301' } } };
    expect(parseJsonBody(Buffer.from(JSON.stringify(value)))).toEqual(value);
    // a lone surrogate written as a JSON escape is valid JSON; the rules of each attribute judge it
    expect(parseJsonBody(Buffer.from('"\\ud800"'))).toBe('\ud800');
  });

  it('refuses bytes that are not UTF-8 instead of replacing them with U+FFFD', () => {
    // a stray byte, a lone continuation, a truncated sequence, an overlong NUL, an encoded surrogate,
    // past U+10FFFF, a five-byte form
    const invalid = [[0xff], [0x80], [0xe6, 0x9d], [0xc0, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xf8, 0x88, 0x80, 0x80]];
    for (const bad of invalid) {
      const body = Buffer.concat([Buffer.from('{"a":"x'), Buffer.from(bad), Buffer.from('y"}')]);
      expect(refusal(body), JSON.stringify(bad)).toBe('The request body is not valid UTF-8');
    }
    // a refusal leaves the decoder as it was
    expect(parseJsonBody(Buffer.from('{"a":"é"}'))).toEqual({ a: 'é' });
  });

  it('refuses an empty or blank body', () => {
    for (const blank of ['', ' ', '\n\t ']) {
      expect(refusal(blank), JSON.stringify(blank)).toBe('The request body is empty; it must be a JSON document');
    }
  });

  it('refuses text that is not JSON, a byte order mark included', () => {
    for (const text of ['{"data": {', '{"a":1}}', "{'a':1}", '\ufeff{"a":1}', 'NaN']) {
      expect(refusal(text), JSON.stringify(text)).toBe('The request body is not valid JSON');
    }
  });

  it(`takes ${MAX_JSON_DEPTH} levels of nesting and refuses ${MAX_JSON_DEPTH + 1}, whether arrays or objects`, () => {
    expect(parseJsonBody(Buffer.from(nested(MAX_JSON_DEPTH, '1')))).toBeInstanceOf(Array);
    expect(refusal(nested(MAX_JSON_DEPTH + 1, '1'))).toBe(DEPTH);
    const objects = (levels: number) => '{"a":'.repeat(levels) + '1' + '}'.repeat(levels);
    expect(parseJsonBody(Buffer.from(objects(MAX_JSON_DEPTH)))).toBeInstanceOf(Object);
    expect(refusal(objects(MAX_JSON_DEPTH + 1))).toBe(DEPTH);
  });

  it('refuses a megabyte of unclosed brackets for its depth, before parsing', () => {
    expect(refusal('['.repeat(1024 * 1024))).toBe(DEPTH);
    expect(refusal('{"a":'.repeat(200_000))).toBe(DEPTH);
  });
});

describe('jsonDepthExceeds', () => {
  it('counts only brackets and braces outside strings', () => {
    expect(jsonDepthExceeds(`["${'['.repeat(100)}"]`, 2)).toBe(false);
    expect(jsonDepthExceeds(`{"${'{'.repeat(100)}": 1}`, 2)).toBe(false);
  });

  it('honours escapes inside strings: an escaped quote does not end the string, an escaped backslash does not escape it', () => {
    expect(jsonDepthExceeds(`["\\"[[[["]`, 2)).toBe(false);
    expect(jsonDepthExceeds(`["\\\\", [[[]]]]`, 3)).toBe(true);
    expect(jsonDepthExceeds(`["\\\\", [[]]]`, 3)).toBe(false);
  });

  it('counts nesting, not the number of brackets', () => {
    expect(jsonDepthExceeds('[' + '[],'.repeat(1000) + '[]]', 2)).toBe(false);
    expect(jsonDepthExceeds(nested(3), 2)).toBe(true);
    expect(jsonDepthExceeds(nested(2), 2)).toBe(false);
  });
});
