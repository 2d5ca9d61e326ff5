/**
 * The operator CLI in tests. `runCli` runs it in this process (src/cli/run.ts, output captured);
 * `startCli` and `runCliProcess` start the built entry point (`node dist/cli/main.js`, built by
 * test/global-setup.ts) as a real process, for tests of the process itself: `serve` started and
 * signalled, a write from another process.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';
import { run } from '../../src/cli/run.js';
import { TUNING_ENV, TUNING_FLAGS } from '../../src/cli/tuning.js';

export const ROOT = fileURLToPath(new URL('../..', import.meta.url));
/** the built entry point, as `npm start` and the installed `asc-access` command run it */
export const BUILT_CLI = fileURLToPath(new URL('../../dist/cli/main.js', import.meta.url));

export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a CLI run: ours without any of the service's variables, plus `extra`. */
export function cliEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (!/^(ASC_|PORT$|HOST$|LOG_LEVEL$|LOG_FORMAT$)/.test(k)) env[k] = v;
  }
  return { ...env, ...extra };
}

/** Runs the CLI to completion in this process. `serve` is not for here: it never completes. */
export async function runCli(args: string[], env: Record<string, string>): Promise<CliRun> {
  if (args[0] === 'serve') throw new Error('runCli cannot serve: use startCli');
  let stdout = '';
  let stderr = '';
  const code = await run(args, {
    stdout: { write: (s: string) => (stdout += s) },
    stderr: { write: (s: string) => (stderr += s) },
    env: cliEnv(env),
  });
  return { code, stdout, stderr };
}

/**
 * Starts the built CLI (e.g. `serve`) as a process (in the repository, or in `cwd`) and leaves it
 * running. It gets the runtime tuning (src/cli/tuning.ts) on its command line, so that `serve`
 * serves in this very process (a signal sent to it reaches the server), as the process
 * `asc-access serve` relaunches itself as.
 */
export function startCli(args: string[], env: Record<string, string>, cwd = ROOT): ChildProcessWithoutNullStreams {
  return spawn(process.execPath, [...TUNING_FLAGS, BUILT_CLI, ...args], { cwd, env: cliEnv({ ...TUNING_ENV, ...env }) });
}

/** Collects a process's output until it ends. */
export function completion(child: ChildProcessWithoutNullStreams): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs the built CLI to completion as a process of its own. */
export function runCliProcess(args: string[], env: Record<string, string>, cwd = ROOT): Promise<CliRun> {
  return completion(startCli(args, env, cwd));
}

/** The one JSON object a --json command prints. */
export function jsonOutput(run: CliRun): any {
  const lines = run.stdout.split('\n');
  expect(lines, run.stdout + run.stderr).toHaveLength(2);
  expect(lines[1]).toBe('');
  return JSON.parse(lines[0]!);
}
