/**
 * The bench's scenarios (bench/scenarios.ts): which requests each makes, and the order they run in,
 * which the deep-vs-first target depends on.
 */
import { describe, expect, it } from 'vitest';
import { fakeApps, Random } from '../../../bench/fixtures.js';
import { buildScenarios, deepPath, INCLUDE_PATH, LIST_PATH, SCENARIO_IDS, type ScenarioId } from '../../../bench/scenarios.js';

const sample = { idsWithApps: ['a', 'b'], emails: ['x@example.com', 'Y+tag@example.org'] };
const apps = fakeApps(new Random(1), 5);

describe('bench scenarios', () => {
  it('runs each deep page right after the first page it is compared with', () => {
    const ids = buildScenarios({ sample, apps, runTag: 't', deepCursor: 'c' }).map((s) => s.id);
    expect(ids.indexOf('deep')).toBe(ids.indexOf('list') + 1);
    expect(ids.indexOf('deep-fresh')).toBe(ids.indexOf('list-fresh') + 1);
    // every scenario, in the order `--help` lists them
    expect(ids).toEqual(SCENARIO_IDS);
  });

  it('reads the same page first and deep, anew only in the -fresh pair', () => {
    const byId = new Map(buildScenarios({ sample, apps, runTag: 't', deepCursor: 'c/+=' }).map((s) => [s.id, s]));
    const seen = (id: ScenarioId) => {
      const s = byId.get(id)!;
      return { paths: s.paths, fresh: s.fresh === true };
    };
    expect(seen('list')).toEqual({ paths: [LIST_PATH], fresh: false });
    expect(seen('list-fresh')).toEqual({ paths: [LIST_PATH], fresh: true });
    expect(seen('deep')).toEqual({ paths: [deepPath('c/+=')], fresh: false });
    expect(seen('deep-fresh')).toEqual({ paths: [deepPath('c/+=')], fresh: true });
    expect(seen('list-include')).toEqual({ paths: [INCLUDE_PATH], fresh: false });
    expect(seen('include-fresh')).toEqual({ paths: [INCLUDE_PATH], fresh: true });
    expect(deepPath('c/+=')).toBe(`${LIST_PATH}&cursor=c%2F%2B%3D`);
  });

  it('leaves the deep pages out when no deep cursor was found', () => {
    const ids = buildScenarios({ sample, apps, runTag: 't' }).map((s) => s.id);
    expect(ids).not.toContain('deep');
    expect(ids).not.toContain('deep-fresh');
    expect(ids).toEqual(SCENARIO_IDS.filter((id) => id !== 'deep' && id !== 'deep-fresh'));
  });
});
