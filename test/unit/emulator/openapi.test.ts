/**
 * spec/emulator.openapi.json: written by scripts/emulator-openapi.ts (the file must be what it
 * writes), a valid OpenAPI 3.0 document by the checks that matter to its readers and generators
 * (every reference resolves, every path parameter is declared, every schema uses only OpenAPI 3.0's
 * keywords and compiles), and its state document agrees with the schema imports are checked
 * against (src/emulator/state-schema.ts).
 */
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';
import { EMULATOR_SPEC_FILE, emulatorOpenApiText } from '../../../scripts/emulator-openapi.js';
import { STATE_DOCUMENT_SCHEMA } from '../../../src/emulator/state-schema.js';
import { emulatorValidator } from '../../helpers/emulator-spec.js';

type Node = Record<string, unknown>;

const text = readFileSync(EMULATOR_SPEC_FILE, 'utf8');
const doc = JSON.parse(text) as {
  openapi: string;
  info: Node;
  paths: Record<string, Record<string, Node | Node[]>>;
  components: { schemas: Record<string, Node>; responses: Record<string, Node>; securitySchemes: Record<string, Node> };
};
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'];
/** The Schema Object's fields in OpenAPI 3.0.3 (section 4.7.24). */
const SCHEMA_FIELDS = new Set([
  '$ref',
  'title',
  'multipleOf',
  'maximum',
  'exclusiveMaximum',
  'minimum',
  'exclusiveMinimum',
  'maxLength',
  'minLength',
  'pattern',
  'maxItems',
  'minItems',
  'uniqueItems',
  'maxProperties',
  'minProperties',
  'required',
  'enum',
  'type',
  'allOf',
  'oneOf',
  'anyOf',
  'not',
  'items',
  'properties',
  'additionalProperties',
  'description',
  'format',
  'default',
  'nullable',
  'discriminator',
  'readOnly',
  'writeOnly',
  'xml',
  'externalDocs',
  'example',
  'deprecated',
]);
const TYPES = new Set(['array', 'boolean', 'integer', 'number', 'object', 'string']);

/** Every schema problem under `schema` (OpenAPI 3.0's Schema Object, recursively). */
function schemaProblems(schema: unknown, at: string): string[] {
  if (typeof schema !== 'object' || schema === null || Array.isArray(schema)) return [`${at}: not an object`];
  const s = schema as Node;
  const problems: string[] = [];
  for (const key of Object.keys(s)) if (!SCHEMA_FIELDS.has(key)) problems.push(`${at}: '${key}' is not an OpenAPI 3.0 schema field`);
  if (s.type !== undefined && !(typeof s.type === 'string' && TYPES.has(s.type))) problems.push(`${at}: type ${JSON.stringify(s.type)}`);
  if (s.nullable !== undefined && typeof s.nullable !== 'boolean') problems.push(`${at}: nullable must be a boolean`);
  if (s.type === 'array' && s.items === undefined) problems.push(`${at}: an array needs items`);
  for (const key of ['exclusiveMinimum', 'exclusiveMaximum'])
    if (key in s && typeof s[key] !== 'boolean') problems.push(`${at}: ${key} is a boolean in 3.0`);
  for (const key of ['allOf', 'oneOf', 'anyOf']) {
    if (key in s) (s[key] as unknown[]).forEach((sub, i) => problems.push(...schemaProblems(sub, `${at}/${key}/${i}`)));
  }
  for (const key of ['items', 'not']) if (key in s) problems.push(...schemaProblems(s[key], `${at}/${key}`));
  if (typeof s.additionalProperties === 'object') problems.push(...schemaProblems(s.additionalProperties, `${at}/additionalProperties`));
  for (const [name, sub] of Object.entries((s.properties as Node | undefined) ?? {}))
    problems.push(...schemaProblems(sub, `${at}/properties/${name}`));
  return problems;
}

/** Every `$ref` in `node`. */
function refs(node: unknown): string[] {
  if (Array.isArray(node)) return node.flatMap(refs);
  if (typeof node !== 'object' || node === null) return [];
  return Object.entries(node).flatMap(([k, v]) => (k === '$ref' && typeof v === 'string' ? [v] : refs(v)));
}

function resolve(pointer: string): unknown {
  expect(pointer.startsWith('#/')).toBe(true);
  return pointer
    .slice(2)
    .split('/')
    .reduce<unknown>((node, part) => (node as Node | undefined)?.[part.replace(/~1/g, '/').replace(/~0/g, '~')], doc);
}

const validatorOf = emulatorValidator;

describe('spec/emulator.openapi.json', () => {
  it('is what scripts/emulator-openapi.ts writes (npm run spec:emulator)', () => {
    expect(text).toBe(emulatorOpenApiText());
  });

  it('is an OpenAPI 3.0 document with info, paths and components', () => {
    expect(doc.openapi).toMatch(/^3\.0\.\d+$/);
    expect(typeof doc.info.title).toBe('string');
    expect(typeof doc.info.version).toBe('string');
    expect(Object.keys(doc.paths).length).toBeGreaterThan(10);
    expect(Object.keys(doc.components.securitySchemes)).toEqual(['emulatorToken']);
  });

  it('every reference resolves', () => {
    const all = refs(doc);
    expect(all.length).toBeGreaterThan(40);
    for (const r of new Set(all)) expect(resolve(r), r).toBeDefined();
  });

  it('every path is under /_emulator/v1, every operation has a unique id, documented responses and its path parameters', () => {
    const ids = new Set<string>();
    for (const [template, item] of Object.entries(doc.paths)) {
      expect(template.startsWith('/_emulator/v1')).toBe(true);
      const inTemplate = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]);
      for (const key of Object.keys(item)) expect(['parameters', ...METHODS], `${template} ${key}`).toContain(key);
      const shared = (item.parameters as Node[] | undefined) ?? [];
      const operations = Object.entries(item).filter(([k]) => METHODS.includes(k)) as [string, Node][];
      expect(operations.length, template).toBeGreaterThan(0);
      for (const [method, op] of operations) {
        expect(typeof op.operationId).toBe('string');
        expect(ids.has(op.operationId as string), `${op.operationId as string} twice`).toBe(false);
        ids.add(op.operationId as string);
        expect(typeof op.summary).toBe('string');
        const params = [...shared, ...((op.parameters as Node[] | undefined) ?? [])];
        const pathParams = params.filter((p) => p.in === 'path');
        expect(pathParams.map((p) => p.name).sort(), `${method} ${template}`).toEqual([...inTemplate].sort());
        for (const p of pathParams) expect(p.required).toBe(true);
        for (const p of params) {
          expect(['path', 'query']).toContain(p.in);
          expect(schemaProblems(p.schema, `${method} ${template} ${p.name as string}`)).toEqual([]);
        }
        const responses = op.responses as Record<string, Node>;
        const statuses = Object.keys(responses);
        expect(statuses.some((s) => s.startsWith('2'))).toBe(true);
        for (const status of statuses) {
          expect(status).toMatch(/^[1-5]\d\d$/);
          const response = (responses[status]!.$ref ? resolve(responses[status]!.$ref as string) : responses[status]) as Node;
          expect(typeof response.description).toBe('string');
          // every 4xx is Apple's ErrorResponse
          if (status.startsWith('4'))
            expect(response.content).toEqual({ 'application/json': { schema: { $ref: '#/components/schemas/ErrorResponse' } } });
          if (status === '204') expect(response.content).toBeUndefined();
        }
        if (['post', 'put'].includes(method) && op.requestBody) {
          expect(Object.keys((op.requestBody as { content: Node }).content)).toEqual(['application/json']);
        }
      }
    }
    expect(ids.size).toBe(21);
  });

  it("every schema uses only OpenAPI 3.0's fields and compiles (ajv, strict)", () => {
    for (const [name, schema] of Object.entries(doc.components.schemas)) {
      expect(schemaProblems(schema, name)).toEqual([]);
      expect(() => validatorOf(name), name).not.toThrow();
    }
  });

  it('StateDocument accepts and refuses what the state schema of imports does', () => {
    const fromSpec = validatorOf('StateDocument');
    const own = new Ajv({ strict: true, allowUnionTypes: true });
    (addFormatsModule as unknown as typeof addFormatsModule.default)(own);
    const fromState = own.compile(STATE_DOCUMENT_SCHEMA);
    const issuer = '0b6d2c1e-5a4f-4c3b-9a8e-7f6d5c4b3a21';
    const samples: unknown[] = [
      { format: 'asc-access-state/1' },
      { format: 'asc-access-state/2' },
      { format: 'asc-access-state/1', team: { issuerId: issuer } },
      { format: 'asc-access-state/1', team: { issuerId: 'not-a-uuid' } },
      { format: 'asc-access-state/1', extra: 1 },
      { format: 'asc-access-state/1', apps: [{ name: 'A', bundleId: 'com.example.a', sku: 'A1', id: '123' }] },
      { format: 'asc-access-state/1', apps: [{ name: 'A', bundleId: 'com example', sku: 'A1' }] },
      { format: 'asc-access-state/1', apiKeys: [{ name: 'CI', role: 'ADMIN', userId: null, revokedAt: null }] },
      { format: 'asc-access-state/1', apiKeys: [{ name: 'CI', role: 'OWNER' }] },
      {
        format: 'asc-access-state/1',
        invitations: [{ email: 'a@example.com', firstName: 'A', lastName: 'B', roles: ['DEVELOPER'], tokenHash: null, invitedBy: null }],
      },
      {
        format: 'asc-access-state/1',
        invitations: [{ email: 'a@example.com', firstName: 'A', lastName: 'B', roles: ['DEVELOPER', 'DEVELOPER'] }],
      },
      {
        format: 'asc-access-state/1',
        users: [{ username: 'a@example.com', firstName: 'A', lastName: 'B', roles: [], createdAt: '2030-01-01T00:00:00Z' }],
      },
      {
        format: 'asc-access-state/1',
        users: [{ username: 'a@example.com', firstName: 'A', lastName: 'B', roles: [], createdAt: 'yesterday' }],
      },
      { format: 'asc-access-state/1', endedInvitations: [{ id: issuer, outcome: 'accepted' }] },
      { format: 'asc-access-state/1', endedInvitations: [{ id: issuer, outcome: 'declined' }] },
    ];
    const verdicts = samples.map((s) => [fromSpec(s), fromState(s)]);
    for (const [i, [spec, state]] of verdicts.entries()) expect(spec, JSON.stringify(samples[i])).toBe(state);
    // both outcomes came up
    expect(new Set(verdicts.map(([v]) => v))).toEqual(new Set([true, false]));
  });
});
