/** The key check a create carries (src/keys/key-check.ts): when it reads, when it refuses. */
import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/errors/api-error.js';
import { KeyCheck, unchanged } from '../../../src/keys/key-check.js';
import type { ApiKey } from '../../../src/keys/service.js';

const AS_READ = { id: 'KEY1234567', publicKeyPem: 'PEM-A', role: 'ADMIN' };
const LIVE: ApiKey = { ...AS_READ, name: 'k', role: 'ADMIN', createdAt: '2026-01-01T00:00:00.000Z', revokedAt: null, userId: null };

function check(answers: boolean[]) {
  const reads: number[] = [];
  let refused = 0;
  const c = new KeyCheck(AS_READ, async () => {
    reads.push(reads.length);
    return answers.shift() ?? false;
  });
  c.onRefused = () => refused++;
  return { c, reads, refused: () => refused };
}

async function status(p: Promise<unknown>): Promise<number | undefined> {
  try {
    await p;
    return undefined;
  } catch (err) {
    return err instanceof ApiError ? err.status : -1;
  }
}

describe('KeyCheck', () => {
  it('confirmed by a statement: never reads the key', async () => {
    const { c, reads } = check([]);
    c.found(true);
    expect(c.confirmed).toBe(true);
    await c.confirm();
    expect(reads).toEqual([]);
  });

  it('a statement that found the key gone: 401 from then on, the refusal counted once, no read', async () => {
    const { c, reads, refused } = check([true]);
    expect(() => c.found(false)).toThrow(ApiError);
    expect(await status(c.confirm())).toBe(401);
    expect(c.confirmed).toBe(false);
    expect(reads).toEqual([]);
    expect(refused()).toBe(1);
  });

  it('confirm() reads the key once while it holds, and refuses when it does not', async () => {
    const live = check([true]);
    await live.c.confirm();
    await live.c.confirm();
    expect(live.reads).toHaveLength(1);
    const gone = check([false]);
    expect(await status(gone.c.confirm())).toBe(401);
    expect(await status(gone.c.confirm())).toBe(401);
    expect(gone.reads).toHaveLength(1);
    expect(gone.refused()).toBe(1);
  });
});

describe('unchanged', () => {
  it('is the same live team key, or not', () => {
    expect(unchanged(LIVE, AS_READ)).toBe(true);
    expect(unchanged(undefined, AS_READ)).toBe(false);
    expect(unchanged({ ...LIVE, revokedAt: '2026-02-01T00:00:00.000Z' }, AS_READ)).toBe(false);
    expect(unchanged({ ...LIVE, publicKeyPem: 'PEM-B' }, AS_READ)).toBe(false);
    expect(unchanged({ ...LIVE, role: 'DEVELOPER' }, AS_READ)).toBe(false);
    expect(unchanged({ ...LIVE, userId: 'user-1', role: null }, AS_READ)).toBe(false);
  });
});
