/** `keys create` never loses a private key: the file is claimed before the key exists. */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/container.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase } from '../../src/db/database.js';
import { jsonOutput, runCli } from '../helpers/cli.js';
import { databaseEnv, tempDir, testConfig } from '../helpers/harness.js';

describe('keys create and its key file', { timeout: 120_000 }, () => {
  const dir = tempDir('asc-keyfile-');
  const config = testConfig({ dataDir: dir });
  const env = databaseEnv(config);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  // what the server's first start does: the CLI creates no database
  beforeAll(async () => (await openDatabase(config)).close());

  async function keyCount(): Promise<number> {
    const db = await openDatabase(config);
    try {
      return (await createServices(db, systemClock, config).keys.list()).length;
    } finally {
      await db.close();
    }
  }

  it('refuses to overwrite an existing file and creates no key', async () => {
    const file = path.join(dir, 'taken.p8');
    writeFileSync(file, 'precious');
    const run = await runCli(['keys', 'create', '--name', 'K', '--role', 'ADMIN', '--out', file], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write the key file ${file}: it exists already`);
    expect(readFileSync(file, 'utf8')).toBe('precious');
    expect(await keyCount()).toBe(0);
  });

  it('creates no key when the file cannot be written', async () => {
    const file = path.join(dir, 'no-such-dir', 'k.p8');
    const run = await runCli(['keys', 'create', '--name', 'K', '--role', 'ADMIN', '--out', file], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain(`cannot write the key file ${file}`);
    expect(await keyCount()).toBe(0);
  });

  it('removes the claimed file when the key is refused', async () => {
    const file = path.join(dir, 'refused.p8');
    const run = await runCli(['keys', 'create', '--name', 'K', '--role', 'ACCOUNT_HOLDER', '--out', file], env);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("A team key's role must be one of");
    expect(() => readFileSync(file)).toThrow(/ENOENT/);
  });

  it('writes the private key of the key it created', async () => {
    const file = path.join(dir, 'ok.p8');
    const run = await runCli(['keys', 'create', '--name', 'K', '--role', 'ADMIN', '--out', file, '--json'], env);
    expect(run.code).toBe(0);
    expect(jsonOutput(run).file).toBe(file);
    expect(readFileSync(file, 'utf8')).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(await keyCount()).toBe(1);
  });
});
