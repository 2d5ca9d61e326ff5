/**
 * The write operations' request bodies, checked with ajv against the vendored spec's request
 * schemas (each operation's `requestBody`, compiled once when this module loads) and mapped to
 * Apple's errors (docs/behavior.md A3, A8):
 *
 * - a document of the wrong shape is a 422 ENTITY_UNPROCESSABLE pointing at the offending member,
 *   reported in stages as Apple does: the body and its `data` (one error); the resource object's
 *   `type`, `id`, `attributes` and `relationships` (all at once); then the relationships'
 *   linkages (all at once, one error per resource identifier). A later stage is looked at only
 *   when the earlier ones are fine.
 * - unknown or not-allowed attributes, unknown relationships, missing attributes and attribute
 *   values the schema refuses are 409 ENTITY_ERRORs. They do not throw: the resource's request
 *   reader (src/resources/<type>/request.ts) adds the value rules a schema can't state, and the
 *   service reports them all together with its own.
 *
 * Where Apple's API is stricter or looser than the spec's schemas, the schema is adjusted here
 * (adjustResourceDocument, adjustLinkageItems), each adjustment with its reason.
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { isValidEmail } from '../domain/email.js';
import { ApiErrors, type ApiError } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { loadSpecDocument, toJsonSchema, type JsonSchema, type OpenApiDocument } from '../spec/openapi.js';

/**
 * A node of a request schema, as far as this module reads and adjusts it. A member schema may be
 * `false` (JSON Schema's "nothing is valid here"), which adjustResourceDocument() uses.
 */
interface Schema {
  type?: string | string[];
  /** a nullable `$ref` after toJsonSchema(): the referenced schema or null */
  anyOf?: Schema[];
  properties?: Record<string, Schema | false>;
  items?: Schema;
  required?: string[];
  enum?: unknown[];
  $ref?: string;
  format?: string;
  minLength?: number;
  additionalProperties?: boolean;
}

/** The schema of `name` under `schema`'s properties; the spec's request schemas all have them. */
function propertySchema(schema: Schema, name: string): Schema {
  const found = schema.properties?.[name];
  if (!found) throw new Error(`the request schema has no member '${name}'`);
  return found;
}

/** The member schemas of an object schema, leaving out the ones that refuse every value. */
function propertySchemas(schema: Schema): Record<string, Schema> {
  return Object.fromEntries(Object.entries(schema.properties ?? {}).filter((e): e is [string, Schema] => e[1] !== false));
}

/** The operation object of the spec, as far as its request body goes. */
interface SpecOperation {
  requestBody?: { content?: Record<string, { schema?: { $ref?: string } } | undefined> };
}

/** A JSON:API resource document (create or update) or a linkage document (relationship writes). */
interface BodyValidator {
  kind: 'resource' | 'linkage';
  validate: ValidateFunction;
  /** the adjusted request schema, for the names, types and order of its members */
  schema: Schema;
  /** POST creates, PATCH updates */
  operation: 'CREATE' | 'UPDATE';
}

/** The words a refused enum value is called by, per enum schema (`'X' is not a valid role`). */
const ENUM_NOUNS: Record<string, string> = { UserRole: 'role', TerritoryCode: 'territory' };

const escapeSegment = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');
const unescapeSegment = (s: string) => s.replace(/~1/g, '/').replace(/~0/g, '~');

/**
 * A value as a detail quotes it: strings as they are, anything else as JSON (or `String` where
 * Apple's wording uses it). A value nested too deeply to write out is named by its kind, never a 5xx.
 */
export function quoted(value: unknown, as: 'json' | 'string' = 'json'): string {
  if (typeof value === 'string') return value;
  try {
    return as === 'json' ? String(JSON.stringify(value)) : String(value);
  } catch {
    return Array.isArray(value) ? '[…]' : '{…}';
  }
}

/**
 * Apple's rules where the spec's schemas say less (or other) than Apple's API does:
 * - unknown attributes and relationships are refused (409 UNKNOWN / NOT_ALLOWED, A8); the spec
 *   leaves `additionalProperties` open. A resource object whose schema has no `attributes` or no
 *   `relationships` member (a sandbox tester's update, a clear purchase history request) takes
 *   none: each one sent is unknown;
 * - a create's resource object has no `id` (A3); the spec does not mention one;
 * - an update's `id` is a non-empty string (A3);
 * - a relationship's `data` may be null, meaning no apps (fastlane sends it, A12).
 */
function adjustResourceDocument(schema: Schema, operation: 'CREATE' | 'UPDATE'): void {
  const data = propertySchema(schema, 'data');
  const none = (): Schema => ({ type: 'object', properties: {} });
  data.properties = { attributes: none(), relationships: none(), ...data.properties };
  propertySchema(data, 'attributes').additionalProperties = false;
  propertySchema(data, 'relationships').additionalProperties = false;
  if (operation === 'CREATE') data.properties = { ...data.properties, id: false };
  else propertySchema(data, 'id').minLength = 1;
  for (const relationship of Object.values(propertySchemas(propertySchema(data, 'relationships')))) {
    const linkage = propertySchema(relationship, 'data');
    linkage.type = ['array', 'null'];
    adjustLinkageItems(linkage);
  }
}

/** A resource identifier's id is a non-empty string (A3); the spec takes any string. */
function adjustLinkageItems(linkage: Schema): void {
  if (!linkage.items) throw new Error('a linkage schema has no items');
  propertySchema(linkage.items, 'id').minLength = 1;
}

function compileAll(doc: OpenApiDocument): Map<string, BodyValidator> {
  const definitions = toJsonSchema(doc.components.schemas) as Record<string, JsonSchema>;
  const requests: Array<[key: string, schemaName: string, method: string]> = [];
  for (const [path, item] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(item)) {
      const ref = (op as SpecOperation).requestBody?.content?.['application/json']?.schema?.$ref;
      if (typeof ref === 'string') requests.push([`${method.toUpperCase()} ${path}`, ref.replace('#/components/schemas/', ''), method]);
    }
  }
  // Adjusted once per schema: the three visibleApps writes share one linkage schema.
  const adjusted = new Map<string, Omit<BodyValidator, 'validate'>>();
  for (const [key, name, method] of requests) {
    const schema = definitions[name] as Schema;
    const kind = propertySchema(schema, 'data').type === 'array' ? 'linkage' : 'resource';
    const operation = method === 'post' ? 'CREATE' : 'UPDATE';
    const seen = adjusted.get(name);
    if (seen) {
      if (kind === 'resource' && seen.operation !== operation) throw new Error(`${key}: ${name} serves both a create and an update`);
      continue;
    }
    if (kind === 'resource') adjustResourceDocument(schema, operation);
    else adjustLinkageItems(propertySchema(schema, 'data'));
    adjusted.set(name, { kind, schema, operation });
  }

  const ajv = new Ajv({ allErrors: true, verbose: true });
  // The spec's `format: email` means Apple's rule for addresses (A9), the one the CLI applies too.
  ajv.addFormat('email', { type: 'string', validate: isValidEmail });
  ajv.addSchema({ $id: 'asc-requests', definitions });
  const out = new Map<string, BodyValidator>();
  for (const [key, name] of requests) {
    out.set(key, { ...adjusted.get(name)!, validate: ajv.compile({ $ref: `asc-requests#/definitions/${name}` }) });
  }
  return out;
}

const validators = compileAll(loadSpecDocument());

function validatorFor(operation: string, kind: BodyValidator['kind']): BodyValidator {
  const v = validators.get(operation);
  if (!v || v.kind !== kind) throw new Error(`the spec has no ${kind} request body for ${operation}`);
  return v;
}

/**
 * The member an ajv error is about, as a list of segments: for `required` and
 * `additionalProperties`, the missing or extra member itself.
 */
function subject(e: ErrorObject): string[] {
  const segments = e.instancePath === '' ? [] : e.instancePath.slice(1).split('/').map(unescapeSegment);
  if (e.keyword === 'required') segments.push(String((e.params as { missingProperty: string }).missingProperty));
  if (e.keyword === 'additionalProperties') segments.push(String((e.params as { additionalProperty: string }).additionalProperty));
  return segments;
}

const pointerOf = (segments: readonly (string | number)[]) => segments.map((s) => `/${escapeSegment(String(s))}`).join('');

/**
 * A linkage's problems (A3): the relationship object, or its `data` array, or else one problem per
 * offending resource identifier (the item itself before its type before its id), by index.
 */
class LinkageProblems {
  private readonly byItem = new Map<number, { rank: number; error: ApiError }>();
  private whole: ApiError | undefined;

  constructor(private readonly itemType: string) {}

  /** The relationship member at `pointer` is not an object. */
  notAnObject(pointer: string): void {
    this.whole = errors.entityUnprocessable("The relationship must be an object with a 'data' array", pointer);
  }

  /** An error at `rest` below the linkage's `data` array, whose pointer is `base`. */
  add(base: string, rest: readonly string[]): void {
    const index = Number(rest[0]);
    if (rest.length === 0 || !Number.isInteger(index)) {
      this.whole ??= errors.entityUnprocessable(`'data' must be an array of resource identifiers`, base);
      return;
    }
    const [rank, error] =
      rest.length === 1
        ? [0, errors.entityUnprocessable(`A resource identifier must be an object with 'type' and 'id'`, `${base}/${index}`)]
        : rest[1] === 'type'
          ? [1, errors.entityUnprocessable(`The type must be '${this.itemType}'`, `${base}/${index}/type`)]
          : [2, errors.entityUnprocessable(`The id must be a non-empty string`, `${base}/${index}/id`)];
    const kept = this.byItem.get(index);
    if (!kept || rank < kept.rank) this.byItem.set(index, { rank, error });
  }

  list(): ApiError[] {
    if (this.whole) return [this.whole];
    return [...this.byItem.entries()].sort(([a], [b]) => a - b).map(([, v]) => v.error);
  }
}

function linkageItemType(linkage: Schema): string {
  return String(propertySchema(linkage.items ?? {}, 'type').enum?.[0]);
}

/**
 * A linkage document `{ "data": [ {"type": "apps", "id": "..."} ] }` (the relationship writes):
 * the ids in order, or a 422.
 */
export function readLinkageDocument(operation: string, body: unknown): string[] {
  const v = validatorFor(operation, 'linkage');
  if (v.validate(body)) return (body as { data: Array<{ id: string }> }).data.map((item) => item.id);
  const problems = new LinkageProblems(linkageItemType(propertySchema(v.schema, 'data')));
  for (const e of v.validate.errors ?? []) {
    const [first, ...rest] = subject(e);
    if (first === 'data' && rest.length > 0) problems.add('/data', rest);
    else throw new ApiErrors([errors.entityUnprocessable("The request entity must have a 'data' array of resource identifiers", '/data')]);
  }
  throw new ApiErrors(problems.list());
}

export interface ResourceReadOptions {
  /** attributes of the resource this operation may not set: 409 NOT_ALLOWED rather than UNKNOWN (A8) */
  notAllowed?: readonly string[];
  /** the `{id}` of the URL, which an update's `data.id` must equal (A3) */
  pathId?: string;
}

const RESOURCE_MEMBERS = ['type', 'id', 'attributes', 'relationships'];

/**
 * A resource document the schema accepts in its shape: its attributes, each with the problems the
 * schema finds in it, and its linkages. Null counts as not given (A8, as fastlane sends them).
 */
export class ResourceDocument {
  /**
   * 409s, in Apple's order: unknown and not-allowed attributes (in the document's order), unknown
   * relationships, missing (or null) required attributes (in the schema's order); then whatever the
   * request reader adds, attribute by attribute.
   */
  readonly problems: ApiError[] = [];
  /** attributes given with a value the schema or a value rule refuses (reported in `problems`) */
  readonly refused = new Set<string>();

  /** @internal built by readResourceDocument */
  constructor(
    private readonly attributeSchemas: Readonly<Record<string, Schema>>,
    private readonly attributes: Readonly<Record<string, unknown>>,
    private readonly relationships: Readonly<Record<string, unknown>>,
    /** value problems by pointer, one each, in the schema's order of checking */
    private readonly valueProblems: ReadonlyMap<string, ApiError>,
  ) {}

  /** The raw value of an attribute, undefined when the request leaves it out or sends null. */
  private raw(name: string): unknown {
    return this.attributes[name] ?? undefined;
  }

  /**
   * An attribute's value when given and accepted: the schema finds nothing wrong at it or below it,
   * and `rule` (a value rule the schema can't state; it reports its own problems and returns
   * undefined to refuse) keeps it. Otherwise undefined, with the problems reported.
   */
  value<T>(name: string, rule?: (value: T, problems: ApiError[]) => T | undefined): T | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const at = `/data/attributes/${escapeSegment(name)}`;
    const found = [...this.valueProblems].filter(([p]) => p === at || p.startsWith(`${at}/`)).map(([, e]) => e);
    if (found.length > 0) return this.refuse(name, found);
    if (!rule) return value as T;
    const kept = rule(value as T, this.problems);
    if (kept === undefined) this.refused.add(name);
    return kept;
  }

  /**
   * An array attribute whose items are a set (roles): its items when given and accepted. Each item
   * the schema refuses or that repeats an earlier one is reported, in the order of the items (A11).
   */
  distinctItems<T>(name: string): T[] | undefined {
    const value = this.raw(name);
    if (value === undefined) return undefined;
    const at = `/data/attributes/${escapeSegment(name)}`;
    const own = this.valueProblems.get(at);
    if (own) return this.refuse(name, [own]);
    const noun = itemNoun(this.attributeSchemas[name] ?? {});
    const items: T[] = [];
    const found: ApiError[] = [];
    (value as T[]).forEach((item, i) => {
      const problem = this.valueProblems.get(`${at}/${i}`);
      if (problem) found.push(problem);
      else if (items.includes(item)) found.push(errors.attributeInvalid(name, `The ${noun} '${quoted(item)}' is given more than once`));
      else items.push(item);
    });
    return found.length > 0 ? this.refuse(name, found) : items;
  }

  /** Reports `found` for attribute `name` and refuses it; returns undefined, its value from now on. */
  private refuse(name: string, found: readonly ApiError[]): undefined {
    this.problems.push(...found);
    this.refused.add(name);
    return undefined;
  }

  /** The ids a to-many relationship's linkage names, in order; empty when it is left out or null. */
  linkage(name: string): string[] {
    const rel = this.relationships[name] as { data?: Array<{ id: string }> | null } | undefined;
    return (rel?.data ?? []).map((item) => item.id);
  }
}

/**
 * A JSON:API resource document of a create or update: throws a 422 when its shape is wrong,
 * otherwise returns it with the 409s the schema found (which do not throw).
 */
export function readResourceDocument(operation: string, body: unknown, options: ResourceReadOptions = {}): ResourceDocument {
  const v = validatorFor(operation, 'resource');
  const dataSchema = propertySchema(v.schema, 'data');
  const type = String(propertySchema(dataSchema, 'type').enum?.[0]);
  const attributeSchemas = propertySchemas(propertySchema(dataSchema, 'attributes'));
  const requiredAttributes = new Set<string>(propertySchema(dataSchema, 'attributes').required ?? []);
  const relationshipSchemas = propertySchemas(propertySchema(dataSchema, 'relationships'));
  const notAllowed = new Set(options.notAllowed ?? []);

  const valid = v.validate(body);
  /** 422s about the resource object's own members, by pointer */
  const shape = new Map<string, ApiError>();
  const linkages = new Map<string, LinkageProblems>();
  const members: ApiError[] = [];
  const relationshipMembers: ApiError[] = [];
  const missing = new Set<string>();
  const valueProblems = new Map<string, ApiError>();

  for (const e of valid ? [] : (v.validate.errors ?? [])) {
    const s = subject(e);
    const [top, member, name, ...rest] = s;
    if (top === undefined) {
      throw new ApiErrors([errors.entityUnprocessable("The request entity must be a JSON object with a 'data' member", '')]);
    }
    if (member === undefined) throw new ApiErrors([errors.entityUnprocessable("The request entity must have a 'data' object", '/data')]);
    if (member === 'attributes' && name !== undefined) {
      const schema = attributeSchemas[name];
      if (e.keyword === 'additionalProperties') {
        members.push(notAllowed.has(name) ? errors.attributeNotAllowed(name, v.operation) : errors.attributeUnknown(name, type));
      } else if (schema && (e.keyword === 'required' || (e.data === null && rest.length === 0))) {
        // null is "not given" (A8): missing when the attribute is required, else simply absent
        if (requiredAttributes.has(name)) missing.add(name);
      } else if (schema) {
        const pointer = pointerOf(s);
        if (!valueProblems.has(pointer)) valueProblems.set(pointer, attributeProblem(name, schema, rest, e.data));
      }
      continue;
    }
    if (member === 'relationships' && name !== undefined) {
      if (e.keyword === 'additionalProperties') {
        relationshipMembers.push(errors.relationshipUnknown(name, type));
        continue;
      }
      const linkageSchema = relationshipSchemas[name]?.properties?.data || undefined;
      if (linkageSchema) {
        const base = `/data/relationships/${escapeSegment(name)}`;
        let problems = linkages.get(name);
        if (!problems) linkages.set(name, (problems = new LinkageProblems(linkageItemType(linkageSchema))));
        if (rest.length === 0) problems.notAnObject(base);
        else problems.add(`${base}/data`, rest.slice(1));
        continue;
      }
    }
    const pointer = pointerOf([top, member]);
    if (!shape.has(pointer)) shape.set(pointer, resourceMemberProblem(member, e, type, v.operation));
  }

  // past the loop, the body is an object with a `data` object: anything else threw above
  const data = (body as { data: { id?: unknown; attributes?: Record<string, unknown>; relationships?: Record<string, unknown> } }).data;
  if (options.pathId !== undefined && !shape.has('/data/id') && typeof data.id === 'string' && data.id !== options.pathId) {
    shape.set(
      '/data/id',
      errors.entityUnprocessable(`The id '${data.id}' does not match the id '${options.pathId}' in the URL`, '/data/id'),
    );
  }
  const resourceProblems = RESOURCE_MEMBERS.map((m) => shape.get(`/data/${m}`)).filter((e) => e !== undefined);
  if (resourceProblems.length > 0) throw new ApiErrors(resourceProblems);
  const linkageProblems = Object.keys(relationshipSchemas).flatMap((name) => linkages.get(name)?.list() ?? []);
  if (linkageProblems.length > 0) throw new ApiErrors(linkageProblems);

  const doc = new ResourceDocument(attributeSchemas, data.attributes ?? {}, data.relationships ?? {}, valueProblems);
  doc.problems.push(...members, ...relationshipMembers);
  for (const name of Object.keys(attributeSchemas)) if (missing.has(name)) doc.problems.push(errors.attributeRequired(name));
  return doc;
}

/** A 422 about the resource object's own members (A3). */
function resourceMemberProblem(member: string, e: ErrorObject, type: string, operation: 'CREATE' | 'UPDATE'): ApiError {
  switch (member) {
    case 'type':
      return e.keyword === 'required'
        ? errors.entityUnprocessable(`The resource object must have the type '${type}'`, '/data/type')
        : errors.entityUnprocessable(`The type '${quoted(e.data, 'string')}' is not valid here; it must be '${type}'`, '/data/type');
    case 'id':
      return operation === 'CREATE'
        ? errors.entityUnprocessable('The resource object of a create request must not have an id', '/data/id')
        : errors.entityUnprocessable('The resource object must have an id', '/data/id');
    case 'attributes':
      return errors.entityUnprocessable("The resource object must have an 'attributes' object", '/data/attributes');
    case 'relationships':
      return e.keyword === 'required'
        ? errors.entityUnprocessable("The resource object must have a 'relationships' object", '/data/relationships')
        : errors.entityUnprocessable("'relationships' must be an object", '/data/relationships');
    default:
      return errors.entityUnprocessable(`'${member}' ${e.message ?? 'is not valid'}`, pointerOf(['data', member]));
  }
}

/** What an array attribute's items are called (`role` for UserRole items). */
function itemNoun(schema: Schema): string {
  const enumName =
    String(schema.items?.$ref ?? '')
      .split('/')
      .pop() ?? '';
  return ENUM_NOUNS[enumName] ?? 'value';
}

/** A 409 INVALID for an attribute value (or one of its items) the schema refuses, in Apple's words (A9, A11, A12). */
function attributeProblem(name: string, schema: Schema, rest: readonly string[], value: unknown): ApiError {
  if (schema.format === 'email') return errors.attributeInvalid(name, `'${quoted(value)}' is not a valid email address`);
  const types = ([] as string[]).concat(schema.type ?? []);
  if (rest.length > 0 && types.includes('array'))
    return errors.attributeInvalid(name, `'${quoted(value)}' is not a valid ${itemNoun(schema)}`);
  if (types.includes('boolean')) return errors.attributeInvalid(name, `'${name}' must be true, false or null`);
  // an enum of its own (subscriptionRenewalRate) or a referenced one (territory: TerritoryCode)
  const enumRef = schema.anyOf?.find((s) => s.$ref !== undefined)?.$ref;
  if (schema.enum !== undefined || enumRef !== undefined) {
    const noun =
      ENUM_NOUNS[
        String(enumRef ?? '')
          .split('/')
          .pop() ?? ''
      ];
    return errors.attributeInvalid(
      name,
      noun ? `'${quoted(value)}' is not a valid ${noun}` : `'${quoted(value)}' is not a valid value for '${name}'`,
    );
  }
  if (types.includes('array')) {
    const enumName = String(schema.items?.$ref ?? '')
      .split('/')
      .pop();
    return errors.attributeInvalid(name, `'${name}' must be an array of ${enumName ?? 'JSON'} values`);
  }
  if (types.includes('string')) return errors.attributeInvalid(name, `'${name}' must be a string`);
  return errors.attributeInvalid(name, `'${name}' is not valid`);
}
