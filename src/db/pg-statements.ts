/**
 * Named statements on PostgreSQL: a query text that comes back is given a name, and from then on
 * each connection parses and plans it once and afterwards only binds new arguments to it, instead
 * of sending, parsing and planning the text anew on every run (pg's unnamed statement). The hot
 * queries are built once per shape (./prepared.ts), so their text is the same string every time.
 *
 * Bounded: a text is named the second time it is seen, and at most MAX_NAMED texts per process are
 * named (a connection keeps each one it has run, on both sides); texts past that run unnamed, as
 * before. Texts without arguments (BEGIN, COMMIT) keep pg's simple protocol.
 *
 * A named statement's plan outlives a schema change made by another process (a newer instance's
 * migration in a rolling upgrade): PostgreSQL then refuses a statement whose result columns changed
 * ("cached plan must not change result type"). Such a text is run again unnamed and never named
 * again by this process.
 *
 * A wrapper around the pool that Kysely takes from here on; ASC_PG_NAMED_STATEMENTS=off leaves the
 * pool as it is (src/db/database.ts).
 */
import type { PostgresPool, PostgresPoolClient } from 'kysely';
import type pg from 'pg';

/** Texts named per process at most. */
export const MAX_NAMED = 200;
/** Texts seen once, kept to see whether they come back; past this new texts are not counted. */
const MAX_CANDIDATES = 2000;

/** PostgreSQL's feature_not_supported, with which it refuses a statement whose result type changed */
const FEATURE_NOT_SUPPORTED = '0A000';

export class StatementNames {
  private readonly named = new Map<string, string>();
  private readonly seen = new Set<string>();
  private readonly refused = new Set<string>();
  private next = 1;

  /** The name to run `text` under, or undefined to run it unnamed. */
  nameFor(text: string): string | undefined {
    const name = this.named.get(text);
    if (name !== undefined || this.named.size >= MAX_NAMED) return name;
    if (this.refused.has(text)) return undefined;
    if (!this.seen.has(text)) {
      if (this.seen.size < MAX_CANDIDATES) this.seen.add(text);
      return undefined;
    }
    this.seen.delete(text);
    const fresh = `asc_${this.next++}`;
    this.named.set(text, fresh);
    return fresh;
  }

  /** `text` is run unnamed from now on. Its name is not given to another text. */
  refuse(text: string): void {
    this.named.delete(text);
    this.refused.add(text);
  }

  get size(): number {
    return this.named.size;
  }
}

interface Refusal {
  code?: unknown;
  message?: unknown;
}

function planChanged(err: unknown): boolean {
  const e = err as Refusal;
  return e.code === FEATURE_NOT_SUPPORTED && typeof e.message === 'string' && e.message.includes('cached plan');
}

/** PostgreSQL's undefined_object, with which a server older than 12 refuses plan_cache_mode */
const UNDEFINED_OBJECT = '42704';

/**
 * A named statement is planned once, for any arguments (a generic plan), on a connection set up
 * for it. Left to itself (plan_cache_mode auto), PostgreSQL plans a statement anew for each run's
 * arguments whenever the generic plan's estimate is much higher than a plan for the arguments at
 * hand, and it is for the lists' statements: `expires_at > $1` is guessed to match a third of the
 * rows, and the arguments at hand say all or none. Their plans are the same either way (the
 * indexes were made for them, and test/postgres checks the plans that matter); planning each run
 * anew cost a list page 3 to 4 times its PostgreSQL CPU time. On a connection where the setting
 * cannot be made (a server older than 12), plans are made as PostgreSQL decides.
 */
async function planOnce(client: pg.PoolClient): Promise<void> {
  try {
    await client.query('set plan_cache_mode = force_generic_plan');
  } catch (err) {
    if ((err as Refusal).code !== UNDEFINED_OBJECT) {
      client.release(true);
      throw err;
    }
  }
}

/** A pool whose clients run the texts `names` names as named statements, planned once (planOnce). */
export function namingPool(pool: pg.Pool, names = new StatementNames()): PostgresPool {
  const wrapped = new WeakMap<pg.PoolClient, PostgresPoolClient>();
  const wrap = (client: pg.PoolClient): PostgresPoolClient => {
    // Kysely runs every query through here, as a text and its arguments (it streams no cursors)
    const query = async (text: string, parameters: readonly unknown[]): Promise<pg.QueryResult> => {
      const values = [...parameters];
      const name = values.length === 0 ? undefined : names.nameFor(text);
      if (name === undefined) return client.query(text, values);
      try {
        return await client.query({ name, text, values });
      } catch (err) {
        if (!planChanged(err)) throw err;
        names.refuse(text);
        // outside a transaction this runs it as before; in one, which the refusal aborted, it
        // fails again, and the statement is unnamed from the next run on
        return client.query(text, values);
      }
    };
    return { query: query as unknown as PostgresPoolClient['query'], release: (destroy?: boolean) => client.release(destroy) };
  };
  return {
    async connect() {
      const client = await pool.connect();
      let w = wrapped.get(client);
      if (!w) {
        await planOnce(client);
        wrapped.set(client, (w = wrap(client)));
      }
      return w;
    },
    end: () => pool.end(),
  };
}
