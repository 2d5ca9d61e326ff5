/**
 * The SQLite files are their owner's alone (0600) whatever the umask, and files left by an older
 * version with a wider mode are narrowed when the database opens. test/integration/file-modes.test.ts
 * covers a first start as a whole.
 */
import { chmodSync, statSync } from 'node:fs';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, sqliteFile, type Db } from '../../src/db/database.js';
import { tempDir } from '../helpers/harness.js';

const mode = (file: string) => (statSync(file).mode & 0o777).toString(8);

describe('SQLite file modes', () => {
  let umask: number;
  const open: Db[] = [];
  beforeEach(() => {
    umask = process.umask(0o022);
  });
  afterEach(async () => {
    process.umask(umask);
    for (const db of open.splice(0)) await db.close();
  });

  it('creates the directory 0700 and the database, -wal and -shm 0600', async () => {
    const dataDir = path.join(tempDir(), 'nested', 'data');
    const db = await openDatabase({ dataDir, databaseUrl: undefined });
    open.push(db);
    const file = sqliteFile({ dataDir });
    expect([mode(path.dirname(dataDir)), mode(dataDir)]).toEqual(['700', '700']);
    expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual(['600', '600', '600']);
  });

  it('narrows database files left with a wider mode, and leaves an existing directory as it is', async () => {
    const dataDir = tempDir();
    chmodSync(dataDir, 0o750);
    const first = await openDatabase({ dataDir, databaseUrl: undefined });
    open.push(first);
    const file = sqliteFile({ dataDir });
    for (const f of [file, `${file}-wal`, `${file}-shm`]) chmodSync(f, 0o644);
    const second = await openDatabase({ dataDir, databaseUrl: undefined });
    open.push(second);
    expect([mode(file), mode(`${file}-wal`), mode(`${file}-shm`)]).toEqual(['600', '600', '600']);
    expect(mode(dataDir)).toBe('750');
  });
});
