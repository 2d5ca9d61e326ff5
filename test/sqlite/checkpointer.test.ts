/**
 * WAL checkpoints run in the checkpointer's worker thread (src/db/checkpointer.ts), not in the
 * commits of the server's connection. Observed from outside: the main database file grows to
 * hold what was committed, though the server's connection would only checkpoint itself at a WAL
 * far larger than what is written here.
 */
import { rmSync, statSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { FALLBACK_AUTOCHECKPOINT_PAGES } from '../../src/db/checkpointer.js';
import { openDatabase, sqliteFile, type Db } from '../../src/db/database.js';
import { testConfig } from '../helpers/harness.js';

describe('the WAL checkpointer', () => {
  let db: Db | undefined;
  const config = testConfig();
  afterEach(async () => {
    await db?.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  it('moves committed pages into the database file by itself', async () => {
    db = await openDatabase(config);
    const file = sqliteFile(config);
    const pageSize = Number((await sql<{ page_size: number }>`pragma page_size`.execute(db.kysely)).rows[0]!.page_size);
    const before = statSync(file).size;
    // about 4 MB in one commit: far below the fallback, so only the worker can checkpoint it
    const bytes = 4 * 1024 * 1024;
    expect(bytes / pageSize).toBeLessThan(FALLBACK_AUTOCHECKPOINT_PAGES / 4);
    await sql`create table filler (body blob)`.execute(db.kysely);
    await db.kysely.transaction().execute(async (trx) => {
      for (let i = 0; i < 64; i++) await sql`insert into filler values (randomblob(${bytes / 64}))`.execute(trx);
    });
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(bytes);
    await vi.waitFor(() => expect(statSync(file).size).toBeGreaterThan(before + bytes), { timeout: 10_000, interval: 50 });
  });

  it('stops with the database: close() returns and the file can be opened again', async () => {
    db = await openDatabase(config);
    await db.close();
    db = await openDatabase(config);
    expect((await sql<{ ok: number }>`select 1 as ok`.execute(db.kysely)).rows).toEqual([{ ok: 1 }]);
  });
});
