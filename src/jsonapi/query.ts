/**
 * Query-string parsing and validation against the operation's parameters in the vendored spec.
 * Names may arrive raw (`filter[email]`) or percent-encoded (`filter%5Bemail%5D`); `+` is kept
 * literally (emails contain it). Array parameters are comma-separated (style form, explode false);
 * a repeated array parameter adds its values.
 */
import { ApiError, ApiErrors } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import type { OperationSpec } from '../spec/openapi.js';

export type ParamValue = string[] | number | boolean | string;

export interface ParsedQuery {
  /** Validated values by parameter name. */
  readonly values: ReadonlyMap<string, ParamValue>;
  /** The decoded pairs in request order, to echo in `links.self`. */
  readonly pairs: ReadonlyArray<readonly [string, string]>;
}

/** Apple's spec gives only maxima; every `limit` here starts at 1 (docs/behavior.md A15). */
const LIMIT_MINIMUM = 1;

function decode(part: string): string | undefined {
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

export function splitQuery(raw: string): Array<[string, string]> | ApiError {
  const pairs: Array<[string, string]> = [];
  if (raw === '') return pairs;
  for (const piece of raw.split('&')) {
    if (piece === '') continue;
    const eq = piece.indexOf('=');
    const rawName = eq === -1 ? piece : piece.slice(0, eq);
    const rawValue = eq === -1 ? '' : piece.slice(eq + 1);
    const name = decode(rawName);
    const value = decode(rawValue);
    if (name?.includes('\u0000') || value?.includes('\u0000')) {
      return errors.parameterInvalid(name ?? rawName, 'A query parameter may not contain a NUL character');
    }
    if (name === undefined || value === undefined) {
      return errors.parameterInvalid(name ?? rawName, `The query string contains an invalid percent-encoding: '${piece}'`);
    }
    pairs.push([name, value]);
  }
  return pairs;
}

function describeEnumProblem(name: string, value: string): string {
  if (name === 'include') return `'${value}' is not a valid relationship name`;
  if (name.startsWith('fields[')) return `'${value}' is not a valid field name for '${name}'`;
  if (name === 'sort') return `'${value}' is not a valid sort expression`;
  return `'${value}' is not a valid value for '${name}'`;
}

export function parseQuery(raw: string, op: OperationSpec): ParsedQuery {
  const split = splitQuery(raw);
  if (split instanceof ApiError) throw split;
  const problems: ApiError[] = [];
  const values = new Map<string, ParamValue>();
  const seen = new Set<string>();
  const minimum = LIMIT_MINIMUM;

  for (const [name, value] of split) {
    const spec = op.parameters.get(name);
    if (!spec) {
      if (name === 'cursor' && op.paged) {
        if (seen.has(name)) problems.push(errors.parameterInvalid(name, `The parameter '${name}' can only be given once`));
        else if (value === '') problems.push(errors.parameterInvalid(name, `The parameter 'cursor' must not be empty`));
        else values.set(name, value);
        seen.add(name);
        continue;
      }
      const filter = /^filter\[(.*)\]$/.exec(name);
      if (filter && op.filters.size > 0) {
        problems.push(errors.parameterInvalid(name, `'${filter[1]}' is not a valid filter type`));
      } else {
        problems.push(errors.parameterIllegal(name));
      }
      continue;
    }
    switch (spec.kind) {
      case 'array': {
        const items = value.split(',');
        const previous = values.get(name);
        const list = Array.isArray(previous) ? previous : [];
        let ok = true;
        for (const item of items) {
          if (item === '') {
            problems.push(errors.parameterInvalid(name, `The parameter '${name}' has an empty value`));
            ok = false;
            break;
          }
          if (spec.enum && !spec.enum.includes(item)) {
            problems.push(errors.parameterInvalid(name, describeEnumProblem(name, item)));
            ok = false;
            continue;
          }
          if (!list.includes(item)) list.push(item);
        }
        if (ok) values.set(name, list);
        break;
      }
      case 'integer': {
        if (seen.has(name)) {
          problems.push(errors.parameterInvalid(name, `The parameter '${name}' can only be given once`));
          break;
        }
        const n = /^\d{1,9}$/.test(value) ? Number(value) : NaN;
        if (!Number.isInteger(n) || n < minimum || n > spec.maximum) {
          problems.push(
            errors.parameterInvalid(
              name,
              `The value '${value}' is not valid for '${name}'; it must be an integer from ${minimum} to ${spec.maximum}`,
            ),
          );
        } else {
          values.set(name, n);
        }
        break;
      }
      case 'boolean': {
        if (seen.has(name)) {
          problems.push(errors.parameterInvalid(name, `The parameter '${name}' can only be given once`));
        } else if (value !== 'true' && value !== 'false') {
          problems.push(errors.parameterInvalid(name, `The value '${value}' is not valid for '${name}'; it must be true or false`));
        } else {
          values.set(name, value === 'true');
        }
        break;
      }
      case 'string':
        if (seen.has(name)) problems.push(errors.parameterInvalid(name, `The parameter '${name}' can only be given once`));
        else values.set(name, value);
        break;
    }
    seen.add(name);
  }
  if (problems.length > 0) throw new ApiErrors(problems);
  return { values, pairs: split };
}

/** Typed accessors over a parsed query. */
export function listParam(q: ParsedQuery, name: string): string[] | undefined {
  const v = q.values.get(name);
  return Array.isArray(v) ? v : undefined;
}

export function intParam(q: ParsedQuery, name: string, fallback: number): number {
  const v = q.values.get(name);
  return typeof v === 'number' ? v : fallback;
}

export function boolParam(q: ParsedQuery, name: string): boolean | undefined {
  const v = q.values.get(name);
  return typeof v === 'boolean' ? v : undefined;
}

export function stringParam(q: ParsedQuery, name: string): string | undefined {
  const v = q.values.get(name);
  return typeof v === 'string' ? v : undefined;
}
