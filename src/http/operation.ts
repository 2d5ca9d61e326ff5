/** What a resource's routes hand to the app: one handler per operation of the vendored spec. */
import type { ParsedQuery } from '../jsonapi/query.js';
import type { Principal } from './auth.js';

export interface RequestContext {
  principal: Principal;
  query: ParsedQuery;
  params: Readonly<Record<string, string>>;
  /** The parsed JSON body, or undefined when the request had none. */
  body: unknown;
  /** The request path as received, without the query. */
  path: string;
}

export interface OperationResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * A read's statement that its 200 depends only on what the database holds and on the clock: the
 * same request answers the same as long as nothing is written, until `changesAt` (if given) says
 * the clock alone changes the answer (an invitation expires). Asked before the read begins.
 */
export interface ReuseHint {
  /** the next instant after `now` at which the answer may change without a write; undefined: none */
  changesAt?: (now: Date) => Promise<Date | undefined>;
}

export interface Operation {
  /** `METHOD /path/{template}` exactly as in the spec, e.g. `GET /v1/userInvitations/{id}`. */
  key: string;
  /** Writes need an ADMIN key (docs/behavior.md A2), unless `permits` says who may. */
  write: boolean;
  /**
   * Who may call the operation, read or write, when it is not A2's rule (sandbox testers, A19);
   * checked after authentication, before anything is read (403 otherwise).
   */
  permits?: (principal: Principal) => boolean;
  /**
   * The operation's write checks the request's key itself, when it can (src/keys/key-check.ts): the
   * key may then be taken as last read, with a KeyCheck on the principal that the handler passes to
   * its write.
   */
  checksKey?: true;
  /** Whether the operation reads a JSON body. */
  body: boolean;
  /** Reads only: given, the answer may be sent again to the same request (see ReuseHint). */
  reuse?: ReuseHint;
  handle(ctx: RequestContext): Promise<OperationResult>;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** the operation's Operation.reuse, for plugins that act on it */
    reuse?: ReuseHint;
    /**
     * a route that must answer whatever the database's state (the probes, /metrics): no plugin reads
     * the database for it; what the route itself reads, it guards
     */
    withoutDatabase?: true;
  }
}
