/**
 * src/http/request-body.ts: ajv's findings on the write operations' bodies, as Apple's errors
 * (docs/behavior.md A3, A8). Each row names the ajv keyword it exercises.
 */
import { describe, expect, it } from 'vitest';
import { ApiErrors, type ApiError } from '../../../src/errors/api-error.js';
import { quoted, readLinkageDocument, readResourceDocument, type ResourceDocument } from '../../../src/http/request-body.js';

const CREATE = 'POST /v1/userInvitations';
const UPDATE = 'PATCH /v1/users/{id}';
const LINKAGE = 'POST /v1/users/{id}/relationships/visibleApps';
const ID = 'u-1';

type Problem = [status: number, code: string, pointer: string, detail: string];

const shown = (e: ApiError): Problem => [e.status, e.code, (e.source as { pointer: string }).pointer, e.detail ?? ''];

/** The problems a body gets: thrown (422) or found (409, not thrown). */
function problems(read: () => ResourceDocument | string[]): Problem[] {
  try {
    const doc = read();
    return Array.isArray(doc) ? [] : doc.problems.map(shown);
  } catch (err) {
    if (err instanceof ApiErrors) return err.errors.map(shown);
    throw err;
  }
}

const invitation = (attributes: Record<string, unknown> = {}, data: Record<string, unknown> = {}) => ({
  data: {
    type: 'userInvitations',
    attributes: { email: 'a@example.com', firstName: 'A', lastName: 'B', roles: ['DEVELOPER'], ...attributes },
    ...data,
  },
});
const update = (data: Record<string, unknown>) => ({ data: { type: 'users', id: ID, ...data } });

const u = (pointer: string, detail: string): Problem => [422, 'ENTITY_UNPROCESSABLE', pointer, detail];
const required = (name: string): Problem => [
  409,
  'ENTITY_ERROR.ATTRIBUTE.REQUIRED',
  `/data/attributes/${name}`,
  `You must provide a value for the attribute '${name}' with this request`,
];
const unknown = (name: string, type = 'userInvitations'): Problem => [
  409,
  'ENTITY_ERROR.ATTRIBUTE.UNKNOWN',
  `/data/attributes/${name.replace(/~/g, '~0').replace(/\//g, '~1')}`,
  `'${name}' is not an attribute on the resource '${type}'`,
];
const OBJECT = "The request entity must be a JSON object with a 'data' member";
const DATA = "The request entity must have a 'data' object";
const LINKAGE_DATA = "The request entity must have a 'data' array of resource identifiers";
const VISIBLE_APPS = '/data/relationships/visibleApps';

describe('resource documents: 422 for the shape, in stages', () => {
  const cases: Array<[string, () => ResourceDocument, Problem[]]> = [
    ['type: the body is not an object', () => readResourceDocument(CREATE, [invitation()]), [u('', OBJECT)]],
    ['type: null body', () => readResourceDocument(CREATE, null), [u('', OBJECT)]],
    ['required: no data', () => readResourceDocument(CREATE, { Data: invitation().data }), [u('/data', DATA)]],
    ['type: data is an array', () => readResourceDocument(CREATE, { data: [invitation().data] }), [u('/data', DATA)]],
    [
      'required: no type',
      () => readResourceDocument(CREATE, { data: { attributes: invitation().data.attributes } }),
      [u('/data/type', "The resource object must have the type 'userInvitations'")],
    ],
    [
      'enum and type: a wrong type is one error, in String() words',
      () => readResourceDocument(CREATE, invitation({}, { type: ['users', 'x'] })),
      [u('/data/type', "The type 'users,x' is not valid here; it must be 'userInvitations'")],
    ],
    [
      'false schema: an id on a create',
      () => readResourceDocument(CREATE, invitation({}, { id: null })),
      [u('/data/id', 'The resource object of a create request must not have an id')],
    ],
    [
      'required: attributes on a create',
      () => readResourceDocument(CREATE, { data: { type: 'userInvitations' } }),
      [u('/data/attributes', "The resource object must have an 'attributes' object")],
    ],
    [
      'type: every resource-object problem at once, in member order',
      () => readResourceDocument(CREATE, { data: { relationships: [], attributes: 'x', id: 1, type: 7 } }),
      [
        u('/data/type', "The type '7' is not valid here; it must be 'userInvitations'"),
        u('/data/id', 'The resource object of a create request must not have an id'),
        u('/data/attributes', "The resource object must have an 'attributes' object"),
        u('/data/relationships', "'relationships' must be an object"),
      ],
    ],
    [
      'the resource object before the linkage, and 422 before 409',
      () => readResourceDocument(CREATE, invitation({ nickname: 1 }, { id: 'x', relationships: { visibleApps: { data: 'x' } } })),
      [u('/data/id', 'The resource object of a create request must not have an id')],
    ],
    [
      'required and type: an update id',
      () => readResourceDocument(UPDATE, { data: { type: 'users', id: 5 } }, { pathId: ID }),
      [u('/data/id', 'The resource object must have an id')],
    ],
    [
      'minLength: an empty update id',
      () => readResourceDocument(UPDATE, update({ id: '' }), { pathId: ID }),
      [u('/data/id', 'The resource object must have an id')],
    ],
    [
      'the URL id (a rule of our own)',
      () => readResourceDocument(UPDATE, update({ id: 'u-2' }), { pathId: ID }),
      [u('/data/id', `The id 'u-2' does not match the id '${ID}' in the URL`)],
    ],
    ['attributes may be left out of an update', () => readResourceDocument(UPDATE, update({}), { pathId: ID }), []],
  ];
  for (const [name, read, expected] of cases) {
    it(name, () => expect(problems(read)).toEqual(expected));
  }
});

describe('linkages: 422, one per resource identifier', () => {
  const withApps = (visibleApps: unknown) => () => readResourceDocument(CREATE, invitation({}, { relationships: { visibleApps } }));
  const cases: Array<[string, () => ResourceDocument | string[], Problem[]]> = [
    ['type: the relationship is not an object', withApps([]), [u(VISIBLE_APPS, "The relationship must be an object with a 'data' array")]],
    [
      'type: data is not an array',
      withApps({ data: { type: 'apps', id: '1' } }),
      [u(`${VISIBLE_APPS}/data`, "'data' must be an array of resource identifiers")],
    ],
    ['data null and no data at all are no apps', withApps({ data: null }), []],
    [
      'type, required, enum and minLength: the item before its type before its id, by index',
      withApps({ data: [{ id: '' }, 'x', { type: 'apps', id: 7 }, {}, { type: 'users', id: '' }, { type: 'apps', id: '1' }] }),
      [
        u(`${VISIBLE_APPS}/data/0/type`, "The type must be 'apps'"),
        u(`${VISIBLE_APPS}/data/1`, "A resource identifier must be an object with 'type' and 'id'"),
        u(`${VISIBLE_APPS}/data/2/id`, 'The id must be a non-empty string'),
        u(`${VISIBLE_APPS}/data/3/type`, "The type must be 'apps'"),
        u(`${VISIBLE_APPS}/data/4/type`, "The type must be 'apps'"),
      ],
    ],
    ['linkage document: type', () => readLinkageDocument(LINKAGE, 'apps'), [u('/data', LINKAGE_DATA)]],
    ['linkage document: required', () => readLinkageDocument(LINKAGE, {}), [u('/data', LINKAGE_DATA)]],
    ['linkage document: data null is no linkage document', () => readLinkageDocument(LINKAGE, { data: null }), [u('/data', LINKAGE_DATA)]],
    [
      'linkage document: items',
      () => readLinkageDocument(LINKAGE, { data: [{ type: 'apps', id: '1' }, { type: 'apps' }, null] }),
      [u('/data/1/id', 'The id must be a non-empty string'), u('/data/2', "A resource identifier must be an object with 'type' and 'id'")],
    ],
  ];
  for (const [name, read, expected] of cases) {
    it(name, () => expect(problems(read)).toEqual(expected));
  }

  it('gives the ids in order, repeats included', () => {
    expect(
      readLinkageDocument(LINKAGE, {
        data: [
          { type: 'apps', id: '2' },
          { type: 'apps', id: '1' },
          { type: 'apps', id: '2' },
        ],
      }),
    ).toEqual(['2', '1', '2']);
    expect(
      readResourceDocument(CREATE, invitation({}, { relationships: { visibleApps: { data: [{ type: 'apps', id: '9' }] } } })).linkage(
        'visibleApps',
      ),
    ).toEqual(['9']);
  });
});

describe('resource documents: 409s, which do not throw', () => {
  it('additionalProperties: unknown and not-allowed attributes in the document order, then unknown relationships', () => {
    const doc = readResourceDocument(
      UPDATE,
      update({ relationships: { apps: {}, 'a/b': {} }, attributes: { lastName: 'x', 'x~y': 1, username: 'u', roles: null } }),
      { notAllowed: ['username', 'lastName'], pathId: ID },
    );
    expect(doc.problems.map(shown)).toEqual([
      [
        409,
        'ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED',
        '/data/attributes/lastName',
        "The attribute 'lastName' can not be included in a 'UPDATE' request",
      ],
      unknown('x~y', 'users'),
      [
        409,
        'ENTITY_ERROR.ATTRIBUTE.NOT_ALLOWED',
        '/data/attributes/username',
        "The attribute 'username' can not be included in a 'UPDATE' request",
      ],
      [409, 'ENTITY_ERROR.RELATIONSHIP.UNKNOWN', '/data/relationships/apps', "'apps' is not a relationship on the resource 'users'"],
      [409, 'ENTITY_ERROR.RELATIONSHIP.UNKNOWN', '/data/relationships/a~1b', "'a/b' is not a relationship on the resource 'users'"],
    ]);
  });

  it("required: missing and null attributes, in the schema's order of attributes", () => {
    const doc = readResourceDocument(CREATE, { data: { type: 'userInvitations', attributes: { roles: null, firstName: null } } });
    expect(doc.problems.map(shown)).toEqual([required('email'), required('firstName'), required('lastName'), required('roles')]);
    expect(doc.value('firstName')).toBeUndefined();
    expect(doc.refused.size).toBe(0);
  });

  it('null flags are not given, on a create and an update', () => {
    const doc = readResourceDocument(CREATE, invitation({ allAppsVisible: null, provisioningAllowed: null }));
    expect(doc.problems).toEqual([]);
    expect([doc.value('allAppsVisible'), doc.value('provisioningAllowed')]).toEqual([undefined, undefined]);
  });

  const valueCases: Array<[string, string, Record<string, unknown>, (doc: ResourceDocument) => unknown, Problem[]]> = [
    [
      'format',
      CREATE,
      { email: 'a@@b' },
      (d) => d.value('email'),
      [[409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/email', "'a@@b' is not a valid email address"]],
    ],
    [
      'format: Apple’s length limit, beyond the spec’s email format',
      CREATE,
      { email: `${'a'.repeat(65)}@example.com` },
      (d) => d.value('email'),
      [[409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/email', `'${'a'.repeat(65)}@example.com' is not a valid email address`]],
    ],
    [
      'type: email as JSON',
      CREATE,
      { email: { a: 1 } },
      (d) => d.value('email'),
      [[409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/email', `'{"a":1}' is not a valid email address`]],
    ],
    [
      'type: string',
      CREATE,
      { firstName: 1 },
      (d) => d.value('firstName'),
      [[409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/firstName', "'firstName' must be a string"]],
    ],
    [
      'type: boolean or null',
      UPDATE,
      { allAppsVisible: 'yes' },
      (d) => d.value('allAppsVisible'),
      [[409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/allAppsVisible', "'allAppsVisible' must be true, false or null"]],
    ],
    [
      'type: array',
      UPDATE,
      { roles: { ADMIN: true } },
      (d) => d.distinctItems('roles'),
      [[409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles', "'roles' must be an array of UserRole values"]],
    ],
    [
      'enum and type of items, with repeats, in the order of the items',
      CREATE,
      { roles: ['X', 'DEVELOPER', 7, 'DEVELOPER', 'developer'] },
      (d) => d.distinctItems('roles'),
      [
        [409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles', "'X' is not a valid role"],
        [409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles', "'7' is not a valid role"],
        [409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles', "The role 'DEVELOPER' is given more than once"],
        [409, 'ENTITY_ERROR.ATTRIBUTE.INVALID', '/data/attributes/roles', "'developer' is not a valid role"],
      ],
    ],
  ];
  for (const [name, operation, attributes, read, expected] of valueCases) {
    it(`${name}: reported when the attribute is read, and the attribute refused`, () => {
      const body = operation === CREATE ? invitation(attributes) : update({ attributes });
      const doc = readResourceDocument(operation, body, { pathId: ID });
      expect(doc.problems).toEqual([]);
      expect(read(doc)).toBeUndefined();
      expect(doc.problems.map(shown)).toEqual(expected);
      expect([...doc.refused]).toEqual([Object.keys(attributes)[0]]);
    });
  }

  it('values the schema accepts, and a rule of their own', () => {
    const doc = readResourceDocument(CREATE, invitation({ roles: ['ADMIN', 'CREATE_APPS'], firstName: '  Ann ', allAppsVisible: false }));
    expect(doc.distinctItems('roles')).toEqual(['ADMIN', 'CREATE_APPS']);
    expect(doc.value<string>('firstName', (v) => v.trim())).toBe('Ann');
    expect(doc.value('lastName', () => undefined)).toBeUndefined();
    expect(doc.value('allAppsVisible')).toBe(false);
    expect(doc.value('email')).toBe('a@example.com');
    expect([...doc.refused]).toEqual(['lastName']);
  });
});

describe('deep and huge bodies', () => {
  const deep = (depth: number): unknown => JSON.parse('['.repeat(depth) + ']'.repeat(depth));

  it('quotes a value nested too deeply to write out by its kind', () => {
    expect(quoted(deep(200_000))).toBe('[…]');
    expect(quoted(deep(200_000), 'string')).toBe('[…]');
    expect(quoted({ a: [1] })).toBe('{"a":[1]}');
  });

  it('a deeply nested value anywhere is an ordinary 4xx', () => {
    const value = deep(200_000);
    const doc = readResourceDocument(CREATE, invitation({ email: value, firstName: value, roles: value, nested: value }));
    expect(doc.value('email')).toBeUndefined();
    expect(doc.value('firstName')).toBeUndefined();
    expect(doc.distinctItems('roles')).toBeUndefined();
    expect(doc.problems.map((p) => p.detail)).toEqual([
      "'nested' is not an attribute on the resource 'userInvitations'",
      "'[…]' is not a valid email address",
      "'firstName' must be a string",
      "'[…]' is not a valid role",
    ]);
    expect(problems(() => readResourceDocument(CREATE, invitation({}, { type: value })))).toEqual([
      u('/data/type', "The type '[…]' is not valid here; it must be 'userInvitations'"),
    ]);
    expect(problems(() => readLinkageDocument(LINKAGE, { data: [value] }))).toEqual([
      u('/data/0', "A resource identifier must be an object with 'type' and 'id'"),
    ]);
  });

  it('a huge linkage or role list gets one problem per offending item', () => {
    const items = Array.from({ length: 50_000 }, (_, i) => (i % 2 === 0 ? { type: 'apps', id: String(i) } : { type: 'apps', id: '' }));
    const found = problems(() => readLinkageDocument(LINKAGE, { data: items }));
    expect(found).toHaveLength(25_000);
    expect(found[0]).toEqual(u('/data/1/id', 'The id must be a non-empty string'));
    expect(found.at(-1)).toEqual(u('/data/49999/id', 'The id must be a non-empty string'));
    const doc = readResourceDocument(CREATE, invitation({ roles: Array.from({ length: 50_000 }, () => 'ADMIN') }));
    expect(doc.distinctItems('roles')).toBeUndefined();
    expect(doc.problems).toHaveLength(49_999);
  });
});
