import type { Kysely } from 'kysely';
import type { Dialect } from '../database.js';
import { textType } from './types.js';

/**
 * Version 2: the team's users, activation tokens (hash only), who sent an invitation, and the
 * mail outbox that is written in the same transaction as the invitation.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  const text = textType(dialect);
  await db.schema
    .createTable('users')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('username', text, (c) => c.notNull())
    .addColumn('username_key', text, (c) => c.notNull().unique())
    .addColumn('first_name', text, (c) => c.notNull())
    .addColumn('last_name', text, (c) => c.notNull())
    .addColumn('last_name_key', text, (c) => c.notNull())
    .addColumn('roles', text, (c) => c.notNull())
    .addColumn('all_apps_visible', 'integer', (c) => c.notNull())
    .addColumn('provisioning_allowed', 'integer', (c) => c.notNull())
    .addColumn('created_at', text, (c) => c.notNull())
    .execute();
  await db.schema.createIndex('users_username_key_desc_id').on('users').columns(['username_key desc', 'id']).execute();
  await db.schema.createIndex('users_last_name_id').on('users').columns(['last_name_key', 'id']).execute();
  await db.schema.createIndex('users_last_name_desc_id').on('users').columns(['last_name_key desc', 'id']).execute();

  await db.schema
    .createTable('user_roles')
    .addColumn('user_id', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role', text, (c) => c.notNull())
    .addPrimaryKeyConstraint('user_roles_pk', ['user_id', 'role'])
    .execute();
  await db.schema.createIndex('user_roles_role').on('user_roles').columns(['role', 'user_id']).execute();

  await db.schema
    .createTable('user_visible_apps')
    .addColumn('user_id', text, (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('app_id', text, (c) => c.notNull().references('apps.id'))
    .addPrimaryKeyConstraint('user_visible_apps_pk', ['user_id', 'app_id'])
    .execute();
  await db.schema.createIndex('user_visible_apps_app').on('user_visible_apps').columns(['app_id', 'user_id']).execute();

  // The activation token is kept only as its SHA-256 hash.
  await db.schema.alterTable('user_invitations').addColumn('token_hash', text).execute();
  await db.schema.alterTable('user_invitations').addColumn('invited_by', text).execute();
  await db.schema.createIndex('user_invitations_token_hash').on('user_invitations').column('token_hash').unique().execute();

  await db.schema
    .createTable('mail_outbox')
    .addColumn('id', text, (c) => c.primaryKey())
    .addColumn('invitation_id', text)
    .addColumn('recipient', text, (c) => c.notNull())
    .addColumn('subject', text, (c) => c.notNull())
    .addColumn('text_body', text, (c) => c.notNull())
    .addColumn('html_body', text, (c) => c.notNull())
    .addColumn('activation_link', text)
    .addColumn('status', text, (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('next_attempt_at', text, (c) => c.notNull())
    .addColumn('claimed_until', text)
    .addColumn('last_error', text)
    .addColumn('created_at', text, (c) => c.notNull())
    .addColumn('sent_at', text)
    .execute();
  await db.schema.createIndex('mail_outbox_due').on('mail_outbox').columns(['status', 'next_attempt_at']).execute();
  await db.schema.createIndex('mail_outbox_created').on('mail_outbox').columns(['created_at', 'id']).execute();
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('mail_outbox').execute();
  await db.schema.dropIndex('user_invitations_token_hash').execute();
  await db.schema.alterTable('user_invitations').dropColumn('invited_by').execute();
  await db.schema.alterTable('user_invitations').dropColumn('token_hash').execute();
  await db.schema.dropTable('user_visible_apps').execute();
  await db.schema.dropTable('user_roles').execute();
  await db.schema.dropTable('users').execute();
}
