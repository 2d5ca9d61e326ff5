/**
 * The operator CLI on a temporary data directory: keys, apps and tokens and its refusals (run in
 * this process), the documented `npm run -s asc-access -- token` command line, and `serve` as a real
 * process (the built entry point) from first start to SIGTERM.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createPrivateKey } from 'node:crypto';
import { copyFileSync, existsSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UUID } from '../helpers/api-errors.js';
import { cliEnv, completion, jsonOutput, ROOT, runCli, runCliProcess, startCli } from '../helpers/cli.js';
import { openDatabase } from '../../src/db/database.js';
import { databaseEnv, startTestServer, tempDir, testConfig, type TestServer } from '../helpers/harness.js';
import { freePort } from '../helpers/smtp-sink.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NO_STACK = /^\s+at /m;

// the real processes take seconds each on a busy machine
const SLOW = { timeout: 120_000 };

describe('asc-access keys, apps and token', SLOW, () => {
  let dir: string;
  let env: Record<string, string>;
  let server: TestServer | undefined;
  let admin: { issuerId: string; keyId: string; file: string };
  let appId: string;

  beforeAll(async () => {
    dir = tempDir('asc-cli-');
    const config = testConfig({ dataDir: dir });
    env = databaseEnv(config);
    // what the server's first start does: only `serve` creates a database
    await (await openDatabase(config)).close();
  });
  afterAll(async () => {
    // closing the test server removes the data directory as well
    if (server) await server.close();
    else rmSync(dir, { recursive: true, force: true });
  });

  it('keys create --json prints issuer id, key id and file, and writes a PKCS#8 PEM', async () => {
    const file = path.join(dir, 'admin.p8');
    const run = await runCli(['keys', 'create', '--name', 'CI key', '--role', 'ADMIN', '--out', file, '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    admin = jsonOutput(run);
    expect(admin).toStrictEqual({
      issuerId: expect.stringMatching(UUID),
      keyId: expect.stringMatching(/^[A-Z0-9]{10}$/),
      name: 'CI key',
      role: 'ADMIN',
      file,
    });
    const pem = readFileSync(file, 'utf8');
    expect(pem).toMatch(/^-----BEGIN PRIVATE KEY-----\n[A-Za-z0-9+/=\n]+-----END PRIVATE KEY-----\n$/);
    const key = createPrivateKey(pem);
    expect(key.asymmetricKeyType).toBe('ec');
    expect(key.asymmetricKeyDetails?.namedCurve).toBe('prime256v1');
    expect(statSync(file).mode & 0o777).toBe(0o600);
  });

  it('keys create prints plain lines without --json; the team keeps its issuer id', async () => {
    const file = path.join(dir, 'dev.p8');
    const run = await runCli(['keys', 'create', '--name', 'Developer key', '--role', 'DEVELOPER', '--out', file], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(
      new RegExp(`^issuer id: ${admin.issuerId}\nkey id:    [A-Z0-9]{10}\nkey file:  ${file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\n$`),
    );
    expect(existsSync(file)).toBe(true);
  });

  it('keys list --json lists every key', async () => {
    const run = await runCli(['keys', 'list', '--json'], env);
    expect(run.code).toBe(0);
    expect(jsonOutput(run)).toStrictEqual({
      issuerId: admin.issuerId,
      keys: [
        { keyId: admin.keyId, name: 'CI key', role: 'ADMIN', createdAt: expect.stringMatching(ISO), revokedAt: null },
        {
          keyId: expect.stringMatching(/^[A-Z0-9]{10}$/),
          name: 'Developer key',
          role: 'DEVELOPER',
          createdAt: expect.stringMatching(ISO),
          revokedAt: null,
        },
      ],
    });
  });

  it('apps create --json prints the app with a numeric id; apps list --json lists it', async () => {
    const run = await runCli(['apps', 'create', '--name', 'Cortado', '--bundle-id', 'com.x.y', '--sku', 'S1', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const app = jsonOutput(run);
    expect(app).toStrictEqual({
      id: expect.stringMatching(/^\d+$/),
      name: 'Cortado',
      bundleId: 'com.x.y',
      sku: 'S1',
      primaryLocale: 'en-US',
    });
    appId = app.id;
    const list = await runCli(['apps', 'list', '--json'], env);
    expect(list.code).toBe(0);
    expect(jsonOutput(list)).toStrictEqual({ apps: [app] });
  });

  it('token --key-file prints a 20-minute ES256 JWT that the server accepts', async () => {
    const named = path.join(dir, `AuthKey_${admin.keyId}.p8`);
    copyFileSync(admin.file, named);
    const run = await runCli(['token', '--key-file', named], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const token = run.stdout.trimEnd();
    expect(run.stdout).toBe(`${token}\n`);
    expect(decodeProtectedHeader(token)).toStrictEqual({ alg: 'ES256', kid: admin.keyId, typ: 'JWT' });
    const claims = decodeJwt(token);
    expect(claims).toStrictEqual({ aud: 'appstoreconnect-v1', iss: admin.issuerId, iat: expect.any(Number), exp: claims.iat! + 1200 });

    server = await startTestServer({ config: { dataDir: dir } });
    const res = await server.call('GET', `/v1/apps/${appId}`, { token });
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toMatchObject({ type: 'apps', id: appId, attributes: { name: 'Cortado', bundleId: 'com.x.y', sku: 'S1' } });
  });

  it('the documented command line `npm run -s asc-access -- token --key-file FILE` prints only the token', async () => {
    const named = path.join(dir, `AuthKey_${admin.keyId}.p8`);
    const npm = spawn('npm', ['run', '-s', 'asc-access', '--', 'token', '--key-file', named], { cwd: ROOT, env: cliEnv(env) });
    const run = await completion(npm);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const token = run.stdout.trimEnd();
    expect(run.stdout).toBe(`${token}\n`);
    expect(decodeProtectedHeader(token)).toStrictEqual({ alg: 'ES256', kid: admin.keyId, typ: 'JWT' });
    expect(decodeJwt(token)).toMatchObject({ aud: 'appstoreconnect-v1', iss: admin.issuerId });
    expect((await server!.call('GET', `/v1/apps/${appId}`, { token })).status).toBe(200);
  });

  it('token --key-id works for a file of any name, and --json prints the details', async () => {
    const run = await runCli(['token', '--key-file', admin.file, '--key-id', admin.keyId, '--lifetime', '600', '--json'], env);
    expect(run.code).toBe(0);
    const out = jsonOutput(run);
    expect(out).toStrictEqual({ token: expect.any(String), keyId: admin.keyId, issuerId: admin.issuerId, expiresIn: 600 });
    const claims = decodeJwt(out.token);
    expect(claims.exp! - claims.iat!).toBe(600);
    expect((await server!.call('GET', '/v1/userInvitations', { token: out.token })).status).toBe(200);
  });

  it('keys revoke stops the key at once', async () => {
    const token = jsonOutput(await runCli(['token', '--key-file', admin.file, '--key-id', admin.keyId, '--json'], env)).token as string;
    expect((await server!.call('GET', '/v1/apps', { token })).status).toBe(200);
    const run = await runCli(['keys', 'revoke', admin.keyId, '--json'], env);
    expect(run.code).toBe(0);
    expect(jsonOutput(run)).toStrictEqual({ keyId: admin.keyId, revoked: true });
    expect((await server!.call('GET', '/v1/apps', { token })).status).toBe(401);
    const list = jsonOutput(await runCli(['keys', 'list', '--json'], env));
    expect(list.keys.find((k: { keyId: string }) => k.keyId === admin.keyId).revokedAt).toMatch(ISO);

    const again = await runCli(['keys', 'revoke', admin.keyId], env);
    expect(again.code).toBe(1);
    expect(again.stderr).toBe(`asc-access: Key ${admin.keyId} is already revoked\n`);
  });

  describe('refuses bad input with a clear message and a non-zero exit', () => {
    const refusal = async (args: string[], code: number, message: string, extraEnv: Record<string, string> = {}) => {
      const run = await runCli(args, { ...env, ...extraEnv });
      expect(run.code).toBe(code);
      expect(run.stderr.startsWith(`asc-access: ${message}\n`), run.stderr).toBe(true);
      expect(run.stderr).not.toMatch(NO_STACK);
      return run;
    };

    it('a role a team key cannot have', async () => {
      const file = path.join(dir, 'holder.p8');
      await refusal(
        ['keys', 'create', '--name', 'N', '--role', 'ACCOUNT_HOLDER', '--out', file],
        1,
        "A team key's role must be one of ADMIN, FINANCE, APP_MANAGER, DEVELOPER, MARKETING, SALES, CUSTOMER_SUPPORT; got 'ACCOUNT_HOLDER'",
      );
      expect(existsSync(file)).toBe(false);
    });

    /** a usage error: one line naming the problem and the command's help, exit 2 */
    const usage = async (args: string[], line: string) => {
      const run = await runCli(args, env);
      expect(run.stderr).toBe(`asc-access: ${line}\n`);
      expect(run.stdout).toBe('');
      expect(run.code).toBe(2);
    };

    it('a missing required option: one line with a hint', async () => {
      await usage(
        ['keys', 'create', '--name', 'N', '--role', 'ADMIN'],
        "required option '--out <file>' not specified (see 'asc-access keys create --help')",
      );
    });

    it('a missing --key-file is reported as such', async () => {
      await usage(['token', '--key-id', 'ABCDEFGHIJ'], "required option '--key-file <file>' not specified (see 'asc-access token --help')");
    });

    it('an unknown option: one line, even when required options are missing too', async () => {
      await usage(['keys', 'list', '--verbose'], "unknown option '--verbose' for 'keys list' (see 'asc-access keys list --help')");
      await usage(['keys', 'create', '--nam', 'N'], "unknown option '--nam' for 'keys create' (see 'asc-access keys create --help')");
    });

    it('a missing or an extra argument', async () => {
      await usage(['keys', 'revoke'], "missing required argument 'KEY_ID' (see 'asc-access keys revoke --help')");
      await usage(['apps', 'list', 'extra'], "too many arguments for 'apps list': 1 given, 0 expected (see 'asc-access apps list --help')");
    });

    it('an unknown command, with a suggestion when one is close', async () => {
      await usage(['frobnicate'], "unknown command 'frobnicate' (see 'asc-access --help')");
      await usage(['kyes', 'list'], "unknown command 'kyes' (did you mean keys?) (see 'asc-access --help')");
      await usage(['keys', 'lst'], "unknown command 'lst' (did you mean list?) (see 'asc-access keys --help')");
    });

    it('--role in any case', async () => {
      const file = path.join(dir, 'lower.p8');
      const run = await runCli(['keys', 'create', '--name', 'Lower', '--role', 'app_manager', '--out', file, '--json'], env);
      expect(run.stderr).toBe('');
      expect(jsonOutput(run)).toMatchObject({ name: 'Lower', role: 'APP_MANAGER' });
    });

    it('the built command exits with the same code and message as a process', async () => {
      const run = await runCliProcess(['keys', 'revoke', 'NOSUCHKEY0', '--json'], env);
      expect(run.code).toBe(1);
      expect(jsonOutput(run)).toStrictEqual({ error: 'There is no key with id NOSUCHKEY0' });
      expect(run.stderr).toBe('asc-access: There is no key with id NOSUCHKEY0\n');
      const usage = await runCliProcess(['frobnicate'], env);
      expect(usage.code).toBe(2);
      expect(usage.stderr).toBe("asc-access: unknown command 'frobnicate' (see 'asc-access --help')\n");
    });

    it('an unknown key, as JSON too', async () => {
      const run = await refusal(['keys', 'revoke', 'NOSUCHKEY0', '--json'], 1, 'There is no key with id NOSUCHKEY0');
      expect(jsonOutput(run)).toStrictEqual({ error: 'There is no key with id NOSUCHKEY0' });
    });

    it('a bad bundle id and a duplicate one', async () => {
      await refusal(['apps', 'create', '--name', 'X', '--bundle-id', 'com x', '--sku', 'S9'], 1, "'com x' is not a valid bundle id");
      await refusal(
        ['apps', 'create', '--name', 'X', '--bundle-id', 'com.x.y', '--sku', 'S9'],
        1,
        "An app with bundle id 'com.x.y' exists already",
      );
    });

    it('a key file that is missing or not a private key', async () => {
      const missing = path.join(dir, 'AuthKey_ZZZZZZZZZZ.p8');
      await refusal(['token', '--key-file', missing], 1, `cannot read the key file ${missing}: no such file`);
      await refusal(['token', '--key-file', dir, '--key-id', 'ZZZZZZZZZZ'], 1, `cannot read the key file ${dir}: it is a directory`);
      const junk = path.join(dir, 'AuthKey_JUNKJUNK00.p8');
      writeFileSync(junk, 'not a key\n');
      await refusal(['token', '--key-file', junk], 1, `${junk} is not an App Store Connect private key (a PKCS#8 PEM of an EC P-256 key)`);
    });

    it('a token lifetime over 20 minutes, or a file without key id', async () => {
      await refusal(
        ['token', '--key-file', admin.file, '--key-id', admin.keyId, '--lifetime', '1201'],
        2,
        "--lifetime must be 1 to 1200 seconds (see 'asc-access token --help')",
      );
      await refusal(
        ['token', '--key-file', admin.file],
        2,
        "--key-id is required when the file is not named AuthKey_<KEY_ID>.p8 (see 'asc-access token --help')",
      );
    });

    it('invalid configuration, listing every problem', async () => {
      const run = await runCli(['keys', 'list'], { ...env, PORT: 'eighty', LOG_LEVEL: 'loud' });
      expect(run.code).toBe(1);
      expect(run.stderr).toBe(
        "asc-access: Invalid configuration:\n  - PORT must be a whole number between 0 and 65535, got 'eighty'\n" +
          "  - LOG_LEVEL must be one of fatal, error, warn, info, debug, trace, silent, got 'loud'\n",
      );
    });

    it('no command at all: the usage, exit 1', async () => {
      const run = await runCli([], env);
      expect(run.code).toBe(1);
      expect(run.stdout.startsWith('Usage: asc-access <command> [options]\n')).toBe(true);
      for (const group of ['serve', 'keys', 'users', 'apps', 'token', 'mail']) expect(run.stdout).toMatch(new RegExp(`^  ${group} `, 'm'));
    });

    it('a group alone prints its help, exit 1; --help prints it with 0', async () => {
      const alone = await runCli(['keys'], env);
      expect(alone.code).toBe(1);
      expect(alone.stderr).toBe('');
      expect(alone.stdout.startsWith('Usage: asc-access keys [options] [command]\n')).toBe(true);
      for (const sub of ['create', 'list', 'revoke']) expect(alone.stdout).toMatch(new RegExp(`^  ${sub} `, 'm'));
      const help = await runCli(['keys', '--help'], env);
      expect(help.code).toBe(0);
      expect(help.stdout).toBe(alone.stdout);
      const create = await runCli(['keys', 'create', '--help'], env);
      expect(create.code).toBe(0);
      expect(create.stdout).toMatch(/^Usage: asc-access keys create \[options\]\n/);
      expect(create.stdout).toContain('--individual-for <userId>');
    });

    it('--version prints the package version', async () => {
      const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
      const run = await runCli(['--version'], env);
      expect(run).toStrictEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
    });
  });
});

/** Resolves with the first match of `pattern` in the child's stdout; rejects if it exits first. */
function waitForStdout(
  child: ChildProcessWithoutNullStreams,
  pattern: RegExp,
  seen: { stdout: string; stderr: string },
): Promise<RegExpExecArray> {
  return new Promise((resolve, reject) => {
    const check = () => {
      const m = pattern.exec(seen.stdout);
      if (m) {
        child.stdout.off('data', check);
        child.off('exit', early);
        resolve(m);
      }
    };
    const early = (code: number | null, signal: NodeJS.Signals | null) =>
      reject(new Error(`exited with ${code} (signal ${signal}) before printing ${pattern}:\n${seen.stdout}\n${seen.stderr}`));
    child.stdout.on('data', check);
    child.once('exit', early);
    check();
  });
}

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

function serve(env: Record<string, string>) {
  const child = startCli(['serve'], env);
  const seen = { stdout: '', stderr: '' };
  child.stdout.setEncoding('utf8').on('data', (d: string) => (seen.stdout += d));
  child.stderr.setEncoding('utf8').on('data', (d: string) => (seen.stderr += d));
  return { child, seen };
}

describe('asc-access serve', SLOW, () => {
  let dir: string;
  const children: ChildProcessWithoutNullStreams[] = [];
  beforeAll(() => {
    dir = tempDir('asc-serve-');
  });
  afterAll(async () => {
    for (const c of children) {
      if (c.exitCode === null && c.signalCode === null) {
        c.kill('SIGKILL');
        await exited(c);
      }
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('prints a first-start curl command that works, restarts on the same data, and stops on SIGTERM with 0', async () => {
    const port = await freePort();
    const env = { ...databaseEnv(testConfig({ dataDir: dir })), PORT: String(port) };
    const first = serve(env);
    children.push(first.child);
    // registered before the signal is sent, so the exit cannot be missed
    const firstExit = exited(first.child);
    const m = await waitForStdout(first.child, /curl -H 'Authorization: Bearer ([^']+)' (\S+)\n/, first.seen);
    const [, token, url] = m as unknown as [string, string, string];
    expect(url).toBe(`http://127.0.0.1:${port}/v1/userInvitations`);

    const keyFile = /key file\s*:\s*(\S+)/.exec(first.seen.stdout)?.[1];
    const keyId = /key id\s*:\s*([A-Z0-9]{10})\n/.exec(first.seen.stdout)?.[1];
    expect(keyFile).toBe(path.join(dir, `AuthKey_${keyId}.p8`));
    expect(readFileSync(keyFile!, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----\n/);

    const res = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(await res.json()).toStrictEqual({ data: [], links: { self: url }, meta: { paging: { total: 0, limit: 20 } } });

    first.child.kill('SIGTERM');
    expect(await firstExit).toEqual({ code: 0, signal: null });

    // a second start on the same data: the key is still there and no first-start message appears
    const second = serve(env);
    children.push(second.child);
    const secondExit = exited(second.child);
    await waitForStdout(second.child, /Server listening at/, second.seen);
    const again = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
    expect(again.status).toBe(200);
    second.child.kill('SIGTERM');
    expect(await secondExit).toEqual({ code: 0, signal: null });
    expect(second.seen.stdout).not.toContain('first start');
    expect(second.seen.stdout).not.toContain('curl');
  });
});
