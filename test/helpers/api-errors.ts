/**
 * Expected error objects, whole: Apple's codes and titles (docs/behavior.md B2.4) with the detail and
 * source a test expects, and an `id` that is a UUID (every error but the 401, A7).
 */
import { expect } from 'vitest';

export const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

const TITLES: Record<string, string> = {
  'PARAMETER_ERROR.INVALID': 'A parameter has an invalid value',
  'PARAMETER_ERROR.ILLEGAL': 'A given parameter is not allowed for this request',
  NOT_FOUND: 'The specified resource does not exist',
  FORBIDDEN_ERROR: 'This request is forbidden for security reasons',
  ENTITY_INVALID: 'The provided entity is invalid',
  ENTITY_UNPROCESSABLE: 'The provided entity is not processable',
  'ENTITY_ERROR.ATTRIBUTE.INVALID': 'An attribute in the provided entity has invalid value',
  'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE': 'An attribute in the provided entity has invalid value',
  'ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED': 'An attribute in the provided entity is not allowed for this request',
  'ENTITY_ERROR.ATTRIBUTE.UNKNOWN': 'The provided entity includes an unknown attribute',
  'ENTITY_ERROR.RELATIONSHIP.UNKNOWN': 'The provided entity includes an unknown relationship',
  'ENTITY_ERROR.RELATIONSHIP.INVALID': 'The provided entity includes a relationship with an invalid value',
  'ENTITY_ERROR.ATTRIBUTE.REQUIRED': 'The provided entity is missing a required attribute',
  GONE: 'The requested resource is no longer available',
  PATH_ERROR: 'The URL path is not valid',
  METHOD_NOT_ALLOWED: 'The request method is not valid for the resource path.',
  ENTITY_TOO_LARGE: 'The provided entity is too large',
  UNSUPPORTED_MEDIA_TYPE: 'The request entity has an unsupported media type',
  RATE_LIMIT_EXCEEDED: 'The request rate limit has been reached.',
  UNEXPECTED_ERROR: 'An unexpected error occurred.',
};

const STATUSES: Record<string, string> = {
  NOT_FOUND: '404',
  PATH_ERROR: '404',
  FORBIDDEN_ERROR: '403',
  METHOD_NOT_ALLOWED: '405',
  GONE: '410',
  ENTITY_TOO_LARGE: '413',
  UNSUPPORTED_MEDIA_TYPE: '415',
  ENTITY_UNPROCESSABLE: '422',
  RATE_LIMIT_EXCEEDED: '429',
  UNEXPECTED_ERROR: '500',
};

function status(code: string): string {
  if (code.startsWith('PARAMETER_ERROR') || code === 'ENTITY_INVALID') return '400';
  return STATUSES[code] ?? '409';
}

/** One error object with `code`'s status and title. */
export function apiError(code: string, detail: string, source?: { pointer: string } | { parameter: string }) {
  const title = TITLES[code];
  if (!title) throw new Error(`no title for ${code}`);
  return { id: expect.stringMatching(UUID), status: status(code), code, title, detail, ...(source ? { source } : {}) };
}

export const invalidParameter = (parameter: string, detail: string) => apiError('PARAMETER_ERROR.INVALID', detail, { parameter });

export const illegalParameter = (parameter: string) =>
  apiError('PARAMETER_ERROR.ILLEGAL', `The parameter '${parameter}' can not be used with this request`, { parameter });

export const notFound = (type: string, id: string) => apiError('NOT_FOUND', `There is no resource of type '${type}' with id '${id}'`);

export const forbidden = (detail = 'The API key in use does not allow this request') => apiError('FORBIDDEN_ERROR', detail);

export const unprocessable = (detail: string, pointer: string) => apiError('ENTITY_UNPROCESSABLE', detail, { pointer });

/** A 409 `ENTITY_ERROR.*` at a body pointer. */
export const entityError = (code: string, detail: string, pointer: string) => apiError(`ENTITY_ERROR.${code}`, detail, { pointer });

/** The 409 for an email that a pending invitation or a user of the team has already. */
export const duplicateEmail = (email: string) =>
  entityError(
    'ATTRIBUTE.INVALID.DUPLICATE',
    `The email '${email}' already belongs to a pending invitation or a user of this team`,
    '/data/attributes/email',
  );

/** The 409 for a missing (or null) attribute. */
export const required = (name: string) =>
  entityError('ATTRIBUTE.REQUIRED', `You must provide a value for the attribute '${name}' with this request`, `/data/attributes/${name}`);

export const gone = (detail: string) => apiError('GONE', detail);

export const pathError = (path: string) => apiError('PATH_ERROR', `'${path}' is not a valid URL`);

export const methodNotAllowed = () =>
  apiError(
    'METHOD_NOT_ALLOWED',
    'The request method used for this request is not valid for the resource path. Please consult the documentation.',
  );

export const unsupportedMediaType = (contentType: string) =>
  apiError(
    'UNSUPPORTED_MEDIA_TYPE',
    `The Content-Type '${contentType}' is not supported. Make sure the Content-Type header in the request is application/json`,
  );

export const rateLimitExceeded = () =>
  apiError(
    'RATE_LIMIT_EXCEEDED',
    "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
  );

export const unexpectedError = () =>
  apiError(
    'UNEXPECTED_ERROR',
    'An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.',
  );

/** A whole error response body: `{ errors: [...] }`. */
export const errorBody = (...errors: unknown[]) => ({ errors });

/** Apple's 401 body: exactly this, without an `id` (B1.7). */
export const NOT_AUTHORIZED = {
  errors: [
    {
      status: '401',
      code: 'NOT_AUTHORIZED',
      title: 'Authentication credentials are missing or invalid.',
      detail:
        'Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens',
    },
  ],
};

/** The detail Apple gives for visible apps sent for someone who sees all apps (B6.16). */
export const ALL_APPS_DETAIL = "You cannot set visible apps for this user because the user's roles give them access to all apps.";
