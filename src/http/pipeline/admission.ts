/**
 * Who may ask: authentication and the hourly quota (every request with a key), the Accept header
 * (A5), and the write permission (A2). Each step throws Apple's error or answers itself (406).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import type { Clock } from '../../clock.js';
import { ApiError } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import { type Authenticator, type Principal } from '../auth.js';
import { AuthFailureLimiter } from '../auth-failures.js';
import { rateLimitHeader, type RateLimiter } from '../rate-limit.js';
import { splitTarget } from '../responses.js';

/**
 * What a request's Accept must admit (A5). Negotiator refuses a range whose parameters the offered
 * type lacks, so `application/json; charset=utf-8` (which we do send) is offered explicitly.
 */
const ACCEPTABLE_TYPES = ['application/json', 'application/json; charset=utf-8'];
/** Accept headers that clients send most and that need no negotiation to be accepted. */
const ACCEPTED_AS_SENT = new Set([...ACCEPTABLE_TYPES, '*/*']);

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

export class Admission {
  constructor(
    private readonly authenticator: Authenticator,
    private readonly limiter: RateLimiter,
    private readonly clock: Clock,
    /** failed authentications per client address (request.ip); off unless given */
    private readonly failures: AuthFailureLimiter = new AuthFailureLimiter({ limit: 0 }),
  ) {}

  /**
   * Authenticates the request and counts it against its key's hourly quota, setting X-Rate-Limit
   * (every response to a request with a valid key carries it, A18). Throws 401 or 429.
   *
   * An address that has failed to authenticate too often is refused with the same 429 (and
   * `Retry-After`) before its token is read: neither verified nor counted against any key's quota.
   */
  async admit(request: FastifyRequest, reply: FastifyReply, writeChecksKey = false): Promise<Principal> {
    const nowMs = this.clock.now().getTime();
    const wait = this.failures.blockedFor(request.ip, nowMs);
    if (wait !== undefined) {
      reply.header('retry-after', String(wait));
      throw errors.rateLimitExceeded();
    }
    let principal: Principal;
    try {
      principal = await this.authenticator.authenticate(
        request.headers.authorization,
        { method: request.method, ...splitTarget(request.raw.url) },
        writeChecksKey,
      );
    } catch (err) {
      if (err instanceof ApiError && err.status === 401) this.failures.fail(request.ip, nowMs);
      throw err;
    }
    if (principal.keyCheck) principal.keyCheck.onRefused = () => this.failures.fail(request.ip, nowMs);
    const decision = await this.limiter.hit(principal.keyId, nowMs);
    // a key taken as last read is confirmed before it is told its quota is spent (src/keys/key-check.ts)
    if (!decision.allowed) await principal.keyCheck?.confirm();
    reply.header('x-rate-limit', rateLimitHeader(decision));
    if (!decision.allowed) throw errors.rateLimitExceeded();
    return principal;
  }

  /**
   * An operation's onRequest step: admits the request, then checks Accept and, when the operation
   * says who may call it (`permits`: writes A2, sandbox testers A19), the key's roles; sets
   * request.principal. `type`: the path's resource type (for the 404 of a NUL id).
   * `writeChecksKey`: the operation's write checks the request's key (src/keys/key-check.ts); the
   * principal is then set before anything can refuse the request, so that the refusal confirms the
   * key first (./errors.ts).
   */
  guard(type: string, permits: ((principal: Principal) => boolean) | undefined, writeChecksKey = false) {
    return async (request: FastifyRequest, reply: FastifyReply) => {
      const params = request.params as Record<string, string>;
      if (Object.values(params).some((v) => v === '')) throw errors.pathError(splitTarget(request.raw.url).path);
      // No id of ours contains a NUL (PostgreSQL text cannot even hold one): such an id is unknown.
      if (params.id?.includes('\u0000')) throw errors.notFound(type, params.id);
      const principal = await this.admit(request, reply, writeChecksKey);
      request.principal = principal;
      const accept = request.headers.accept;
      if (
        accept !== undefined &&
        !ACCEPTED_AS_SENT.has(accept) &&
        accept.trim() !== '' &&
        !new Negotiator(request).mediaType(ACCEPTABLE_TYPES)
      ) {
        await principal.keyCheck?.confirm();
        return reply
          .code(406)
          .type('text/plain')
          .send(`The provided Accept header is not supported for this request.\n\nRequested: ${accept}\n\nAllowed: application/json`);
      }
      if (permits && !permits(principal)) throw errors.forbidden();
      return undefined;
    };
  }
}
