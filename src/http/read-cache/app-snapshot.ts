/**
 * On SQLite, every app as of the database's current version, read again whenever it changed:
 * `include=visibleApps` needs up to hundreds of apps per page, and reading them by id per request
 * cost more than the rest of the page. The version (Db.version) changes with every write, of this
 * process or another (the CLI); the one used is the version read last as a request arrived
 * (Versions.current(), ./versions.ts), which was read before the apps, so a snapshot is kept under a
 * version no later than what it holds, and any request that arrives after a write sees a version
 * that tells the snapshot is out of date. Apps are few (those of one team), so a reload is cheap.
 *
 * On PostgreSQL the version is the apps' own (migration 012: every statement that changes the apps
 * moves it, whichever process runs it), read when the apps are wanted, which is after the request
 * arrived, by a statement that the reads asking at the same time share (src/db/shared-reads.ts):
 * one small row instead of the page's hundred apps. A version that cannot be read (the row is
 * gone) reads the apps themselves.
 */
import type { AppReader, AppRow } from '../../resources/apps/repository.js';

interface Snapshot {
  version: string;
  /** by id, as listAll() orders them */
  sorted: AppRow[];
  byId: Map<string, AppRow>;
}

export class AppSnapshot implements AppReader {
  private snapshot: Snapshot | undefined;

  constructor(
    private readonly inner: AppReader & { listAll(): Promise<AppRow[]> },
    /**
     * the database's version, as read when the request being served (or a later one) arrived, or
     * after; undefined: none to go by
     */
    private readonly version: () => string | undefined | Promise<string | undefined>,
  ) {}

  async findByIds(ids: readonly string[]): Promise<AppRow[]> {
    const wanted = new Set<string>();
    // no app id holds a NUL (as AppsRepository.findByIds)
    for (const id of ids) if (!id.includes('\u0000')) wanted.add(id);
    if (wanted.size === 0) return [];
    let version = this.version();
    if (typeof version === 'object') version = await version;
    if (version === undefined) return this.inner.findByIds([...wanted]);
    const { byId, sorted } = this.snapshot?.version === version ? this.snapshot : await this.load(version);
    // the snapshot is in id order: a page's hundred apps of a few hundred are picked from it
    // without sorting; a few of many are looked up and sorted
    if (wanted.size * 16 >= sorted.length) return sorted.filter((row) => wanted.has(row.id));
    return [...wanted].sort().flatMap((id) => byId.get(id) ?? []);
  }

  private async load(version: string): Promise<Snapshot> {
    const sorted = await this.inner.listAll();
    this.snapshot = { version, sorted, byId: new Map(sorted.map((row) => [row.id, row])) };
    return this.snapshot;
  }
}
