/**
 * Table row types. They never leave the repositories and services: routes see domain objects.
 * Booleans are stored as 0/1 and instants as ISO-8601 UTC strings (sortable as text) so that one
 * repository serves SQLite and PostgreSQL alike.
 */
import type { Generated } from 'kysely';

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
}

export interface UserInvitationRoleTable {
  invitation_id: string;
  role: string;
}

export interface UserInvitationVisibleAppTable {
  invitation_id: string;
  app_id: string;
}

/** Invitations that were accepted or expired answer 410 by id (behavior.md A6). */
export interface InvitationTombstoneTable {
  id: string;
  outcome: 'accepted' | 'expired';
  at: string;
}

/**
 * One row per email that is taken, by a pending invitation or a team user. Its primary key makes
 * duplicate invitations impossible even under concurrency (behavior.md A9).
 */
export interface EmailClaimTable {
  email_key: string;
  owner_type: 'invitation' | 'user';
  owner_id: string;
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
}

export type { Generated };

import type { Kysely, Transaction } from 'kysely';
/** A connection or an open transaction: repositories take either. */
export type Executor = Kysely<Database> | Transaction<Database>;
