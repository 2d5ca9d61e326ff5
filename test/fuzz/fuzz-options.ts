/**
 * How long the fuzz properties run. `npm test` runs each with its small default; `npm run fuzz`
 * sets FUZZ_RUNS (runs per property) and, with it, a time limit per property (FUZZ_TIME_LIMIT_MS,
 * default 15 s) after which fast-check stops generating without failing, so the long run ends by
 * itself. FUZZ_SEED replays a run; otherwise a long run picks a seed and prints it.
 *
 * Every request the test process sends (Node's fetch) is counted through undici's diagnostics
 * channel, so a long run can say how many requests it made.
 */
import { subscribe } from 'node:diagnostics_channel';
import type fc from 'fast-check';

const runsFromEnv = process.env.FUZZ_RUNS === undefined ? undefined : Number(process.env.FUZZ_RUNS);
if (runsFromEnv !== undefined && !(Number.isInteger(runsFromEnv) && runsFromEnv > 0)) {
  throw new Error(`FUZZ_RUNS must be a positive integer, not ${process.env.FUZZ_RUNS}`);
}

/** True under `npm run fuzz` (FUZZ_RUNS set). */
export const LONG_RUN = runsFromEnv !== undefined;

const TIME_LIMIT_MS = Number(process.env.FUZZ_TIME_LIMIT_MS ?? 15_000);

/** The seed of every property of this process: FUZZ_SEED, or one picked now. */
export const FUZZ_SEED = process.env.FUZZ_SEED !== undefined ? Number(process.env.FUZZ_SEED) : (Math.random() * 2 ** 31) | 0;

/** The test timeout a property needs: its time limit plus room for its set-up and health check. */
export const FUZZ_TEST_TIMEOUT = LONG_RUN ? TIME_LIMIT_MS + 60_000 : 120_000;

/** fast-check parameters: `defaultRuns` in `npm test`, FUZZ_RUNS bounded in time under `npm run fuzz`. */
export function fuzzParameters<T = unknown>(defaultRuns: number): fc.Parameters<T> {
  if (!LONG_RUN) return { numRuns: defaultRuns, seed: FUZZ_SEED };
  return { numRuns: runsFromEnv, seed: FUZZ_SEED, interruptAfterTimeLimit: TIME_LIMIT_MS, markInterruptAsFailure: false };
}

/** The runs a property title announces. */
export function runsLabel(defaultRuns: number): string {
  return LONG_RUN ? `up to ${runsFromEnv} runs or ${TIME_LIMIT_MS / 1000} s` : `${defaultRuns} runs`;
}

let sent = 0;
subscribe('undici:request:create', () => {
  sent++;
});

/** HTTP requests sent by this process so far. */
export function requestsSent(): number {
  return sent;
}

/** Under `npm run fuzz`, one line saying what a file sent, with the seed that replays it. */
export function reportRun(file: string, requests: number, statuses?: ReadonlyMap<number, number>): void {
  if (!LONG_RUN) return;
  const dialect = process.env.ASC_TEST_DIALECT ?? 'sqlite';
  const answers = statuses
    ? `; answers ${[...statuses]
        .sort(([a], [b]) => a - b)
        .map(([s, n]) => `${s}×${n}`)
        .join(' ')}`
    : '';
  process.stdout.write(
    `[fuzz] ${dialect} ${file}: ${requests} requests, seed ${FUZZ_SEED} (replay with FUZZ_SEED=${FUZZ_SEED})${answers}\n`,
  );
}
