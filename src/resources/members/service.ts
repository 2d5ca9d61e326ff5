/**
 * Reading what users and user invitations share: keyset pages of members, and the visibleApps
 * relationship (linkages, related apps, and the slices `include=visibleApps` puts in a document).
 * Whether a member exists (404, 410) is the caller's business (MemberSource.get).
 */
import { keysetPage, type KeysetPosition, type Page, type SortColumn } from '../../db/keyset.js';
import type { Database } from '../../db/schema.js';
import type { ApiError } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import type { AppReader } from '../apps/repository.js';
import { toApp, type App } from '../apps/service.js';
import type { MemberFilter, MemberSql, MemberTable, VisibleAppsSlice } from './repository.js';

/** The reads of one kind of member. */
export interface MemberReader<D> {
  /** A page of member ids; byIds() reads the members (those the caller has not rendered yet). */
  page(filter: MemberFilter, sort: readonly SortColumn[], after: KeysetPosition | undefined, limit: number): Promise<Page<string>>;
  /** The members with these ids that exist, in the order given. */
  byIds(ids: readonly string[]): Promise<D[]>;
  /** For each member, its first `limit` visible app ids and how many it has (`include=visibleApps`). */
  visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>>;
  /** The apps with these ids, each once, in id order. */
  appsByIds(ids: readonly string[]): Promise<App[]>;
  visibleAppIdPage(id: string, afterAppId: string | undefined, limit: number): Promise<Page<string>>;
  visibleAppPage(id: string, afterAppId: string | undefined, limit: number): Promise<Page<App>>;
}

/** A member service as the shared routes see it. */
export interface MemberSource<D> {
  /** the member, or the 404 (or 410) its absence is */
  get(id: string): Promise<D>;
  readonly reads: MemberReader<D>;
}

export class MemberReads<T extends MemberTable, D> implements MemberReader<D> {
  constructor(
    private readonly members: MemberSql<T>,
    private readonly apps: AppReader,
    private readonly toDomain: (row: Database[T]) => D,
    /** what every list is narrowed to, decided at each call (pending invitations: now) */
    private readonly scope: () => MemberFilter = () => ({}),
  ) {}

  async page(given: MemberFilter, sort: readonly SortColumn[], after: KeysetPosition | undefined, limit: number): Promise<Page<string>> {
    const filter = { ...given, ...this.scope() };
    const [rows, total] = await Promise.all([this.members.page(filter, sort, after, limit), this.members.count(filter)]);
    return keysetPage(rows, total, limit, sort, (r) => r.id);
  }

  async byIds(ids: readonly string[]): Promise<D[]> {
    const byId = new Map((await this.members.findByIds(ids)).map((row) => [row.id, this.toDomain(row)]));
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    return this.members.visibleAppSlices(ids, limit);
  }

  async appsByIds(ids: readonly string[]): Promise<App[]> {
    return (await this.apps.findByIds(ids)).map(toApp);
  }

  /** A page of one member's visible app ids, by id. */
  async visibleAppIdPage(id: string, afterAppId: string | undefined, limit: number): Promise<Page<string>> {
    const [ids, total] = await Promise.all([this.members.visibleAppPage(id, afterAppId, limit), this.members.visibleAppCount(id)]);
    const items = ids.slice(0, limit);
    const page: Page<string> = { items, total };
    if (ids.length > limit) page.next = { keys: [], id: items[items.length - 1]! };
    return page;
  }

  /** The same page with the apps themselves. */
  async visibleAppPage(id: string, afterAppId: string | undefined, limit: number): Promise<Page<App>> {
    const page = await this.visibleAppIdPage(id, afterAppId, limit);
    return { ...page, items: await this.appsByIds(page.items) };
  }
}

/**
 * One 409 per app id that names no app (A12), pointing at its place in the request:
 * `pointer` is the linkage array, e.g. `/data/relationships/visibleApps/data`.
 */
export function unknownAppProblems(appIds: readonly string[], found: ReadonlySet<string>, pointer: string): ApiError[] {
  const problems: ApiError[] = [];
  appIds.forEach((id, i) => {
    if (!found.has(id)) {
      problems.push(errors.relationshipInvalid(`${pointer}/${i}`, `'${id}' is not a valid ID for this relationship. There is no app with this id.`));
    }
  });
  return problems;
}
