import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { textType } from './types.js';

/**
 * Version 4: request counts per key and second, so that several instances on one PostgreSQL
 * database share one hourly quota per key (A18). SQLite (one instance) counts in memory.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  await db.schema
    .createTable('rate_limit_counts')
    .addColumn('key_id', textType(dialect), (c) => c.notNull())
    .addColumn('second', 'bigint', (c) => c.notNull())
    .addColumn('count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('rate_limit_counts_pk', ['key_id', 'second'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('rate_limit_counts').execute();
}
