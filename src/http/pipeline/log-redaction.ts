/**
 * What the request logs must never hold: activation tokens (a link is a credential, src/web/) and
 * bearer tokens (JWTs), wherever a line might carry them: the request's URL (`req.url`), an error's
 * message or stack, a message text. src/http/pipeline/options.ts wires these into pino.
 */
import type { FastifyRequest } from 'fastify';
import { stdSerializers, type SerializedError } from 'pino';

export const REDACTED = '[redacted]';

/** `/activate/<token>` and what follows it up to the next `/`, `?`, `#`, quote or blank */
const ACTIVATION_TOKEN = /(\/activate\/)[^/?#\s"'<>]+/g;
/** a compact JWS (header and payload are base64url JSON objects, so they start with `eyJ`) */
const JWT = /eyJ[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]*/g;
/** `Bearer <anything>` as an Authorization header's value is written */
const BEARER = /(\bBearer\s+)[^\s"',;]+/gi;
/** query parameters that name a token */
const TOKEN_PARAMETER = /([?&;](?:token|access_token|id_token|jwt|bearer|auth|authorization)=)[^&#\s"']*/gi;

/** `text` with every token it may hold replaced by [redacted]. */
export function redactSecrets(text: string): string {
  // most lines hold none of the markers: skip the replacements then
  if (!text.includes('/activate/') && !text.includes('eyJ') && !/bearer|token|jwt|auth/i.test(text)) return text;
  return text
    .replace(ACTIVATION_TOKEN, `$1${REDACTED}`)
    .replace(JWT, REDACTED)
    .replace(BEARER, `$1${REDACTED}`)
    .replace(TOKEN_PARAMETER, `$1${REDACTED}`);
}

/** A request as the log shows it (Fastify's own fields), with its URL redacted; never its headers. */
function serializeRequest(request: FastifyRequest) {
  return {
    method: request.method,
    url: redactSecrets(request.url),
    host: request.host,
    remoteAddress: request.ip,
    remotePort: request.socket?.remotePort,
  };
}

/** An error as pino shows it, each of its text fields redacted (a message may quote the URL). */
function serializeError(err: Error): SerializedError {
  const out = stdSerializers.err(err);
  // pino passes anything that is not an Error through as it is
  if (typeof out !== 'object' || out === null) return (typeof out === 'string' ? redactSecrets(out) : out) as unknown as SerializedError;
  const fields: Record<string, unknown> = out;
  for (const [k, v] of Object.entries(fields)) {
    if (typeof v === 'string') fields[k] = redactSecrets(v);
    // Node's HTTP parser errors carry the bytes received, request line included
    else if (v instanceof Uint8Array) fields[k] = REDACTED;
  }
  return out;
}

/** Object paths pino blanks out whatever a line holds (headers, should a request's ever be logged). */
export const REDACTED_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  'authorization',
  'cookie',
];

/**
 * The logger options of every request's lines: the serializers above, pino's redaction of header
 * paths, and message texts redacted on request-scoped loggers (Fastify's "Route … not found",
 * "Reply was already sent … in the "<url>" route"). Lines outside a request (the mail log's line,
 * which carries the activation link on purpose when there is no SMTP server) keep their text.
 */
export function redactingLoggerOptions() {
  return {
    serializers: { req: serializeRequest, err: serializeError },
    redact: { paths: REDACTED_PATHS, censor: REDACTED },
    hooks: {
      logMethod(this: { bindings(): Record<string, unknown> }, args: unknown[], method: (...a: unknown[]) => void) {
        if (args.some((a) => typeof a === 'string' && redactSecrets(a) !== a) && this.bindings().reqId !== undefined) {
          return method.apply(
            this,
            args.map((a) => (typeof a === 'string' ? redactSecrets(a) : a)),
          );
        }
        return method.apply(this, args);
      },
    },
  };
}
