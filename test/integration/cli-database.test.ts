/**
 * The CLI and the database it works on: commands other than `serve` never create one, `token` checks
 * the key against the database it sees (and mints from the ids alone where it sees none), the
 * first-start banner's command names the settings it needs, and `serve` reports a port in use in
 * one line.
 */
import { spawn } from 'node:child_process';
import { copyFileSync, existsSync, readdirSync, realpathSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import path from 'node:path';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, sqliteFile } from '../../src/db/database.js';
import { cliEnv, completion, jsonOutput, ROOT, runCli, runCliProcess, startCli } from '../helpers/cli.js';
import { databaseEnv, schemaFor, tempDir, TEST_DIALECT, TEST_PG_URL, testConfig } from '../helpers/harness.js';
import { freePort } from '../helpers/smtp-sink.js';

const SLOW = { timeout: 120_000 };
const ISO = /\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z/;

async function schemaExists(schema: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    return (await client.query('select 1 from information_schema.schemata where schema_name = $1', [schema])).rowCount === 1;
  } finally {
    await client.end();
  }
}

describe('commands other than serve never create a database', SLOW, () => {
  const dirs: string[] = [];
  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('refuses every command on a data directory without a database, and creates nothing', async () => {
    const root = tempDir('asc-nodb-');
    dirs.push(root);
    const dataDir = path.join(root, 'data');
    const config = testConfig({ dataDir });
    const env = databaseEnv(config);
    const expected =
      TEST_DIALECT === 'postgres'
        ? `no asc-access database at postgresql://${new URL(TEST_PG_URL).host}/test; start the server once, or check ASC_DATABASE_URL`
        : `no asc-access database at ${sqliteFile(config)}; start the server once, or set ASC_DATA_DIR`;
    const key = path.join(root, 'k.p8');
    for (const args of [
      ['keys', 'list'],
      ['keys', 'create', '--name', 'K', '--role', 'ADMIN', '--out', key],
      ['keys', 'revoke', 'ABCDEFGHIJ'],
      ['users', 'list'],
      ['users', 'create-account-holder', '--email', 'a@example.com', '--first-name', 'A', '--last-name', 'B'],
      ['apps', 'list'],
      ['mail', 'list'],
      ['mail', 'show', '1'],
    ]) {
      const run = await runCli(args, env);
      expect(run.stderr, args.join(' ')).toBe(`asc-access: ${expected}\n`);
      expect(run.code).toBe(1);
    }
    const json = await runCli(['keys', 'list', '--json'], env);
    expect(jsonOutput(json)).toStrictEqual({ error: expected });
    expect(readdirSync(root)).toStrictEqual([]);
    if (TEST_DIALECT === 'postgres') expect(await schemaExists(schemaFor(dataDir))).toBe(false);

    // once the server has created it, the same commands work
    await (await openDatabase(config)).close();
    const list = await runCli(['keys', 'list', '--json'], env);
    expect(list.stderr).toBe('');
    expect(jsonOutput(list).keys).toStrictEqual([]);
  });

  it('without ASC_DATA_DIR looks in ./data of the working directory and does not create it', async () => {
    const cwd = realpathSync(tempDir('asc-cwd-'));
    dirs.push(cwd);
    const run = await runCliProcess(['apps', 'list'], {}, cwd);
    expect(run.stderr).toBe(
      `asc-access: no asc-access database at ${path.join(cwd, 'data', 'asc-access.sqlite')}; start the server once, or set ASC_DATA_DIR\n`,
    );
    expect(run.code).toBe(1);
    expect(existsSync(path.join(cwd, 'data'))).toBe(false);
  });
});

describe('token and the database it sees', SLOW, () => {
  let dir: string;
  let env: Record<string, string>;
  let team: { issuerId: string; keyId: string; file: string };
  let where: string;

  beforeAll(async () => {
    dir = tempDir('asc-token-');
    const config = testConfig({ dataDir: dir });
    env = databaseEnv(config);
    where = TEST_DIALECT === 'postgres' ? `postgresql://${new URL(TEST_PG_URL).host}/test` : sqliteFile(config);
    await (await openDatabase(config)).close();
    const out = path.join(dir, 'team.p8');
    team = jsonOutput(await runCli(['keys', 'create', '--name', 'T', '--role', 'ADMIN', '--out', out, '--json'], env));
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const refused = async (args: string[], message: string) => {
    const run = await runCli(args, env);
    expect(run.stderr).toBe(`asc-access: ${message}\n`);
    expect(run.stdout).toBe('');
    expect(run.code).toBe(1);
  };

  it('refuses a key id the database does not hold', async () => {
    const unknown = path.join(dir, 'AuthKey_NOSUCHKEY0.p8');
    copyFileSync(team.file, unknown);
    await refused(['token', '--key-file', unknown], `no key NOSUCHKEY0 in the database at ${where}`);
    await refused(['token', '--key-file', team.file, '--key-id', 'WRONGKEY00'], `no key WRONGKEY00 in the database at ${where}`);
  });

  it('refuses a --key-id that contradicts the file name', async () => {
    const named = path.join(dir, `AuthKey_${team.keyId}.p8`);
    copyFileSync(team.file, named);
    await refused(
      ['token', '--key-file', named, '--key-id', 'OTHERKEY00'],
      `--key-id OTHERKEY00 does not match the key file's name AuthKey_${team.keyId}.p8 (key id ${team.keyId})`,
    );
  });

  it("refuses an --issuer-id that is not the team's", async () => {
    await refused(
      ['token', '--key-file', team.file, '--key-id', team.keyId, '--issuer-id', '00000000-0000-0000-0000-000000000000'],
      `--issuer-id 00000000-0000-0000-0000-000000000000 is not this team's issuer id (${team.issuerId})`,
    );
  });

  it('refuses a revoked key, saying when it was revoked', async () => {
    const ok = await runCli(['token', '--key-file', team.file, '--key-id', team.keyId, '--json'], env);
    expect(jsonOutput(ok)).toMatchObject({ keyId: team.keyId, issuerId: team.issuerId });
    expect((await runCli(['keys', 'revoke', team.keyId], env)).code).toBe(0);
    const run = await runCli(['token', '--key-file', team.file, '--key-id', team.keyId], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(new RegExp(`^asc-access: key ${team.keyId} was revoked on ${ISO.source}\n$`));
  });

  it('where no database is visible, mints from --issuer-id or --individual, and says what is missing otherwise', async () => {
    const cwd = realpathSync(tempDir('asc-offhost-'));
    try {
      const file = path.join(cwd, `AuthKey_${team.keyId}.p8`);
      copyFileSync(team.file, file);
      const bare = await runCliProcess(['token', '--key-file', file], {}, cwd);
      expect(bare.stderr).toBe(
        `asc-access: no asc-access database at ${path.join(cwd, 'data', 'asc-access.sqlite')}; ` +
          'set ASC_DATA_DIR or ASC_DATABASE_URL, or give --issuer-id (--individual for an individual key)\n',
      );
      expect(bare.code).toBe(1);

      const issued = await runCliProcess(['token', '--key-file', file, '--issuer-id', team.issuerId], {}, cwd);
      expect(issued.stderr).toBe('');
      expect(issued.code).toBe(0);
      expect(decodeJwt(issued.stdout.trim())).toMatchObject({ iss: team.issuerId, aud: 'appstoreconnect-v1' });

      const individual = await runCliProcess(['token', '--key-file', file, '--individual', '--json'], {}, cwd);
      expect(individual.code).toBe(0);
      const claims = decodeJwt(jsonOutput(individual).token as string);
      expect(claims.iss).toBeUndefined();
      expect(claims.sub).toBe('user');
      expect(existsSync(path.join(cwd, 'data'))).toBe(false);
    } finally {
      rmSync(cwd, { recursive: true, force: true });
    }
  });
});

describe('serve', SLOW, () => {
  let dir: string;
  let other: string;
  let holder: Server | undefined;
  beforeAll(() => {
    dir = tempDir('asc-banner-');
    other = tempDir('asc-nolisten-');
  });
  afterAll(async () => {
    if (holder) await new Promise((resolve) => holder!.close(resolve));
    for (const d of [dir, other]) rmSync(d, { recursive: true, force: true });
  });

  it("the first-start banner's token command carries the settings it needs, and works as printed", async () => {
    const port = await freePort();
    const config = testConfig({ dataDir: dir });
    const child = startCli(['serve'], { ...databaseEnv(config), PORT: String(port) });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    const line = await new Promise<string>((resolve, reject) => {
      child.stdout.on('data', (d: string) => {
        stdout += d;
        const m = /`([^`]+)` mints new ones/.exec(stdout);
        if (m) resolve(m[1]!);
      });
      child.once('exit', () => reject(new Error(`serve exited:\n${stdout}`)));
    });
    const done = completion(child);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);

    const keyFile = readdirSync(dir).find((f) => /^AuthKey_[A-Z0-9]{10}\.p8$/.test(f))!;
    const prefix = TEST_DIALECT === 'postgres' ? 'ASC_DATABASE_URL=<as for the server>' : `ASC_DATA_DIR=${dir}`;
    expect(line).toBe(`${prefix} npm run -s asc-access -- token --key-file ${path.join(dir, keyFile)}`);
    // run as printed (the server's URL in place of the placeholder), with none of the server's settings around it
    const command = line.replace('<as for the server>', `'${config.databaseUrl ?? ''}'`);
    const run = await completion(spawn('sh', ['-c', command], { cwd: ROOT, env: cliEnv({}) }));
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const issuerId = /issuer id\s*:\s*(\S+)/.exec(stdout)?.[1];
    expect(decodeProtectedHeader(run.stdout.trim()).kid).toBe(/AuthKey_(\w+)\.p8/.exec(keyFile)?.[1]);
    expect(decodeJwt(run.stdout.trim())).toMatchObject({ iss: issuerId, aud: 'appstoreconnect-v1' });
  });

  it('a port in use: one line, exit 1', async () => {
    holder = createServer();
    await new Promise<void>((resolve) => holder!.listen(0, '127.0.0.1', resolve));
    const port = (holder.address() as { port: number }).port;
    const run = await runCliProcess(['serve'], { ...databaseEnv(testConfig({ dataDir: other })), PORT: String(port) });
    expect(run.stderr).toBe(`asc-access: port ${port} on 127.0.0.1 is in use (set PORT)\n`);
    expect(run.code).toBe(1);
    // no first key was made whose message nobody saw
    expect(readdirSync(other).filter((f) => f.endsWith('.p8'))).toStrictEqual([]);
  });

  it('a HOST that is not an address of this machine, or does not resolve: one line, exit 1', async () => {
    const env = { ...databaseEnv(testConfig({ dataDir: other })), PORT: String(await freePort()) };
    const foreign = await runCliProcess(['serve'], { ...env, HOST: '192.0.2.1' });
    expect(foreign.stderr).toBe('asc-access: 192.0.2.1 is not an address of this machine (set HOST)\n');
    expect(foreign.code).toBe(1);
    const unresolved = await runCliProcess(['serve'], { ...env, HOST: 'no-such-host.invalid' });
    expect(unresolved.stderr).toBe('asc-access: cannot resolve HOST no-such-host.invalid (set HOST)\n');
    expect(unresolved.code).toBe(1);
  });
});
