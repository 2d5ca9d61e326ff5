/**
 * The retry of PostgreSQL's deadlocks (src/db/retry.ts) stays off on SQLite: nothing is ever run
 * again there, a group-commit unit included (it shares its transaction with other units).
 */
import { sql, type Transaction } from 'kysely';
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

beforeEach(async () => {
  config = testConfig();
  db = await openDatabase(config);
  await db.kysely
    .insertInto('email_claims')
    .values(['a', 'b'].map((k) => ({ email_key: k, owner_type: 'user' as const, owner_id: k })))
    .execute();
});
afterEach(() => dropDatabase(config, db));

describe('transactions on SQLite', () => {
  it('a transaction or a group-commit unit that fails with a deadlock code is not run again', async () => {
    const log = recordingLog();
    const writes = new GroupCommit(db, { log });
    let runs = 0;
    const failing = async (trx: Transaction<Database>) => {
      runs++;
      await sql`select 1`.execute(trx);
      throw Object.assign(new Error('as if deadlocked'), { code: '40P01' });
    };
    await expect(transaction(db.kysely, failing, log)).rejects.toThrow('as if deadlocked');
    await expect(writes.run(failing)).rejects.toThrow('as if deadlocked');
    expect(runs).toBe(2);
    expect(log.codes).toEqual([]);
  });
});
