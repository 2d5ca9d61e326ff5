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
  /**
   * Whether a 200 may be kept and sent again (SQLite's response cache is on, the operation reads):
   * only then need a read work out its OperationResult.validUntil.
   */
  keepable: boolean;
}

export interface OperationResult {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
  /**
   * Reads only: until when (ms since the epoch; Infinity: for ever) this 200's body stays the
   * answer to the same request if nothing is written meanwhile. Given, the body may be kept and
   * sent again (src/http/response-cache.ts); absent, it is never reused.
   */
  validUntil?: number;
}

export interface Operation {
  /** `METHOD /path/{template}` exactly as in the spec, e.g. `GET /v1/userInvitations/{id}`. */
  key: string;
  /** Writes need an ADMIN key (behavior.md A2). */
  write: boolean;
  /** Whether the operation reads a JSON body. */
  body: boolean;
  handle(ctx: RequestContext): Promise<OperationResult>;
}
