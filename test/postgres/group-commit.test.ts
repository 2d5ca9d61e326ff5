/** Group commit on PostgreSQL (src/db/group-commit.ts) is a plain transaction per unit. */
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import { testConfig } from '../helpers/harness.js';
import { dropDatabase, putClaim } from '../helpers/scratch-db.js';

let config: ReturnType<typeof testConfig>;
let db: Db;

describe('group commit on PostgreSQL', () => {
  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
  });
  afterEach(() => dropDatabase(config, db));

  it('is a transaction per unit: one that throws is undone alone, the others commit', async () => {
    const writes = new GroupCommit(db);
    const results = await Promise.allSettled([
      writes.run(async (trx) => (await putClaim(trx, 'pg-ok-1'), 1)),
      writes.run(async (trx) => {
        await putClaim(trx, 'pg-partial');
        throw new Error('refused');
      }),
      writes.run(async (trx) => (await putClaim(trx, 'pg-ok-3'), 3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const keys = await db.kysely
      .selectFrom('email_claims')
      .select('email_key')
      .where('email_key', 'like', 'pg-%')
      .orderBy('email_key')
      .execute();
    expect(keys.map((k) => k.email_key)).toEqual(['pg-ok-1', 'pg-ok-3']);
  });
});
