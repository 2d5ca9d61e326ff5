/**
 * The read caches: the only code that knows answers, rendered JSON, keys and apps are kept.
 *
 * Everything else reads as if nothing were kept. Routes declare, per operation, whether a read's
 * answer may be sent again (Operation.reuse, carried in the Fastify route's `config`); services
 * read through small interfaces (KeyLookup, AppReader, AppRenderer, MemberRenderer), and the
 * container (src/container.ts) wraps them with the decorators made here when caching is on. Off
 * (Config.readCache false) means no ReadCache at all: the plugin is not registered and nothing is
 * wrapped.
 *
 * What is kept, and why it is still the answer when used:
 * - whole 200 bodies of reads (./response-cache.ts), on SQLite: checked against the database's
 *   version (Db.version, read once per request when it arrives, ./versions.ts) and against the
 *   instant the operation said its answer may change without a write (ReuseHint.changesAt);
 * - keys found by authentication (./key-lookup.ts), on SQLite, under the same version;
 * - every app (./app-snapshot.ts): on SQLite under the version read last when a request arrived; on
 *   PostgreSQL under the apps' own version (migration 012), read when the apps are wanted;
 * - when a read's answer may next change without a write (./change-times.ts), on SQLite, under the
 *   version read when the request arrived;
 * - cursors' signatures (./cursor-signatures.ts): they depend on the cursor and the team's secret only;
 * - runs of members and apps rendered once, joined (./joined-runs.ts): handed out only for the very
 *   renderings they were joined from;
 * - apps rendered as JSON (./app-json.ts), checked against the app as just read;
 * - user invitations rendered as JSON (./member-json.ts): an invitation never changes once written.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, RouteHandlerMethod } from 'fastify';
import fp from 'fastify-plugin';
import type { Clock } from '../../clock.js';
import { SharedReads } from '../../db/shared-reads.js';
import type { KeyLookup } from '../../keys/service.js';
import type { AppReader, AppRow } from '../../resources/apps/repository.js';
import type { CursorCodec } from '../../jsonapi/cursor.js';
import type { AppRenderer, MemberRenderer } from '../../jsonapi/include.js';
import type { ReuseHint } from '../operation.js';
import { requestTarget, sendJsonParts } from '../responses.js';
import { MemoAppRenderer } from './app-json.js';
import { ChangeTimes } from './change-times.js';
import { AppSnapshot } from './app-snapshot.js';
import { MemoCursorCodec } from './cursor-signatures.js';
import { JoinedRuns } from './joined-runs.js';
import { CachedKeyLookup } from './key-lookup.js';
import { MemoMemberRenderer } from './member-json.js';
import { ResponseCache } from './response-cache.js';
import { Versions } from './versions.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** the database's version when the request arrived (SQLite, read cache on) */
    dbVersion: string | undefined;
  }
}

/** A request's Cache-Control that asks for an answer read anew (RFC 9111, 5.2.1.4). */
const NO_CACHE = /(^|,)\s*no-cache\s*(,|$)/i;

/** Marks a handler already wrapped (Fastify may hand one route's options to onRoute twice: GET and HEAD). */
const WRAPPED = Symbol('readCache.wrapped');

export interface ReadCacheOptions {
  /** Db.version: present on SQLite only */
  version: (() => string) | undefined;
  clock: Clock;
  /** room for whole read responses in MiB (Config.responseCacheMb); 0: none are kept */
  responseCacheMb: number;
}

export class ReadCache {
  /** whole read responses (SQLite, unless responseCacheMb is 0) */
  readonly responses: ResponseCache | undefined;
  private readonly versions: Versions | undefined;
  private readonly memos: MemoMemberRenderer<unknown>[] = [];
  /** runs of members and apps rendered once, joined */
  readonly runs = new JoinedRuns();

  constructor(private readonly options: ReadCacheOptions) {
    this.versions = options.version && new Versions(options.version);
    this.responses = options.version && options.responseCacheMb > 0 ? new ResponseCache(options.responseCacheMb * 1024 * 1024) : undefined;
  }

  /** Key lookups answered again while nothing is written (SQLite). */
  keys(inner: KeyLookup): KeyLookup {
    return this.versions ? new CachedKeyLookup(inner, this.versions) : inner;
  }

  /**
   * Apps read once per version: on SQLite the database's, read last when a request arrived (as for
   * keys), so that a request reads the version once, not again for its apps; on PostgreSQL the
   * apps' own (`version()`), read when they are wanted, by a statement that the reads asking at the
   * same time share.
   */
  apps(inner: AppReader & { listAll(): Promise<AppRow[]>; version(): Promise<string | undefined> }): AppReader {
    const versions = this.versions;
    if (versions) return new AppSnapshot(inner, () => versions.current());
    const shared = new SharedReads<null, string>(async () => {
      const version = await inner.version();
      return new Map(version === undefined ? [] : [[null, version]]);
    });
    return new AppSnapshot(inner, () => shared.read(null));
  }

  /** Apps rendered once per content. */
  appJson(inner: AppRenderer): AppRenderer {
    return new MemoAppRenderer(inner);
  }

  /** Cursors with their signatures kept. */
  cursors(secret: Buffer): CursorCodec {
    return new MemoCursorCodec(secret);
  }

  /** Members rendered once: only for a resource whose members never change once written. */
  immutableMembers<D>(inner: MemberRenderer<D>): MemberRenderer<D> {
    const memo = new MemoMemberRenderer(inner);
    this.memos.push(memo);
    return memo;
  }

  /**
   * Forgets the members rendered once: after the emulator replaced the whole state (an import), a
   * member "never changed" may be another under the same id. What else is kept is checked against
   * the database's version or read anew.
   */
  forgetMembers(): void {
    for (const memo of this.memos) memo.clear();
  }

  /**
   * The Fastify plugin: reads the version as each request arrives, and answers the routes that
   * declare `config.reuse` from the whole responses kept. Registered on the root instance, before
   * the routes.
   */
  plugin(): (app: FastifyInstance) => Promise<void> {
    const { versions, responses } = this;
    const clock = this.options.clock;
    const runs = this.runs;
    const plugin = async (app: FastifyInstance) => {
      if (!versions) {
        app.addHook('onRequest', (_request, reply, done) => {
          reply.jsonJoiner = runs;
          done();
        });
        return;
      }
      app.decorateRequest('dbVersion', undefined);
      app.addHook('onRequest', (request, reply, done) => {
        reply.jsonJoiner = runs;
        // the version is read by every other request that arrives, which is what the caches need
        if (request.routeOptions.config.withoutDatabase) return done();
        request.dbVersion = versions.arrived();
        done();
      });
      if (!responses) return;
      const changeTimes = new ChangeTimes();
      app.addHook('onRoute', (route) => {
        const reuse = route.config?.reuse;
        if (reuse && !(route.handler as { [WRAPPED]?: true })[WRAPPED])
          route.handler = reusing(route.handler, reuse, responses, changeTimes, clock);
      });
    };
    // not encapsulated: the hooks apply to the routes of the instance it is registered on
    return fp(plugin, { name: 'asc-access-read-cache' });
  }
}

/**
 * A read answered before, if nothing was written since and its time has not run out; a client that
 * sends `Cache-Control: no-cache` has it read anew (and kept for the next one). Authentication,
 * scope and the quota ran before (onRequest), cached body or not.
 */
function reusing(
  handler: RouteHandlerMethod,
  reuse: ReuseHint,
  responses: ResponseCache,
  changeTimes: ChangeTimes,
  clock: Clock,
): RouteHandlerMethod {
  const wrapped = async function (this: FastifyInstance, request: FastifyRequest, reply: FastifyReply) {
    const version = request.dbVersion!;
    const key = requestTarget(request.raw.url);
    if (!NO_CACHE.test(request.headers['cache-control'] ?? '')) {
      const body = responses.get(key, version, clock.now().getTime());
      if (body) return sendJsonParts(reply, 200, body);
    }
    const changesAt = await changeTimes.next(reuse, version, clock.now());
    await handler.call(this, request, reply);
    const sent = reply.jsonParts;
    if (sent && reply.statusCode === 200)
      responses.set(key, version, clock.now().getTime(), changesAt ? changesAt.getTime() : Infinity, sent);
    return reply;
  };
  (wrapped as { [WRAPPED]?: true })[WRAPPED] = true;
  return wrapped;
}
