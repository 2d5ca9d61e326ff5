/**
 * A shortcut for creates on PostgreSQL: an invitation whose email is free and whose apps exist is
 * written by one statement, in one round trip, instead of a lookup of its apps and a transaction
 * of seven statements (BEGIN, the claim, the invitation, its row count, roles, visible apps and
 * message, COMMIT). A statement
 * outside a transaction is one on its own, so it is all or nothing like the transaction it
 * replaces, and acknowledged only after its commit.
 *
 * Each insert is a data-modifying CTE that reads the one before it. The claim is made only if
 * every app asked for exists and the email is free; otherwise it inserts nothing, so nothing else
 * is inserted and the statement says so. The service then takes the transaction (./service.ts),
 * which sees why: an unknown app, an expired holder of the email it may bury first, or the 409.
 * An app deleted while the statement runs fails it on its foreign key: nothing is written, and the
 * transaction reports the app. The message's app names come from the same statement's lookup,
 * in the transaction's order (by id). The rows are passed as JSON and typed by
 * `jsonb_populate_record` with the table's own row type, so the statement names no column: a
 * column added to a table needs no change here.
 *
 * The request's key, when authentication took it as last read (src/http/key-check.ts), is checked
 * here too, so that a create is one round trip and not two: the claim is made only if the key row
 * is still that key and not revoked, and the statement says whether it was. A key that is gone is
 * the request's 401, with nothing written; otherwise the key is confirmed, even when the create
 * falls to the transaction.
 *
 * The transaction is the reference: ASC_ONE_STATEMENT_CREATE=off leaves every create to it (and
 * SQLite always does; there group commit shares one transaction between concurrent creates).
 */
import { CompiledQuery } from 'kysely';
import { withRetry, type RetryLog } from '../../db/retry.js';
import type { Executor } from '../../db/schema.js';
import { shardFor } from '../../db/row-counts.js';
import type { NewOutboxRow } from '../../mail/outbox-repository.js';
import type { KeyCheck } from '../../http/key-check.js';
import type { AppRow } from '../apps/repository.js';
import type { InvitationRow } from './repository.js';

/** What a create writes: the invitation, its visible apps, and its message once the apps are known. */
export interface CreatePlan {
  row: InvitationRow;
  /** the apps the request names, in its order (possibly repeated) */
  requestedAppIds: readonly string[];
  /** the apps the invitation lists */
  visibleAppIds: readonly string[];
  message(apps: readonly AppRow[]): NewOutboxRow;
  /** the request's key, taken as last read: written only if the statement finds it so (src/http/key-check.ts) */
  keyCheck?: KeyCheck;
}

/**
 * Takes a create before the transaction does; false leaves it to the transaction, with nothing
 * written. With a key check in the plan: throws its 401, with nothing written, if the key is gone.
 */
export interface CreateShortcut {
  write(plan: CreatePlan): Promise<boolean>;
}

/** No shortcut: every create takes the transaction. */
export const NO_CREATE_SHORTCUT: CreateShortcut = { write: () => Promise.resolve(false) };

// $1 email key, $2 invitation id, $3 the invitation, $4 the counter's shard, $5 roles (JSON rows),
// $6 the apps asked for (distinct ids), $7 visible apps (JSON rows), $8 the message without its
// template data, $9 the template data, whose `apps` (unless null: all apps) are the names found;
// $10 to $12 the request's key as last read (id, public half, role), or nulls when it was read
// for this request: it must still be a live team key as it was.
const STATEMENT = `with key as (
  select $10::text is null or exists (
    select 1 from api_keys k
    where k.id = $10 and k.revoked_at is null and k.user_id is null and k.public_key = $11::text and k.role = $12::text
  ) as live
), found as (
  select id, name from apps where id = any($6::text[])
), claim as (
  insert into email_claims (email_key, owner_type, owner_id)
  select $1, 'invitation', $2 where (select live from key) and (select count(*) from found) = cardinality($6::text[])
  on conflict (email_key) do nothing returning owner_id
), invitation as (
  insert into user_invitations select r.* from claim, jsonb_populate_record(null::user_invitations, $3::jsonb) r returning id
), counted as (
  insert into row_counts (table_name, shard, n) select 'user_invitations', $4::integer, 1 from invitation
  on conflict (table_name, shard) do update set n = row_counts.n + 1
), roles as (
  insert into user_invitation_roles select r.* from invitation, jsonb_populate_recordset(null::user_invitation_roles, $5::jsonb) r
), visible_apps as (
  insert into user_invitation_visible_apps select r.* from invitation, jsonb_populate_recordset(null::user_invitation_visible_apps, $7::jsonb) r
), message as (
  insert into mail_outbox select r.* from invitation, jsonb_populate_record(null::mail_outbox, $8::jsonb || jsonb_build_object('template_data', (
    case when $9::jsonb -> 'apps' = 'null'::jsonb then $9::jsonb
    else jsonb_set($9::jsonb, '{apps}', coalesce((select jsonb_agg(name order by id) from found), '[]'::jsonb)) end
  )::text)) r
)
select (select count(*)::integer from invitation) as written, (select live from key) as key_live`;

/** PostgreSQL's foreign_key_violation */
const FOREIGN_KEY_VIOLATION = '23503';

export class OneStatementCreate implements CreateShortcut {
  constructor(
    private readonly db: Executor,
    private readonly log: RetryLog,
  ) {}

  async write(plan: CreatePlan): Promise<boolean> {
    const { row } = plan;
    const wanted = [...new Set(plan.requestedAppIds)];
    // no app id holds a NUL, and PostgreSQL text cannot even carry one: the transaction reports it
    if (wanted.some((id) => id.includes('\u0000'))) return false;
    const roles = (JSON.parse(row.roles) as string[]).map((role) => ({ invitation_id: row.id, role }));
    const visibleApps = plan.visibleAppIds.map((app_id) => ({ invitation_id: row.id, app_id }));
    // the names of the apps are the statement's to find: the message's are filled in there
    const { template_data: templateData, ...message } = plan.message([]);
    const key = plan.keyCheck && !plan.keyCheck.confirmed ? plan.keyCheck.key : undefined;
    const query = CompiledQuery.raw(STATEMENT, [
      row.email_key,
      row.id,
      JSON.stringify(row),
      shardFor(this.db),
      JSON.stringify(roles),
      wanted,
      JSON.stringify(visibleApps),
      JSON.stringify(message),
      templateData,
      key?.id ?? null,
      key?.publicKeyPem ?? null,
      key?.role ?? null,
    ]);
    try {
      // run again, like the transaction, if PostgreSQL picks it as a deadlock's victim (../../db/retry.ts)
      const result = await withRetry(() => this.db.executeQuery<{ written: number; key_live: boolean }>(query), this.log);
      const answer = result.rows[0];
      // throws the 401 if the key is gone: then nothing was written
      if (key && answer) plan.keyCheck!.found(answer.key_live);
      return answer?.written === 1;
    } catch (error) {
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) return false;
      throw error;
    }
  }
}
