/** Named statements on PostgreSQL (src/db/pg-statements.ts), on a real server. */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { MAX_NAMED, namingPool, StatementNames } from '../../src/db/pg-statements.js';
import { testConfig } from '../helpers/harness.js';

interface Table {
  t: { id: number; a: string; b?: string };
}

let config: ReturnType<typeof testConfig>;
let pool: pg.Pool;
let names: StatementNames;
let db: Kysely<Table>;

/** The statements this connection has prepared, as PostgreSQL lists them. */
async function prepared(client: Kysely<Table>): Promise<string[]> {
  const rows = await sql<{ name: string }>`select name from pg_prepared_statements order by name`.execute(client);
  return rows.rows.map((r) => r.name);
}

describe('named statements', () => {
  beforeEach(async () => {
    config = testConfig();
    // one connection, so what it has prepared can be read back
    pool = new pg.Pool({ connectionString: config.databaseUrl, max: 1 });
    names = new StatementNames();
    db = new Kysely<Table>({ dialect: new PostgresDialect({ pool: namingPool(pool, names) }) });
    const schema = `named_${Math.random().toString(36).slice(2, 10)}`;
    await sql`create schema ${sql.id(schema)}`.execute(db);
    await sql`set search_path to ${sql.id(schema)}`.execute(db);
    await sql`create table t (id integer primary key, a text not null)`.execute(db);
    await db.insertInto('t').values({ id: 1, a: 'one' }).execute();
  });
  afterEach(async () => {
    const schema = await sql<{ s: string }>`select current_schema() as s`.execute(db);
    await sql`drop schema ${sql.id(schema.rows[0]!.s)} cascade`.execute(db);
    await db.destroy();
  });

  it('names a text the second time it runs, and runs it by that name after', async () => {
    const find = (id: number) => db.selectFrom('t').selectAll().where('id', '=', id).execute();
    expect(await find(1)).toEqual([{ id: 1, a: 'one' }]);
    expect(await prepared(db)).toEqual([]);
    expect(await find(1)).toEqual([{ id: 1, a: 'one' }]);
    expect(await prepared(db)).toEqual(['asc_1']);
    expect(await find(2)).toEqual([]);
    expect(await prepared(db)).toEqual(['asc_1']);
    expect(names.size).toBe(1);
  });

  it('runs a named text unnamed from the time a schema change alters its result', async () => {
    const all = () => db.selectFrom('t').selectAll().where('id', '>', 0).execute();
    await all();
    await all();
    expect(await prepared(db)).toEqual(['asc_1']);
    // another process's migration, say: the named statement's result type no longer holds
    await sql`alter table t add column b text`.execute(db);
    expect(await all()).toEqual([{ id: 1, a: 'one', b: null }]);
    expect(names.size).toBe(0);
    expect(await all()).toEqual([{ id: 1, a: 'one', b: null }]);
    expect(names.nameFor('select * from "t" where "id" > $1')).toBeUndefined();
  });

  it('plans a named statement once, for any arguments', async () => {
    // rows whose spread makes a plan for each run's argument look cheaper than one for all:
    // PostgreSQL left to itself (plan_cache_mode auto) would plan every run anew
    await sql`insert into t (id, a) select g, 'x' from generate_series(2, 2000) g`.execute(db);
    await sql`create index t_a on t (a)`.execute(db);
    await sql`analyze t`.execute(db);
    const some = (a: string) => db.selectFrom('t').select('id').where('a', '>', a).orderBy('id').limit(3).execute();
    for (let i = 0; i < 12; i++) await some(i % 2 ? 'w' : 'z');
    expect((await some('w')).map((r) => r.id)).toEqual([2, 3, 4]);
    const plans = await sql<{ generic_plans: string; custom_plans: string }>`
      select generic_plans, custom_plans from pg_prepared_statements where name = 'asc_1'`.execute(db);
    expect(plans.rows).toEqual([{ generic_plans: expect.any(String), custom_plans: '0' }]);
    expect(Number(plans.rows[0]!.generic_plans)).toBeGreaterThan(0);
    expect((await sql<{ mode: string }>`select current_setting('plan_cache_mode') as mode`.execute(db)).rows[0]!.mode).toBe(
      'force_generic_plan',
    );
  });

  it('keeps texts without arguments, such as BEGIN, unnamed', async () => {
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 2, a: 'two' }).execute();
    });
    await db.transaction().execute(async (trx) => {
      await trx.insertInto('t').values({ id: 3, a: 'three' }).execute();
    });
    expect(await prepared(db)).toEqual(['asc_1']);
    expect((await db.selectFrom('t').select('id').orderBy('id').execute()).map((r) => r.id)).toEqual([1, 2, 3]);
  });
});

describe('StatementNames', () => {
  it('names at most MAX_NAMED texts, each with its own name', () => {
    const n = new StatementNames();
    const given = new Set<string>();
    for (let i = 0; i < MAX_NAMED + 50; i++) {
      const text = `select $1::integer + ${i}`;
      expect(n.nameFor(text)).toBeUndefined();
      const name = n.nameFor(text);
      if (i < MAX_NAMED) {
        expect(name).toBeDefined();
        given.add(name!);
        expect(n.nameFor(text)).toBe(name);
      } else expect(name).toBeUndefined();
    }
    expect(given.size).toBe(MAX_NAMED);
    expect(n.size).toBe(MAX_NAMED);
  });

  it('never gives a refused text a name again', () => {
    const n = new StatementNames();
    n.nameFor('q');
    const first = n.nameFor('q');
    n.refuse('q');
    expect(n.nameFor('q')).toBeUndefined();
    expect(n.nameFor('q')).toBeUndefined();
    n.nameFor('r');
    expect(n.nameFor('r')).not.toBe(first);
  });
});
