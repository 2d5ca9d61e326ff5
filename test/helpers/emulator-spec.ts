/**
 * Validates the emulator's control responses against spec/emulator.openapi.json with ajv: its
 * OpenAPI 3.0 schemas turned into draft-07 (`nullable` a union with null), walking schema
 * positions only (the state document has a member named `format`).
 */
import { readFileSync } from 'node:fs';
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { fileURLToPath } from 'node:url';

type Node = Record<string, unknown>;

export const EMULATOR_SPEC_PATH = fileURLToPath(new URL('../../spec/emulator.openapi.json', import.meta.url));

export interface EmulatorSpec {
  openapi: string;
  info: Node;
  paths: Record<string, Record<string, Node | Node[]>>;
  components: { schemas: Record<string, Node>; responses: Record<string, Node>; securitySchemes: Record<string, Node> };
}

export const emulatorSpec = JSON.parse(readFileSync(EMULATOR_SPEC_PATH, 'utf8')) as EmulatorSpec;

/** An OpenAPI 3.0 schema as draft-07 JSON Schema, its references into `emulator#/definitions`. */
export function toDraft07(schema: unknown): unknown {
  if (typeof schema !== 'object' || schema === null) return schema;
  const out: Node = {};
  for (const [key, value] of Object.entries(schema as Node)) {
    if (key === 'nullable') continue;
    if (key === '$ref') out.$ref = (value as string).replace('#/components/schemas/', 'emulator#/definitions/');
    else if (key === 'properties') out.properties = Object.fromEntries(Object.entries(value as Node).map(([k, v]) => [k, toDraft07(v)]));
    else if (['allOf', 'oneOf', 'anyOf'].includes(key)) out[key] = (value as unknown[]).map(toDraft07);
    else if (['items', 'not', 'additionalProperties'].includes(key)) out[key] = toDraft07(value);
    else out[key] = value;
  }
  if ((schema as Node).nullable === true) {
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    if (Array.isArray(out.enum)) out.enum = [...(out.enum as unknown[]), null];
  }
  return out;
}

const ajv = new Ajv({ strict: true, allErrors: true, allowUnionTypes: true });
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
addFormats(ajv);
ajv.addSchema({
  $id: 'emulator',
  definitions: Object.fromEntries(Object.entries(emulatorSpec.components.schemas).map(([k, v]) => [k, toDraft07(v)])),
});
const validators = new Map<string, ValidateFunction>();

/** The compiled validator of a component schema, e.g. `Clock`. */
export function emulatorValidator(name: string): ValidateFunction {
  let v = validators.get(name);
  if (!v) {
    if (!(name in emulatorSpec.components.schemas)) throw new Error(`no schema ${name} in spec/emulator.openapi.json`);
    v = ajv.compile({ $ref: `emulator#/definitions/${name}` });
    validators.set(name, v);
  }
  return v;
}

/** What is wrong with `body` as the component schema `name` (empty: nothing). */
export function emulatorSchemaErrors(name: string, body: unknown): string[] {
  const v = emulatorValidator(name);
  return v(body) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

export interface ControlOperation {
  operationId: string;
  method: string;
  /** e.g. /_emulator/v1/teams/{team}/clock */
  template: string;
  /** status -> the component schema of its body, or null for none */
  responses: Map<string, string | null>;
}

function resolveResponse(response: Node): Node {
  const ref = response.$ref as string | undefined;
  return ref ? (emulatorSpec.components.responses[ref.replace('#/components/responses/', '')] as Node) : response;
}

/** Every operation of the document. */
export function controlOperations(): ControlOperation[] {
  const out: ControlOperation[] = [];
  for (const [template, item] of Object.entries(emulatorSpec.paths)) {
    for (const [method, op] of Object.entries(item)) {
      if (method === 'parameters') continue;
      const o = op as Node;
      const responses = new Map<string, string | null>();
      for (const [status, r] of Object.entries(o.responses as Record<string, Node>)) {
        const content = resolveResponse(r).content as Record<string, { schema: { $ref: string } }> | undefined;
        responses.set(status, content ? content['application/json']!.schema.$ref.replace('#/components/schemas/', '') : null);
      }
      out.push({ operationId: o.operationId as string, method: method.toUpperCase(), template, responses });
    }
  }
  return out;
}

/** The operation whose method and template match a concrete request path (no query). */
export function operationOf(method: string, path: string): ControlOperation | undefined {
  return controlOperations().find((op) => {
    if (op.method !== method.toUpperCase()) return false;
    const pattern = new RegExp(`^${op.template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    return pattern.test(path);
  });
}

/**
 * What is wrong with a control's answer by the document: its status must be listed for the
 * operation, and its body be that response's schema (none for a response without content).
 */
export function controlResponseErrors(method: string, path: string, status: number, body: unknown): string[] {
  const op = operationOf(method, path);
  if (!op) return [`spec/emulator.openapi.json has no operation ${method} ${path}`];
  if (!op.responses.has(String(status))) return [`${op.operationId} does not list status ${status}`];
  const schema = op.responses.get(String(status))!;
  if (schema === null)
    return body === undefined || body === '' ? [] : [`${op.operationId} ${status} has no body, got ${JSON.stringify(body)}`];
  return emulatorSchemaErrors(schema, body);
}
