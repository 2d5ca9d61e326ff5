/** The Fastify instance's own settings: logging, request ids, limits, router, and errors before any route. */
import { randomUUID } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import type { Config } from '../../config.js';
import { errors } from '../../errors/catalogue.js';
import { BODY_LIMIT_BYTES, clientErrorHandler, sendErrors, splitTarget } from '../responses.js';

export function fastifyOptions(config: Pick<Config, 'logLevel'>, logStream?: { write(line: string): void }): FastifyServerOptions {
  return {
    logger: logStream ? { level: config.logLevel, stream: logStream } : { level: config.logLevel },
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: {
      maxParamLength: 1000,
      // our own parser reads the raw query (spec-driven, order-preserving)
      querystringParser: () => ({}),
    },
    return503OnClosing: true,
    clientErrorHandler,
    // URLs the router cannot even match (a malformed percent-encoding in the path, an id over
    // maxParamLength) would get Fastify's own body, without X-Request-ID: they are unknown paths (A5).
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id);
      const unroutable = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      if (!unroutable) request.log.error({ err }, 'unexpected router error');
      void sendErrors(reply, [unroutable ? errors.pathError(splitTarget(request.raw.url).path) : errors.unexpected()]);
    },
  };
}
