/**
 * What every answer shares: an X-Request-ID, JSON bodies read by one parser, and every error leaving
 * as Apple's ErrorResponse (anything unexpected as a 500 that hides its internals, logged).
 */
import type { FastifyError, FastifyInstance } from 'fastify';
import { ApiError, ApiErrors } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import { decorateJsonReplies, fromFastifyError, sendErrors } from '../responses.js';

export function apiBasics(app: FastifyInstance): void {
  decorateJsonReplies(app);

  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, raw, done) => {
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (text.trim() === '') {
      done(errors.entityInvalid('The request body is empty; it must be a JSON document'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(errors.entityInvalid('The request body is not valid JSON'), undefined);
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
