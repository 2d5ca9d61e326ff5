/**
 * Row counters (migration 005): a table's row count kept in `row_counts`, changed in the
 * transaction that inserts or deletes its rows, so that a list's total needs no count(*) over
 * the table. A change goes to a random one of SHARDS rows, so concurrent writers on PostgreSQL
 * rarely wait for the same row lock; the count is the sum of the shards. Every change of one
 * transaction goes to the same shard: a transaction holds at most one counter lock, so two that
 * both change the count (a create that buries an expired holder, the sweeper) cannot take two
 * shards in opposite orders and deadlock.
 */
import { sql, type Expression } from 'kysely';
import { PreparedQuery } from './prepared.js';
import type { Executor } from './schema.js';

export type CountedTable = 'user_invitations';

const SHARDS = 16;

/** The shard each open transaction writes to (a Kysely Transaction object lives as long as its transaction). */
const shardOfTransaction = new WeakMap<Executor, number>();

/** The shard a change made through `trx` goes to: the same for every change of one transaction. */
export function shardFor(trx: Executor): number {
  if (!trx.isTransaction) return Math.floor(Math.random() * SHARDS);
  let shard = shardOfTransaction.get(trx);
  if (shard === undefined) {
    shard = Math.floor(Math.random() * SHARDS);
    shardOfTransaction.set(trx, shard);
  }
  return shard;
}

/** Adds `delta` to the table's count, inside the caller's transaction. */
export async function addToRowCount(trx: Executor, table: CountedTable, delta: number): Promise<void> {
  if (delta === 0) return;
  await addToShard.execute(trx, null, [table, shardFor(trx), delta]);
}

/** Arguments: table, shard, delta. */
const addToShard = new PreparedQuery<null>(
  (db, arg) =>
    db
      .insertInto('row_counts')
      .values({ table_name: arg(0), shard: arg(1), n: arg(2) })
      .onConflict((oc) => oc.columns(['table_name', 'shard']).doUpdateSet({ n: sql`row_counts.n + ${arg(2)}` })),
  () => 3,
);

/** The table's row count as a scalar subquery. */
export function rowCount(table: CountedTable): Expression<number> {
  return sql<number>`(select coalesce(sum(n), 0) from row_counts where table_name = ${table})`;
}
