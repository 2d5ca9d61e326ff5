/** All SQL about shared rate-limit counts. */
import type { Kysely } from 'kysely';
import type { Database } from '../db/schema.js';
import type { RateLimitRepository } from './rate-limit.js';

export class SqlRateLimitRepository implements RateLimitRepository {
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

  async deleteBefore(second: number): Promise<void> {
    await this.db.deleteFrom('rate_limit_counts').where('second', '<', second).execute();
  }
}
