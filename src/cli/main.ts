#!/usr/bin/env node
/**
 * The `asc-access` command: the CLI (src/cli/run.ts) on this process's streams and environment, the
 * latter over the variables of `.env` in the working directory (src/config.ts environment()).
 */
import { ConfigError, environment } from '../config.js';
import { run } from './run.js';

let env: NodeJS.ProcessEnv | undefined;
try {
  env = environment();
} catch (err) {
  if (!(err instanceof ConfigError)) throw err;
  process.stderr.write(`asc-access: ${err.problems.join('; ')}\n`);
  process.exitCode = 1;
}
if (env) {
  const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env });
  if (code >= 0) process.exitCode = code;
}
