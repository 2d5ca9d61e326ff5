/**
 * Resources with a `visibleApps` relationship (users, user invitations), read alike: their list, one
 * of them, with `include=visibleApps` and sparse fieldsets, and the relationship's two read
 * endpoints. A resource gives its list definition, its reads (VisibleAppsSource, its service) and
 * its rendering; its routes call the methods of VisibleAppsDocuments.
 */
import type { Page } from '../db/keyset.js';
import type { ListDefinition, ListRequest } from '../db/list-query.js';
import type { App } from '../domain/app.js';
import { collectionDocument } from './collection.js';
import type { CursorCodec } from './cursor.js';
import { applyFields, type Relationship, type Resource } from './document.js';
import { linkTo } from './links.js';
import { listPage, parseList, type ListQueries, DEFAULT_LIMIT } from './list.js';
import { intParam, listParam, stringParam, type ParsedQuery } from './query.js';
import type { RawJson } from './raw-json.js';

/** The default of `limit[visibleApps]` (docs/behavior.md A15). */
export const DEFAULT_VISIBLE_APPS_LIMIT = 10;

/** A member's first visible app ids and how many it has (`include=visibleApps`). */
export interface VisibleAppsSlice {
  ids: string[];
  total: number;
}

/** Slices from (owner, app) rows ordered by owner then app: the first `limit` app ids of each owner and their count. */
export function slicesFrom(
  ownerIds: readonly string[],
  rows: ReadonlyArray<{ owner_id: string; app_id: string }>,
  limit: number,
): Map<string, VisibleAppsSlice> {
  const out = new Map<string, VisibleAppsSlice>();
  for (const id of ownerIds) out.set(id, { ids: [], total: 0 });
  for (const r of rows) {
    const slice = out.get(r.owner_id)!;
    slice.total++;
    if (slice.ids.length < limit) slice.ids.push(r.app_id);
  }
  return out;
}

/**
 * The relationship: links only; with `include=visibleApps` (a `slice`) also the linkage, capped at
 * `sliceLimit`, and its paging (A17).
 */
export function visibleAppsRelationship(self: string, slice?: VisibleAppsSlice, sliceLimit = DEFAULT_VISIBLE_APPS_LIMIT): Relationship {
  const relationship: Relationship = {
    links: { self: `${self}/relationships/visibleApps`, related: `${self}/visibleApps` },
  };
  if (slice) {
    relationship.meta = { paging: { total: slice.total, limit: sliceLimit } };
    relationship.data = slice.ids.map((id) => ({ type: 'apps', id }));
  }
  return relationship;
}

/** An app in its default rendering (no `include`), narrowed to `fields` when given. */
export interface AppRenderer {
  render(app: App, fields: readonly string[] | undefined): Resource | RawJson;
}

/** What a request asks of each member's rendering. */
export interface MemberView {
  /** the sparse fieldset, if any */
  fields: readonly string[] | undefined;
  /** with include=visibleApps: the linkage's `limit[visibleApps]`; else undefined */
  sliceLimit: number | undefined;
}

export interface RenderedMember {
  resource: Resource | RawJson;
  /** with include=visibleApps: the app ids its linkage names, in order */
  appIds: readonly string[];
}

export interface MemberRenderer<D> {
  /**
   * The members with these ids, rendered as `view` asks, by id. `load` reads the members; one that
   * it no longer finds (removed since its page was read) is absent.
   */
  render(ids: readonly string[], load: (ids: readonly string[]) => Promise<D[]>, view: MemberView): Promise<Map<string, RenderedMember>>;
}

/** Renders members anew: reads them, and their visible-apps slices when the view includes them. */
export function memberRenderer<D extends { id: string }>(
  serialize: (item: D, base: string, slice?: VisibleAppsSlice, sliceLimit?: number) => Resource,
  slices: (ids: readonly string[], limit: number) => Promise<Map<string, VisibleAppsSlice>>,
  base: string,
): MemberRenderer<D> {
  return {
    async render(ids, load, { fields, sliceLimit }) {
      const items = await load(ids);
      const found =
        sliceLimit === undefined
          ? undefined
          : await slices(
              items.map((i) => i.id),
              sliceLimit,
            );
      const out = new Map<string, RenderedMember>();
      for (const item of items) {
        const slice = found?.get(item.id);
        out.set(item.id, { resource: applyFields(serialize(item, base, slice, sliceLimit), fields), appIds: slice?.ids ?? [] });
      }
      return out;
    },
  };
}

/** The SQL a resource with visible apps runs for these reads (its repository). */
export interface VisibleAppsQueries<Row> extends ListQueries {
  /** the rows with these ids, in any order (ids that name none are left out) */
  findByIds(ids: readonly string[]): Promise<Row[]>;
  /** for each member, its first `limit` visible app ids (by id) and how many it has */
  visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>>;
  /** one member's visible app ids after `afterAppId`, by app id: up to `limit + 1` */
  visibleAppPage(id: string, afterAppId: string | undefined, limit: number): Promise<string[]>;
  visibleAppCount(id: string): Promise<number>;
}

/** The reads, as a service answers them: in domain objects. */
export interface VisibleAppsReader<D> {
  /** a page of ids of the list; byIds() reads the members (those not rendered already) */
  page(req: ListRequest, limit: number): Promise<Page<string>>;
  byIds(ids: readonly string[]): Promise<D[]>;
  visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>>;
  /** the apps with these ids, each once, in id order */
  appsByIds(ids: readonly string[]): Promise<App[]>;
  visibleAppIdPage(id: string, afterAppId: string | undefined, limit: number): Promise<Page<string>>;
}

export class VisibleAppsReads<Row, D extends { id: string }> implements VisibleAppsReader<D> {
  constructor(
    private readonly queries: VisibleAppsQueries<Row>,
    /** the apps with these ids, each once, in id order */
    readonly appsByIds: (ids: readonly string[]) => Promise<App[]>,
    private readonly toDomain: (row: Row) => D,
    /** the value every list is narrowed to (ListDefinition.scope), decided at each call */
    private readonly scope?: () => string,
  ) {}

  page(req: ListRequest, limit: number): Promise<Page<string>> {
    return listPage(this.queries, req, limit, this.scope?.());
  }

  /** The members with these ids that exist, in the order given. */
  async byIds(ids: readonly string[]): Promise<D[]> {
    const byId = new Map(
      (await this.queries.findByIds(ids)).map((row) => {
        const d = this.toDomain(row);
        return [d.id, d] as const;
      }),
    );
    return ids.flatMap((id) => byId.get(id) ?? []);
  }

  visibleAppSlices(ids: readonly string[], limit: number): Promise<Map<string, VisibleAppsSlice>> {
    return this.queries.visibleAppSlices(ids, limit);
  }

  /** A page of one member's visible app ids, by id. */
  async visibleAppIdPage(id: string, afterAppId: string | undefined, limit: number): Promise<Page<string>> {
    const [ids, total] = await Promise.all([this.queries.visibleAppPage(id, afterAppId, limit), this.queries.visibleAppCount(id)]);
    const items = ids.slice(0, limit);
    const page: Page<string> = { items, total };
    if (ids.length > limit) page.next = { keys: [], id: items[items.length - 1]! };
    return page;
  }
}

/** What the documents read through: the service's `get` (404/410) and its reads. */
export interface VisibleAppsSource<D extends { id: string }> {
  get(id: string): Promise<D>;
  readonly reads: VisibleAppsReader<D>;
}

export interface VisibleAppsDocumentsOptions<D> {
  /** the spec's type, which is also the path segment: `users` or `userInvitations` */
  type: 'users' | 'userInvitations';
  list: ListDefinition;
  renderer: MemberRenderer<D>;
  apps: AppRenderer;
  base: string;
  cursors: CursorCodec;
}

export class VisibleAppsDocuments<D extends { id: string }> {
  constructor(
    private readonly source: VisibleAppsSource<D>,
    private readonly o: VisibleAppsDocumentsOptions<D>,
  ) {}

  /** GET /v1/{type}: filters, sort, keyset cursors, sparse fieldsets, `include=visibleApps`. */
  async list(query: ParsedQuery, path: string) {
    const { request, limit, cursorSort } = parseList(this.o.list, query, this.o.cursors, this.o.type);
    const page = await this.source.reads.page(request, limit);
    const { data, included } = await this.render(page.items, (ids) => this.source.reads.byIds(ids), query);
    return collectionDocument({
      base: this.o.base,
      path,
      pairs: query.pairs,
      data,
      ...(included ? { included } : {}),
      total: page.total,
      limit,
      ...(page.next ? { nextCursor: this.o.cursors.encode({ sort: cursorSort, ...page.next }) } : {}),
    });
  }

  /** GET /v1/{type}/{id} */
  async one(id: string, query: ParsedQuery, path: string) {
    const member = await this.source.get(id);
    const { data, included } = await this.render([member.id], async () => [member], query);
    const links = { self: linkTo(this.o.base, path, query.pairs) };
    return included ? { data: data[0], included, links } : { data: data[0], links };
  }

  /** GET /v1/{type}/{id}/visibleApps */
  async relatedApps(id: string, query: ParsedQuery, path: string) {
    const { page, limit } = await this.visibleAppIdPage(id, query);
    const apps = await this.source.reads.appsByIds(page.items);
    const fields = listParam(query, 'fields[apps]');
    const data = apps.map((a) => this.o.apps.render(a, fields));
    return this.appCollection(query, path, page, data, limit);
  }

  /** GET /v1/{type}/{id}/relationships/visibleApps */
  async relatedAppIds(id: string, query: ParsedQuery, path: string) {
    const { page, limit } = await this.visibleAppIdPage(id, query);
    const data = page.items.map((appId) => ({ type: 'apps', id: appId }));
    return this.appCollection(query, path, page, data, limit);
  }

  /** The page of the member's visible app ids a related-apps request asks for (404 or 410 first). */
  private async visibleAppIdPage(id: string, query: ParsedQuery) {
    const after = this.appCursor(query);
    await this.source.get(id);
    const limit = intParam(query, 'limit', DEFAULT_LIMIT);
    return { page: await this.source.reads.visibleAppIdPage(id, after, limit), limit };
  }

  /**
   * Renders the members with these ids, with `include` and sparse fieldsets applied, in the order
   * given; `load` reads them. A member that `load` no longer finds (removed since its page was read)
   * is left out.
   */
  private async render(
    ids: readonly string[],
    load: (ids: readonly string[]) => Promise<D[]>,
    query: ParsedQuery,
  ): Promise<{ data: Array<Resource | RawJson>; included?: Array<Resource | RawJson> }> {
    const fields = listParam(query, `fields[${this.o.type}]`);
    const include = listParam(query, 'include')?.includes('visibleApps') ?? false;
    const sliceLimit = include ? intParam(query, 'limit[visibleApps]', DEFAULT_VISIBLE_APPS_LIMIT) : undefined;
    const rendered = await this.o.renderer.render(ids, load, { fields, sliceLimit });
    const data: Array<Resource | RawJson> = [];
    const appIds: string[] = [];
    for (const id of ids) {
      const m = rendered.get(id);
      if (!m) continue;
      data.push(m.resource);
      for (const appId of m.appIds) appIds.push(appId);
    }
    if (sliceLimit === undefined) return { data };
    // appsByIds() drops repeated ids and orders them by id
    const apps = await this.source.reads.appsByIds(appIds);
    const appFields = listParam(query, 'fields[apps]');
    return { data, included: apps.map((a) => this.o.apps.render(a, appFields)) };
  }

  /** Decodes the cursor of a related-apps page (keyed by app id). */
  private appCursor(query: ParsedQuery): string | undefined {
    const cursor = stringParam(query, 'cursor');
    return cursor === undefined ? undefined : this.o.cursors.decode(cursor, 'apps', 0).id;
  }

  /** A page of apps or app linkages as a collection document. */
  private appCollection<T extends Resource | RawJson | { type: string; id: string }>(
    query: ParsedQuery,
    path: string,
    page: Page<unknown>,
    data: T[],
    limit: number,
  ) {
    return collectionDocument({
      base: this.o.base,
      path,
      pairs: query.pairs,
      data,
      total: page.total,
      limit,
      ...(page.next ? { nextCursor: this.o.cursors.encode({ sort: 'apps', keys: [], id: page.next.id }) } : {}),
    });
  }
}
