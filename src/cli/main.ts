#!/usr/bin/env node
/**
 * The `asc-access` command: the CLI (src/cli/run.ts) on this process's streams and environment, the
 * latter over the variables of `.env` in the working directory (src/config.ts environment()).
 * `serve` started without the runtime tuning (src/cli/tuning.ts) starts itself again with it; that
 * check reads the process's own environment (ASC_RUNTIME_TUNING), not `.env`.
 */
import { ConfigError, environment } from '../config.js';
import { followLauncher, relaunch } from './launcher.js';
import { missingTuning } from './tuning.js';

const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  const missing = missingTuning(process.execArgv, process.env);
  if (missing.flags.length > 0 || Object.keys(missing.env).length > 0) await relaunch(missing.flags, missing.env);
  followLauncher();
}
let env: NodeJS.ProcessEnv | undefined;
try {
  env = environment();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`asc-access: ${err.problems.join('; ')}\n`);
  process.exitCode = 1;
}
if (env) {
  const { run } = await import('./run.js');
  const code = await run(argv, { stdout: process.stdout, stderr: process.stderr, env });
  if (code >= 0) process.exitCode = code;
}
