/**
 * Storage errors: the database cannot be written or reached for now (disk full, I/O error, file
 * that cannot be opened, PostgreSQL out of space, shut down or unreachable). They are not the
 * request's fault and not a bug: the request is answered 503 with `Retry-After`, and the service
 * takes requests again, by itself, once the database is back.
 *
 * `StorageIncidents` keeps the log readable through such an outage: one line when it starts, with
 * its cause, none for the failures that follow, one line when a write succeeds again.
 */
import type { FastifyBaseLogger } from 'fastify';

/**
 * SQLite result codes (better-sqlite3's `err.code`), each with its extended codes (SQLITE_IOERR_WRITE,
 * SQLITE_READONLY_DBMOVED, ...). SQLITE_BUSY is a lock another process held past the busy timeout.
 */
const SQLITE_CODES = [
  'SQLITE_FULL',
  'SQLITE_IOERR',
  'SQLITE_CANTOPEN',
  'SQLITE_READONLY',
  'SQLITE_BUSY',
  'SQLITE_NOMEM',
  'SQLITE_PROTOCOL',
];

/**
 * PostgreSQL SQLSTATEs: class 08 (connection exception), 53 (insufficient resources: disk full, out
 * of memory, too many connections), 57P01-57P03 (shut down, crashed, not yet accepting connections),
 * 58030 (I/O error).
 */
const PG_CLASSES = ['08', '53'];
const PG_CODES = new Set(['57P01', '57P02', '57P03', '58030']);

/** Node's socket errors, as pg reports a connection it cannot open or lost. */
const NODE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN']);

/** pg's own errors for a connection lost or not obtained; they carry no code. */
const PG_MESSAGES = new Set([
  'Connection terminated unexpectedly',
  'Client has encountered a connection error and is not queryable',
  'timeout exceeded when trying to connect',
  'Connection terminated due to connection timeout',
]);

function codeOf(err: object): string | undefined {
  const code = (err as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}

function isStorageCode(code: string): boolean {
  if (code.startsWith('SQLITE_')) return SQLITE_CODES.some((c) => code === c || code.startsWith(`${c}_`));
  if (/^[0-9A-Z]{5}$/.test(code)) return PG_CODES.has(code) || PG_CLASSES.includes(code.slice(0, 2));
  return NODE_CODES.has(code);
}

/** The error (or one of its causes) that says the database is unavailable, if any. */
function storageError(err: unknown): Error | undefined {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = codeOf(current);
    if ((code !== undefined && isStorageCode(code)) || PG_MESSAGES.has(current.message)) return current;
    current = current.cause;
  }
  return undefined;
}

/** Whether `err` (or one of its causes) is the database's own (a SQLite result code, a PostgreSQL SQLSTATE). */
export function isDatabaseError(err: unknown): boolean {
  let current: unknown = err;
  for (let depth = 0; depth < 5 && current instanceof Error; depth++) {
    const code = codeOf(current);
    if (code !== undefined && (code.startsWith('SQLITE_') || /^[0-9A-Z]{5}$/.test(code))) return true;
    current = current.cause;
  }
  return false;
}

/** Whether `err` says the database is unavailable for now (rather than a bug or a bad request). */
export function isStorageUnavailable(err: unknown): boolean {
  return storageError(err) !== undefined;
}

/** What a log line says of a storage error: its message, or its code where it has none (a refused connection). */
export function storageCause(err: unknown): string {
  const found = storageError(err) ?? (err instanceof Error ? err : undefined);
  if (!found) return String(err);
  const code = codeOf(found);
  return found.message || code || found.name;
}

/** Seconds a client refused for a storage error is told to wait before it tries again. */
export const STORAGE_RETRY_AFTER_SECONDS = 30;

type Log = Pick<FastifyBaseLogger, 'error' | 'info'>;
type WarnLog = Log & Pick<FastifyBaseLogger, 'warn'>;

/**
 * The storage incidents of one app instance: the first failure is logged with its cause, the
 * failures after it only counted, until a write request succeeds again. Background work (mail
 * delivery, the expiry sweep) that fails on storage opens an incident too but counts as no request.
 */
export class StorageIncidents {
  private open = false;
  private failedRequests = 0;
  private readonly listeners: ((request: boolean) => void)[] = [];

  /** Calls `listener` at every failure reported, logged or not (GET /metrics counts them). */
  onFailure(listener: (request: boolean) => void): void {
    this.listeners.push(listener);
  }

  /** Reports `err`, a storage error of a request (or, with `request` false, of background work). */
  failed(err: unknown, log: Log, request = true): void {
    for (const listener of this.listeners) listener(request);
    if (request) this.failedRequests++;
    if (this.open) return;
    this.open = true;
    log.error({ err }, 'database unavailable: %s', storageCause(err));
  }

  /**
   * Background work that failed (mail delivery, the sweep, a probe, an idle connection): a storage
   * error goes into the incident, counted as no request; anything else is logged at `level`.
   */
  backgroundFailed(err: unknown, log: WarnLog, message: string, level: 'error' | 'warn' = 'error'): void {
    if (isStorageUnavailable(err)) this.failed(err, log, false);
    else log[level]({ err }, message);
  }

  /** Called when a request that wrote to the database succeeded: ends the incident, if one is open. */
  succeeded(log: Log): void {
    if (!this.open) return;
    log.info({ failedRequests: this.failedRequests }, 'database available again after %d failed requests', this.failedRequests);
    this.open = false;
    this.failedRequests = 0;
  }

  /** Whether an incident is open. */
  get active(): boolean {
    return this.open;
  }
}
