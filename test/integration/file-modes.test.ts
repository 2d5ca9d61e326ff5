/**
 * What the server leaves on disk is its owner's alone, whatever the umask: the data directory it
 * creates is 0700, the first-start key file and (on SQLite) the database with its -wal and -shm
 * files 0600. They hold private keys and every pending invitation's activation link.
 */
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { SQLITE_FILE_NAME } from '../../src/db/database.js';
import { TEST_DIALECT, tempDir } from '../helpers/harness.js';
import { serveForTest, type ServedTest } from '../helpers/raw-http.js';

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('file modes', () => {
  let umask: number;
  let s: ServedTest | undefined;
  beforeEach(() => {
    umask = process.umask(0o022);
  });
  afterEach(async () => {
    process.umask(umask);
    await s?.cleanUp();
    s = undefined;
  });

  it('creates the data directory 0700 and every file in it 0600 under umask 022', async () => {
    const dataDir = path.join(tempDir(), 'data');
    s = await serveForTest({ dataDir });
    // a write, so that SQLite has its -wal and -shm files in use
    const res = await fetch(`${s.server.address}/v1/userInvitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${s.token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        data: { type: 'userInvitations', attributes: { email: 'modes@example.com', firstName: 'M', lastName: 'O', roles: ['DEVELOPER'] } },
      }),
    });
    expect(res.status).toBe(201);

    expect(mode(dataDir)).toBe('700');
    const files = readdirSync(dataDir);
    const expected = TEST_DIALECT === 'sqlite' ? [SQLITE_FILE_NAME, `${SQLITE_FILE_NAME}-shm`, `${SQLITE_FILE_NAME}-wal`] : [];
    expect(files.filter((f) => !f.endsWith('.p8')).sort()).toEqual(expected);
    expect(files.filter((f) => f.endsWith('.p8'))).toHaveLength(1);
    const modes = Object.fromEntries(files.map((f) => [f, mode(path.join(dataDir, f))]));
    expect(modes).toEqual(Object.fromEntries(files.map((f) => [f, '600'])));
  });
});
