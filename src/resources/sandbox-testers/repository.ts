/** All SQL about sandbox testers and the clear purchase history requests made for them. */
import type { Kysely, Transaction } from 'kysely';
import { emailClaims } from '../../db/email-claims.js';
import { PreparedList, type ListOptions, type ListDefinition, type ListRequest } from '../../db/list-query.js';
import { isPostgres } from '../../db/locks.js';
import { stderrRetryLog, transaction, type RetryLog } from '../../db/retry.js';
import type { Database, Executor, SandboxClearRequestTable, SandboxTesterTable } from '../../db/schema.js';
import type { ListQueries } from '../../jsonapi/list.js';

export type SandboxTesterRow = SandboxTesterTable;
export type ClearRequestRow = SandboxClearRequestTable;

/** What PATCH /v2/sandboxTesters/{id} may change (A21): never names, email or Apple Pay. */
export type SandboxTesterSettings = Partial<Pick<SandboxTesterRow, 'territory' | 'interrupt_purchases' | 'subscription_renewal_rate'>>;

const fromTesters = (db: Executor) => db.selectFrom('sandbox_testers as m');

/**
 * GET /v2/sandboxTesters (src/db/list-query.ts): the spec gives it no filter and no sort, so it is
 * the whole table by id (A16's default order); a page holds whole rows.
 */
export const SANDBOX_TESTER_LIST: ListDefinition<ReturnType<typeof fromTesters>> = {
  from: fromTesters,
  filters: [],
  sort: {},
  rows: 'whole',
};

/** Ids looked up per statement: far below either database's limit on bound parameters. */
const IDS_PER_QUERY = 500;

function chunks<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

export class SandboxTestersRepository implements ListQueries<SandboxTesterRow> {
  private readonly list: PreparedList<SandboxTesterRow>;

  constructor(
    readonly db: Kysely<Database>,
    private readonly log: RetryLog = stderrRetryLog,
    /** how its list reads a page and its count (src/db/list-query.ts) */
    lists: ListOptions = { countInPage: false },
  ) {
    this.list = new PreparedList(SANDBOX_TESTER_LIST, lists);
  }

  /** A transaction, run again on PostgreSQL after a deadlock or serialization failure (src/db/retry.ts). */
  transaction<T>(fn: (trx: Transaction<Database>) => Promise<T>): Promise<T> {
    return transaction(this.db, fn, this.log);
  }

  page(req: ListRequest, limit: number): Promise<SandboxTesterRow[]> {
    return this.list.page(this.db, req, limit);
  }

  count(req: ListRequest): Promise<number> {
    return this.list.count(this.db, req);
  }

  pageAndCount(req: ListRequest, limit: number): Promise<{ rows: SandboxTesterRow[]; total: number }> {
    return this.list.pageAndCount(this.db, req, limit);
  }

  /** Every tester, by id: for the operator CLI and the emulator's state export (issue 22). */
  async listAll(db: Executor = this.db): Promise<SandboxTesterRow[]> {
    return db.selectFrom('sandbox_testers').selectAll().orderBy('id').execute();
  }

  /**
   * Inserts a tester with its email claim (A23), inside the caller's transaction: for the operator
   * CLI and the emulator's state import (issue 22). False, and nothing written, when someone holds
   * the email already (emailClaims.find says who).
   */
  async insert(trx: Executor, row: SandboxTesterRow): Promise<boolean> {
    if (!(await emailClaims.claim(trx, row.email_key, 'sandboxTester', row.id))) return false;
    await trx.insertInto('sandbox_testers').values(row).execute();
    return true;
  }

  async findById(db: Executor, id: string): Promise<SandboxTesterRow | undefined> {
    if (id.includes('\u0000')) return undefined;
    return db.selectFrom('sandbox_testers').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /**
   * The tester, locked until the transaction ends, so that changes of one tester take turns
   * (PostgreSQL; on SQLite the one connection serializes transactions anyway). By id, or by email
   * (any case) when `by` says so.
   */
  async findForUpdate(trx: Transaction<Database>, key: string, by: 'id' | 'email' = 'id'): Promise<SandboxTesterRow | undefined> {
    if (key.includes('\u0000')) return undefined;
    const q = trx
      .selectFrom('sandbox_testers')
      .selectAll()
      .where(by === 'id' ? 'id' : 'email_key', '=', by === 'id' ? key : key.toLowerCase());
    return (isPostgres(trx) ? q.forUpdate() : q).executeTakeFirst();
  }

  async update(trx: Executor, id: string, settings: SandboxTesterSettings): Promise<void> {
    if (Object.keys(settings).length === 0) return;
    await trx.updateTable('sandbox_testers').set(settings).where('id', '=', id).execute();
  }

  /** Which of `ids` name a tester (no id of ours holds a NUL, and PostgreSQL text can't). */
  async existingIds(db: Executor, ids: readonly string[]): Promise<Set<string>> {
    const found = new Set<string>();
    const wanted = [...new Set(ids)].filter((id) => !id.includes('\u0000'));
    for (const chunk of chunks(wanted, IDS_PER_QUERY)) {
      const rows = await db.selectFrom('sandbox_testers').select('id').where('id', 'in', chunk).execute();
      for (const r of rows) found.add(r.id);
    }
    return found;
  }

  /** Records a clear purchase history request and the testers it names (each once). */
  async insertClearRequest(trx: Executor, row: ClearRequestRow, testerIds: readonly string[]): Promise<void> {
    await trx.insertInto('sandbox_clear_requests').values(row).execute();
    for (const chunk of chunks(testerIds, IDS_PER_QUERY)) {
      await trx
        .insertInto('sandbox_clear_request_testers')
        .values(chunk.map((tester_id) => ({ request_id: row.id, tester_id })))
        .execute();
    }
  }

  /** A clear request as recorded, with the ids of its testers in id order. */
  async findClearRequest(db: Executor, id: string): Promise<{ row: ClearRequestRow; testerIds: string[] } | undefined> {
    if (id.includes('\u0000')) return undefined;
    const row = await db.selectFrom('sandbox_clear_requests').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) return undefined;
    const testers = await db
      .selectFrom('sandbox_clear_request_testers')
      .select('tester_id')
      .where('request_id', '=', id)
      .orderBy('tester_id')
      .execute();
    return { row, testerIds: testers.map((t) => t.tester_id) };
  }

  /**
   * Deletes a tester and frees their email. The caller holds the tester's row (findForUpdate): the
   * row, then the claim, as every path that frees an email (../user-invitations/repository.ts).
   * The clear requests that named them stay as they were.
   */
  async delete(trx: Executor, row: SandboxTesterRow): Promise<void> {
    await trx.deleteFrom('sandbox_testers').where('id', '=', row.id).execute();
    await emailClaims.release(trx, row.email_key, row.id);
  }
}
