/**
 * `asc-access serve` started without the runtime tuning (plain `node dist/cli/main.js serve`)
 * relaunches itself with it (src/cli/tuning.ts, src/cli/launcher.ts). Read from /proc: the
 * server process's node flags and environment, and that it ends with its launcher, whether the
 * launcher is signalled (exit code passed on) or killed with SIGKILL (Linux only: /proc).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { BUILT_CLI, ROOT, cliEnv } from '../helpers/cli.js';
import { freePort } from '../helpers/smtp-sink.js';
import { TUNING_ENV, TUNING_FLAGS } from '../../src/cli/tuning.js';

const SLOW = { timeout: 120_000 };

interface Launched {
  launcher: ChildProcessWithoutNullStreams;
  url: string;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

const dirs: string[] = [];
const launched: Launched[] = [];

async function launch(extraArgs: string[] = [], extraEnv: Record<string, string> = {}): Promise<Launched> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'asc-launcher-'));
  dirs.push(dataDir);
  const port = await freePort();
  // no tuning on the command line nor in the environment: what `npx asc-access serve` starts with
  const env = cliEnv({ ASC_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'info', ...extraEnv });
  for (const name of Object.keys(TUNING_ENV)) delete env[name];
  const launcher = spawn(process.execPath, [...extraArgs, BUILT_CLI, 'serve'], { cwd: ROOT, env });
  let output = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    launcher.once('exit', (code, signal) => resolve({ code, signal })),
  );
  launcher.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  await new Promise<void>((resolve, reject) => {
    launcher.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (output.includes('Server listening at')) resolve();
    });
    void exit.then((e) => reject(new Error(`the server exited (${JSON.stringify(e)}) before listening:\n${output}`)));
  });
  const one = { launcher, url: `http://127.0.0.1:${port}`, output: () => output, exit };
  launched.push(one);
  return one;
}

/** The server process: the launcher's one child. */
function serverPid(launcherPid: number): number {
  const children = readFileSync(`/proc/${launcherPid}/task/${launcherPid}/children`, 'utf8').trim().split(/\s+/);
  expect(children).toHaveLength(1);
  return Number(children[0]);
}

function cmdline(pid: number): string[] {
  return readFileSync(`/proc/${pid}/cmdline`, 'utf8')
    .split('\0')
    .filter((a) => a !== '');
}

function environ(pid: number): Record<string, string> {
  const entries = readFileSync(`/proc/${pid}/environ`, 'utf8')
    .split('\0')
    .filter((e) => e.includes('='));
  return Object.fromEntries(entries.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)]));
}

/** Resolves once the process is gone (polls /proc: a process that is not our child cannot be awaited). */
async function gone(pid: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  while (existsSync(`/proc/${pid}`) && !readFileSync(`/proc/${pid}/stat`, 'utf8').includes(') Z ')) {
    if (Date.now() > deadline) throw new Error(`process ${pid} still runs`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

afterEach(async () => {
  for (const one of launched.splice(0)) {
    if (one.launcher.exitCode === null && one.launcher.signalCode === null) one.launcher.kill('SIGTERM');
    await one.exit;
  }
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

describe('serve started without the runtime tuning', SLOW, () => {
  it('relaunches itself with the node flags and malloc settings, and serves', async () => {
    const one = await launch();
    const server = serverPid(one.launcher.pid!);
    const args = cmdline(server);
    for (const flag of TUNING_FLAGS) expect(args).toContain(flag);
    expect(args.slice(-2)).toEqual([BUILT_CLI, 'serve']);
    const env = environ(server);
    for (const [name, value] of Object.entries(TUNING_ENV)) expect(env[name]).toBe(value);
    // the launcher itself runs untuned and serves nothing: it only stands for the server
    expect(cmdline(one.launcher.pid!)).not.toContain(TUNING_FLAGS[0]);
    const res = await fetch(`${one.url}/healthz`);
    expect(res.status).toBe(200);
  });

  it('keeps a flag the operator gave and adds only the missing ones', async () => {
    const one = await launch(['--max-semi-space-size=8']);
    const args = cmdline(serverPid(one.launcher.pid!));
    expect(args).toContain('--max-semi-space-size=8');
    expect(args).not.toContain('--max-semi-space-size=4');
    expect(args).toContain('--heap-growing-percent=30');
  });

  it('does not relaunch with ASC_RUNTIME_TUNING=off', async () => {
    const one = await launch([], { ASC_RUNTIME_TUNING: 'off' });
    const res = await fetch(`${one.url}/healthz`);
    expect(res.status).toBe(200);
    expect(readFileSync(`/proc/${one.launcher.pid!}/task/${one.launcher.pid!}/children`, 'utf8').trim()).toBe('');
  });

  it('passes SIGTERM on and exits as the server does (0 after a graceful shutdown)', async () => {
    const one = await launch();
    const server = serverPid(one.launcher.pid!);
    one.launcher.kill('SIGTERM');
    expect(await one.exit).toEqual({ code: 0, signal: null });
    await gone(server);
    expect(one.output()).toContain('shutting down');
  });

  it('takes the server down with it when the launcher is killed with SIGKILL', async () => {
    const one = await launch();
    const server = serverPid(one.launcher.pid!);
    one.launcher.kill('SIGKILL');
    expect(await one.exit).toEqual({ code: null, signal: 'SIGKILL' });
    await gone(server);
    await expect(fetch(`${one.url}/healthz`)).rejects.toThrow();
  });
});
