/** Joined runs: the same bytes as the pieces they join, and only for the very renderings joined. */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { JoinedRuns } from '../../../../src/http/read-cache/joined-runs.js';
import { encodeJsonParts, RawJson } from '../../../../src/jsonapi/raw-json.js';

const rendered = (n: number, tag = 'a') => Array.from({ length: n }, (_, i) => RawJson.of({ type: 'apps', id: `${tag}${i}` }));
const joinedText = (items: readonly RawJson[]) => items.map((i) => i.bytes.toString()).join(',');

describe('JoinedRuns', () => {
  it('joins a run at its second sighting, and hands the same piece out for the same renderings', () => {
    const runs = new JoinedRuns();
    const items = rendered(20);
    expect(runs.join(items)).toBeUndefined();
    const joined = runs.join([...items]);
    expect(joined?.bytes.toString()).toBe(joinedText(items));
    expect(runs.join([...items])).toBe(joined);
    expect(runs.stats()).toEqual({ entries: 1, bytes: joined!.bytes.length });
  });

  it('does not hand out a run for other renderings, even of the same ids', () => {
    const runs = new JoinedRuns();
    const items = rendered(20);
    runs.join(items);
    runs.join(items);
    const changed = [...items];
    changed[7] = RawJson.of({ type: 'apps', id: 'a7', attributes: { name: 'renamed' } });
    expect(runs.join(changed)).toBeUndefined();
    expect(runs.join(changed)?.bytes.toString()).toBe(joinedText(changed));
    expect(runs.join(items.slice(0, 19))).toBeUndefined();
  });

  it('leaves short runs alone and keeps within its room', () => {
    const runs = new JoinedRuns(4000);
    const short = rendered(3);
    runs.join(short);
    expect(runs.join(short)).toBeUndefined();
    for (let k = 0; k < 20; k++) {
      const items = rendered(20, `t${k}-`);
      runs.join(items);
      runs.join(items);
      expect(runs.stats().bytes).toBeLessThanOrEqual(4000);
    }
  });

  it('leaves the encoded body byte for byte what it is without it', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.jsonValue(), fc.boolean()), { maxLength: 60 }), fc.jsonValue(), (items, rest) => {
        const runs = new JoinedRuns();
        const doc = { data: items.map(([v, raw]) => (raw ? RawJson.of(v) : v)), included: items.map(([v]) => RawJson.of(v)), meta: rest };
        const expected = JSON.stringify({ data: items.map(([v]) => v), included: items.map(([v]) => v), meta: rest });
        for (let round = 0; round < 3; round++) expect(Buffer.concat(encodeJsonParts(doc, runs)).toString()).toBe(expected);
      }),
      { numRuns: 200 },
    );
  });

  it('makes a page of many renderings a few pieces from the second time on', () => {
    const runs = new JoinedRuns();
    const doc = { data: rendered(50, 'm'), included: rendered(80), links: { self: '/x' } };
    const first = encodeJsonParts(doc, runs);
    const again = encodeJsonParts(doc, runs);
    expect(first.length).toBeGreaterThan(200);
    expect(again.length).toBeLessThan(10);
    expect(Buffer.concat(again).equals(Buffer.concat(first))).toBe(true);
  });
});
