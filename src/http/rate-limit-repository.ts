/** All SQL about shared rate-limit counts. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { QuotaStore } from './quota-sync.js';
import type { RateLimitRepository } from './rate-limit.js';

export class SqlRateLimitRepository implements RateLimitRepository, QuotaStore {
  constructor(private readonly db: Kysely<Database>) {}

  async increment(keyId: string, second: number): Promise<number> {
    await this.db
      .insertInto('rate_limit_counts')
      .values({ key_id: keyId, second, count: 1 })
      .onConflict((oc) => oc.columns(['key_id', 'second']).doUpdateSet((eb) => ({ count: eb('rate_limit_counts.count', '+', 1) })))
      .execute();
    const row = await this.db
      .selectFrom('rate_limit_counts')
      .select((eb) => eb.fn.sum<number | string>('count').as('n'))
      .where('key_id', '=', keyId)
      .where('second', '>', second - 3600)
      .where('second', '<=', second)
      .executeTakeFirst();
    return Number(row?.n ?? 0);
  }

  async decrement(keyId: string, second: number): Promise<void> {
    await this.db
      .updateTable('rate_limit_counts')
      .set((eb) => ({ count: eb('count', '-', 1) }))
      .where('key_id', '=', keyId)
      .where('second', '=', second)
      .execute();
  }

  async add(rows: readonly { keyId: string; second: number; count: number }[]): Promise<void> {
    if (rows.length === 0) return;
    // one order for every instance, so that two syncs touching the same rows never deadlock
    const sorted = [...rows].sort((a, b) => (a.keyId < b.keyId ? -1 : a.keyId > b.keyId ? 1 : a.second - b.second));
    await this.db
      .insertInto('rate_limit_counts')
      .values(sorted.map((r) => ({ key_id: r.keyId, second: r.second, count: r.count })))
      .onConflict((oc) =>
        oc.columns(['key_id', 'second']).doUpdateSet((eb) => ({ count: eb('rate_limit_counts.count', '+', eb.ref('excluded.count')) })),
      )
      .execute();
  }

  async totals(keyIds: readonly string[], second: number): Promise<Map<string, number>> {
    const totals = new Map<string, number>();
    if (keyIds.length === 0) return totals;
    const rows = await this.db
      .selectFrom('rate_limit_counts')
      .select((eb) => ['key_id', eb.fn.sum<number | string>('count').as('n')])
      .where('key_id', 'in', [...keyIds])
      .where('second', '>', second - 3600)
      .where('second', '<=', second)
      .groupBy('key_id')
      .execute();
    for (const row of rows) totals.set(row.key_id, Number(row.n));
    return totals;
  }

  async deleteBefore(second: number): Promise<void> {
    await this.db.deleteFrom('rate_limit_counts').where('second', '<', second).execute();
  }
}
