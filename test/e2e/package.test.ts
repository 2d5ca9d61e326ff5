/**
 * The package as an operator installs it (docs/deployment.md, "Install"): `npm pack` of this tree,
 * the tarball installed into an empty directory with `npm install --omit=dev` (no dev
 * dependencies, no build step), `npx asc-access serve` started there, a key and a token made with
 * the installed CLI, and an authenticated request. npm fetches from its cache first
 * (--prefer-offline) and from the registry for what the cache lacks. Installing compiles
 * better-sqlite3 where its prebuilt binary cannot be downloaded (GitHub unreachable): about 100 s
 * on two cores; a few seconds otherwise.
 */
import { spawn } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, cliEnv } from '../helpers/cli.js';
import { freePort } from '../helpers/smtp-sink.js';

interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], cwd: string, env: NodeJS.ProcessEnv = cliEnv({})): Promise<Ran> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd, env });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.once('error', reject);
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
}

async function ok(command: string, args: string[], cwd: string, env?: NodeJS.ProcessEnv): Promise<Ran> {
  const ran = await run(command, args, cwd, env);
  expect(ran.code, `${command} ${args.join(' ')}\n${ran.stdout}${ran.stderr}`).toBe(0);
  return ran;
}

let work = '';
const version = (JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string }).version;

afterAll(() => {
  if (work !== '') rmSync(work, { recursive: true, force: true });
});

// one run is enough: the installed server runs on its embedded SQLite database
describe('the packed tarball, installed and started', { timeout: 400_000 }, () => {
  it('installs without dev dependencies, serves with npx asc-access serve, and answers a token', async () => {
    work = mkdtempSync(path.join(tmpdir(), 'asc-package-'));
    // dist/ is built by test/global-setup.ts; prepack and postpack run as `npm pack` runs them
    // (--ignore-scripts leaves out `prepare`, which would build dist/ again with tsc)
    await ok('npm', ['run', '--silent', 'prepack'], ROOT);
    let packed: Ran;
    try {
      packed = await ok('npm', ['pack', '--ignore-scripts', '--json', '--pack-destination', work], ROOT);
    } finally {
      await ok('npm', ['run', '--silent', 'postpack'], ROOT);
    }
    const [info] = JSON.parse(packed.stdout) as [{ filename: string; files: { path: string }[] }];
    const files = info.files.map((f) => f.path);
    for (const file of ['LICENSE', 'README.md', 'CHANGELOG.md', 'package.json', 'npm-shrinkwrap.json', 'dist/cli/main.js']) {
      expect(files).toContain(file);
    }
    expect(files).toContain('spec/app-store-connect-users-access.json');
    expect(files).toContain('spec/emulator.openapi.json');
    // asc-access/testing (package.json "exports"; its .d.ts come from `npm run build`, which the pack here skips)
    expect(files).toContain('dist/testing/index.js');
    // the activation pages and the invitation email render these at run time
    expect(files).toContain('templates/activation/layout.eta');
    expect(files).toContain('templates/mail/invitation.eta');
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/') || f.endsWith('.map'))).toEqual([]);

    const app = path.join(work, 'app');
    mkdirSync(app);
    // Install scripts are left out, and better-sqlite3's native addon is taken from this checkout
    // when the versions match: on a machine that cannot download its prebuilt binary, building it
    // from source is a minute of CPU that tests npm and node-gyp, not this package. Any other
    // version is built as an install would.
    const installed = await ok(
      'npm',
      ['install', '--omit=dev', '--no-audit', '--no-fund', '--prefer-offline', '--ignore-scripts', path.join(work, info.filename)],
      app,
    );
    expect(installed.stderr).not.toContain('ERR');
    const sqliteVersion = (dir: string) =>
      (JSON.parse(readFileSync(path.join(dir, 'node_modules', 'better-sqlite3', 'package.json'), 'utf8')) as { version: string }).version;
    if (sqliteVersion(app) === sqliteVersion(ROOT)) {
      cpSync(path.join(ROOT, 'node_modules', 'better-sqlite3', 'build'), path.join(app, 'node_modules', 'better-sqlite3', 'build'), {
        recursive: true,
      });
    } else {
      await ok('npm', ['rebuild', 'better-sqlite3'], app);
    }
    // no dev dependency came along
    for (const dev of ['typescript', 'vitest', 'tsx'])
      expect(() => readFileSync(path.join(app, 'node_modules', dev, 'package.json'))).toThrow();

    const bin = path.join(app, 'node_modules', '.bin', 'asc-access');
    expect((await ok(bin, ['--version'], app)).stdout).toBe(`${version}\n`);

    const dataDir = path.join(work, 'data');
    const port = await freePort();
    const env = cliEnv({ ASC_DATA_DIR: dataDir, PORT: String(port), LOG_LEVEL: 'warn' });
    const server = spawn('npx', ['--no-install', 'asc-access', 'serve'], { cwd: app, env, detached: true });
    let output = '';
    const exit = new Promise<number | null>((resolve) => server.once('exit', (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        const onData = (d: string) => {
          output += d;
          if (output.includes('Server listening at') || output.includes(`:${port}`)) resolve();
        };
        server.stdout.setEncoding('utf8').on('data', onData);
        server.stderr.setEncoding('utf8').on('data', onData);
        void exit.then((code) => reject(new Error(`npx asc-access serve exited (${code}) before listening:\n${output}`)));
      });
      // readiness is an answer from /healthz
      for (;;) {
        const health = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
        if (health?.status === 200) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      const keyFile = path.join(work, 'ops.p8');
      const key = await ok(bin, ['keys', 'create', '--name', 'Package test', '--role', 'ADMIN', '--out', keyFile, '--json'], app, env);
      const { keyId } = JSON.parse(key.stdout) as { keyId: string };
      const minted = await ok(bin, ['token', '--key-file', keyFile, '--key-id', keyId, '--json'], app, env);
      const { token } = JSON.parse(minted.stdout) as { token: string };
      const res = await fetch(`http://127.0.0.1:${port}/v1/userInvitations`, { headers: { authorization: `Bearer ${token}` } });
      expect(res.status, await res.clone().text()).toBe(200);
      expect(((await res.json()) as { data: unknown[] }).data).toEqual([]);

      // the helper, imported by its name from a project that installed the package: an emulator started and stopped
      const script = [
        "import { startEmulator } from 'asc-access/testing';",
        'const emu = await startEmulator();',
        "await emu.clock.advance('72h');",
        'const res = await fetch(`${emu.baseUrl}/v1/apps`, { headers: { authorization: `Bearer ${await emu.token()}` } });',
        'console.log(JSON.stringify({ status: res.status, offsetMs: (await emu.clock.get()).offsetMs, journal: (await emu.journal.list()).length }));',
        'await emu.stop();',
      ].join('\n');
      const helper = await ok(process.execPath, ['--input-type=module', '-e', script], app);
      expect(JSON.parse(helper.stdout)).toEqual({ status: 200, offsetMs: 72 * 3_600_000, journal: 1 });
    } finally {
      // the whole group: npx, the launcher and the server it relaunched
      process.kill(-server.pid!, 'SIGTERM');
      await exit;
    }
  });
});
