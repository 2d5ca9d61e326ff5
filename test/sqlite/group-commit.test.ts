/**
 * Group commit on SQLite (src/db/group-commit.ts): concurrent write units share one transaction,
 * each in its own savepoint, and no promise settles before COMMIT. What is committed is read back
 * from a second, separate better-sqlite3 connection to the same file, so it is really in the file
 * and not only visible to the writer. SQLite only (test/sqlite is not part of the postgres project);
 * PostgreSQL's plain transactions: test/postgres/group-commit.test.ts; creates over HTTP and a
 * server killed mid-burst, on both: test/integration/group-commit.test.ts.
 * No sleeps and no timings: every wait is on a promise.
 */
import SQLite from 'better-sqlite3';
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, sqliteFile, type Db } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import { testConfig } from '../helpers/harness.js';
import { dropDatabase, putClaim } from '../helpers/scratch-db.js';

let config: ReturnType<typeof testConfig>;
let db: Db;

describe('group commit on SQLite', () => {
  /** a second connection to the same file, read-only: it sees only what was committed */
  let reader: SQLite.Database;
  let writes: GroupCommit;

  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
    reader = new SQLite(sqliteFile(config), { readonly: true, fileMustExist: true });
    writes = new GroupCommit(db);
  });

  afterEach(async () => {
    reader.close();
    await dropDatabase(config, db);
  });

  /** The keys with this prefix that are committed (as the second connection reads them). */
  function onDisk(prefix: string): string[] {
    const rows = reader.prepare('select email_key from email_claims where email_key like ? order by email_key').all(`${prefix}%`) as {
      email_key: string;
    }[];
    return rows.map((r) => r.email_key);
  }

  const key = (prefix: string, i: number) => `${prefix}${String(i).padStart(3, '0')}`;

  it('runs concurrent units in one transaction: each sees the ones before it, none is committed until all ran, each gets its own value', async () => {
    const units = Array.from({ length: 100 }, (_, i) =>
      writes.run(async (trx) => {
        await putClaim(trx, key('a-', i));
        const inTransaction = await trx.selectFrom('email_claims').select('email_key').where('email_key', 'like', 'a-%').execute();
        return { i, seenInTransaction: inTransaction.length, seenOnDisk: onDisk('a-').length };
      }),
    );
    const values = await Promise.all(units);
    expect(values.map((v) => v.i)).toEqual(values.map((_, i) => i));
    // the same transaction: unit i sees its own row and the i rows written before it
    expect(values.map((v) => v.seenInTransaction)).toEqual(values.map((_, i) => i + 1));
    // one commit for all: while any unit ran, nothing of the batch was in the file
    expect(values.every((v) => v.seenOnDisk === 0)).toBe(true);
    expect(onDisk('a-')).toHaveLength(100);
  });

  it('takes at most maxBatch units per transaction; units queued during a flush go into the next one', async () => {
    const small = new GroupCommit(db, { maxBatch: 10 });
    const seen = await Promise.all(
      Array.from({ length: 25 }, (_, i) => small.run(async (trx) => (await putClaim(trx, key('b-', i)), onDisk('b-').length))),
    );
    // three transactions of 10, 10 and 5 units: each saw the earlier ones committed
    expect(seen).toEqual([...Array(10).fill(0), ...Array(10).fill(10), ...Array(5).fill(20)]);

    // a unit queued while a flush runs (not awaited inside it: that would wait for itself) waits for the next flush
    let late: Promise<number> | undefined;
    await writes.run(async (trx) => {
      await putClaim(trx, 'c-first');
      late = writes.run(async () => onDisk('c-').length);
    });
    expect(await late).toBe(1);
  });

  it('a unit that throws is undone alone and only its promise rejects (with its own error); the others commit', async () => {
    await writes.run((trx) => putClaim(trx, 'd-taken'));
    const refused = new Error('refused by the unit');
    const results = await Promise.allSettled([
      writes.run(async (trx) => (await putClaim(trx, 'd-ok-1'), 1)),
      // a statement fails (primary key) after the unit wrote a row: that row goes too
      writes.run(async (trx) => {
        await putClaim(trx, 'd-partial-1');
        await putClaim(trx, 'd-taken');
        return 2;
      }),
      writes.run(async (trx) => (await putClaim(trx, 'd-ok-3'), 3)),
      // the unit itself throws after writing
      writes.run(async (trx) => {
        await putClaim(trx, 'd-partial-2');
        throw refused;
      }),
      writes.run(async (trx) => (await putClaim(trx, 'd-ok-5'), 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([1, 3, 5]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect((results[3] as PromiseRejectedResult).reason).toBe(refused);
    expect(onDisk('d-')).toEqual(['d-ok-1', 'd-ok-3', 'd-ok-5', 'd-taken']);
  });

  it('settles no promise before COMMIT: at the moment a unit resolves, its row is in the file', async () => {
    const visibleAtResolution: boolean[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        writes
          .run((trx) => putClaim(trx, key('e-', i)))
          .then(() => {
            visibleAtResolution.push(onDisk(key('e-', i)).length === 1);
          }),
      ),
    );
    expect(visibleAtResolution).toHaveLength(50);
    expect(visibleAtResolution.every(Boolean)).toBe(true);
  });

  it('when COMMIT fails, every unit of the batch rejects and nothing of it is in the file; the next batch commits', async () => {
    // SQLite checks deferred foreign keys at COMMIT: a unit that defers them and leaves a dangling
    // reference makes the COMMIT itself fail, after every unit succeeded
    const results = await Promise.allSettled([
      writes.run((trx) => putClaim(trx, 'f-innocent-1')),
      writes.run(async (trx) => {
        await sql`pragma defer_foreign_keys = on`.execute(trx);
        await trx.insertInto('user_invitation_roles').values({ invitation_id: 'no-such-invitation', role: 'DEVELOPER' }).execute();
      }),
      writes.run((trx) => putClaim(trx, 'f-innocent-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason);
    expect(reasons[0]).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(new Set(reasons).size).toBe(1);
    expect(onDisk('f-')).toEqual([]);
    expect(reader.prepare('select count(*) as n from user_invitation_roles').get()).toEqual({ n: 0 });

    await writes.run((trx) => putClaim(trx, 'f-after'));
    expect(onDisk('f-')).toEqual(['f-after']);
  });

  it('on a full disk, a unit that cannot write rejects with SQLITE_FULL (never "cannot rollback"), only acknowledged units are in the file', async () => {
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(db.kysely)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages + 2}`).execute(db.kysely);
    const big = (i: number) => `${key('d-', i)}-${'x'.repeat(1500)}`;
    const attempt = async (n: number, start: number) =>
      Promise.allSettled(Array.from({ length: n }, (_, i) => writes.run((trx) => putClaim(trx, big(start + i)).then(() => start + i))));
    // batches of many units, then a unit alone in its transaction
    const results = [...(await attempt(40, 0)), ...(await attempt(40, 40)), ...(await attempt(1, 80))];
    const reasons = results.filter((r) => r.status === 'rejected').map((r) => (r as PromiseRejectedResult).reason as Error);
    expect(reasons.length).toBeGreaterThan(40);
    for (const reason of reasons) expect(reason).toMatchObject({ code: 'SQLITE_FULL', message: 'database or disk is full' });
    const acknowledged = results.filter((r) => r.status === 'fulfilled').map((r) => big((r as PromiseFulfilledResult<number>).value));
    expect(onDisk('d-')).toEqual(acknowledged.sort());

    await sql`pragma max_page_count = 1073741823`.execute(db.kysely);
    await writes.run((trx) => putClaim(trx, 'd-zz-after'));
    expect(onDisk('d-zz')).toEqual(['d-zz-after']);
  });
});
