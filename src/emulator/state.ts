/**
 * A team's whole state as one JSON document (the emulator's export, import, reset and seed file).
 * Owner: the state work of issue 22; see docs/testing-your-client.md for the document's format.
 */
import type { Clock } from '../clock.js';
import type { Db } from '../db/database.js';

export const STATE_FORMAT = 'asc-access-state/1';

export interface StateApiKey {
  id: string;
  name: string;
  role: string;
  publicKey: string;
  userId: string | null;
  createdAt: string;
  revokedAt: string | null;
}
export interface StateApp {
  id: string;
  name: string;
  bundleId: string;
  sku: string;
  primaryLocale: string;
  createdAt: string;
}
export interface StateUser {
  id: string;
  username: string;
  firstName: string;
  lastName: string;
  roles: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  visibleAppIds: string[];
  createdAt: string;
}
export interface StateInvitation {
  id: string;
  email: string;
  firstName: string;
  lastName: string;
  roles: string[];
  allAppsVisible: boolean;
  provisioningAllowed: boolean;
  visibleAppIds: string[];
  createdAt: string;
  expirationDate: string;
  invitedBy: string | null;
  tokenHash: string | null;
}
export interface StateEndedInvitation {
  id: string;
  outcome: 'accepted' | 'expired';
  at: string;
}

/** What export gives: complete, every array sorted by id. */
export interface StateDocument {
  format: typeof STATE_FORMAT;
  team: { issuerId: string };
  apiKeys: StateApiKey[];
  apps: StateApp[];
  users: StateUser[];
  invitations: StateInvitation[];
  endedInvitations: StateEndedInvitation[];
}

/** A document's invalid part: answered 422 ENTITY_UNPROCESSABLE with this pointer. */
export class StateDocumentError extends Error {
  constructor(
    message: string,
    /** JSON Pointer into the document, e.g. /apps/3/bundleId */
    readonly pointer: string,
  ) {
    super(message);
    this.name = 'StateDocumentError';
  }
}

export type ResetKeep = 'apiKeys' | 'apps';

export interface TeamState {
  export(): Promise<StateDocument>;
  /**
   * Replaces the whole state with `input` (a seed file or an export; seed files may leave out ids,
   * dates, public keys given private keys, and whole arrays). Throws StateDocumentError.
   */
  import(input: unknown): Promise<void>;
  /** Deletes everything but the team's issuer id and what `keep` names. */
  reset(keep?: readonly ResetKeep[]): Promise<void>;
  /** true when the team holds no keys, apps, users or invitations (a seed file applies then) */
  isEmpty(): Promise<boolean>;
}

export function teamState(db: Db, clock: Clock): TeamState {
  void db;
  void clock;
  throw new Error('teamState: not built yet (issue 22, state)');
}
