import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { textType } from './types.js';

/**
 * Version 10: sandbox testers (Apple's Sandbox Apple Accounts, issue 23) and the clear purchase
 * history requests made for them (docs/parity.md, "Sandbox testers").
 *
 * A tester's email is taken in `email_claims` like a user's (owner type `sandboxTester`), so one
 * address is never both a tester's and a team member's; `email_key` is unique here as well. The
 * list is by id alone (the spec gives it no sort), which the primary key serves.
 *
 * A clear request keeps which testers it named. The testers are not a foreign key: the request is
 * a record of what was asked, and a tester deleted later leaves it as it was.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const text = textType(dialect);
  await db.schema
    .createTable('sandbox_testers')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('first_name', text, (c) => c.notNull())
    .addColumn('last_name', text, (c) => c.notNull())
    .addColumn('email', text, (c) => c.notNull())
    .addColumn('email_key', text, (c) => c.notNull().unique())
    .addColumn('territory', text, (c) => c.notNull())
    .addColumn('apple_pay_compatible', 'integer', (c) => c.notNull())
    .addColumn('interrupt_purchases', 'integer', (c) => c.notNull())
    .addColumn('subscription_renewal_rate', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('sandbox_clear_requests')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();
  await db.schema
    .createTable('sandbox_clear_request_testers')
    .addColumn('request_id', text, (c) => c.notNull().references('sandbox_clear_requests.id').onDelete('cascade'))
    .addColumn('tester_id', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('sandbox_clear_request_testers_pk', ['request_id', 'tester_id'])
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of ['sandbox_clear_request_testers', 'sandbox_clear_requests', 'sandbox_testers']) {
    await db.schema.dropTable(t).execute();
  }
}
