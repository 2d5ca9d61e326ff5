/**
 * Injected faults for the emulator: rules by method and path pattern that turn matching API
 * requests into an error status, a delay or a dropped connection. Owner: the faults work of issue 22.
 *
 * Rules are tried in the order they were added; the first whose method and path match, that has hits
 * left and whose `share` draw succeeds takes the request. A rule used up (`remaining` 0) stays listed,
 * so a test can still read its `hits`, but matches nothing more; `clear()` or `remove(id)` drop it.
 */
import { STATUS_CODES } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { STORAGE_RETRY_AFTER_SECONDS } from '../db/storage-errors.js';
import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { rateLimitHeader } from '../http/rate-limit.js';
import { BODY_LIMIT_BYTES, sendErrors, splitTarget } from '../http/responses.js';

export type FaultAction = { status: number } | { delayMs: number } | { drop: true };

export interface FaultRuleInput {
  /** GET, HEAD, POST, PUT, PATCH, DELETE, OPTIONS (any case) or `*` (the default): any method */
  method?: string;
  /** a glob over the request path without its query, as received (not percent-decoded): `*` is any characters */
  path: string;
  action: FaultAction;
  /** how many matching requests the rule takes, at least 1; absent or null: unlimited */
  times?: number | null;
  /** the probability that a matching request is taken, in (0, 1]; default 1 */
  share?: number;
}

export interface FaultRule {
  id: string;
  /** upper case, or `*` */
  method: string;
  path: string;
  action: FaultAction;
  /** null: unlimited */
  times: number | null;
  share: number;
  /** requests the rule has taken */
  hits: number;
  /** null: unlimited; 0: used up (still listed, matches nothing) */
  remaining: number | null;
}

/** One refused member of a rule, at its JSON Pointer (RFC 6901) in the input. */
export interface FaultRuleProblem {
  message: string;
  pointer: string;
}

/**
 * Thrown by FaultRules.add for an invalid rule: answered 422 with this pointer. `message` and
 * `pointer` name the first problem; `problems` lists every refused member (one entry each).
 */
export class FaultRuleError extends Error {
  readonly problems: readonly FaultRuleProblem[];
  constructor(
    message: string,
    readonly pointer: string,
    problems?: readonly FaultRuleProblem[],
  ) {
    super(message);
    this.name = 'FaultRuleError';
    this.problems = problems ?? [{ message, pointer }];
  }
}

export interface FaultRules {
  /** validates (throws FaultRuleError) and adds */
  add(input: unknown): FaultRule;
  list(): FaultRule[];
  /** false when there is no such rule */
  remove(id: string): boolean;
  clear(): void;
  /**
   * The rule that takes a request with this method and path (without the query), counting the hit,
   * or null. installFaults() calls it once per API request.
   */
  take(method: string, path: string): FaultRule | null;
}

export interface FaultRulesOptions {
  /** uniform in [0, 1), as Math.random (the default); tests pass a seeded one to make `share` repeatable */
  random?: () => number;
}

export const FAULT_METHODS: readonly string[] = ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS', '*'];
/** The longest delay a rule may ask for: a test target should never hold a request for minutes. */
export const MAX_FAULT_DELAY_MS = 60_000;
const INPUT_MEMBERS = new Set(['method', 'path', 'action', 'times', 'share']);
const ACTION_MEMBERS = ['status', 'delayMs', 'drop'];
const MAX_PATH_LENGTH = 2048;

/** A compiled glob: `test` tells whether a whole text matches. */
export interface Glob {
  test(text: string): boolean;
}

/**
 * `*` any characters (slashes included), everything else literally; the whole text must match.
 * Matched without a regular expression: a pattern such as `*a*a*a*a*b` would make one backtrack
 * for seconds on a path of a few dozen characters, holding every request. Here the parts between
 * the stars are found left to right (the leftmost place of each is as good as any for the next),
 * in time linear in the text for each part.
 */
export function compileGlob(glob: string): Glob {
  const parts = glob.split('*');
  if (parts.length === 1) return { test: (text) => text === glob };
  const first = parts[0]!;
  const last = parts[parts.length - 1]!;
  const middle = parts.slice(1, -1).filter((p) => p !== '');
  return {
    test(text) {
      if (text.length < first.length + last.length || !text.startsWith(first) || !text.endsWith(last)) return false;
      const end = text.length - last.length;
      let at = first.length;
      for (const part of middle) {
        const found = text.indexOf(part, at);
        if (found === -1 || found + part.length > end) return false;
        at = found + part.length;
      }
      return true;
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);
const isWhole = (v: unknown): v is number => typeof v === 'number' && Number.isInteger(v);
/** A member name as one JSON Pointer segment (RFC 6901). */
const segment = (name: string) => name.replace(/~/g, '~0').replace(/\//g, '~1');

function validAction(value: unknown, problems: FaultRuleProblem[]): FaultAction | undefined {
  const refuse = (message: string, pointer: string) => void problems.push({ message, pointer });
  if (!isObject(value)) {
    refuse(`'action' must be an object with one of ${ACTION_MEMBERS.join(', ')}`, '/action');
    return undefined;
  }
  const before = problems.length;
  for (const name of Object.keys(value)) {
    if (!ACTION_MEMBERS.includes(name))
      refuse(`'${name}' is not an action; use one of ${ACTION_MEMBERS.join(', ')}`, `/action/${segment(name)}`);
  }
  const given = ACTION_MEMBERS.filter((name) => name in value);
  if (given.length !== 1) {
    refuse(
      given.length === 0 ? `'action' needs one of ${ACTION_MEMBERS.join(', ')}` : `'action' takes one action, not ${given.join(' and ')}`,
      '/action',
    );
    return undefined;
  }
  const { status, delayMs, drop } = value;
  if ('status' in value && !(isWhole(status) && status >= 400 && status <= 599)) {
    refuse("'status' must be a 4xx or 5xx status code", '/action/status');
  }
  if ('delayMs' in value && !(isWhole(delayMs) && delayMs >= 0 && delayMs <= MAX_FAULT_DELAY_MS)) {
    refuse(`'delayMs' must be a whole number of milliseconds from 0 to ${MAX_FAULT_DELAY_MS}`, '/action/delayMs');
  }
  if ('drop' in value && drop !== true) refuse("'drop' must be true", '/action/drop');
  if (problems.length > before) return undefined;
  if ('status' in value) return { status: status as number };
  if ('delayMs' in value) return { delayMs: delayMs as number };
  return { drop: true };
}

/** The rule `input` describes, without id and counts; throws FaultRuleError listing every refused member. */
export function validateFaultRule(input: unknown): Omit<FaultRule, 'id' | 'hits' | 'remaining'> {
  if (!isObject(input)) throw new FaultRuleError('A fault rule must be a JSON object', '');
  const problems: FaultRuleProblem[] = [];
  const refuse = (message: string, pointer: string) => void problems.push({ message, pointer });
  for (const name of Object.keys(input)) {
    if (!INPUT_MEMBERS.has(name)) refuse(`'${name}' is not a member of a fault rule`, `/${segment(name)}`);
  }
  const { method = '*', path, times = null, share = 1 } = input;
  const upper = typeof method === 'string' ? method.toUpperCase() : undefined;
  if (upper === undefined || !FAULT_METHODS.includes(upper)) refuse(`'method' must be one of ${FAULT_METHODS.join(', ')}`, '/method');
  if (typeof path !== 'string' || !path.startsWith('/') || path.length > MAX_PATH_LENGTH) {
    refuse(`'path' must be a path pattern starting with '/' (at most ${MAX_PATH_LENGTH} characters)`, '/path');
  }
  const action = validAction(input.action, problems);
  if (times !== null && !(isWhole(times) && times >= 1)) refuse("'times' must be a whole number, at least 1", '/times');
  if (!(typeof share === 'number' && share > 0 && share <= 1)) refuse("'share' must be a number greater than 0 and at most 1", '/share');
  const first = problems[0];
  if (first) throw new FaultRuleError(first.message, first.pointer, problems);
  return { method: upper!, path: path as string, action: action!, times: times as number | null, share: share as number };
}

interface StoredRule {
  rule: FaultRule;
  pattern: Glob;
}

const copy = (rule: FaultRule): FaultRule => ({ ...rule, action: { ...rule.action } });

export function faultRules(options: FaultRulesOptions = {}): FaultRules {
  const random = options.random ?? Math.random;
  let rules: StoredRule[] = [];
  let next = 1;
  return {
    add(input) {
      const valid = validateFaultRule(input);
      const rule: FaultRule = { id: `fault-${next++}`, ...valid, hits: 0, remaining: valid.times };
      rules.push({ rule, pattern: compileGlob(valid.path) });
      return copy(rule);
    },
    list: () => rules.map((r) => copy(r.rule)),
    remove(id) {
      const before = rules.length;
      rules = rules.filter((r) => r.rule.id !== id);
      return rules.length < before;
    },
    clear() {
      rules = [];
    },
    take(method, path) {
      const upper = method.toUpperCase();
      for (const { rule, pattern } of rules) {
        if (rule.remaining === 0) continue;
        if (rule.method !== '*' && rule.method !== upper) continue;
        if (!pattern.test(path)) continue;
        // share 1 draws nothing, so a seeded sequence is spent only on rules that share
        if (rule.share < 1 && random() >= rule.share) continue;
        rule.hits++;
        if (rule.remaining !== null) rule.remaining--;
        return copy(rule);
      }
      return null;
    },
  };
}

export interface InstallFaultsOptions {
  /** the hourly quota the API's own 429 names in `X-Rate-Limit` (Config.rateLimitPerHour; default 3600, Apple's) */
  rateLimitPerHour?: number;
}

/** The paths of the API: what faults and the journal apply to (not the pages, not the controls). */
export function isApiPath(path: string): boolean {
  return /^\/v[12](\/|$)/.test(path);
}

/**
 * The error a status fault answers with: for 429, 500 and 503 exactly what the API itself sends
 * (its quota's 429, its unexpected error, its unavailable database); for the other statuses the
 * catalogue's code for that status, or one named after the status.
 */
export function faultError(status: number, path: string): ApiError {
  switch (status) {
    case 400:
      return errors.entityInvalid('The request was refused.');
    case 401:
      return errors.notAuthorized();
    case 403:
      return errors.forbidden();
    case 404: {
      const [, , type, id] = path.split('/');
      return type && id ? errors.notFound(type, id) : errors.pathError(path);
    }
    case 405:
      return errors.methodNotAllowed();
    case 410:
      return errors.gone('The requested resource is no longer available.');
    case 413:
      return errors.payloadTooLarge(BODY_LIMIT_BYTES);
    case 429:
      return errors.rateLimitExceeded();
    case 500:
      return errors.unexpected();
    case 503:
      return errors.serviceUnavailable('The database is unavailable for now. Send the request again later.');
  }
  if (status === 422) {
    return new ApiError({
      status,
      code: 'ENTITY_UNPROCESSABLE',
      title: 'The provided entity is not processable',
      detail: 'The request was refused.',
    });
  }
  if (status === 409) {
    return new ApiError({
      status,
      code: 'ENTITY_ERROR',
      title: 'The provided entity includes an error',
      detail: 'The request was refused.',
    });
  }
  if (status >= 500) {
    const { code, title, detail } = errors.unexpected();
    return new ApiError({ status, code, title, ...(detail !== undefined ? { detail } : {}) });
  }
  const phrase = STATUS_CODES[status] ?? 'Client Error';
  const code = phrase
    .toUpperCase()
    .replace(/[^A-Z0-9]+/g, '_')
    .replace(/^_|_$/g, '');
  return new ApiError({ status, code, title: `${phrase}.`, detail: 'The request was refused.' });
}

/** The rule that answered, delayed or dropped each request (read by the journal). */
const applied = new WeakMap<FastifyRequest, string>();

/** The id of the fault rule that answered, delayed or dropped `request`, or null. */
export function faultApplied(request: FastifyRequest): string | null {
  return applied.get(request) ?? null;
}

/** The apps whose faults are installed (installJournal must come before: see there). */
const withFaults = new WeakSet<FastifyInstance>();

/** Whether installFaults() has run on `app`. */
export function faultsInstalled(app: FastifyInstance): boolean {
  return withFaults.has(app);
}

/**
 * Adds the hook that applies `rules` to `app`'s API requests (/v1 and /v2), before authentication:
 * an onRequest hook, so add it before every other hook that may answer (buildApp's `beforeRoutes`).
 * A status fault answers Apple's ErrorResponse (faultError) with the headers the API's own answer
 * carries (429: `X-Rate-Limit` with nothing remaining; 503: `Retry-After`); a delay waits, then lets
 * the request go on (at once when the app begins to close); a drop destroys the socket without an answer (the client sees a reset).
 * The journal learns which rule hit a request from faultApplied(request).
 */
export function installFaults(app: FastifyInstance, rules: FaultRules, options: InstallFaultsOptions = {}): void {
  const limit = options.rateLimitPerHour ?? 3600;
  withFaults.add(app);
  // a closing app lets its delayed requests go on at once rather than hold its close for up to a minute
  const closing = new AbortController();
  app.addHook('preClose', (done) => {
    closing.abort();
    done();
  });
  app.addHook('onRequest', async (request: FastifyRequest, reply: FastifyReply) => {
    const { path } = splitTarget(request.raw.url);
    if (!isApiPath(path)) return;
    const rule = rules.take(request.method, path);
    if (!rule) return;
    applied.set(request, rule.id);
    const { action } = rule;
    if ('delayMs' in action) {
      await sleep(action.delayMs, undefined, { signal: closing.signal }).catch(() => undefined);
      return;
    }
    if ('drop' in action) {
      reply.hijack();
      request.raw.socket.destroy();
      return reply;
    }
    if (action.status === 429) reply.header('x-rate-limit', rateLimitHeader({ allowed: false, limit, remaining: 0 }));
    if (action.status === 503) reply.header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS));
    return sendErrors(reply, [faultError(action.status, path)]);
  });
}
