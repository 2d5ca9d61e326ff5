/**
 * The runtime settings `asc-access serve` runs with, however it is started (`npm start`,
 * `npx asc-access serve`, `node dist/cli/main.js serve`, a service manager). Node and glibc read
 * them before any of our code runs, so when some are missing `serve` starts itself again once with
 * them (src/cli/main.ts); a process started with all of them (bench/server.ts, the tests) serves
 * directly. docs/deployment.md explains each; the measurements are in docs/performance-notes.md.
 */

/** glibc malloc: large response buffers stay in the heap, freed memory stays in the process */
export const TUNING_ENV: Readonly<Record<string, string>> = {
  MALLOC_MMAP_THRESHOLD_: '2097152',
  MALLOC_TRIM_THRESHOLD_: '67108864',
};

/** V8's young generation, old-generation growth and Node's pool of V8 background threads */
export const TUNING_FLAGS: readonly string[] = ['--max-semi-space-size=4', '--heap-growing-percent=30', '--v8-pool-size=0'];

/** Set in the relaunched process: it serves whatever its flags are, and never relaunches again. */
export const RELAUNCHED_ENV = 'ASC_ACCESS_RELAUNCHED';

/** `--max-semi-space-size=4` → `--max-semi-space-size`; V8 also accepts underscores. */
function flagName(flag: string): string {
  return flag.split('=')[0]!.replaceAll('_', '-');
}

/**
 * What a `serve` process lacks of the tuning: the flags not given to node (by name: an operator's
 * own value wins) and the variables not in the environment. `ASC_RUNTIME_TUNING=off` turns it off.
 */
export function missingTuning(execArgv: readonly string[], env: NodeJS.ProcessEnv): { flags: string[]; env: Record<string, string> } {
  if (env.ASC_RUNTIME_TUNING === 'off' || env[RELAUNCHED_ENV] === '1') return { flags: [], env: {} };
  const given = new Set(execArgv.map(flagName));
  const flags = TUNING_FLAGS.filter((flag) => !given.has(flagName(flag)));
  const missingEnv = Object.fromEntries(Object.entries(TUNING_ENV).filter(([name]) => env[name] === undefined));
  return { flags, env: missingEnv };
}
