/**
 * A safety net for PostgreSQL: a transaction that it aborted as a deadlock victim (SQLSTATE 40P01)
 * or for a serialization failure (40001) is run again from the start, up to RETRY_ATTEMPTS times in
 * all, after a short jittered pause. Neither failure left anything behind (the transaction was
 * rolled back), so running it again is what its caller would have done. The lock order of the
 * invitation paths (src/resources/user-invitations/repository.ts) keeps deadlocks from happening;
 * this only keeps a rare one, or one of a path outside that order, from reaching a client as a 500.
 *
 * Never on SQLite: one connection runs one transaction at a time, so neither error can arise, and
 * a group-commit unit there shares its transaction with others (./group-commit.ts).
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { Kysely, Transaction } from 'kysely';
import { isPostgres } from './locks.js';
import type { Database } from './schema.js';

/** Where a retry is reported (a pino logger, Fastify's app.log). */
export interface RetryLog {
  warn(details: object, message: string): void;
}

/** The CLI's: one line on stderr. */
export const stderrRetryLog: RetryLog = {
  warn(details, message) {
    process.stderr.write(`asc-access: ${message} ${JSON.stringify(details)}\n`);
  },
};

/** Runs in all, the first included. */
export const RETRY_ATTEMPTS = 3;

/** deadlock_detected, serialization_failure */
const RETRYABLE = new Set(['40P01', '40001']);

/** The SQLSTATE of a PostgreSQL error that running the transaction again may cure, else undefined. */
export function retryableCode(err: unknown): string | undefined {
  const code = typeof err === 'object' && err !== null && 'code' in err ? err.code : undefined;
  return typeof code === 'string' && RETRYABLE.has(code) ? code : undefined;
}

/** The pause before run `attempt + 1`: 5-15 ms, then 10-30 ms (half fixed, half random). */
function backoffMs(attempt: number): number {
  const base = 10 * 2 ** (attempt - 1);
  return Math.round(base / 2 + Math.random() * base);
}

/**
 * Runs `attempt`, one whole transaction, again on a deadlock or serialization failure, at most
 * RETRY_ATTEMPTS runs in all; any other error, or the last failure, reaches the caller. Each retry
 * is logged at warn.
 */
export async function withRetry<T>(attempt: () => Promise<T>, log: RetryLog, attempts = RETRY_ATTEMPTS): Promise<T> {
  for (let run = 1; ; run++) {
    try {
      return await attempt();
    } catch (err) {
      const code = retryableCode(err);
      if (code === undefined || run >= attempts) throw err;
      const delayMs = backoffMs(run);
      log.warn({ code, attempt: run, of: attempts, delayMs }, `transaction aborted by PostgreSQL (${code}); running it again`);
      await sleep(delayMs);
    }
  }
}

/** A transaction on `db`; on PostgreSQL run again on a deadlock or serialization failure (above). */
export function transaction<T>(db: Kysely<Database>, fn: (trx: Transaction<Database>) => Promise<T>, log: RetryLog): Promise<T> {
  const run = () => db.transaction().execute(fn);
  return isPostgres(db) ? withRetry(run, log) : run();
}
