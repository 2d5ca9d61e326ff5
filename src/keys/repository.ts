/** All SQL about the team and its API keys. */
import { sql, type Kysely } from 'kysely';
import type { ApiKeyTable, Database, Executor, TeamTable } from '../db/schema.js';

export type KeyRow = ApiKeyTable;
export type TeamRow = TeamTable;

export class KeysRepository {
  constructor(private readonly db: Kysely<Database>) {}

  async findTeam(): Promise<TeamRow | undefined> {
    return this.db.selectFrom('team').selectAll().where('id', '=', 1).executeTakeFirst();
  }

  /** Inserts the team row unless one exists; returns the row that is there afterwards. */
  async ensureTeam(row: TeamRow): Promise<TeamRow> {
    await this.db
      .insertInto('team')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .execute();
    const team = await this.findTeam();
    if (!team) throw new Error('team row missing after insert');
    return team;
  }

  async insertKey(row: KeyRow): Promise<boolean> {
    const result = await this.db
      .insertInto('api_keys')
      .values(row)
      .onConflict((oc) => oc.column('id').doNothing())
      .executeTakeFirst();
    return Number(result.numInsertedOrUpdatedRows ?? 0n) === 1;
  }

  async findKey(id: string): Promise<KeyRow | undefined> {
    return this.db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirst();
  }

  /** The keys with these ids (those that exist, in any order), in one statement. */
  async findKeys(ids: readonly string[]): Promise<KeyRow[]> {
    return this.db
      .selectFrom('api_keys')
      .selectAll()
      .where('id', '=', sql<string>`any(${[...ids]})`)
      .execute();
  }

  async listKeys(): Promise<KeyRow[]> {
    return this.db.selectFrom('api_keys').selectAll().orderBy('created_at').orderBy('id').execute();
  }

  async countKeys(): Promise<number> {
    const row = await this.db
      .selectFrom('api_keys')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirstOrThrow();
    return Number(row.n);
  }

  /** Marks the key revoked; false when it does not exist or was already revoked. */
  async revokeKey(id: string, at: string): Promise<boolean> {
    const result = await this.db
      .updateTable('api_keys')
      .set({ revoked_at: at })
      .where('id', '=', id)
      .where('revoked_at', 'is', null)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  /** Revokes a user's individual keys (the user is leaving the team); in the caller's transaction. */
  async revokeForUser(trx: Executor, userId: string, at: string): Promise<void> {
    await trx.updateTable('api_keys').set({ revoked_at: at }).where('user_id', '=', userId).where('revoked_at', 'is', null).execute();
  }
}
