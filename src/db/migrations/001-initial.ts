import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { textType } from './types.js';

/** Version 1: team, keys, apps, invitations with the indexes every list, filter and sort uses. */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const text = textType(dialect);
  await db.schema
    .createTable('team')
    .addColumn('id', 'integer', (c) => c.primaryKey())
    .addColumn('issuer_id', text, (c) => c.notNull())
    .addColumn('cursor_secret', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('role', text, (c) => c.notNull())
    .addColumn('public_key', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('revoked_at', text)
    .addColumn('user_id', text)
    .execute();

  await db.schema
    .createTable('apps')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('name', text, (c) => c.notNull())
    .addColumn('bundle_id', text, (c) => c.notNull().unique())
    .addColumn('sku', text, (c) => c.notNull().unique())
    .addColumn('primary_locale', text, (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('apps_name_id').on('apps').columns(['name', 'id']).execute();
  await db.schema.createIndex('apps_name_desc_id').on('apps').columns(['name desc', 'id']).execute();

  await db.schema
    .createTable('user_invitations')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('email', text, (c) => c.notNull())
    .addColumn('email_key', text, (c) => c.notNull())
    .addColumn('first_name', text, (c) => c.notNull())
    .addColumn('last_name', text, (c) => c.notNull())
    .addColumn('last_name_key', text, (c) => c.notNull())
    .addColumn('roles', text, (c) => c.notNull())
    .addColumn('all_apps_visible', 'integer', (c) => c.notNull())
    .addColumn('provisioning_allowed', 'integer', (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('expires_at', text, (c) => c.notNull())
    .execute();
  // One pending invitation per email (the claim table also covers users; this is a second guard).
  await db.schema.createIndex('user_invitations_email_key').on('user_invitations').column('email_key').unique().execute();
  await db.schema.createIndex('user_invitations_email_key_desc_id').on('user_invitations').columns(['email_key desc', 'id']).execute();
  await db.schema.createIndex('user_invitations_last_name_id').on('user_invitations').columns(['last_name_key', 'id']).execute();
  await db.schema.createIndex('user_invitations_last_name_desc_id').on('user_invitations').columns(['last_name_key desc', 'id']).execute();
  await db.schema.createIndex('user_invitations_expires_at').on('user_invitations').columns(['expires_at', 'id']).execute();

  await db.schema
    .createTable('user_invitation_roles')
    .addColumn('invitation_id', text, (c) => c.notNull().references('user_invitations.id').onDelete('cascade'))
    .addColumn('role', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('user_invitation_roles_pk', ['invitation_id', 'role'])
    .execute();
  await db.schema.createIndex('user_invitation_roles_role').on('user_invitation_roles').columns(['role', 'invitation_id']).execute();

  await db.schema
    .createTable('user_invitation_visible_apps')
    .addColumn('invitation_id', text, (c) => c.notNull().references('user_invitations.id').onDelete('cascade'))
    .addColumn('app_id', text, (c) => c.notNull().references('apps.id'))
    .addPrimaryKeyConstraint('user_invitation_visible_apps_pk', ['invitation_id', 'app_id'])
    .execute();
  await db.schema
    .createIndex('user_invitation_visible_apps_app')
    .on('user_invitation_visible_apps')
    .columns(['app_id', 'invitation_id'])
    .execute();

  await db.schema
    .createTable('invitation_tombstones')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('outcome', text, (c) => c.notNull())
    .addColumn('at', text, (c) => c.notNull())
    .execute();

  await db.schema
    .createTable('email_claims')
    .addColumn('email_key', text, (c) => c.primaryKey())
    .addColumn('owner_type', text, (c) => c.notNull())
    .addColumn('owner_id', text, (c) => c.notNull())
    .execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const t of [
    'email_claims',
    'invitation_tombstones',
    'user_invitation_visible_apps',
    'user_invitation_roles',
    'user_invitations',
    'apps',
    'api_keys',
    'team',
  ]) {
    await db.schema.dropTable(t).execute();
  }
}
