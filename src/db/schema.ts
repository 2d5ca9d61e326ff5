/**
 * Table row types. They never leave the repositories and services: routes see domain objects.
 * Booleans are stored as 0/1 and instants as ISO-8601 UTC strings (sortable as text) so that one
 * repository serves SQLite and PostgreSQL alike.
 */
import type { Generated } from 'kysely';
import type { EmailOwner } from '../domain/email.js';

export interface TeamTable {
  id: number;
  issuer_id: string;
  /** base64 HMAC secret that signs paging cursors */
  cursor_secret: string;
  created_at: string;
}

export interface ApiKeyTable {
  id: string;
  name: string;
  role: string;
  /** SPKI PEM of the EC P-256 public key; the private half is never stored */
  public_key: string;
  created_at: string;
  revoked_at: string | null;
  /** set for individual keys (acting as that user) */
  user_id: string | null;
}

export interface AppTable {
  id: string;
  name: string;
  bundle_id: string;
  sku: string;
  primary_locale: string;
  created_at: string;
}

export interface UserInvitationTable {
  id: string;
  email: string;
  /** lower-cased email: uniqueness, filter and sort key */
  email_key: string;
  first_name: string;
  last_name: string;
  /** lower-cased last name: sort key */
  last_name_key: string;
  /** JSON array of UserRole, in the order given */
  roles: string;
  all_apps_visible: number;
  provisioning_allowed: number;
  created_at: string;
  expires_at: string;
  /** SHA-256 (hex) of the activation token; the token itself is never stored */
  token_hash: string | null;
  /** the name of the person who sent the invitation (individual key); null for a team key */
  invited_by: string | null;
}

export interface UserInvitationRoleTable {
  invitation_id: string;
  role: string;
}

export interface UserInvitationVisibleAppTable {
  invitation_id: string;
  app_id: string;
}

/** Invitations that were accepted or expired answer 410 by id (docs/behavior.md A6). */
export interface InvitationTombstoneTable {
  id: string;
  outcome: 'accepted' | 'expired';
  at: string;
}

/**
 * One row per email that is taken, by a pending invitation or a team user. Its primary key makes
 * duplicate invitations impossible even under concurrency (docs/behavior.md A9).
 */
export interface EmailClaimTable {
  email_key: string;
  /** `sandboxTester` since migration 010: a tester's address is no team member's (docs/behavior.md A23) */
  owner_type: EmailOwner;
  owner_id: string;
}

export interface UserTable {
  id: string;
  /** the email the user accepted with, as given */
  username: string;
  /** lower-cased username: uniqueness, filter and sort key */
  username_key: string;
  first_name: string;
  last_name: string;
  last_name_key: string;
  /** JSON array of UserRole */
  roles: string;
  all_apps_visible: number;
  provisioning_allowed: number;
  created_at: string;
}

export interface UserRoleTable {
  user_id: string;
  role: string;
}

export interface UserVisibleAppTable {
  user_id: string;
  app_id: string;
}

export type MailStatus = 'pending' | 'sent' | 'logged' | 'cancelled';

/** Messages written with the invitation in one transaction and delivered by the worker. */
export interface MailOutboxTable {
  id: string;
  invitation_id: string | null;
  recipient: string;
  subject: string;
  /** the rendered message of rows written before migration 008; '' where template_data is set */
  text_body: string;
  html_body: string;
  /** what the message is rendered from (mail/templates.ts, mailTemplateData); null before 008 */
  template_data: string | null;
  activation_link: string | null;
  status: MailStatus;
  attempts: number;
  next_attempt_at: string;
  /** a worker that claimed the message owns it until then */
  claimed_until: string | null;
  /** who made the last claim: the instance (Config.instanceId) and its boot (migration 009) */
  claimed_by_instance: string | null;
  claimed_by_boot: string | null;
  last_error: string | null;
  created_at: string;
  sent_at: string | null;
}

/** A Sandbox Apple Account (migration 010), created and deleted by the operator, read and changed by the API. */
export interface SandboxTesterTable {
  id: string;
  first_name: string;
  last_name: string;
  /** the account's email as given (`acAccountName`) */
  email: string;
  /** lower-cased email: its claim (email_claims) */
  email_key: string;
  /** a TerritoryCode of the spec */
  territory: string;
  apple_pay_compatible: number;
  interrupt_purchases: number;
  /** one of the spec's subscriptionRenewalRate values */
  subscription_renewal_rate: string;
  created_at: string;
}

/** A clear purchase history request: what was asked, and when (migration 010). */
export interface SandboxClearRequestTable {
  id: string;
  created_at: string;
}

/** The testers a clear purchase history request named, each once. */
export interface SandboxClearRequestTesterTable {
  request_id: string;
  tester_id: string;
}

/** Row counters of a table, spread over shards (migration 005); the count is the sum. */
export interface RowCountTable {
  table_name: string;
  shard: number;
  /** bigint: PostgreSQL returns it as a string */
  n: number | string;
}

/** Requests per key and second (PostgreSQL deployments share the hourly quota through it). */
export interface RateLimitCountTable {
  key_id: string;
  /** Unix time in seconds */
  second: number;
  count: number;
}

export interface Database {
  team: TeamTable;
  api_keys: ApiKeyTable;
  apps: AppTable;
  user_invitations: UserInvitationTable;
  user_invitation_roles: UserInvitationRoleTable;
  user_invitation_visible_apps: UserInvitationVisibleAppTable;
  invitation_tombstones: InvitationTombstoneTable;
  email_claims: EmailClaimTable;
  users: UserTable;
  user_roles: UserRoleTable;
  user_visible_apps: UserVisibleAppTable;
  mail_outbox: MailOutboxTable;
  rate_limit_counts: RateLimitCountTable;
  row_counts: RowCountTable;
  sandbox_testers: SandboxTesterTable;
  sandbox_clear_requests: SandboxClearRequestTable;
  sandbox_clear_request_testers: SandboxClearRequestTesterTable;
}

export type { Generated };

import type { Kysely, Transaction } from 'kysely';
/** A connection or an open transaction: repositories take either. */
export type Executor = Kysely<Database> | Transaction<Database>;
