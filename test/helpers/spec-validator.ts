/**
 * Validates response bodies against the vendored OpenAPI document with ajv. The document's schemas
 * get only the adjustments spec/README.md lists (nullable, discriminator, non-string format), plus
 * one: Apple serializes App attributes it has no value for as explicit null (docs/behavior.md B9.2),
 * so App attributes may be null.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { loadOperations, loadSpecDocument, toJsonSchema, type JsonSchema } from '../../src/spec/openapi.js';

function buildDefinitions(): Record<string, unknown> {
  const doc = loadSpecDocument();
  const definitions = toJsonSchema(doc.components.schemas) as Record<string, JsonSchema>;
  const app = definitions.App as { properties: { attributes: { properties: Record<string, JsonSchema> } } };
  for (const [name, schema] of Object.entries(app.properties.attributes.properties)) {
    app.properties.attributes.properties[name] = { anyOf: [schema, { type: 'null' }] };
  }
  return definitions;
}

const ajv = new Ajv({ strict: false, allErrors: true });
// ajv-formats is CommonJS: under NodeNext its default export is the module object
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;
addFormats(ajv);
ajv.addSchema({ $id: 'asc', definitions: buildDefinitions() });
const operations = loadOperations();
const cache = new Map<string, ValidateFunction>();

function validatorFor(ref: string): ValidateFunction {
  let v = cache.get(ref);
  if (!v) {
    v = ajv.compile({ $ref: `asc${ref.replace('#/components/schemas/', '#/definitions/')}` });
    cache.set(ref, v);
  }
  return v;
}

/** Validates against a named component schema, e.g. `ErrorResponse`. */
export function schemaErrors(name: string, body: unknown): string[] {
  const v = validatorFor(`#/components/schemas/${name}`);
  return v(body) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''} ${JSON.stringify(e.params)}`);
}

/**
 * Validates a response of operation `METHOD /path/{template}` with `status`. Statuses the spec
 * does not list for the operation (e.g. 405, 410) are checked against ErrorResponse.
 */
export function responseErrors(operation: string, status: number, body: unknown): string[] {
  const op = operations.get(operation);
  if (!op) throw new Error(`no operation ${operation} in the spec`);
  const ref = op.responseSchemaRefs.get(String(status));
  if (ref) {
    const v = validatorFor(ref);
    return v(body) ? [] : (v.errors ?? []).map((e) => `${e.instancePath} ${e.message ?? ''}`);
  }
  if (status >= 400) return schemaErrors('ErrorResponse', body);
  if (body === undefined || body === null || body === '') return [];
  return [`the spec lists no body for ${operation} ${status}`];
}
