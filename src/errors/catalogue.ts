/**
 * One factory per Apple error code. Status, code and title are fixed here; call sites add only
 * the detail and the source. Wordings follow docs/parity.md (docs/behavior.md B2.4).
 */
import { ApiError } from './api-error.js';

const pointer = (p: string) => ({ pointer: p });
const parameter = (p: string) => ({ parameter: p });
/** A member name as one JSON Pointer segment (RFC 6901: `~` is `~0`, `/` is `~1`). */
const segment = (name: string) => name.replace(/~/g, '~0').replace(/\//g, '~1');

export const errors = {
  notAuthorized: () =>
    new ApiError({
      status: 401,
      code: 'NOT_AUTHORIZED',
      title: 'Authentication credentials are missing or invalid.',
      detail:
        'Provide a properly configured and signed bearer token, and make sure that it has not expired. Learn more about Generating Tokens for API Requests https://developer.apple.com/go/?id=api-generating-tokens',
      withoutId: true,
    }),

  forbidden: (detail = 'The API key in use does not allow this request') =>
    new ApiError({ status: 403, code: 'FORBIDDEN_ERROR', title: 'This request is forbidden for security reasons', detail }),

  parameterIllegal: (name: string, detail = `The parameter '${name}' can not be used with this request`) =>
    new ApiError({
      status: 400,
      code: 'PARAMETER_ERROR.ILLEGAL',
      title: 'A given parameter is not allowed for this request',
      detail,
      source: parameter(name),
    }),

  parameterInvalid: (name: string, detail: string) =>
    new ApiError({
      status: 400,
      code: 'PARAMETER_ERROR.INVALID',
      title: 'A parameter has an invalid value',
      detail,
      source: parameter(name),
    }),

  entityInvalid: (detail: string) => new ApiError({ status: 400, code: 'ENTITY_INVALID', title: 'The provided entity is invalid', detail }),

  entityUnprocessable: (detail: string, at: string) =>
    new ApiError({
      status: 422,
      code: 'ENTITY_UNPROCESSABLE',
      title: 'The provided entity is not processable',
      detail,
      source: pointer(at),
    }),

  attributeRequired: (name: string) =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.ATTRIBUTE.REQUIRED',
      title: 'The provided entity is missing a required attribute',
      detail: `You must provide a value for the attribute '${name}' with this request`,
      source: pointer(`/data/attributes/${segment(name)}`),
    }),

  attributeInvalid: (name: string, detail: string) =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.ATTRIBUTE.INVALID',
      title: 'An attribute in the provided entity has invalid value',
      detail,
      source: pointer(`/data/attributes/${segment(name)}`),
    }),

  attributeDuplicate: (name: string, detail: string) =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE',
      title: 'An attribute in the provided entity has invalid value',
      detail,
      source: pointer(`/data/attributes/${segment(name)}`),
    }),

  attributeUnknown: (name: string, type: string) =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.ATTRIBUTE.UNKNOWN',
      title: 'The provided entity includes an unknown attribute',
      detail: `'${name}' is not an attribute on the resource '${type}'`,
      source: pointer(`/data/attributes/${segment(name)}`),
    }),

  attributeNotAllowed: (name: string, operation: 'CREATE' | 'UPDATE') =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED',
      title: 'An attribute in the provided entity is not allowed for this request',
      detail: `The attribute '${name}' can not be included in a '${operation}' request`,
      source: pointer(`/data/attributes/${segment(name)}`),
    }),

  relationshipUnknown: (name: string, type: string) =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.RELATIONSHIP.UNKNOWN',
      title: 'The provided entity includes an unknown relationship',
      detail: `'${name}' is not a relationship on the resource '${type}'`,
      source: pointer(`/data/relationships/${segment(name)}`),
    }),

  relationshipInvalid: (at: string, detail: string) =>
    new ApiError({
      status: 409,
      code: 'ENTITY_ERROR.RELATIONSHIP.INVALID',
      title: 'The provided entity includes a relationship with an invalid value',
      detail,
      source: pointer(at),
    }),

  notFound: (type: string, id: string, detail = `There is no resource of type '${type}' with id '${id}'`) =>
    new ApiError({ status: 404, code: 'NOT_FOUND', title: 'The specified resource does not exist', detail }),

  gone: (detail: string) => new ApiError({ status: 410, code: 'GONE', title: 'The requested resource is no longer available', detail }),

  pathError: (path: string) =>
    new ApiError({ status: 404, code: 'PATH_ERROR', title: 'The URL path is not valid', detail: `'${path}' is not a valid URL` }),

  methodNotAllowed: () =>
    new ApiError({
      status: 405,
      code: 'METHOD_NOT_ALLOWED',
      title: 'The request method is not valid for the resource path.',
      detail: 'The request method used for this request is not valid for the resource path. Please consult the documentation.',
    }),

  unsupportedMediaType: (contentType: string) =>
    new ApiError({
      status: 415,
      code: 'UNSUPPORTED_MEDIA_TYPE',
      title: 'The request entity has an unsupported media type',
      detail: `The Content-Type '${contentType}' is not supported. Make sure the Content-Type header in the request is application/json`,
    }),

  payloadTooLarge: (limit: number) =>
    new ApiError({
      status: 413,
      code: 'ENTITY_TOO_LARGE',
      title: 'The provided entity is too large',
      detail: `The request body must not exceed ${limit} bytes`,
    }),

  rateLimitExceeded: () =>
    new ApiError({
      status: 429,
      code: 'RATE_LIMIT_EXCEEDED',
      title: 'The request rate limit has been reached.',
      detail: "We've received too many requests for this API. Please wait and try again or slow down your request rate.",
    }),

  /**
   * Not one of Apple's documented codes (its API has no documented 503): ours, in Apple's shape, for
   * a request this instance will not take now (it is shutting down). Sent with `Retry-After`.
   */
  serviceUnavailable: (detail: string) =>
    new ApiError({ status: 503, code: 'SERVICE_UNAVAILABLE', title: 'The service is temporarily unavailable.', detail }),

  unexpected: () =>
    new ApiError({
      status: 500,
      code: 'UNEXPECTED_ERROR',
      title: 'An unexpected error occurred.',
      detail:
        'An unexpected error occurred on the server side. If this issue continues, contact us at https://developer.apple.com/contact/.',
    }),
};
