/**
 * A key checked by the write it authorizes. Authentication reads the request's key on every request,
 * so that a key revoked anywhere is refused everywhere at once (docs/deployment.md). On PostgreSQL
 * that read is a round trip of its own, and a create is otherwise one statement
 * (src/resources/user-invitations/one-statement-create.ts): the read would be half of its round
 * trips. So for a create, and only for a team key this instance has read before, authentication
 * takes the key as last read (its public half, role and team) and leaves this check on the
 * principal: the create's statement writes only if it finds the key unchanged and not revoked, in
 * the same snapshot as its writes, and says whether it did. Until something confirms the key this
 * way or by reading it again, nothing may be written or answered for the request:
 *
 * - the create's statement confirms it, or refuses it (401, nothing written);
 * - the create's transaction, where the statement leaves the create to it, confirms first;
 * - every other answer (400, 403, 406, 409, 429, an unexpected error) confirms first, and a key
 *   that is gone turns it into the 401 the request would have had (src/http/pipeline/).
 *
 * The check is the same as the read it replaces: the key row, as it is when the statement (or the
 * read) runs, after the request arrived. Off with the one-statement create (ASC_ONE_STATEMENT_CREATE)
 * and on SQLite, where every request reads its key first.
 */
import { errors } from '../errors/catalogue.js';
import type { ApiKey } from './service.js';

/** What a statement must find in the key's row: its id, public half and role, live, a team key. */
export interface KeyAsRead {
  id: string;
  publicKeyPem: string;
  role: string;
}

export class KeyCheck {
  private state: 'open' | 'confirmed' | 'refused' = 'open';
  /** called once if the key turns out to be gone (the client's failed authentications are counted) */
  onRefused: () => void = () => {};

  constructor(
    readonly key: KeyAsRead,
    /** reads the key now: true when it is still as read and not revoked */
    private readonly readAgain: () => Promise<boolean>,
  ) {}

  get confirmed(): boolean {
    return this.state === 'confirmed';
  }

  /** A statement found the key as read and live, in the snapshot it wrote in (or not at all). */
  found(live: boolean): void {
    if (live) this.state = 'confirmed';
    else this.refuse();
  }

  /** Reads the key again unless something confirmed it already; throws the 401 if it is gone. */
  async confirm(): Promise<void> {
    if (this.state === 'confirmed') return;
    if (this.state === 'open' && (await this.readAgain())) {
      this.state = 'confirmed';
      return;
    }
    this.refuse();
  }

  private refuse(): never {
    if (this.state !== 'refused') {
      this.state = 'refused';
      this.onRefused();
    }
    throw errors.notAuthorized();
  }
}

/** Whether `key` (as read now) is the team key `asRead` describes, and not revoked. */
export function unchanged(key: ApiKey | undefined, asRead: KeyAsRead): boolean {
  return (
    key !== undefined &&
    key.revokedAt === null &&
    key.userId === null &&
    key.publicKeyPem === asRead.publicKeyPem &&
    key.role === asRead.role
  );
}
