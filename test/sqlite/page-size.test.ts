/**
 * New databases get 2 KiB pages (src/db/database.ts, PAGE_SIZE); a database made before, with
 * SQLite's default 4 KiB pages, keeps them and opens, migrates and serves as before.
 */
import { mkdirSync, rmSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase, PAGE_SIZE, sqliteFile, type Db } from '../../src/db/database.js';
import { testConfig } from '../helpers/harness.js';

async function pageSize(db: Db): Promise<number> {
  return Number((await sql<{ page_size: number }>`pragma page_size`.execute(db.kysely)).rows[0]!.page_size);
}

describe('the page size of the SQLite file', () => {
  let db: Db | undefined;
  const config = testConfig();
  afterEach(async () => {
    await db?.close();
    db = undefined;
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  it('is PAGE_SIZE for a new database, and stays so when it is opened again', async () => {
    db = await openDatabase(config);
    expect(PAGE_SIZE).toBe(2048);
    expect(await pageSize(db)).toBe(PAGE_SIZE);
    await db.close();
    // read from outside the server's code: the file itself has the page size
    const raw = new SQLite(sqliteFile(config), { readonly: true });
    expect(raw.pragma('page_size', { simple: true })).toBe(PAGE_SIZE);
    raw.close();
    db = await openDatabase(config);
    expect(await pageSize(db)).toBe(PAGE_SIZE);
  });

  it('is kept by a database made earlier with 4 KiB pages, which is migrated and holds what it held', async () => {
    mkdirSync(config.dataDir, { recursive: true });
    const raw = new SQLite(sqliteFile(config));
    raw.pragma('page_size = 4096');
    raw.pragma('journal_mode = WAL');
    raw.exec("create table earlier (note text); insert into earlier values ('kept')");
    raw.close();

    db = await openDatabase(config);
    expect(await pageSize(db)).toBe(4096);
    expect((await sql<{ note: string }>`select note from earlier`.execute(db.kysely)).rows).toEqual([{ note: 'kept' }]);
    // migrated: the service's tables are there and take rows
    await db.kysely.insertInto('email_claims').values({ email_key: 'a@example.com', owner_type: 'invitation', owner_id: 'x' }).execute();
    expect(await db.kysely.selectFrom('email_claims').select('email_key').execute()).toEqual([{ email_key: 'a@example.com' }]);
  });
});
