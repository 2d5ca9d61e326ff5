/**
 * The retry of PostgreSQL's deadlock and serialization failures (src/db/retry.ts): which errors are
 * run again, how often, and what is logged. The errors are shaped as node-postgres gives them.
 */
import { describe, expect, it } from 'vitest';
import { RETRY_ATTEMPTS, retryableCode, withRetry, type RetryLog } from '../../../src/db/retry.js';

function pgError(code: string): Error {
  return Object.assign(new Error(`postgres error ${code}`), { code });
}

function recordingLog(): RetryLog & { lines: Array<{ details: object; message: string }> } {
  const lines: Array<{ details: object; message: string }> = [];
  return { lines, warn: (details, message) => lines.push({ details, message }) };
}

/** An attempt that fails with `failures` in turn, then answers 'done'; counts its runs. */
function attempts(...failures: Error[]) {
  const state = { runs: 0 };
  const run = async () => {
    const failure = failures[state.runs++];
    if (failure) throw failure;
    return 'done';
  };
  return { state, run };
}

describe('withRetry', () => {
  it('runs a transaction again after a deadlock and a serialization failure, and logs each retry at warn', async () => {
    const log = recordingLog();
    const { state, run } = attempts(pgError('40P01'), pgError('40001'));
    expect(await withRetry(run, log)).toBe('done');
    expect(state.runs).toBe(3);
    expect(log.lines.map((l) => l.details)).toMatchObject([
      { code: '40P01', attempt: 1, of: 3 },
      { code: '40001', attempt: 2, of: 3 },
    ]);
    expect(log.lines[0]!.message).toBe('transaction aborted by PostgreSQL (40P01); running it again');
  });

  it(`gives up after ${RETRY_ATTEMPTS} runs with the last error`, async () => {
    const log = recordingLog();
    const last = pgError('40P01');
    const { state, run } = attempts(pgError('40P01'), pgError('40P01'), last, pgError('40P01'));
    await expect(withRetry(run, log)).rejects.toBe(last);
    expect(state.runs).toBe(RETRY_ATTEMPTS);
    expect(log.lines).toHaveLength(RETRY_ATTEMPTS - 1);
  });

  it('never runs again for any other error: a unique violation, a disk full, an error without a code', async () => {
    for (const error of [pgError('23505'), pgError('53100'), new Error('boom'), Object.assign(new Error('x'), { code: 40001 })]) {
      const log = recordingLog();
      const { state, run } = attempts(error);
      await expect(withRetry(run, log)).rejects.toBe(error);
      expect(state.runs).toBe(1);
      expect(log.lines).toEqual([]);
    }
  });

  it('retryableCode names exactly the two SQLSTATEs', () => {
    expect(retryableCode(pgError('40P01'))).toBe('40P01');
    expect(retryableCode(pgError('40001'))).toBe('40001');
    expect(retryableCode(pgError('40002'))).toBeUndefined();
    expect(retryableCode(null)).toBeUndefined();
    expect(retryableCode('40P01')).toBeUndefined();
  });
});
