/**
 * A write request's body as the HTTP layer hands it to a service: typed values, and the problems
 * the body itself already showed (src/http/request-body.ts and each resource's request.ts), which
 * the service reports first and together with its own, in one response (docs/behavior.md A3).
 */
import type { ApiError } from '../errors/api-error.js';

export interface RequestInput<T> {
  /** the values the request gives and the HTTP layer accepts; left out, null or refused: undefined */
  values: T;
  /** 409s found in the body, in Apple's order */
  problems: readonly ApiError[];
  /** attributes given with a value `problems` refuses: undefined in `values`, yet not left out */
  refused: ReadonlySet<keyof T & string>;
}
