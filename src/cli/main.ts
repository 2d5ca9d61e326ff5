#!/usr/bin/env node
/**
 * The `asc-access` command: the CLI (src/cli/run.ts) on this process's streams and environment.
 * `serve` started without the runtime tuning (src/cli/tuning.ts) starts itself again with it.
 */
import { followLauncher, relaunch } from './launcher.js';
import { missingTuning } from './tuning.js';

const argv = process.argv.slice(2);
if (argv[0] === 'serve') {
  const missing = missingTuning(process.execArgv, process.env);
  if (missing.flags.length > 0 || Object.keys(missing.env).length > 0) await relaunch(missing.flags, missing.env);
  followLauncher();
}
const { run } = await import('./run.js');
const code = await run(argv, { stdout: process.stdout, stderr: process.stderr, env: process.env });
if (code >= 0) process.exitCode = code;
