/** When an answer may change without a write: asked once per version while it stands. */
import { describe, expect, it } from 'vitest';
import { ChangeTimes } from '../../../../src/http/read-cache/change-times.js';
import type { ReuseHint } from '../../../../src/http/operation.js';

function hint(at: (now: Date) => Date | undefined) {
  const asked: number[] = [];
  const reuse: ReuseHint = {
    changesAt: async (now) => {
      asked.push(now.getTime());
      return at(now);
    },
  };
  return { reuse, asked };
}

describe('ChangeTimes', () => {
  it('answers again at the same version before the instant found, and asks anew otherwise', async () => {
    const times = new ChangeTimes();
    const { reuse, asked } = hint((now) => new Date(now.getTime() + 1000));
    expect((await times.next(reuse, 'v1', new Date(100)))?.getTime()).toBe(1100);
    expect((await times.next(reuse, 'v1', new Date(1099)))?.getTime()).toBe(1100);
    expect(asked).toEqual([100]);
    // another version: a write may have changed it
    expect((await times.next(reuse, 'v2', new Date(200)))?.getTime()).toBe(1200);
    // the instant is reached
    expect((await times.next(reuse, 'v2', new Date(1200)))?.getTime()).toBe(2200);
    // a clock set back
    expect((await times.next(reuse, 'v2', new Date(50)))?.getTime()).toBe(1050);
    expect(asked).toEqual([100, 200, 1200, 50]);
  });

  it('keeps "no change without a write" while the version stands', async () => {
    const times = new ChangeTimes();
    const { reuse, asked } = hint(() => undefined);
    expect(await times.next(reuse, 'v1', new Date(100))).toBeUndefined();
    expect(await times.next(reuse, 'v1', new Date(1e12))).toBeUndefined();
    expect(await times.next(reuse, 'v2', new Date(1e12))).toBeUndefined();
    expect(asked).toEqual([100, 1e12]);
  });

  it('asks nothing of a hint without changesAt', async () => {
    expect(await new ChangeTimes().next({}, 'v1', new Date(0))).toBeUndefined();
  });
});
