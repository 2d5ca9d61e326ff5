/**
 * Query plans of the SQL the repositories run (captured from the repositories themselves). The
 * pages of pending invitations come from an index alone (migration 006): for every sort the list
 * offers, first page and after a cursor, a covering index and no sorting. An invitation's mail is
 * found by its index (migration 007), not by reading the whole mail log, and so is a batch the
 * mail worker claims, read in order from the due index (migration 011). The list of sandbox testers reads along its primary key.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, sqliteFile } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import { OutboxRepository } from '../../src/mail/outbox-repository.js';
import type { Database as Schema } from '../../src/db/schema.js';
import { parseSort } from '../../src/jsonapi/sort.js';
import { PreparedList } from '../../src/db/list-query.js';
import { SANDBOX_TESTER_LIST } from '../../src/resources/sandbox-testers/repository.js';
import { INVITATION_LIST } from '../../src/resources/user-invitations/repository.js';
import { testConfig } from '../helpers/harness.js';

describe('query plans on SQLite', () => {
  const config = testConfig();
  let raw: Database.Database;
  let captured: Array<{ sql: string; parameters: readonly unknown[] }>;
  const invitations = new PreparedList(INVITATION_LIST);
  let kysely: Kysely<Schema>;

  beforeAll(async () => {
    const db = await openDatabase(config); // migrated to the latest version
    await db.close();
    raw = new Database(sqliteFile(config));
    captured = [];
    kysely = new Kysely<Schema>({
      dialect: new SqliteDialect({ database: raw }),
      log: (event) => {
        if (event.level === 'query') captured.push({ sql: event.query.sql, parameters: event.query.parameters });
      },
    });
  });

  afterAll(async () => {
    await kysely.destroy();
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  /** SQLite's plan for the one statement `run` sends, one line */
  async function planOf(run: () => Promise<unknown>): Promise<string> {
    captured.length = 0;
    await run();
    expect(captured).toHaveLength(1);
    const { sql, parameters } = captured[0]!;
    return raw
      .prepare(`explain query plan ${sql}`)
      .all(...parameters)
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
  }

  it("an invitation's mail, to read or to cancel, is found by the invitation index", async () => {
    const outbox = new OutboxRepository(kysely, new GroupCommit({ kysely, dialect: 'sqlite' }));
    for (const run of [() => outbox.forInvitation('a'), () => outbox.cancelForInvitation(kysely, 'a')]) {
      const plan = await planOf(run);
      expect(plan).toMatch(/USING INDEX mail_outbox_invitation \(invitation_id=\?\)/);
      expect(plan).not.toMatch(/\bSCAN mail_outbox\b/);
    }
  });

  it('the mail worker claims its batch by id, not by reading every waiting message', async () => {
    const outbox = new OutboxRepository(kysely, new GroupCommit({ kysely, dialect: 'sqlite' }));
    const at = new Date().toISOString();
    for (let i = 0; i < 20; i++) {
      await outbox.insert(kysely, {
        id: `mail-${String(i).padStart(2, '0')}`,
        invitation_id: null,
        recipient: `r${i}@example.com`,
        subject: 's',
        text_body: 't',
        html_body: 'h',
        template_data: null,
        activation_link: null,
        status: 'pending',
        attempts: 0,
        next_attempt_at: at,
        claimed_until: null,
        last_error: null,
        created_at: at,
        sent_at: null,
      });
    }
    captured.length = 0;
    const { claimed } = await outbox.claimDue(new Date(Date.now() + 1000).toISOString(), new Date(Date.now() + 60_000).toISOString(), 20, {
      instance: 'plans',
      boot: 'b1',
    });
    expect(claimed).toHaveLength(20);
    const update = captured.find((c) => c.sql.startsWith('update "mail_outbox"'))!;
    const plan = raw
      .prepare(`explain query plan ${update.sql}`)
      .all(...update.parameters)
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(plan).toMatch(/^SEARCH mail_outbox USING (COVERING )?INDEX sqlite_autoindex_mail_outbox_1 \(id=\?\)/);
    expect(plan).not.toMatch(/mail_outbox_due/);
    // and the candidates come from the due index in the order they are handed out (migration 011):
    // no sorting of every waiting message to find the first twenty
    const select = captured.find((c) => c.sql.startsWith('select "id" from "mail_outbox"'))!;
    const candidates = raw
      .prepare(`explain query plan ${select.sql}`)
      .all(...select.parameters)
      .map((row) => (row as { detail: string }).detail)
      .join(' | ');
    expect(candidates).toMatch(/^SEARCH mail_outbox USING INDEX mail_outbox_due \(status=\? AND next_attempt_at<\?\)/);
    expect(candidates).not.toMatch(/TEMP B-TREE/);
  });

  for (const from of ['first page', 'after a cursor'] as const) {
    it(`sandbox testers, ${from}: read along the primary key, no sorting`, async () => {
      const testers = new PreparedList(SANDBOX_TESTER_LIST);
      const after = from === 'first page' ? undefined : { keys: [], id: 'a' };
      const plan = await planOf(() => testers.page(kysely, { filters: [], sort: [], ...(after ? { after } : {}) }, 50));
      expect(plan).toMatch(/^(SCAN|SEARCH) m USING INDEX sqlite_autoindex_sandbox_testers_1\b/);
      expect(plan).not.toMatch(/TEMP B-TREE/);
    });
  }

  const sorts = [undefined, ['email'], ['-email'], ['lastName'], ['-lastName']] as const;
  // ascending email is served by the unique email index of 001, which has no expires_at
  const covered = sorts.filter((s) => s?.[0] !== 'email');

  for (const sort of covered) {
    for (const from of ['first page', 'after a cursor'] as const) {
      it(`sort=${sort?.join(',') ?? '(default)'}, ${from}: a covering index, no sorting`, async () => {
        const { columns } = parseSort(sort, INVITATION_LIST.sort);
        const after = from === 'first page' ? undefined : { keys: columns.map(() => 'm'), id: 'a' };
        const plan = await planOf(() =>
          invitations.page(kysely, { scope: new Date().toISOString(), filters: [], sort: columns, ...(after ? { after } : {}) }, 50),
        );
        expect(plan).toMatch(/USING COVERING INDEX user_invitations_/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      });
    }
  }
});
