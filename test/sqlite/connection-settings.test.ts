/**
 * The settings the server's SQLite connection runs with (src/db/database.ts): what durability and
 * memory rely on, read back from the connection itself.
 */
import { rmSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, PAGE_CACHE_KIB, type Db } from '../../src/db/database.js';
import { testConfig } from '../helpers/harness.js';

describe("the server's SQLite connection", () => {
  let db: Db | undefined;
  const config = testConfig();
  afterEach(async () => {
    await db?.close();
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  const pragma = async (name: string): Promise<unknown> => {
    const rows = (await sql.raw(`pragma ${name}`).execute(db!.kysely)).rows as Record<string, unknown>[];
    return Object.values(rows[0]!)[0];
  };

  it('commits durably in WAL mode, with foreign keys enforced', async () => {
    db = await openDatabase(config);
    expect(await pragma('journal_mode')).toBe('wal');
    expect(await pragma('synchronous')).toBe(2); // FULL
    expect(await pragma('foreign_keys')).toBe(1);
  });

  it('keeps a page cache of PAGE_CACHE_KIB, not the 16 MB better-sqlite3 builds SQLite with', async () => {
    db = await openDatabase(config);
    expect(PAGE_CACHE_KIB).toBeLessThan(16_000);
    expect(await pragma('cache_size')).toBe(-PAGE_CACHE_KIB);
  });
});
