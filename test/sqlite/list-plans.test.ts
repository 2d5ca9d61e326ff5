/**
 * The pages of pending invitations come from an index alone (migration 006): for every sort the
 * list offers, first page and after a cursor, SQLite's plan for the SQL the repository runs scans
 * or searches a covering index and sorts nothing. The SQL is captured from the repository itself.
 */
import { rmSync } from 'node:fs';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, sqliteFile } from '../../src/db/database.js';
import type { Database as Schema } from '../../src/db/schema.js';
import { parseSort } from '../../src/jsonapi/sort.js';
import { INVITATION_TABLES, MemberSql } from '../../src/resources/members/repository.js';
import { INVITATION_SORT_COLUMNS } from '../../src/resources/user-invitations/repository.js';
import { testConfig } from '../helpers/harness.js';

describe('list queries on SQLite', () => {
  const config = testConfig();
  let raw: Database.Database;
  let captured: Array<{ sql: string; parameters: readonly unknown[] }>;
  let members: MemberSql<'user_invitations'>;
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
    members = new MemberSql(kysely, INVITATION_TABLES);
  });

  afterAll(async () => {
    await kysely.destroy();
    rmSync(config.dataDir, { recursive: true, force: true });
  });

  const sorts = [undefined, ['email'], ['-email'], ['lastName'], ['-lastName']] as const;
  // ascending email is served by the unique email index of 001, which has no expires_at
  const covered = sorts.filter((s) => s?.[0] !== 'email');

  for (const sort of covered) {
    for (const from of ['first page', 'after a cursor'] as const) {
      it(`sort=${sort?.join(',') ?? '(default)'}, ${from}: a covering index, no sorting`, async () => {
        const { columns } = parseSort(sort, INVITATION_SORT_COLUMNS);
        const after = from === 'first page' ? undefined : { keys: columns.map(() => 'm'), id: 'a' };
        captured.length = 0;
        await members.page({ pendingAt: new Date().toISOString() }, columns, after, 50);
        expect(captured).toHaveLength(1);
        const { sql, parameters } = captured[0]!;
        const plan = raw
          .prepare(`explain query plan ${sql}`)
          .all(...parameters)
          .map((row) => (row as { detail: string }).detail)
          .join(' | ');
        expect(plan).toMatch(/USING COVERING INDEX user_invitations_/);
        expect(plan).not.toMatch(/TEMP B-TREE/);
      });
    }
  }
});
