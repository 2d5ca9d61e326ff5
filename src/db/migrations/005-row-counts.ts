import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { textType } from './types.js';

/** Rows of a counted table are spread over this many counters (as SHARDS in src/db/row-counts.ts). */
const SHARDS = 16;

/**
 * Version 5: how many rows a table holds, kept as counters that change in the transactions that
 * insert and delete its rows. Counting a million pending invitations took 16 ms per list request;
 * summing these is constant. Each table's count is spread over SHARDS rows, and each write picks
 * one at random, so concurrent creates on PostgreSQL do not queue behind one row lock.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('row_counts')
    .addColumn('table_name', textType(dialect), (c) => c.notNull())
    .addColumn('shard', 'integer', (c) => c.notNull())
    .addColumn('n', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('row_counts_pk', ['table_name', 'shard'])
    .execute();
  for (let shard = 0; shard < SHARDS; shard++) {
    // shard 0 starts with the rows there are; the others at zero
    const n = shard === 0 ? sql`(select count(*) from user_invitations)` : sql`0`;
    await sql`insert into row_counts (table_name, shard, n) values ('user_invitations', ${shard}, ${n})`.execute(db);
  }
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('row_counts').execute();
}
