/**
 * Apple's error vocabulary. Services throw ApiError (or ApiErrors for several at once);
 * the one error handler renders them as Apple's ErrorResponse.
 */
import { randomUUID } from 'node:crypto';

export type ErrorSource = { pointer: string } | { parameter: string };

export interface ErrorObject {
  id?: string;
  status: string;
  code: string;
  title: string;
  detail?: string;
  source?: ErrorSource;
}

export interface ApiErrorInit {
  status: number;
  code: string;
  title: string;
  detail?: string;
  source?: ErrorSource;
  /** Apple's 401 body carries no `id`. */
  withoutId?: boolean;
}

export class ApiError extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly detail: string | undefined;
  readonly source: ErrorSource | undefined;
  readonly withoutId: boolean;

  constructor(init: ApiErrorInit) {
    super(init.detail ?? init.title);
    this.name = 'ApiError';
    this.status = init.status;
    this.code = init.code;
    this.title = init.title;
    this.detail = init.detail;
    this.source = init.source;
    this.withoutId = init.withoutId ?? false;
  }

  toJSON(): ErrorObject {
    const out: ErrorObject = this.withoutId
      ? { status: String(this.status), code: this.code, title: this.title }
      : { id: randomUUID(), status: String(this.status), code: this.code, title: this.title };
    if (this.detail !== undefined) out.detail = this.detail;
    if (this.source !== undefined) out.source = this.source;
    return out;
  }
}

/** Several errors reported in one response (e.g. one per offending attribute). */
export class ApiErrors extends Error {
  constructor(readonly errors: ApiError[]) {
    super(errors.map((e) => e.message).join('; '));
    this.name = 'ApiErrors';
    if (errors.length === 0) throw new Error('ApiErrors needs at least one error');
  }
  /** The HTTP status: shared by all errors here, or the first one's. */
  get status(): number {
    return this.errors[0]!.status;
  }
}

export function errorResponse(errors: readonly ApiError[]): { errors: ErrorObject[] } {
  return { errors: errors.map((e) => e.toJSON()) };
}
