/** encodeJson writes what JSON.stringify writes, with pre-rendered RawJson spliced in where it stands. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { encodeJson, encodeJsonParts, RawJson } from '../../../src/jsonapi/raw-json.js';

const json = fc.jsonValue();

describe('encodeJson', () => {
  it('is JSON.stringify for documents without RawJson', () => {
    fc.assert(
      fc.property(json, (value) => {
        expect(encodeJson(value).toString('utf8')).toBe(JSON.stringify(value));
      }),
      { numRuns: 500 },
    );
  });

  it('skips undefined members and writes undefined array elements as null, like JSON.stringify', () => {
    const value = { a: undefined, b: [1, undefined, 'x'], c: { d: undefined } };
    expect(encodeJson(value).toString('utf8')).toBe(JSON.stringify(value));
  });

  it('splices RawJson members and top-level array elements byte for byte', () => {
    fc.assert(
      fc.property(
        fc.dictionary(fc.string(), json),
        fc.array(fc.tuple(json, fc.boolean())),
        fc.option(json, { nil: undefined }),
        (rest, items, single) => {
          const doc: Record<string, unknown> = { ...rest, data: items.map(([v, raw]) => (raw ? RawJson.of(v) : v)) };
          const plain: Record<string, unknown> = { ...rest, data: items.map(([v]) => v) };
          if (single !== undefined) {
            doc.single = RawJson.of(single);
            plain.single = single;
          }
          expect(encodeJson(doc).toString('utf8')).toBe(JSON.stringify(plain));
          // the pieces a response is written from: the same bytes, each RawJson as it is
          const parts = encodeJsonParts(doc);
          expect(Buffer.concat(parts).toString('utf8')).toBe(JSON.stringify(plain));
          for (const [v, raw] of items) if (raw) expect(parts.some((p) => p.toString('utf8') === JSON.stringify(v))).toBe(true);
          expect(parts.every((p) => p.length > 0)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('keeps non-ASCII text intact across spliced chunks', () => {
    const doc = { data: [RawJson.of({ name: 'Zoë 🍎 “quotes”' })], meta: 'über' };
    expect(JSON.parse(encodeJson(doc).toString('utf8'))).toEqual({ data: [{ name: 'Zoë 🍎 “quotes”' }], meta: 'über' });
  });
});
