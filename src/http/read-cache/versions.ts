/**
 * The database's version (Db.version, SQLite only) as the read caches use it: a value that changes
 * whenever anything is written, by any process. Each request reads it once, when it arrives
 * (arrived()); what the request then looks up is checked against that value. A value read by a
 * later request is as good: it is read after this one arrived, so whatever was acknowledged before
 * this request is in it.
 */
export class Versions {
  private last: string | undefined;

  constructor(private readonly read: () => string) {}

  /** Reads the version for a request that just arrived. */
  arrived(): string {
    this.last = this.read();
    return this.last;
  }

  /** The version read last, or read now when no request has come yet. */
  current(): string {
    return this.last ?? this.arrived();
  }
}
