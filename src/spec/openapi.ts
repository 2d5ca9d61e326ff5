/**
 * The vendored OpenAPI document (spec/, pinned to Apple's version 4.4.1) is the source of truth for
 * paths, methods and query parameters. This module reads it once and answers questions about it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const SPEC_FILE = fileURLToPath(new URL('../../spec/app-store-connect-users-access.json', import.meta.url));

export type JsonSchema = Record<string, unknown>;

interface RawParameter {
  name: string;
  in: string;
  required?: boolean;
  schema: {
    type: 'array' | 'integer' | 'string' | 'boolean';
    maximum?: number;
    items?: { type: string; enum?: string[] };
    enum?: string[];
  };
}

interface RawOperation {
  operationId: string;
  parameters?: RawParameter[];
  responses: Record<string, { content?: Record<string, { schema: JsonSchema }> }>;
  requestBody?: { content: Record<string, { schema: JsonSchema }> };
}

export interface OpenApiDocument {
  info: { version: string; title: string };
  /** operations, and the other members a path item may have */
  paths: Record<string, Record<string, unknown>>;
  components: { schemas: Record<string, JsonSchema> };
}

export type ParameterSpec =
  | { name: string; kind: 'array'; enum: readonly string[] | undefined }
  | { name: string; kind: 'integer'; maximum: number }
  | { name: string; kind: 'boolean' }
  | { name: string; kind: 'string' };

export interface OperationSpec {
  operationId: string;
  method: string;
  /** OpenAPI path template, e.g. /v1/userInvitations/{id} */
  path: string;
  parameters: ReadonlyMap<string, ParameterSpec>;
  /** True when the operation pages (takes `limit`); such operations also take `cursor`. */
  paged: boolean;
  /** Filter keys this operation takes (`email` for `filter[email]`). */
  filters: ReadonlySet<string>;
  responseSchemaRefs: ReadonlyMap<string, string>;
}

let cached: OpenApiDocument | undefined;

export function loadSpecDocument(): OpenApiDocument {
  cached ??= JSON.parse(readFileSync(SPEC_FILE, 'utf8')) as OpenApiDocument;
  return cached;
}

const METHODS = ['get', 'post', 'patch', 'put', 'delete'] as const;

function toParameterSpec(raw: RawParameter): ParameterSpec {
  const s = raw.schema;
  switch (s.type) {
    case 'array':
      return { name: raw.name, kind: 'array', enum: s.items?.enum };
    case 'integer':
      return { name: raw.name, kind: 'integer', maximum: s.maximum ?? Number.MAX_SAFE_INTEGER };
    case 'boolean':
      return { name: raw.name, kind: 'boolean' };
    default:
      return { name: raw.name, kind: 'string' };
  }
}

/** Every operation of the document, keyed by `METHOD /path/{template}`. */
export function loadOperations(doc: OpenApiDocument = loadSpecDocument()): Map<string, OperationSpec> {
  const out = new Map<string, OperationSpec>();
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const method of METHODS) {
      const op = item[method] as RawOperation | undefined;
      if (!op) continue;
      const parameters = new Map<string, ParameterSpec>();
      for (const p of op.parameters ?? []) {
        if (p.in === 'query') parameters.set(p.name, toParameterSpec(p));
      }
      const filters = new Set<string>();
      for (const name of parameters.keys()) {
        const m = /^filter\[(.+)\]$/.exec(name);
        if (m) filters.add(m[1]!);
      }
      const responseSchemaRefs = new Map<string, string>();
      for (const [status, response] of Object.entries(op.responses)) {
        const ref = response.content?.['application/json']?.schema?.$ref;
        if (typeof ref === 'string') responseSchemaRefs.set(status, ref);
      }
      out.set(`${method.toUpperCase()} ${path}`, {
        operationId: op.operationId,
        method: method.toUpperCase(),
        path,
        parameters,
        paged: parameters.has('limit'),
        filters,
        responseSchemaRefs,
      });
    }
  }
  return out;
}

/**
 * Turns the document's OpenAPI 3.0 schemas into draft-07 JSON Schema that ajv compiles:
 * `nullable` becomes a union with null, `discriminator` is dropped (the oneOf still decides),
 * and a non-string `format` is dropped.
 */
export function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (node === null || typeof node !== 'object') return node;
  const src = node as Record<string, unknown>;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(src)) {
    if (key === 'discriminator' || key === 'nullable') continue;
    if (key === 'format' && typeof value !== 'string') continue;
    if (key === '$ref' && typeof value === 'string') {
      out.$ref = value.replace('#/components/schemas/', '#/definitions/');
      continue;
    }
    out[key] = toJsonSchema(value);
  }
  if (src.nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...(out.enum as unknown[]), null];
    if (out.$ref !== undefined) return { anyOf: [{ $ref: out.$ref }, { type: 'null' }] };
  }
  return out;
}
