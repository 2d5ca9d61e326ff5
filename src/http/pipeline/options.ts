/** The Fastify instance's own settings: logging, request ids, limits, router, and errors before any route. */
import { randomUUID } from 'node:crypto';
import type { FastifyServerOptions } from 'fastify';
import type { DestinationStream } from 'pino';
import pinoPretty from 'pino-pretty';
import type { Config } from '../../config.js';
import { errors } from '../../errors/catalogue.js';
import { BODY_LIMIT_BYTES, clientErrorHandler, sendErrors, splitTarget } from '../responses.js';
import { redactingLoggerOptions } from './log-redaction.js';

/**
 * Where the log goes: `logStream` if given, else stdout, as JSON lines or (LOG_FORMAT=pretty)
 * through pino-pretty in this thread, after the redaction (the serializers and hooks run before any
 * stream sees a line), synchronously so that nothing is lost when the process exits.
 */
function logDestination(config: Pick<Config, 'logFormat'>, logStream: DestinationStream | undefined): DestinationStream | undefined {
  if (logStream) return logStream;
  if (config.logFormat !== 'pretty') return undefined;
  return pinoPretty({ destination: 1, sync: true, colorize: process.stdout.isTTY, translateTime: 'SYS:standard', ignore: 'pid,hostname' });
}

export function fastifyOptions(
  config: Pick<Config, 'logLevel' | 'logFormat' | 'trustProxy'>,
  logStream?: DestinationStream,
): FastifyServerOptions {
  const stream = logDestination(config, logStream);
  return {
    // tokens never reach the log: activation links and bearer tokens are redacted (log-redaction.ts)
    logger: { level: config.logLevel, ...redactingLoggerOptions(), ...(stream ? { stream } : {}) },
    genReqId: () => randomUUID(),
    // request.ip: the socket's peer, or the client X-Forwarded-For names when the peer is a trusted proxy
    trustProxy: config.trustProxy === false ? false : [...config.trustProxy],
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
