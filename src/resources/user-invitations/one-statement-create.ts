/**
 * A shortcut for creates on PostgreSQL: an invitation whose email is free and whose apps exist is
 * written by one statement, in one round trip, instead of a transaction of seven (BEGIN, the
 * claim, the invitation, its row count, roles, visible apps and message, COMMIT). A statement
 * outside a transaction is one on its own, so it is all or nothing like the transaction it
 * replaces, and acknowledged only after its commit.
 *
 * Each insert is a data-modifying CTE that reads the one before it: when the email is taken, the
 * claim inserts nothing, so nothing else is inserted and the statement says so; the service then
 * takes the transaction (./service.ts), which sees why (an expired holder it may bury first, or the
 * 409). An app that went between its lookup here and the statement fails the statement on its
 * foreign key: nothing is written, and the transaction reports the app. The rows are passed as
 * JSON and typed by `json_populate_record` with the table's own row type, so the statement names
 * no column: a column added to a table needs no change here.
 *
 * The transaction is the reference: ASC_ONE_STATEMENT_CREATE=off leaves every create to it (and
 * SQLite always does; there group commit shares one transaction between concurrent creates).
 */
import { CompiledQuery } from 'kysely';
import { withRetry, type RetryLog } from '../../db/retry.js';
import type { Executor } from '../../db/schema.js';
import { shardFor } from '../../db/row-counts.js';
import type { NewOutboxRow } from '../../mail/outbox-repository.js';
import type { AppRow, AppsRepository } from '../apps/repository.js';
import type { InvitationRow } from './repository.js';

/** What a create writes: the invitation, its visible apps, and its message once the apps are known. */
export interface CreatePlan {
  row: InvitationRow;
  /** the apps the request names, in its order (possibly repeated) */
  requestedAppIds: readonly string[];
  /** the apps the invitation lists */
  visibleAppIds: readonly string[];
  message(apps: readonly AppRow[]): NewOutboxRow;
}

/** Takes a create before the transaction does; false leaves it to the transaction, with nothing written. */
export interface CreateShortcut {
  write(plan: CreatePlan): Promise<boolean>;
}

/** No shortcut: every create takes the transaction. */
export const NO_CREATE_SHORTCUT: CreateShortcut = { write: () => Promise.resolve(false) };

// $1 email key, $2 invitation id, $3 the invitation, $4 the counter's shard, $5 roles, $6 visible
// apps (JSON arrays of rows), $7 the message.
const STATEMENT = `with claim as (
  insert into email_claims (email_key, owner_type, owner_id) values ($1, 'invitation', $2)
  on conflict (email_key) do nothing returning owner_id
), invitation as (
  insert into user_invitations select r.* from claim, json_populate_record(null::user_invitations, $3::json) r returning id
), counted as (
  insert into row_counts (table_name, shard, n) select 'user_invitations', $4::integer, 1 from invitation
  on conflict (table_name, shard) do update set n = row_counts.n + 1
), roles as (
  insert into user_invitation_roles select r.* from invitation, json_populate_recordset(null::user_invitation_roles, $5::json) r
), visible_apps as (
  insert into user_invitation_visible_apps select r.* from invitation, json_populate_recordset(null::user_invitation_visible_apps, $6::json) r
), message as (
  insert into mail_outbox select r.* from invitation, json_populate_record(null::mail_outbox, $7::json) r
)
select count(*)::integer as written from invitation`;

/** PostgreSQL's foreign_key_violation */
const FOREIGN_KEY_VIOLATION = '23503';

export class OneStatementCreate implements CreateShortcut {
  constructor(
    private readonly db: Executor,
    private readonly apps: Pick<AppsRepository, 'findByIds'>,
    private readonly log: RetryLog,
  ) {}

  async write(plan: CreatePlan): Promise<boolean> {
    const { row } = plan;
    const wanted = new Set(plan.requestedAppIds);
    const apps = wanted.size === 0 ? [] : await this.apps.findByIds([...wanted], this.db);
    // an unknown app: the transaction finds it again and reports it, with the request's other problems
    if (apps.length !== wanted.size) return false;
    const roles = (JSON.parse(row.roles) as string[]).map((role) => ({ invitation_id: row.id, role }));
    const visibleApps = plan.visibleAppIds.map((app_id) => ({ invitation_id: row.id, app_id }));
    const query = CompiledQuery.raw(STATEMENT, [
      row.email_key,
      row.id,
      JSON.stringify(row),
      shardFor(this.db),
      JSON.stringify(roles),
      JSON.stringify(visibleApps),
      JSON.stringify(plan.message(apps)),
    ]);
    try {
      // run again, like the transaction, if PostgreSQL picks it as a deadlock's victim (../../db/retry.ts)
      const result = await withRetry(() => this.db.executeQuery<{ written: number }>(query), this.log);
      return result.rows[0]?.written === 1;
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return false;
      throw error;
    }
  }
}
