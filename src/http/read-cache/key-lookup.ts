/**
 * Keys found, remembered while the database stays as it was. Every request looks its key up; on
 * SQLite the answer stands as long as the database's version is the one it was read at, i.e. until
 * anything is written by any process (a key created or revoked by the CLI included).
 */
import type { ApiKey, KeyLookup } from '../../keys/service.js';
import type { Versions } from './versions.js';

/** How many keys are remembered (found or not); a team has a handful. */
const CAPACITY = 1_000;

export class CachedKeyLookup implements KeyLookup {
  private readonly found = new Map<string, { version: string; key: ApiKey | undefined }>();

  constructor(
    private readonly inner: KeyLookup,
    private readonly versions: Versions,
  ) {}

  async find(id: string): Promise<ApiKey | undefined> {
    // read before the key: an answer is remembered under a version no later than what it holds
    const version = this.versions.current();
    const known = this.found.get(id);
    if (known?.version === version) return known.key;
    const key = await this.inner.find(id);
    if (this.found.size >= CAPACITY) this.found.clear();
    this.found.set(id, { version, key });
    return key;
  }
}
