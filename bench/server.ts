/**
 * Processes the benchmark drives: the built asc-access CLI (keys, tokens), the server under test
 * (`node dist/cli/main.js serve`) and any other HTTP server started the same way (the ceiling).
 * Readiness is an answer from GET /healthz, nothing else.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { TUNING_ENV, TUNING_FLAGS } from '../src/cli/tuning.js';

export const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist', 'cli', 'main.js');

/** The server's environment: only what the benchmark chooses, so a developer's .env or shell cannot leak in. */
function serverEnv(dataDir: string, port: number, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const name of Object.keys(env)) if (name.startsWith('ASC_')) delete env[name];
  return {
    ...env,
    ASC_DATA_DIR: dataDir,
    HOST: '127.0.0.1',
    PORT: String(port),
    LOG_LEVEL: 'warn',
    ASC_RATE_LIMIT_PER_HOUR: '1000000000',
    ...extra,
  };
}

/** The environment that points the CLI and the server at PostgreSQL (nothing: the SQLite file in the data directory). */
function databaseEnv(databaseUrl: string | undefined): Record<string, string> {
  return databaseUrl === undefined ? {} : { ASC_DATABASE_URL: databaseUrl };
}

/** A port nobody listens on right now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const address = probe.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      probe.close(() => resolve(port));
    });
  });
}

/** Runs a command to completion; rejects with its output when it fails. */
export function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => (out += d.toString()));
    child.stderr.on('data', (d: Buffer) => (err += d.toString()));
    child.once('error', reject);
    child.once('close', (code) => {
      if (code === 0) resolve(out);
      else reject(new Error(`${command} ${args.join(' ')} exited with ${code}\n${out}${err}`));
    });
  });
}

/** One `asc-access ... --json` CLI command on a data directory; its JSON output. */
export async function cli(dataDir: string, args: readonly string[], databaseUrl?: string): Promise<Record<string, unknown>> {
  const out = await run(process.execPath, [CLI, ...args, '--json'], serverEnv(dataDir, 8080, databaseEnv(databaseUrl)));
  return JSON.parse(out) as Record<string, unknown>;
}

export interface BenchKey {
  keyId: string;
  file: string;
}

/** An ADMIN team key made through the CLI, its .p8 in the data directory. */
export async function createAdminKey(dataDir: string, databaseUrl?: string): Promise<BenchKey> {
  const file = path.join(dataDir, 'bench-admin.p8');
  const out = await cli(dataDir, ['keys', 'create', '--name', 'Benchmark admin key', '--role', 'ADMIN', '--out', file], databaseUrl);
  return { keyId: String(out.keyId), file };
}

/** A fresh 20-minute token for the key, minted by the CLI. */
export async function mintToken(dataDir: string, key: BenchKey, databaseUrl?: string): Promise<string> {
  const out = await cli(dataDir, ['token', '--key-file', key.file, '--key-id', key.keyId], databaseUrl);
  return String(out.token);
}

/**
 * Tokens for one key, minted by the CLI. A token lives 20 minutes; this one is renewed once it is
 * five minutes old, so a scenario (or a long walk) never runs into its expiry.
 */
export class Tokens {
  private token: string | undefined;
  private mintedAt = 0;

  constructor(
    private readonly dataDir: string,
    private readonly key: BenchKey,
    private readonly databaseUrl?: string,
    private readonly renewAfterMs = 5 * 60_000,
  ) {}

  async current(): Promise<string> {
    if (this.token === undefined || Date.now() - this.mintedAt > this.renewAfterMs) {
      this.mintedAt = Date.now();
      this.token = await mintToken(this.dataDir, this.key, this.databaseUrl);
    }
    return this.token;
  }
}

export interface Memory {
  /** resident set now, MiB */
  rssMiB: number;
  /** peak resident set, MiB */
  peakMiB: number;
}

export interface RunningProcess {
  name: string;
  url: string;
  pid: number;
  logFile: string;
  memory(): Memory | undefined;
  /** SIGTERM and wait for the exit (a graceful shutdown writes CPU profiles) */
  stop(): Promise<void>;
  /** SIGKILL (kill -9: no shutdown of any kind) and wait for the exit; the signal is sent before this returns */
  kill(): Promise<void>;
}

function memoryOf(pid: number): Memory | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const kib = (field: string) => Number(new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(status)?.[1] ?? NaN);
    return { rssMiB: kib('VmRSS') / 1024, peakMiB: kib('VmHWM') / 1024 };
  } catch {
    return undefined; // not Linux, or the process is gone
  }
}

/** What a server wrote to its log (warnings and errors, at LOG_LEVEL=warn): line count and the first lines. */
export function logSummary(file: string, keep = 5): { lines: number; first: string[] } {
  let text = '';
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    // no log written
  }
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return { lines: lines.length, first: lines.slice(0, keep).map((l) => l.slice(0, 500)) };
}

function tail(file: string): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-30).join('\n');
  } catch {
    return '';
  }
}

async function waitForHealth(url: string, child: ChildProcess, logFile: string, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  // set by the listener; an object, so that the loop below reads what the listener wrote
  const state: { exited: number | null } = { exited: null };
  child.once('exit', (code) => (state.exited = code ?? -1));
  while (Date.now() < deadline) {
    if (state.exited !== null) throw new Error(`${url}: the process exited (${state.exited}) before it was ready\n${tail(logFile)}`);
    try {
      const res = await fetch(`${url}/healthz`);
      await res.arrayBuffer();
      if (res.status === 200) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`${url}: no answer from /healthz within ${timeoutMs} ms\n${tail(logFile)}`);
}

export interface SpawnOptions {
  name: string;
  /** node options and script with its arguments */
  args: readonly string[];
  env: NodeJS.ProcessEnv;
  port: number;
  logFile: string;
}

/** Every process startProcess() started that has not exited yet. */
const live = new Set<ChildProcess>();

/** Sends SIGTERM to every server still running and waits (at most `timeoutMs`) for them to exit: for an interrupted run. */
export async function stopAll(timeoutMs = 10_000): Promise<void> {
  const exits = [...live].map((child) => new Promise<void>((resolve) => child.once('exit', () => resolve())));
  for (const child of live) child.kill('SIGTERM');
  const timer = new Promise<void>((resolve) => setTimeout(resolve, timeoutMs).unref());
  await Promise.race([Promise.all(exits), timer]);
  for (const child of live) child.kill('SIGKILL');
}

/** Starts a Node HTTP server process and resolves once its /healthz answers 200. */
export async function startProcess(options: SpawnOptions): Promise<RunningProcess> {
  const log = openSync(options.logFile, 'a');
  const child = spawn(process.execPath, options.args, { cwd: ROOT, env: options.env, stdio: ['ignore', log, log] });
  closeSync(log);
  live.add(child);
  child.once('exit', () => live.delete(child));
  const url = `http://127.0.0.1:${options.port}`;
  const exit = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  await waitForHealth(url, child, options.logFile, 60_000);
  return {
    name: options.name,
    url,
    pid: child.pid!,
    logFile: options.logFile,
    memory: () => memoryOf(child.pid!),
    async stop() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM');
      const killer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      await exit;
      clearTimeout(killer);
    },
    async kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
      await exit;
    },
  };
}

/**
 * `node dist/cli/main.js serve` as production runs it, on a data directory, optionally with
 * --cpu-prof into `profileDir`: with the runtime tuning (src/cli/tuning.ts) given up front, as
 * `serve` relaunches itself, so that the process measured (memory, profile) is the server itself.
 */
export async function startAscAccess(
  dataDir: string,
  options: { name: string; profileDir?: string; databaseUrl?: string; instanceId?: string },
): Promise<RunningProcess> {
  const port = await freePort();
  const nodeArgs = [...TUNING_FLAGS, ...(options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [])];
  const instance: Record<string, string> = options.instanceId === undefined ? {} : { ASC_INSTANCE_ID: options.instanceId };
  return startProcess({
    name: options.name,
    args: [...nodeArgs, CLI, 'serve'],
    env: serverEnv(dataDir, port, { ...TUNING_ENV, ...databaseEnv(options.databaseUrl), ...instance }),
    port,
    logFile: path.join(dataDir, 'server.log'),
  });
}
