import { describe, expect, it } from 'vitest';
import { ApiError, ApiErrors } from '../../../src/errors/api-error.js';
import { parseQuery, splitQuery } from '../../../src/jsonapi/query.js';
import type { OperationSpec, ParameterSpec } from '../../../src/spec/openapi.js';

/** A hand-built operation shaped like GET /v1/userInvitations (no file is read). */
function operation(params: ParameterSpec[], filters: string[] = []): OperationSpec {
  return {
    operationId: 'test',
    method: 'GET',
    path: '/v1/userInvitations',
    parameters: new Map(params.map((p) => [p.name, p])),
    paged: params.some((p) => p.name === 'limit'),
    filters: new Set(filters),
    responseSchemaRefs: new Map(),
  };
}

const list = operation(
  [
    { name: 'filter[email]', kind: 'array', enum: undefined },
    { name: 'filter[roles]', kind: 'array', enum: ['ADMIN', 'DEVELOPER', 'FINANCE'] },
    { name: 'include', kind: 'array', enum: ['visibleApps'] },
    { name: 'fields[userInvitations]', kind: 'array', enum: ['email', 'roles'] },
    { name: 'sort', kind: 'array', enum: ['email', '-email'] },
    { name: 'limit', kind: 'integer', maximum: 200 },
    { name: 'limit[visibleApps]', kind: 'integer', maximum: 50 },
    { name: 'flag', kind: 'boolean' },
    { name: 'name', kind: 'string' },
  ],
  ['email', 'roles'],
);

const single = operation([{ name: 'include', kind: 'array', enum: ['visibleApps'] }]);

/** Runs parseQuery and returns the error objects it throws (one ApiError or several). */
function problems(raw: string, op: OperationSpec = list) {
  try {
    parseQuery(raw, op);
  } catch (err) {
    if (err instanceof ApiErrors) return err.errors.map((e) => ({ status: e.status, code: e.code, detail: e.detail, source: e.source }));
    if (err instanceof ApiError) return [{ status: err.status, code: err.code, detail: err.detail, source: err.source }];
    throw err;
  }
  throw new Error(`parseQuery accepted '${raw}'`);
}

const invalid = (parameter: string, detail: string) => ({ status: 400, code: 'PARAMETER_ERROR.INVALID', detail, source: { parameter } });

describe('splitQuery', () => {
  it('decodes names and values, skips empty pieces and keeps request order', () => {
    expect(splitQuery('b=2&&a=1&c&')).toEqual([
      ['b', '2'],
      ['a', '1'],
      ['c', ''],
    ]);
    expect(splitQuery('')).toEqual([]);
  });

  it('reports a bad percent-encoding of a value under the decoded name', () => {
    const err = splitQuery('filter%5Bemail%5D=%E0%A4%A');
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).toJSON()).toEqual({
      id: expect.any(String),
      status: '400',
      code: 'PARAMETER_ERROR.INVALID',
      title: 'A parameter has an invalid value',
      detail: "The query string contains an invalid percent-encoding: 'filter%5Bemail%5D=%E0%A4%A'",
      source: { parameter: 'filter[email]' },
    });
  });

  it('reports a bad percent-encoding of a name under the raw name', () => {
    const err = splitQuery('filter%5Bemail%ZZ=x');
    expect(err).toBeInstanceOf(ApiError);
    expect((err as ApiError).source).toEqual({ parameter: 'filter%5Bemail%ZZ' });
  });
});

describe('parseQuery', () => {
  it('accepts parameter names raw and percent-encoded alike', () => {
    const raw = parseQuery('filter[email]=a@b.c&limit[visibleApps]=5', list);
    const encoded = parseQuery('filter%5Bemail%5D=a%40b.c&limit%5BvisibleApps%5D=5', list);
    expect([...raw.values]).toEqual([
      ['filter[email]', ['a@b.c']],
      ['limit[visibleApps]', 5],
    ]);
    expect([...encoded.values]).toEqual([...raw.values]);
    expect(encoded.pairs).toEqual(raw.pairs);
  });

  it("keeps '+' literally and decodes %2B and %20", () => {
    const q = parseQuery('filter[email]=jane+tag@example.com,%2Bx@example.com&name=a%20b+c', list);
    expect(q.values.get('filter[email]')).toEqual(['jane+tag@example.com', '+x@example.com']);
    expect(q.values.get('name')).toBe('a b+c');
  });

  it('merges repeated array parameters and drops duplicate values', () => {
    const q = parseQuery('filter[roles]=ADMIN&filter%5Broles%5D=DEVELOPER,ADMIN&filter[roles]=FINANCE', list);
    expect(q.values.get('filter[roles]')).toEqual(['ADMIN', 'DEVELOPER', 'FINANCE']);
  });

  it('keeps the decoded pairs in request order for links.self', () => {
    const q = parseQuery('limit=5&filter%5Bemail%5D=a%40b.c&sort=-email', list);
    expect(q.pairs).toEqual([
      ['limit', '5'],
      ['filter[email]', 'a@b.c'],
      ['sort', '-email'],
    ]);
  });

  it('types integers and booleans', () => {
    const q = parseQuery('limit=200&limit[visibleApps]=1&flag=false', list);
    expect(q.values.get('limit')).toBe(200);
    expect(q.values.get('limit[visibleApps]')).toBe(1);
    expect(q.values.get('flag')).toBe(false);
  });

  it('throws the ApiError of a bad percent-encoding', () => {
    expect(problems('filter[email]=%')).toEqual([
      invalid('filter[email]', "The query string contains an invalid percent-encoding: 'filter[email]=%'"),
    ]);
  });

  it('refuses a parameter the endpoint does not take with PARAMETER_ERROR.ILLEGAL', () => {
    expect(problems('foo=1')).toEqual([
      {
        status: 400,
        code: 'PARAMETER_ERROR.ILLEGAL',
        detail: "The parameter 'foo' can not be used with this request",
        source: { parameter: 'foo' },
      },
    ]);
    expect(problems('limit=5', single)).toEqual([
      {
        status: 400,
        code: 'PARAMETER_ERROR.ILLEGAL',
        detail: "The parameter 'limit' can not be used with this request",
        source: { parameter: 'limit' },
      },
    ]);
  });

  it('refuses an unknown filter key as an invalid filter type, or as illegal where no filter is taken', () => {
    expect(problems('filter[emaill]=x')).toEqual([invalid('filter[emaill]', "'emaill' is not a valid filter type")]);
    expect(problems('filter%5Bemaill%5D=x')).toEqual([invalid('filter[emaill]', "'emaill' is not a valid filter type")]);
    expect(problems('filter[email]=x', single)).toEqual([
      {
        status: 400,
        code: 'PARAMETER_ERROR.ILLEGAL',
        detail: "The parameter 'filter[email]' can not be used with this request",
        source: { parameter: 'filter[email]' },
      },
    ]);
  });

  it('refuses enum values with wording per parameter', () => {
    expect(problems('include=betaTesters')).toEqual([invalid('include', "'betaTesters' is not a valid relationship name")]);
    expect(problems('fields[userInvitations]=email,bogus')).toEqual([
      invalid('fields[userInvitations]', "'bogus' is not a valid field name for 'fields[userInvitations]'"),
    ]);
    expect(problems('sort=lastName')).toEqual([invalid('sort', "'lastName' is not a valid sort expression")]);
    expect(problems('filter[roles]=OWNER')).toEqual([invalid('filter[roles]', "'OWNER' is not a valid value for 'filter[roles]'")]);
  });

  it('refuses empty array items', () => {
    expect(problems('filter[roles]=ADMIN,')).toEqual([invalid('filter[roles]', "The parameter 'filter[roles]' has an empty value")]);
    expect(problems('include')).toEqual([invalid('include', "The parameter 'include' has an empty value")]);
  });

  it('checks limits: 1 to the maximum, digits only, given once', () => {
    for (const value of ['0', '201', '-1', '1.5', 'ten', '', '1e2']) {
      expect(problems(`limit=${value}`)).toEqual([
        invalid('limit', `The value '${value}' is not valid for 'limit'; it must be an integer from 1 to 200`),
      ]);
    }
    expect(problems('limit[visibleApps]=51')).toEqual([
      invalid('limit[visibleApps]', "The value '51' is not valid for 'limit[visibleApps]'; it must be an integer from 1 to 50"),
    ]);
    expect(problems('limit=5&limit=6')).toEqual([invalid('limit', "The parameter 'limit' can only be given once")]);
  });

  it('checks booleans and single strings', () => {
    expect(problems('flag=yes')).toEqual([invalid('flag', "The value 'yes' is not valid for 'flag'; it must be true or false")]);
    expect(problems('name=a&name=b')).toEqual([invalid('name', "The parameter 'name' can only be given once")]);
  });

  it('takes cursor only on paged operations, once and non-empty', () => {
    expect(parseQuery('cursor=abc.def', list).values.get('cursor')).toBe('abc.def');
    expect(problems('cursor=a&cursor=b')).toEqual([invalid('cursor', "The parameter 'cursor' can only be given once")]);
    expect(problems('cursor=')).toEqual([invalid('cursor', "The parameter 'cursor' must not be empty")]);
    expect(problems('cursor=abc', single)).toEqual([
      {
        status: 400,
        code: 'PARAMETER_ERROR.ILLEGAL',
        detail: "The parameter 'cursor' can not be used with this request",
        source: { parameter: 'cursor' },
      },
    ]);
  });

  it('reports every problem of a query at once, in request order', () => {
    expect(problems('foo=1&limit=0&include=x')).toEqual([
      {
        status: 400,
        code: 'PARAMETER_ERROR.ILLEGAL',
        detail: "The parameter 'foo' can not be used with this request",
        source: { parameter: 'foo' },
      },
      invalid('limit', "The value '0' is not valid for 'limit'; it must be an integer from 1 to 200"),
      invalid('include', "'x' is not a valid relationship name"),
    ]);
  });
});
