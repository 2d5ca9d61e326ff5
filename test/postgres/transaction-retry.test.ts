/**
 * The retry of deadlocks (src/db/retry.ts) on PostgreSQL: two transactions that lock two rows in
 * opposite orders really deadlock, PostgreSQL aborts one, and it is run again and commits.
 */
import type { Transaction } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import { transaction, type RetryLog } from '../../src/db/retry.js';
import type { Database } from '../../src/db/schema.js';
import { testConfig } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';

let config: ReturnType<typeof testConfig>;
let db: Db;

function recordingLog(): RetryLog & { codes: unknown[] } {
  const codes: unknown[] = [];
  return { codes, warn: (details) => codes.push((details as { code?: unknown }).code) };
}

/** Takes a row lock on the claim `key` (an update that changes nothing). */
function lock(trx: Transaction<Database>, key: string) {
  return trx.updateTable('email_claims').set({ owner_type: 'user' }).where('email_key', '=', key).execute();
}

function deferred() {
  let resolve!: () => void;
  const promise = new Promise<void>((r) => (resolve = r));
  return { promise, resolve };
}

beforeEach(async () => {
  config = testConfig();
  db = await openDatabase(config);
  await db.kysely
    .insertInto('email_claims')
    .values(['a', 'b'].map((k) => ({ email_key: k, owner_type: 'user' as const, owner_id: k })))
    .execute();
});
afterEach(() => dropDatabase(config, db));

describe('transactions on PostgreSQL', () => {
  it('a real deadlock: PostgreSQL aborts one side, which is run again and commits; one warn', async () => {
    const log = recordingLog();
    const writes = new GroupCommit(db, { log });
    const firstLocks = [deferred(), deferred()];
    const runs = [0, 0];
    // each side locks its first row, waits until the other holds its own, then wants the other's
    const side = (i: 0 | 1, first: string, second: string) => async (trx: Transaction<Database>) => {
      runs[i]!++;
      await lock(trx, first);
      firstLocks[i]!.resolve();
      await firstLocks[1 - i]!.promise;
      await lock(trx, second);
      await trx
        .updateTable('email_claims')
        .set({ owner_id: `${first}-by-${i}` })
        .where('email_key', '=', first)
        .execute();
      return i;
    };
    const results = await Promise.allSettled([transaction(db.kysely, side(0, 'a', 'b'), log), writes.run(side(1, 'b', 'a'))]);
    expect(results).toEqual([
      { status: 'fulfilled', value: 0 },
      { status: 'fulfilled', value: 1 },
    ]);
    expect(log.codes).toEqual(['40P01']);
    expect(runs.sort()).toEqual([1, 2]);
    const owners = await db.kysely.selectFrom('email_claims').select(['email_key', 'owner_id']).orderBy('email_key').execute();
    expect(owners).toEqual([
      { email_key: 'a', owner_id: 'a-by-0' },
      { email_key: 'b', owner_id: 'b-by-1' },
    ]);
  });
});
