/**
 * API keys as Apple has them: one team issuer id; each key has a 10-character id, a name, one role
 * and an EC P-256 key pair of which only the public half is kept. The private half is returned once,
 * as a PKCS#8 PEM (the `.p8` file).
 */
import { generateKeyPairSync, randomBytes, randomInt, randomUUID } from 'node:crypto';
import type { Clock } from '../clock.js';
import { TEAM_KEY_ROLES, type UserRole } from '../domain/roles.js';
import type { KeyRow, KeysRepository, TeamRow } from './repository.js';

const KEY_ID_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789';

export function newKeyId(): string {
  let id = '';
  for (let i = 0; i < 10; i++) id += KEY_ID_ALPHABET[randomInt(KEY_ID_ALPHABET.length)];
  return id;
}

export class KeyError extends Error {
  override name = 'KeyError';
}

/**
 * What the role column holds for an individual key: it has no role of its own and acts with its
 * user's roles as they are at each request (docs/behavior.md A2).
 */
export const INDIVIDUAL_KEY_ROLE = 'INDIVIDUAL';

export interface ApiKey {
  id: string;
  name: string;
  /** a team key's one role; null for an individual key */
  role: UserRole | null;
  createdAt: string;
  revokedAt: string | null;
  userId: string | null;
  publicKeyPem: string;
}

export interface CreatedKey {
  issuerId: string;
  key: ApiKey;
  /** PKCS#8 PEM; shown once, never stored. */
  privateKeyPem: string;
}

export interface Team {
  issuerId: string;
  cursorSecret: Buffer;
}

function toKey(row: KeyRow): ApiKey {
  return {
    id: row.id,
    name: row.name,
    role: row.user_id === null ? (row.role as UserRole) : null,
    createdAt: row.created_at,
    revokedAt: row.revoked_at,
    userId: row.user_id,
    publicKeyPem: row.public_key,
  };
}

function toTeam(row: TeamRow): Team {
  return { issuerId: row.issuer_id, cursorSecret: Buffer.from(row.cursor_secret, 'base64') };
}

/** Finding a key by its id, as authentication does on every request. */
export interface KeyLookup {
  /** The key with this id, revoked or not. */
  find(id: string): Promise<ApiKey | undefined>;
}

export class KeysService implements KeyLookup {
  /** the team once read (see team()) */
  private known: Team | undefined;

  constructor(
    private readonly repo: KeysRepository,
    private readonly clock: Clock,
  ) {}

  /**
   * The team, created with a fresh issuer id and cursor secret on first use. Its row is written
   * once (insert or nothing, by any process) and never changed, so once read it is kept: every
   * request with a team key needs the issuer id.
   */
  async team(): Promise<Team> {
    if (this.known) return this.known;
    const existing = await this.repo.findTeam();
    const row =
      existing ??
      (await this.repo.ensureTeam({
        id: 1,
        issuer_id: randomUUID(),
        cursor_secret: randomBytes(32).toString('base64'),
        created_at: this.clock.now().toISOString(),
      }));
    this.known = toTeam(row);
    return this.known;
  }

  /** Reads the team again on next use: the emulator's state import may have given it another issuer id. */
  forgetTeam(): void {
    this.known = undefined;
  }

  /** A team key with one role. */
  async create(input: { name: string; role: string }): Promise<CreatedKey> {
    if (!(TEAM_KEY_ROLES as readonly string[]).includes(input.role)) {
      throw new KeyError(`A team key's role must be one of ${TEAM_KEY_ROLES.join(', ')}; got '${input.role}'`);
    }
    return this.insert(input.name, input.role, null);
  }

  /** An individual key of a user (who must exist: the caller checks). */
  async createIndividual(input: { name: string; userId: string }): Promise<CreatedKey> {
    return this.insert(input.name, INDIVIDUAL_KEY_ROLE, input.userId);
  }

  private async insert(rawName: string, role: string, userId: string | null): Promise<CreatedKey> {
    const name = rawName.trim();
    if (name === '' || name.length > 100) throw new KeyError('A key name must have 1 to 100 characters');
    const team = await this.team();
    const { publicKey, privateKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    const publicKeyPem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    const privateKeyPem = privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    for (let attempt = 0; attempt < 5; attempt++) {
      const row: KeyRow = {
        id: newKeyId(),
        name,
        role,
        public_key: publicKeyPem,
        created_at: this.clock.now().toISOString(),
        revoked_at: null,
        user_id: userId,
      };
      if (await this.repo.insertKey(row)) return { issuerId: team.issuerId, key: toKey(row), privateKeyPem };
    }
    throw new Error('could not allocate a unique key id');
  }

  async list(): Promise<ApiKey[]> {
    return (await this.repo.listKeys()).map(toKey);
  }

  /** The key with this id, revoked or not. */
  async find(id: string): Promise<ApiKey | undefined> {
    const row = await this.repo.findKey(id);
    return row && toKey(row);
  }

  /** The keys with these ids that exist, revoked or not, in any order: one statement. */
  async findMany(ids: readonly string[]): Promise<ApiKey[]> {
    return (await this.repo.findKeys(ids)).map(toKey);
  }

  async count(): Promise<number> {
    return this.repo.countKeys();
  }

  async revoke(id: string): Promise<void> {
    if (await this.repo.revokeKey(id, this.clock.now().toISOString())) return;
    const key = await this.repo.findKey(id);
    throw new KeyError(key ? `Key ${id} is already revoked` : `There is no key with id ${id}`);
  }
}
