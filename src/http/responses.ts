/**
 * How answers leave the API: JSON with exactly `Content-Type: application/json`, Apple's
 * ErrorResponse for every error (Fastify's own request errors and parser-level rejections
 * included), and the request target split into path and query.
 */
import { randomUUID } from 'node:crypto';
import { STATUS_CODES } from 'node:http';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply } from 'fastify';
import { ApiError, errorResponse } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { encodeJsonParts, type RunJoiner } from '../jsonapi/raw-json.js';

declare module 'fastify' {
  interface FastifyReply {
    /** The JSON body this reply sent, as the parts it was written from (sendJsonParts); null before. */
    jsonParts: readonly Buffer[] | null;
    /** Joins runs of pre-rendered members or apps of the JSON body (set by the read cache); null: none. */
    jsonJoiner: RunJoiner | null;
  }
}

/** Gives every reply its `jsonParts` (null until a JSON body is sent) and its `jsonJoiner` (null). */
export function decorateJsonReplies(app: FastifyInstance): void {
  app.decorateReply('jsonParts', null);
  app.decorateReply('jsonJoiner', null);
}

/** Requests larger than this are refused with 413. */
export const BODY_LIMIT_BYTES = 1024 * 1024;

/**
 * The request target as path and query. An absolute-form target (`GET http://host/v1/apps`,
 * legal in HTTP/1.1) is reduced to its path, so links and scope checks never see a foreign host.
 */
export function requestTarget(raw: string | undefined): string {
  const url = raw ?? '/';
  if (url.startsWith('/')) return url;
  try {
    const parsed = new URL(url);
    return `${parsed.pathname}${parsed.search}`;
  } catch {
    return '/';
  }
}

/** The request target's path and raw query string (without `?`). */
export function splitTarget(raw: string | undefined): { path: string; query: string } {
  const url = requestTarget(raw);
  const q = url.indexOf('?');
  return q === -1 ? { path: url, query: '' } : { path: url.slice(0, q), query: url.slice(q + 1) };
}

/**
 * `Content-Type: application/json` exactly, with no charset (A18): a Buffer payload keeps the
 * header as set, where a string would get `; charset=utf-8` appended by Fastify. The body may hold
 * `RawJson` (pre-rendered resources), see encodeJsonParts(); a body of several pieces is written by
 * sendParts().
 */
export function sendJson(reply: FastifyReply, status: number, body: unknown): FastifyReply {
  return sendJsonParts(reply, status, encodeJsonParts(body, reply.jsonJoiner ?? undefined));
}

/** A JSON body already encoded, as encodeJsonParts() returns it (or kept from an earlier answer). */
export function sendJsonParts(reply: FastifyReply, status: number, parts: readonly Buffer[]): FastifyReply {
  reply.jsonParts = parts;
  reply.code(status).header('content-type', 'application/json');
  if (parts.length === 1) return reply.send(parts[0]);
  return sendParts(reply, status, parts);
}

/**
 * A body of several pieces (pre-rendered JSON among them, an include page holds 0.5 to 0.8 MB of
 * apps) is written piece by piece into the corked socket, which sends them in one writev: joining
 * them first cost a copy of the whole body per request, and the garbage of it. Fastify's send()
 * takes one buffer (or a stream, written a piece per syscall), so the reply is hijacked. Fastify
 * still sees the response finish: its request logging and onResponse hooks run as always. There is
 * no onSend hook to skip (app.ts adds none), and a HEAD request gets the headers without the body
 * (Node's http drops it).
 */
function sendParts(reply: FastifyReply, status: number, parts: readonly Buffer[]): FastifyReply {
  let length = 0;
  for (const part of parts) length += part.length;
  reply.header('content-length', length);
  reply.hijack();
  const res = reply.raw;
  for (const [name, value] of Object.entries(reply.getHeaders())) if (value !== undefined) res.setHeader(name, value);
  res.writeHead(status);
  res.cork();
  for (const part of parts) res.write(part);
  res.end(); // uncorks
  return reply;
}

export function sendErrors(reply: FastifyReply, list: readonly ApiError[]): FastifyReply {
  return sendJson(reply, list[0]!.status, errorResponse(list));
}

/** Maps Fastify's own request errors onto Apple's codes. */
export function fromFastifyError(err: FastifyError, contentType: string | undefined): ApiError | undefined {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      // Fastify's message does not name the type; the request's header does
      return errors.unsupportedMediaType(contentType?.trim() || 'none');
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return errors.payloadTooLarge(BODY_LIMIT_BYTES);
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return errors.entityInvalid('The request body is empty; it must be a JSON document');
    case 'FST_ERR_CTP_INVALID_CONTENT_LENGTH':
      return errors.entityInvalid('The Content-Length of the request does not match its body');
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return errors.entityInvalid('The request body is not valid JSON');
    default:
      if (typeof err.statusCode === 'number' && err.statusCode >= 400 && err.statusCode < 500) {
        return errors.entityInvalid(err.message);
      }
      return undefined;
  }
}

/**
 * Requests Node's HTTP parser rejects before any route runs (request line and headers over
 * 16 KB, e.g. a long query; malformed HTTP; a client too slow to send its headers) would get
 * Fastify's own body without X-Request-ID; they get an ErrorResponse like every other answer.
 */
export function clientErrorHandler(err: Error & { code?: string }, socket: Socket): void {
  if (err.code === 'ECONNRESET' || socket.destroyed) return;
  if (socket.writable) {
    const status = err.code === 'HPE_HEADER_OVERFLOW' ? 431 : err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? 408 : 400;
    const error =
      status === 431
        ? new ApiError({
            status,
            code: 'REQUEST_TOO_LARGE',
            title: 'The request is too large',
            detail: 'The request line and headers together must not exceed 16 KB',
          })
        : status === 408
          ? new ApiError({
              status,
              code: 'REQUEST_TIMEOUT',
              title: 'The request timed out',
              detail: 'The request was not received in time',
            })
          : new ApiError({
              status,
              code: 'BAD_REQUEST',
              title: 'The request is not valid HTTP',
              detail: 'The request line or headers could not be parsed',
            });
    const body = JSON.stringify(errorResponse([error]));
    socket.write(
      `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n` +
        `X-Request-ID: ${randomUUID()}\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy(err);
}
