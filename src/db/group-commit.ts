/**
 * Group commit: on SQLite, write units that arrive together share one transaction and so one
 * fsync. With synchronous=FULL every commit waits for the disk, and one commit per request caps
 * the server at the disk's flush rate; one commit per batch of concurrent requests does not.
 *
 * Each unit runs inside its own SAVEPOINT, so a unit that throws is undone alone and only its own
 * promise rejects; the others still commit. No promise settles before the COMMIT has returned:
 * an acknowledged write is on disk. If BEGIN or COMMIT fails, every unit of the batch rejects.
 *
 * Units of one batch run one after another in the same transaction, so each sees the writes of
 * those before it (concurrent claims of one email still find each other: A9). A unit must do all
 * its reads and writes through the `trx` it is given: the single SQLite connection is held for
 * the whole batch, so a query on the outer database, or a run() awaited inside a unit, would wait
 * for the batch it is part of and never return.
 *
 * A unit of one statement may say so (runStatement): on PostgreSQL it then runs without a
 * transaction around it.
 *
 * On PostgreSQL there is nothing to batch (a pool of connections commits in parallel, and mixing
 * the rows of unrelated requests in one transaction could deadlock against another instance):
 * run() is a plain transaction per unit, run again if PostgreSQL aborts it as a deadlock victim
 * or for a serialization failure (./retry.ts). A unit on SQLite is never run again.
 */
import { CompiledQuery, type Transaction } from 'kysely';
import type { Db } from './database.js';
import { stderrRetryLog, transaction, withRetry, type RetryLog } from './retry.js';
import type { Database, Executor } from './schema.js';

export type WriteUnit<T> = (trx: Transaction<Database>) => Promise<T>;

/** A queued unit and the promise it answers. */
interface Pending {
  work: WriteUnit<unknown>;
  resolve(value: unknown): void;
  reject(error: unknown): void;
}

type Outcome = { ok: true; value: unknown } | { ok: false; error: unknown };

/** How many units one transaction takes at most; the rest wait for the next one. */
export const MAX_BATCH = 256;

// One name serves every unit: each savepoint is released before the next is opened.
const SAVEPOINT = CompiledQuery.raw('savepoint group_commit_unit');
const ROLLBACK_TO_SAVEPOINT = CompiledQuery.raw('rollback to group_commit_unit');
const RELEASE_SAVEPOINT = CompiledQuery.raw('release group_commit_unit');

export class GroupCommit {
  private readonly maxBatch: number;
  private readonly log: RetryLog;
  private queue: Pending[] = [];
  /** a flush is scheduled or running: new units wait for it to end and go into the next one */
  private busy = false;

  constructor(
    private readonly db: Pick<Db, 'kysely' | 'dialect'>,
    options: { maxBatch?: number; log?: RetryLog } = {},
  ) {
    this.maxBatch = Math.max(1, options.maxBatch ?? MAX_BATCH);
    this.log = options.log ?? stderrRetryLog;
  }

  /** Runs `work` in a transaction (shared with concurrent units on SQLite); settles after COMMIT. */
  run<T>(work: WriteUnit<T>): Promise<T> {
    if (this.db.dialect !== 'sqlite') return transaction(this.db.kysely, work, this.log);
    return new Promise<T>((resolve, reject) => {
      this.queue.push({ work, resolve: resolve, reject });
      this.schedule();
    });
  }

  /**
   * Runs `work`, a unit of one statement: on SQLite a unit like any other (it shares a commit); on
   * PostgreSQL the statement alone, outside a transaction, where it commits on its own (one round
   * trip instead of three with BEGIN and COMMIT), run again like a transaction on a deadlock.
   */
  runStatement<T>(work: (db: Executor) => Promise<T>): Promise<T> {
    if (this.db.dialect !== 'sqlite') return withRetry(() => work(this.db.kysely), this.log);
    return this.run(work);
  }

  /**
   * Flushes on the next setImmediate: every request whose body was parsed in the same turn of the
   * event loop joins the batch. While a flush runs, new units only queue; the flush schedules the
   * next one when it ends.
   */
  private schedule(): void {
    if (this.busy || this.queue.length === 0) return;
    this.busy = true;
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    const batch = this.queue.splice(0, this.maxBatch);
    const outcomes: Outcome[] = [];
    let failure: { error: unknown } | undefined;
    try {
      if (batch.length === 1) {
        // alone in its batch: the transaction is the unit's own, so it needs no savepoint (two
        // statements fewer); if it throws, the rollback undoes exactly that unit
        outcomes.push({ ok: true, value: await this.db.kysely.transaction().execute(batch[0]!.work) });
      } else {
        await this.db.kysely.transaction().execute(async (trx) => {
          for (const unit of batch) {
            await trx.executeQuery(SAVEPOINT);
            try {
              outcomes.push({ ok: true, value: await unit.work(trx) });
            } catch (error) {
              outcomes.push({ ok: false, error });
              try {
                await trx.executeQuery(ROLLBACK_TO_SAVEPOINT);
              } catch {
                // SQLite rolled the whole transaction back itself (disk full, I/O error): the units
                // before this one are lost as well, so the batch fails with the error that caused it.
                throw error;
              }
            }
            await trx.executeQuery(RELEASE_SAVEPOINT);
          }
        });
      }
    } catch (error) {
      failure = { error };
    } finally {
      this.busy = false;
      this.schedule();
    }
    // Only now, after COMMIT (or the failure of the whole batch), does any unit hear its outcome.
    batch.forEach((unit, i) => {
      const outcome = outcomes[i];
      if (failure) unit.reject(failure.error);
      else if (outcome?.ok) unit.resolve(outcome.value);
      else unit.reject(outcome?.error);
    });
  }
}
