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
 * The request's key, when authentication took it as last read (src/keys/key-check.ts), is checked
 * here too, so that a create is one round trip and not two: the claim is made only if the key row
 * is still that key and not revoked, and the statement says whether it was. A key that is gone is
 * the request's 401, with nothing written; otherwise the key is confirmed, even when the create
 * falls to the transaction.
 *
 * Creates that arrive while others are being written go together: at most MAX_IN_FLIGHT
 * statements run at once, and the creates that wait meanwhile (up to MAX_BATCH) are written by the
 * next statement, each as its own row of the statement's input. On a loaded server that spreads a
 * statement's fixed costs (its round trip, the executor's set-up, the commit and its WAL flush)
 * over several creates, as group commit does on SQLite; an idle server sends each create at once.
 * Each create in a statement stands alone: its own claim, its own apps, its own key. The claims
 * are made in email order, so two statements never wait on each other's emails in a cycle. Only an
 * app deleted while the statement runs fails it as a whole: then every create in it goes to the
 * transaction, and any PostgreSQL deadlock is retried (../../db/retry.ts).
 *
 * The transaction is the reference: ASC_ONE_STATEMENT_CREATE=off leaves every create to it (and
 * SQLite always does; there group commit shares one transaction between concurrent creates).
 */
import { CompiledQuery } from 'kysely';
import { withRetry, type RetryLog } from '../../db/retry.js';
import type { Executor } from '../../db/schema.js';
import { shardFor } from '../../db/row-counts.js';
import type { NewOutboxRow } from '../../mail/outbox-repository.js';
import type { KeyAsRead, KeyCheck } from '../../keys/key-check.js';
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
  /** the request's key, taken as last read: written only if the statement finds it so (src/keys/key-check.ts) */
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

/** How many statements of creates may run at once; later creates wait and go together. */
export const MAX_IN_FLIGHT = 2;
/** How many creates one statement writes at most. */
export const MAX_BATCH = 32;

// $1 the creates (JSON rows, below), $2 the counter's shard. Each create: n (its place), email_key,
// id, invitation (its row), roles and visible_apps (JSON rows), apps (the apps asked for, distinct
// ids), message (without its template data), template_data (whose `apps`, unless null: all apps,
// become the names found), and key_id, key_public, key_role: the request's key as last read, or
// nulls when it was read for this request; it must still be a live team key as it was.
const STATEMENT = `with input as (
  select * from jsonb_to_recordset($1::jsonb) as i(
    n integer, email_key text, id text, invitation jsonb, roles jsonb, apps text[], visible_apps jsonb,
    message jsonb, template_data jsonb, key_id text, key_public text, key_role text)
), keyed as (
  select i.*, i.key_id is null or exists (
    select 1 from api_keys k
    where k.id = i.key_id and k.revoked_at is null and k.user_id is null and k.public_key = i.key_public and k.role = i.key_role
  ) as key_live
  from input i
), found as (
  select id, name from apps where id in (select unnest(apps) from input)
), ready as (
  select k.* from keyed k where k.key_live and (select count(*) from found f where f.id = any(k.apps)) = cardinality(k.apps)
), claim as (
  insert into email_claims (email_key, owner_type, owner_id)
  select email_key, 'invitation', id from ready order by email_key
  on conflict (email_key) do nothing returning owner_id
), invitation as (
  insert into user_invitations
  select r.* from claim c join ready on ready.id = c.owner_id, jsonb_populate_record(null::user_invitations, ready.invitation) r
  returning id
), counted as (
  insert into row_counts (table_name, shard, n) select 'user_invitations', $2::integer, count(*) from invitation having count(*) > 0
  on conflict (table_name, shard) do update set n = row_counts.n + excluded.n
), roles as (
  insert into user_invitation_roles
  select r.* from invitation v join ready on ready.id = v.id, jsonb_populate_recordset(null::user_invitation_roles, ready.roles) r
), visible_apps as (
  insert into user_invitation_visible_apps
  select r.* from invitation v join ready on ready.id = v.id, jsonb_populate_recordset(null::user_invitation_visible_apps, ready.visible_apps) r
), message as (
  insert into mail_outbox
  select r.* from invitation v join ready on ready.id = v.id, jsonb_populate_record(null::mail_outbox, ready.message || jsonb_build_object('template_data', (
    case when ready.template_data -> 'apps' = 'null'::jsonb then ready.template_data
    else jsonb_set(ready.template_data, '{apps}', coalesce((select jsonb_agg(f.name order by f.id) from found f where f.id = any(ready.apps)), '[]'::jsonb)) end
  )::text)) r
)
select k.n, exists (select 1 from invitation v where v.id = k.id) as written, k.key_live from keyed k`;

/** PostgreSQL's foreign_key_violation */
const FOREIGN_KEY_VIOLATION = '23503';

/** A create waiting for its statement, and the promise it answers. */
interface Waiting {
  plan: CreatePlan;
  /** the key the statement is to check, if any */
  key: KeyAsRead | undefined;
  input: Record<string, unknown>;
  resolve(written: boolean): void;
  reject(error: unknown): void;
}

export class OneStatementCreate implements CreateShortcut {
  private readonly queue: Waiting[] = [];
  private inFlight = 0;

  constructor(
    private readonly db: Executor,
    private readonly log: RetryLog,
    private readonly limits: { maxInFlight: number; maxBatch: number } = { maxInFlight: MAX_IN_FLIGHT, maxBatch: MAX_BATCH },
  ) {}

  write(plan: CreatePlan): Promise<boolean> {
    const { row } = plan;
    const wanted = [...new Set(plan.requestedAppIds)];
    // no app id holds a NUL, and PostgreSQL text cannot even carry one: the transaction reports it
    if (wanted.some((id) => id.includes('\u0000'))) return Promise.resolve(false);
    const roles = (JSON.parse(row.roles) as string[]).map((role) => ({ invitation_id: row.id, role }));
    const visibleApps = plan.visibleAppIds.map((app_id) => ({ invitation_id: row.id, app_id }));
    // the names of the apps are the statement's to find: the message's are filled in there
    const { template_data: templateData, ...message } = plan.message([]);
    const key = plan.keyCheck && !plan.keyCheck.confirmed ? plan.keyCheck.key : undefined;
    const input = {
      email_key: row.email_key,
      id: row.id,
      invitation: row,
      roles,
      apps: wanted,
      visible_apps: visibleApps,
      message,
      template_data: templateData === null ? null : (JSON.parse(templateData) as unknown),
      key_id: key?.id ?? null,
      key_public: key?.publicKeyPem ?? null,
      key_role: key?.role ?? null,
    };
    return new Promise<boolean>((resolve, reject) => {
      this.queue.push({ plan, key, input, resolve, reject });
      this.next();
    });
  }

  /** Sends what waits, in as many statements as may run. */
  private next(): void {
    while (this.inFlight < this.limits.maxInFlight && this.queue.length > 0) {
      const batch = this.queue.splice(0, this.limits.maxBatch);
      this.inFlight++;
      void this.run(batch).finally(() => {
        this.inFlight--;
        this.next();
      });
    }
  }

  private async run(batch: readonly Waiting[]): Promise<void> {
    const query = CompiledQuery.raw(STATEMENT, [JSON.stringify(batch.map((w, n) => ({ n, ...w.input }))), shardFor(this.db)]);
    let rows: readonly { n: number; written: boolean; key_live: boolean }[];
    try {
      // run again, like the transaction, if PostgreSQL picks it as a deadlock's victim (../../db/retry.ts)
      rows = (await withRetry(() => this.db.executeQuery<{ n: number; written: boolean; key_live: boolean }>(query), this.log)).rows;
    } catch (error) {
      // an app deleted meanwhile: nothing was written, and each create goes to the transaction
      if ((error as { code?: unknown }).code === FOREIGN_KEY_VIOLATION) for (const w of batch) w.resolve(false);
      else for (const w of batch) w.reject(error);
      return;
    }
    const answers = new Map(rows.map((row) => [row.n, row]));
    batch.forEach((w, n) => {
      const row = answers.get(n);
      try {
        // throws the 401 if the key is gone: then nothing was written for this create
        if (w.key && row) w.plan.keyCheck!.found(row.key_live);
        // (every create has its row; one without would go to the transaction, its key read first)
        w.resolve(row?.written === true);
      } catch (error) {
        w.reject(error);
      }
    });
  }
}
