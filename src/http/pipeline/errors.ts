/**
 * What every answer shares: an X-Request-ID, JSON bodies read by one parser, and every error leaving
 * as Apple's ErrorResponse (anything unexpected as a 500 that hides its internals, logged). A
 * database that cannot be written or reached for now (disk full, connection lost) gives a 503 with
 * `Retry-After`, logged once per incident (src/db/storage-errors.ts).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { isStorageUnavailable, STORAGE_RETRY_AFTER_SECONDS, StorageIncidents } from '../../db/storage-errors.js';
import { ApiError, ApiErrors } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import { parseJsonBody } from '../json-body.js';
import { decorateJsonReplies, fromFastifyError, sendErrors } from '../responses.js';

/** A request that changes the database: its success shows the database takes writes again. */
const WRITES = new Set(['POST', 'PATCH', 'PUT', 'DELETE']);

/** Sets up `app`; returns its storage incidents, which the activation pages report to as well. */
export function apiBasics(app: FastifyInstance): StorageIncidents {
  decorateJsonReplies(app);
  const incidents = new StorageIncidents();

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw, done) => {
    try {
      done(null, parseJsonBody(raw as Buffer));
    } catch (err) {
      done(err as ApiError, undefined);
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  app.addHook('onResponse', (request, reply, done) => {
    if (incidents.active && WRITES.has(request.method) && reply.statusCode < 300) incidents.succeeded(request.log);
    done();
  });

  app.setErrorHandler(async (thrown: unknown, request, reply) => {
    let err = thrown;
    // a key taken as last read is confirmed before any refusal; one that is gone gets its 401 (src/keys/key-check.ts)
    const keyCheck = request.principal?.keyCheck;
    if (keyCheck && !keyCheck.confirmed) {
      try {
        await keyCheck.confirm();
      } catch (refused) {
        if (refused instanceof ApiError) {
          // no quota is told to a request whose key is not valid (A18)
          reply.removeHeader('x-rate-limit');
          return sendErrors(reply, [refused]);
        }
        // the key could not be read (the database is unavailable, say): that is the answer
        err = refused;
      }
    }
    if (err instanceof ApiErrors) return sendErrors(reply, err.errors);
    if (err instanceof ApiError) return sendErrors(reply, [err]);
    const mapped =
      err instanceof Error && 'code' in err ? fromFastifyError(err as FastifyError, request.headers['content-type']) : undefined;
    if (mapped) return sendErrors(reply, [mapped]);
    if (isStorageUnavailable(err)) {
      incidents.failed(err, request.log);
      reply.header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS));
      return sendErrors(reply, [errors.serviceUnavailable('The database is unavailable for now. Send the request again later.')]);
    }
    request.log.error({ err }, 'unexpected error');
    return sendErrors(reply, [errors.unexpected()]);
  });
  return incidents;
}
