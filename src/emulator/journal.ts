/**
 * The request journal of the emulator: the last N API requests a team received (method, path,
 * query, status, key id, body digest, time), to assert on what a client sent. Owner: the faults
 * work of issue 22.
 *
 * A request is recorded when its response is done (sent, or the connection closed without one), so
 * entries are in the order requests finished and ids increase in that order. The journal holds the
 * newest `size` entries; older ones fall out.
 */
import { createHash, type Hash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { Readable } from 'node:stream';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { decodeProtectedHeader } from 'jose';
import { splitTarget } from '../http/responses.js';
import { compileGlob, faultApplied, faultsInstalled, isApiPath } from './faults.js';

export interface JournalEntry {
  id: number;
  /** wall time the request arrived, ISO 8601 */
  at: string;
  method: string;
  /** the path as received, without the query (not percent-decoded) */
  path: string;
  /** the query's names and values percent-decoded (`+` stays `+`, as the API reads it); a repeated name has an array */
  query: Record<string, string | string[]>;
  /**
   * the response's status; 0 when no response was sent: the connection was dropped by a fault or
   * closed by the client first (as HAR files record a request without a response)
   */
  status: number;
  /** the `kid` of the bearer token's header (not verified), or null */
  keyId: string | null;
  /**
   * SHA-256 of the request body as received, hex; null without a body, and when the body was not
   * read to its end (refused before reading: a fault, 413 by its declared length, 415)
   */
  bodySha256: string | null;
  /** the body's bytes received (all of them when bodySha256 is not null) */
  bodyLength: number;
  durationMs: number;
  /** the fault rule that answered, delayed or dropped it, if any */
  fault: string | null;
}

export interface JournalQuery {
  /** any case */
  method?: string;
  /** glob, `*` any characters */
  path?: string;
  status?: number;
  keyId?: string;
  /** the newest `limit` entries that match (still listed oldest first) */
  limit?: number;
}

export interface Journal {
  /** the matching entries, oldest first */
  list(query?: JournalQuery): JournalEntry[];
  clear(): void;
  /** adds an entry (installJournal's hooks call it), giving it the next id; the oldest falls out when full */
  record(entry: Omit<JournalEntry, 'id'>): JournalEntry;
  /** how many entries it keeps at most */
  readonly size: number;
}

/** A journal keeping the newest `size` entries (a whole number, 0 keeps none). */
export function requestJournal(size: number): Journal {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`journal size must be a whole number, not ${size}`);
  const ring: (JournalEntry | undefined)[] = new Array<JournalEntry | undefined>(size);
  /** where the next entry goes */
  let head = 0;
  let count = 0;
  let nextId = 1;

  function entries(): JournalEntry[] {
    const out: JournalEntry[] = [];
    for (let i = 0; i < count; i++) out.push(ring[(head - count + i + size) % size]!);
    return out;
  }

  return {
    size,
    record(entry) {
      const full: JournalEntry = { id: nextId++, ...entry };
      if (size === 0) return full;
      ring[head] = full;
      head = (head + 1) % size;
      count = Math.min(count + 1, size);
      return full;
    },
    clear() {
      ring.fill(undefined);
      head = 0;
      count = 0;
    },
    list(query = {}) {
      const method = query.method?.toUpperCase();
      const path = query.path === undefined ? undefined : compileGlob(query.path);
      const found = entries().filter(
        (e) =>
          (method === undefined || e.method === method) &&
          (path === undefined || path.test(e.path)) &&
          (query.status === undefined || e.status === query.status) &&
          (query.keyId === undefined || e.keyId === query.keyId),
      );
      if (query.limit === undefined) return found;
      const limit = Math.max(0, Math.floor(query.limit));
      return limit === 0 ? [] : found.slice(-limit);
    },
  };
}

/** The query's pairs, decoded as the API decodes them; a piece with a broken escape is kept as sent. */
export function journalQuery(raw: string): Record<string, string | string[]> {
  // a Map, then fromEntries: a name such as `__proto__` becomes a member like any other
  const pairs = new Map<string, string | string[]>();
  const decode = (s: string) => {
    try {
      return decodeURIComponent(s);
    } catch {
      return s;
    }
  };
  for (const piece of raw === '' ? [] : raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const name = decode(eq === -1 ? piece : piece.slice(0, eq));
    const value = decode(eq === -1 ? '' : piece.slice(eq + 1));
    const had = pairs.get(name);
    pairs.set(name, had === undefined ? value : Array.isArray(had) ? [...had, value] : [had, value]);
  }
  return Object.fromEntries(pairs);
}

/** The `kid` of a bearer token's protected header, not verified; null for anything else. */
export function tokenKeyId(authorization: string | undefined): string | null {
  const token = authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
  if (token === undefined) return null;
  try {
    const { kid } = decodeProtectedHeader(token);
    return typeof kid === 'string' ? kid : null;
  } catch {
    return null;
  }
}

/**
 * The body as the parser reads it, hashed and counted on the way. It starts reading the request
 * only when the parser reads it: a body refused unread (413 by its declared length, 415) stays
 * unread, and Node discards it as it would without the journal, so a kept-alive connection goes on.
 */
class BodyDigest extends Readable {
  private readonly hash: Hash = createHash('sha256');
  private started = false;
  length = 0;
  /** the hex digest, once the body has been read to its end */
  digest: string | null = null;

  constructor(private readonly source: Readable) {
    super();
  }

  override _read(): void {
    if (this.started) {
      this.source.resume();
      return;
    }
    this.started = true;
    this.source.on('data', (chunk: Buffer) => {
      this.hash.update(chunk);
      this.length += chunk.length;
      if (!this.push(chunk)) this.source.pause();
    });
    this.source.once('end', () => {
      this.digest = this.length === 0 ? null : this.hash.digest('hex');
      this.push(null);
    });
    this.source.once('error', (err) => this.destroy(err));
  }
}

interface Pending {
  at: number;
  started: number;
  body: BodyDigest | undefined;
}

/**
 * Adds the hooks that record `app`'s API requests (/v1 and /v2) into `journal`: an onRequest hook
 * that notes the arrival and waits for the response to close, and a preParsing hook that passes the
 * body through a SHA-256 on its way to the body parser (Fastify's limits and the JSON parser see the
 * same bytes). Install it before installFaults(), so that requests a fault answers or drops are
 * recorded too (a fault ends the onRequest hooks after its own); the other order throws.
 */
export function installJournal(app: FastifyInstance, journal: Journal): void {
  if (faultsInstalled(app)) throw new Error('installJournal must come before installFaults on the same app');
  const pending = new WeakMap<FastifyRequest, Pending>();

  app.addHook('onRequest', (request: FastifyRequest, reply: FastifyReply, done) => {
    const target = splitTarget(request.raw.url);
    if (!isApiPath(target.path)) return done();
    const state: Pending = { at: Date.now(), started: performance.now(), body: undefined };
    pending.set(request, state);
    reply.raw.once('close', () => {
      journal.record({
        at: new Date(state.at).toISOString(),
        method: request.method,
        path: target.path,
        query: journalQuery(target.query),
        status: reply.raw.writableFinished ? reply.raw.statusCode : 0,
        keyId: tokenKeyId(request.headers.authorization),
        bodySha256: state.body?.digest ?? null,
        bodyLength: state.body?.length ?? 0,
        durationMs: Math.round((performance.now() - state.started) * 1000) / 1000,
        fault: faultApplied(request),
      });
    });
    done();
  });

  app.addHook('preParsing', (request, _reply, payload, done) => {
    const state = pending.get(request);
    if (!state) return done(null, payload);
    state.body = new BodyDigest(payload);
    done(null, state.body);
  });
}
