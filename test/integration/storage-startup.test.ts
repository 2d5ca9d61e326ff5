/**
 * `asc-access serve` on a database it cannot open or write: it exits with a non-zero code and one
 * line on stderr that says why, without a stack trace. SQLite: the data directory's path is a
 * regular file, or the database file's path a directory. PostgreSQL: nothing listens at the URL.
 */
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/db/database.js';
import { runCliProcess, type CliRun } from '../helpers/cli.js';
import { TEST_DIALECT, tempDir } from '../helpers/harness.js';

function expectOneLine(run: CliRun, pattern: RegExp): void {
  expect(run.code, run.stderr).not.toBe(0);
  expect(run.code).not.toBeNull();
  expect(run.stdout).toBe('');
  expect(run.stderr).toMatch(pattern);
  expect(run.stderr.split('\n'), run.stderr).toHaveLength(2);
  expect(run.stderr.endsWith('\n')).toBe(true);
}

describe('serve on a database that cannot be opened', () => {
  const parent = tempDir('asc-startup-');
  afterAll(() => rmSync(parent, { recursive: true, force: true }));
  const env = { HOST: '127.0.0.1', PORT: '0', LOG_LEVEL: 'info' };

  if (TEST_DIALECT === 'sqlite') {
    it('SQLite: the data directory is a regular file', async () => {
      const dataDir = path.join(parent, 'a-file');
      writeFileSync(dataDir, 'not a directory');
      const run = await runCliProcess(['serve'], { ...env, ASC_DATA_DIR: dataDir });
      expectOneLine(run, /^asc-access: cannot open the database in .*a-file: E[A-Z]+: /);
    });

    it('SQLite: the database file is a directory', async () => {
      const dataDir = path.join(parent, 'data');
      mkdirSync(path.join(dataDir, SQLITE_FILE_NAME), { recursive: true });
      const run = await runCliProcess(['serve'], { ...env, ASC_DATA_DIR: dataDir });
      expectOneLine(run, /^asc-access: cannot open the database in .*data: E[A-Z]+: /);
    });
  } else {
    it('PostgreSQL: nothing listens at ASC_DATABASE_URL', async () => {
      const server = net.createServer();
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      const port = (server.address() as net.AddressInfo).port;
      await new Promise<void>((resolve) => server.close(() => resolve()));
      const run = await runCliProcess(['serve'], {
        ...env,
        ASC_DATA_DIR: path.join(parent, 'pg'),
        ASC_DATABASE_URL: `postgres://postgres@127.0.0.1:${port}/test`,
      });
      expectOneLine(run, /^asc-access: cannot open the PostgreSQL database of ASC_DATABASE_URL: .*ECONNREFUSED/);
    });
  }
});
