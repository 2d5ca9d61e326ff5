/**
 * The probes, outside the API (no key, no quota):
 * - GET /healthz, liveness: the process answers HTTP. It never touches the database, so an outage of
 *   the database does not get a healthy process restarted. 200 `{"status":"ok"}`.
 * - GET /readyz, readiness: the database answers a trivial query within READY_TIMEOUT_MS. 200
 *   `{"status":"ready"}`, else 503 with `Retry-After` and Apple's ErrorResponse (SERVICE_UNAVAILABLE);
 *   a storage error (src/db/storage-errors.ts) is reported to the app's storage incidents (logged
 *   once per incident), anything else is logged.
 */
import { sql } from 'kysely';
import type { FastifyInstance } from 'fastify';
import type { Db } from '../db/database.js';
import { STORAGE_RETRY_AFTER_SECONDS, type StorageIncidents } from '../db/storage-errors.js';
import { errors } from '../errors/catalogue.js';
import { sendErrors, sendJson } from './responses.js';

const READY_TIMEOUT_MS = 2_000;

class ReadyTimeout extends Error {
  constructor() {
    super(`the database did not answer within ${READY_TIMEOUT_MS} ms`);
    this.name = 'ReadyTimeout';
  }
}

/** Resolves when the database answers `select 1`; rejects with its error, or ReadyTimeout. */
async function databaseAnswers(db: Db): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_resolve, reject) => {
    timer = setTimeout(() => reject(new ReadyTimeout()), READY_TIMEOUT_MS);
    timer.unref();
  });
  try {
    // a closed SQLite handle throws synchronously: inside the async function, it rejects
    await Promise.race([(async () => sql`select 1`.execute(db.kysely))(), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

export function healthRoutes(app: FastifyInstance, db: Db, incidents: StorageIncidents): void {
  const config = { withoutDatabase: true } as const;
  app.get('/healthz', { config }, async (_request, reply) => sendJson(reply, 200, { status: 'ok' }));

  app.get('/readyz', { config }, async (request, reply) => {
    try {
      await databaseAnswers(db);
    } catch (err) {
      incidents.backgroundFailed(err, request.log, 'readiness check failed', 'warn');
      reply.header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS));
      return sendErrors(reply, [errors.serviceUnavailable('The database does not answer.')]);
    }
    return sendJson(reply, 200, { status: 'ready' });
  });
}
