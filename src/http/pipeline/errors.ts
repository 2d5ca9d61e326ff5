/**
 * What every answer shares: an X-Request-ID, JSON bodies read by one parser, and every error leaving
 * as Apple's ErrorResponse (anything unexpected as a 500 that hides its internals, logged).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, ApiErrors } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import { parseJsonBody } from '../json-body.js';
import { decorateJsonReplies, fromFastifyError, sendErrors } from '../responses.js';

export function apiBasics(app: FastifyInstance): void {
  decorateJsonReplies(app);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (_req, raw, done) => {
    try {
      done(null, parseJsonBody(typeof raw === 'string' ? Buffer.from(raw) : raw));
    } catch (err) {
      done(err as ApiError, undefined);
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });

  app.setErrorHandler((err: unknown, request, reply) => {
    if (err instanceof ApiErrors) return sendErrors(reply, err.errors);
    if (err instanceof ApiError) return sendErrors(reply, [err]);
    const mapped =
      err instanceof Error && 'code' in err ? fromFastifyError(err as FastifyError, request.headers['content-type']) : undefined;
    if (mapped) return sendErrors(reply, [mapped]);
    request.log.error({ err }, 'unexpected error');
    return sendErrors(reply, [errors.unexpected()]);
  });
}
