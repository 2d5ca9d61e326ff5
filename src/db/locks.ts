/** Cross-instance coordination that only PostgreSQL needs (one SQLite file has one server). */
import { PostgresAdapter, sql } from 'kysely';
import type { Executor } from './schema.js';

export function isPostgres(db: Executor): boolean {
  return db.getExecutor().adapter instanceof PostgresAdapter;
}

/**
 * Takes a transaction-scoped advisory lock named `name` if no other instance holds it; true when
 * taken (always true on SQLite). Released when the transaction ends.
 */
export async function tryTransactionLock(trx: Executor, name: string): Promise<boolean> {
  if (!isPostgres(trx)) return true;
  const { rows } = await sql<{ locked: boolean }>`select pg_try_advisory_xact_lock(hashtext(${name})) as locked`.execute(trx);
  return rows[0]?.locked === true;
}
