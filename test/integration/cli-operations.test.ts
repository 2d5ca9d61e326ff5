/**
 * The operator's settings as a real `asc-access serve` process (the built dist) reads them:
 * LOG_FORMAT=pretty prints human lines, tokens still redacted; `.env` in the working directory is
 * read, the environment winning over it; a wildcard HOST without ASC_PUBLIC_URL is refused.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { runCliProcess, startCli } from '../helpers/cli.js';
import { databaseEnv, testConfig } from '../helpers/harness.js';
import { freePort } from '../helpers/smtp-sink.js';

// the real processes take seconds each on a busy machine
const SLOW = { timeout: 120_000 };

const children: ChildProcessWithoutNullStreams[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const c of children.splice(0)) {
    if (c.exitCode === null && c.signalCode === null) {
      const gone = new Promise((resolve) => c.once('exit', resolve));
      c.kill('SIGKILL');
      await gone;
    }
  }
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

function dir(): string {
  const d = mkdtempSync(path.join(tmpdir(), 'asc-ops-'));
  dirs.push(d);
  return d;
}

interface Served {
  child: ChildProcessWithoutNullStreams;
  out: { stdout: string; stderr: string };
  /** resolves when stdout matches `pattern` (rejects if the process ends first) */
  printed(pattern: RegExp): Promise<RegExpExecArray>;
  /** SIGTERM, and the exit code */
  stop(): Promise<number | null>;
}

/** `serve` on `port` (given in env or in the .env of `cwd`) */
function serve(port: number, env: Record<string, string>, cwd?: string): Served {
  const child = startCli(['serve'], env, cwd);
  children.push(child);
  const out = { stdout: '', stderr: '' };
  const exit = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.stdout.setEncoding('utf8').on('data', (d: string) => (out.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (out.stderr += d));
  const printed = (pattern: RegExp) =>
    new Promise<RegExpExecArray>((resolve, reject) => {
      const check = () => {
        const m = pattern.exec(out.stdout);
        if (!m) return;
        child.stdout.off('data', check);
        resolve(m);
      };
      child.stdout.on('data', check);
      void exit.then((code) => reject(new Error(`exited with ${code} before printing ${pattern}:\n${out.stdout}\n${out.stderr}`)));
      check();
    });
  return {
    child,
    out,
    printed,
    stop: async () => {
      // a request answered: the process runs its event loop, so its signal handlers are in place
      // (they are installed once it listens and has printed its first-start message)
      expect((await fetch(`http://127.0.0.1:${port}/healthz`)).status).toBe(200);
      child.kill('SIGTERM');
      return exit;
    },
  };
}

/** a JSON log line starts with `{"level":` */
const JSON_LINE = /^\{"level":/m;

describe('LOG_FORMAT', SLOW, () => {
  it('pretty: human lines, with activation and bearer tokens still redacted', async () => {
    const port = await freePort();
    const s = serve(port, { ...databaseEnv(testConfig({ dataDir: dir() })), PORT: String(port), LOG_FORMAT: 'pretty' });
    const [listening] = await s.printed(/^.*Server listening at.*$/m);
    // pino-pretty's line: [time] LEVEL: message (no JSON)
    expect(listening).toMatch(/^\[\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}\.\d{3} [+-]\d{4}\] INFO: Server listening at http:\/\/127\.0\.0\.1:/);
    expect(s.out.stdout).not.toMatch(JSON_LINE);

    const activation = 'Zq9aTOKENthatMustNotBeLogged0123456789abcdefgh';
    const jwt = 'eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJzZWNyZXQtcGF5bG9hZCJ9.c2lnbmF0dXJlLXRoYXQtbXVzdC1ub3QtbGVhaw';
    await fetch(`http://127.0.0.1:${port}/activate/${activation}`);
    await fetch(`http://127.0.0.1:${port}/v1/apps?token=${jwt}`, { headers: { authorization: `Bearer ${jwt}` } });
    // the request lines, pretty-printed with the redacted URLs
    await s.printed(/"url": "\/activate\/\[redacted\]"/);
    await s.printed(/"url": "\/v1\/apps\?token=\[redacted\]"/);
    expect(await s.stop()).toBe(0);
    const all = s.out.stdout + s.out.stderr;
    expect(all).not.toContain(activation);
    expect(all).not.toContain('eyJhbGciOiJFUzI1NiJ9');
    expect(all).not.toMatch(JSON_LINE);
  });

  it('json by default: one JSON object a line', async () => {
    const port = await freePort();
    const s = serve(port, { ...databaseEnv(testConfig({ dataDir: dir() })), PORT: String(port) });
    const [line] = await s.printed(/^.*Server listening at.*$/m);
    expect(JSON.parse(line)).toMatchObject({ level: 30, msg: `Server listening at http://127.0.0.1:${port}` });
    expect(await s.stop()).toBe(0);
  });

  it('refuses an unknown format, with a clear line', async () => {
    const run = await runCliProcess(['serve'], { ...databaseEnv(testConfig({ dataDir: dir() })), LOG_FORMAT: 'text' });
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("asc-access: Invalid configuration: LOG_FORMAT must be json or pretty, got 'text'\n");
  });
});

describe('.env', SLOW, () => {
  it('is read from the working directory; the environment wins over it', async () => {
    const cwd = dir();
    const port = await freePort();
    const database = databaseEnv(testConfig({ dataDir: path.join(cwd, 'from-env') }));
    const lines = [
      '# written by the operator',
      'ASC_DATA_DIR=./from-env',
      `PORT=${port}`,
      'LOG_FORMAT=json',
      ...(database.ASC_DATABASE_URL ? [`ASC_DATABASE_URL=${database.ASC_DATABASE_URL}`] : []),
    ];
    writeFileSync(path.join(cwd, '.env'), `${lines.join('\n')}\n`);
    const s = serve(port, { LOG_FORMAT: 'pretty' }, cwd);
    const [, keyFile] = await s.printed(/key file\s*:\s*(\S+)\n/);
    // the data directory of .env, relative to the working directory
    expect(path.dirname(keyFile!)).toBe(path.join(cwd, 'from-env'));
    expect(readFileSync(keyFile!, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);
    await s.printed(new RegExp(`INFO: Server listening at http://127\\.0\\.0\\.1:${port}`));
    // LOG_FORMAT of the environment, not the file's
    expect(s.out.stdout).not.toMatch(JSON_LINE);
    expect(await s.stop(), s.out.stdout + s.out.stderr).toBe(0);
  });
});

describe('a wildcard HOST', SLOW, () => {
  it('is refused without ASC_PUBLIC_URL: links would point at it', async () => {
    for (const host of ['0.0.0.0', '::']) {
      const run = await runCliProcess(['serve'], { ...databaseEnv(testConfig({ dataDir: dir() })), HOST: host });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        `asc-access: Invalid configuration: HOST is ${host} (every address) and ASC_PUBLIC_URL is unset: ` +
          'set ASC_PUBLIC_URL to the address people and clients use\n',
      );
    }
  });

  it('is served with ASC_PUBLIC_URL, whose links the responses carry', async () => {
    const port = await freePort();
    const s = serve(port, {
      ...databaseEnv(testConfig({ dataDir: dir() })),
      HOST: '0.0.0.0',
      PORT: String(port),
      ASC_PUBLIC_URL: 'https://asc.example.test',
    });
    const [, token] = await s.printed(/curl -H 'Authorization: Bearer ([^']+)' (\S+)\n/);
    const res = await fetch(`http://127.0.0.1:${port}/v1/userInvitations`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { links: { self: string } }).links.self).toBe('https://asc.example.test/v1/userInvitations');
    expect(await s.stop()).toBe(0);
  });
});
