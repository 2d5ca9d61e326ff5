/** A team's state as its rows, to compare the database before and after (src/emulator/state.ts). */
import { sql } from 'kysely';
import type { Db } from '../../src/db/database.js';

/** Every table of the state, rows in a fixed order; the invitation counter as its sum. */
export async function stateRows(db: Db) {
  const k = db.kysely;
  const counted = await sql<{
    n: number | string;
  }>`select coalesce(sum(n), 0) as n from row_counts where table_name = 'user_invitations'`.execute(k);
  return {
    team: await k.selectFrom('team').selectAll().execute(),
    apiKeys: await k.selectFrom('api_keys').selectAll().orderBy('id').execute(),
    apps: await k.selectFrom('apps').selectAll().orderBy('id').execute(),
    users: await k.selectFrom('users').selectAll().orderBy('id').execute(),
    userRoles: await k.selectFrom('user_roles').selectAll().orderBy('user_id').orderBy('role').execute(),
    userApps: await k.selectFrom('user_visible_apps').selectAll().orderBy('user_id').orderBy('app_id').execute(),
    invitations: await k.selectFrom('user_invitations').selectAll().orderBy('id').execute(),
    invitationRoles: await k.selectFrom('user_invitation_roles').selectAll().orderBy('invitation_id').orderBy('role').execute(),
    invitationApps: await k.selectFrom('user_invitation_visible_apps').selectAll().orderBy('invitation_id').orderBy('app_id').execute(),
    tombstones: await k.selectFrom('invitation_tombstones').selectAll().orderBy('id').execute(),
    sandboxTesters: await k.selectFrom('sandbox_testers').selectAll().orderBy('id').execute(),
    clearRequests: await k.selectFrom('sandbox_clear_requests').selectAll().orderBy('id').execute(),
    clearRequestTesters: await k
      .selectFrom('sandbox_clear_request_testers')
      .selectAll()
      .orderBy('request_id')
      .orderBy('tester_id')
      .execute(),
    claims: await k.selectFrom('email_claims').selectAll().orderBy('email_key').execute(),
    invitationCount: Number(counted.rows[0]?.n),
  };
}
