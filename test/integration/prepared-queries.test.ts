/**
 * Queries built once and run with new arguments (src/db/prepared.ts), on each dialect's real
 * database: the arguments land in the right places, a query is built once per shape and Kysely
 * instance, and a query that would inline an argument or leave one out is refused when built.
 */
import { sql } from 'kysely';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openDatabase, type Db } from '../../src/db/database.js';
import { everyColumn, MAX_SHAPES, PreparedInsert, PreparedQuery } from '../../src/db/prepared.js';
import type { EmailClaimTable } from '../../src/db/schema.js';
import { testConfig } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';

let config: ReturnType<typeof testConfig>;
let db: Db;

const claims = () => db.kysely.selectFrom('email_claims').selectAll().orderBy('email_key').execute();

describe('prepared queries', () => {
  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
  });
  afterEach(() => dropDatabase(config, db));

  it('an insert puts every value in its column, for one row and for several, inside a transaction too', async () => {
    const insert = new PreparedInsert<EmailClaimTable>(
      'email_claims',
      everyColumn<EmailClaimTable>({ email_key: true, owner_type: true, owner_id: true }),
    );
    await insert.execute(db.kysely, [{ email_key: 'a@x.test', owner_type: 'user', owner_id: 'u-a' }]);
    await db.kysely.transaction().execute(async (trx) => {
      await insert.execute(trx, [
        { email_key: 'c@x.test', owner_type: 'invitation', owner_id: 'i-c' },
        { email_key: 'b@x.test', owner_type: 'user', owner_id: 'u-b' },
      ]);
    });
    await insert.execute(db.kysely, [{ email_key: 'd@x.test', owner_type: 'user', owner_id: 'u-d' }]);
    expect(await claims()).toEqual([
      { email_key: 'a@x.test', owner_type: 'user', owner_id: 'u-a' },
      { email_key: 'b@x.test', owner_type: 'user', owner_id: 'u-b' },
      { email_key: 'c@x.test', owner_type: 'invitation', owner_id: 'i-c' },
      { email_key: 'd@x.test', owner_type: 'user', owner_id: 'u-d' },
    ]);
  });

  it('is built once per shape; an argument may be bound twice and constants stay in place', async () => {
    let builds = 0;
    // arguments: email key, owner id; the owner type is a constant the query holds
    const upsert = new PreparedQuery<number>(
      (k, arg) => {
        builds++;
        return k
          .insertInto('email_claims')
          .values({ email_key: arg(0), owner_type: 'user', owner_id: arg(1) })
          .onConflict((oc) => oc.column('email_key').doUpdateSet({ owner_id: sql<string>`${arg(1)} || '+' || ${arg(0)}` }));
      },
      () => 2,
    );
    await upsert.execute(db.kysely, 1, ['k@x.test', 'first']);
    await upsert.execute(db.kysely, 1, ['k@x.test', 'second']);
    await upsert.execute(db.kysely, 1, ['m@x.test', 'third']);
    expect(builds).toBe(1);
    await upsert.execute(db.kysely, 2, ['n@x.test', 'fourth']);
    expect(builds).toBe(2);
    expect(await claims()).toEqual([
      { email_key: 'k@x.test', owner_type: 'user', owner_id: 'second+k@x.test' },
      { email_key: 'm@x.test', owner_type: 'user', owner_id: 'third' },
      { email_key: 'n@x.test', owner_type: 'user', owner_id: 'fourth' },
    ]);
  });

  it('a select of as many ids as given answers the rows of those ids, and past MAX_SHAPES shapes it is built each run', async () => {
    const keys = Array.from({ length: MAX_SHAPES + 3 }, (_, i) => `s${String(i).padStart(3, '0')}@x.test`);
    await db.kysely
      .insertInto('email_claims')
      .values(keys.map((k) => ({ email_key: k, owner_type: 'user' as const, owner_id: k })))
      .execute();
    let builds = 0;
    const byKeys = new PreparedQuery<number, { owner_id: string }>(
      (k, arg, count) => {
        builds++;
        return k
          .selectFrom('email_claims')
          .select('owner_id')
          .where(
            'email_key',
            'in',
            Array.from({ length: count }, (_, i) => arg(i)),
          )
          .orderBy('email_key');
      },
      (count) => count,
    );
    for (let count = 1; count <= MAX_SHAPES + 3; count++) {
      const wanted = keys.slice(keys.length - count);
      const { rows } = await byKeys.execute(db.kysely, count, [...wanted].reverse());
      expect(rows.map((r) => r.owner_id)).toEqual(wanted);
    }
    expect(builds).toBe(MAX_SHAPES + 3);
    await byKeys.execute(db.kysely, 1, [keys[0]]);
    await byKeys.execute(db.kysely, MAX_SHAPES + 1, keys.slice(0, MAX_SHAPES + 1));
    expect(builds).toBe(MAX_SHAPES + 4);
  });

  it('each Kysely instance gets its own build (the SQL of its dialect)', async () => {
    const second = await openDatabase({ ...config });
    try {
      let builds = 0;
      const count = new PreparedQuery<null, { n: number | string }>(
        (k, arg) => {
          builds++;
          return k
            .selectFrom('email_claims')
            .select((eb) => eb.fn.countAll<number>().as('n'))
            .where('owner_id', '=', arg(0));
        },
        () => 1,
      );
      await count.execute(db.kysely, null, ['nobody']);
      await count.execute(second.kysely, null, ['nobody']);
      await count.execute(db.kysely, null, ['nobody']);
      expect(builds).toBe(2);
    } finally {
      await second.close();
    }
  });

  it('refuses a query that inlines an argument, leaves one out, or is given the wrong number', async () => {
    const inlined = new PreparedQuery<null>(
      (k, arg) =>
        k
          .selectFrom('email_claims')
          .selectAll()
          .where('email_key', '=', sql.lit(arg(0))),
      () => 1,
    );
    await expect(inlined.execute(db.kysely, null, ['x'])).rejects.toThrow(/inlines an argument/);
    const unbound = new PreparedQuery<null>(
      (k, arg) => k.selectFrom('email_claims').selectAll().where('email_key', '=', arg(0)),
      () => 2,
    );
    await expect(unbound.execute(db.kysely, null, ['x', 'y'])).rejects.toThrow(/does not bind its argument 1/);
    const fine = new PreparedQuery<null>(
      (k, arg) => k.selectFrom('email_claims').selectAll().where('email_key', '=', arg(0)),
      () => 1,
    );
    await expect(fine.execute(db.kysely, null, [])).rejects.toThrow(/takes 1 arguments, got 0/);
    expect(await claims()).toEqual([]);
  });
});
