/**
 * Email claims: who holds an address, a pending invitation or a user. Shared by invitations,
 * users and activation.
 */
import { PreparedQuery } from './prepared.js';
import type { EmailClaimTable, Executor } from './schema.js';

/** Arguments: email key, owner type, owner id. Built once (./prepared.ts): every create runs it. */
const insertClaim = new PreparedQuery<null>(
  (db, arg) =>
    db
      .insertInto('email_claims')
      .values({ email_key: arg(0), owner_type: arg(1), owner_id: arg(2) })
      .onConflict((oc) => oc.column('email_key').doNothing()),
  () => 3,
);

/**
 * Email claims: one row per address taken by a pending invitation or a user. The primary key makes
 * a second claim fail, even under concurrency (docs/behavior.md A9).
 */
export const emailClaims = {
  /** Takes the email for an owner; false when someone holds it already. */
  async claim(trx: Executor, emailKey: string, ownerType: EmailClaimTable['owner_type'], ownerId: string): Promise<boolean> {
    const r = await insertClaim.execute(trx, null, [emailKey, ownerType, ownerId]);
    return Number(r.numAffectedRows ?? 0n) === 1;
  },

  async find(trx: Executor, emailKey: string): Promise<EmailClaimTable | undefined> {
    return trx.selectFrom('email_claims').selectAll().where('email_key', '=', emailKey).executeTakeFirst();
  },

  /** Frees the email, if `ownerId` holds it. */
  async release(trx: Executor, emailKey: string, ownerId: string): Promise<void> {
    await trx.deleteFrom('email_claims').where('email_key', '=', emailKey).where('owner_id', '=', ownerId).execute();
  },

  /** Hands a claim from one owner to another (an invitation becoming a user). */
  async transfer(trx: Executor, emailKey: string, fromId: string, toType: EmailClaimTable['owner_type'], toId: string): Promise<boolean> {
    const r = await trx
      .updateTable('email_claims')
      .set({ owner_type: toType, owner_id: toId })
      .where('email_key', '=', emailKey)
      .where('owner_id', '=', fromId)
      .executeTakeFirst();
    return Number(r.numUpdatedRows) === 1;
  },
};
