/**
 * Reading JSON:API request documents. Shape problems (no `data` object, wrong `type`, `id` where
 * none belongs, `attributes` or `relationships` not objects, malformed linkage) are 422
 * ENTITY_UNPROCESSABLE with a pointer (behavior.md A3); values are the services' business.
 */
import { ApiError, ApiErrors } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';

export interface ResourceObject {
  attributes: Record<string, unknown>;
  relationships: Record<string, unknown>;
  /** which members were present */
  hasAttributes: boolean;
}

export interface ReadOptions {
  type: string;
  /** `forbidden` for creates; `required` (and equal to pathId) for updates */
  id: 'forbidden' | 'required';
  pathId?: string;
  attributesRequired: boolean;
}

export function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function fail(problems: ApiError[]): never {
  throw new ApiErrors(problems);
}

export function readResourceObject(body: unknown, o: ReadOptions): ResourceObject {
  if (!isPlainObject(body)) fail([errors.entityUnprocessable('The request entity must be a JSON object with a \'data\' member', '')]);
  const data = body.data;
  if (!isPlainObject(data)) {
    fail([errors.entityUnprocessable("The request entity must have a 'data' object", '/data')]);
  }
  const problems: ApiError[] = [];
  if (data.type !== o.type) {
    problems.push(
      errors.entityUnprocessable(
        data.type === undefined ? `The resource object must have the type '${o.type}'` : `The type '${String(data.type)}' is not valid here; it must be '${o.type}'`,
        '/data/type',
      ),
    );
  }
  if (o.id === 'forbidden' && data.id !== undefined) {
    problems.push(errors.entityUnprocessable('The resource object of a create request must not have an id', '/data/id'));
  }
  if (o.id === 'required') {
    if (typeof data.id !== 'string' || data.id === '') {
      problems.push(errors.entityUnprocessable('The resource object must have an id', '/data/id'));
    } else if (o.pathId !== undefined && data.id !== o.pathId) {
      problems.push(errors.entityUnprocessable(`The id '${data.id}' does not match the id '${o.pathId}' in the URL`, '/data/id'));
    }
  }
  const hasAttributes = data.attributes !== undefined;
  if (hasAttributes ? !isPlainObject(data.attributes) : o.attributesRequired) {
    problems.push(errors.entityUnprocessable("The resource object must have an 'attributes' object", '/data/attributes'));
  }
  if (data.relationships !== undefined && !isPlainObject(data.relationships)) {
    problems.push(errors.entityUnprocessable("'relationships' must be an object", '/data/relationships'));
  }
  if (problems.length > 0) fail(problems);
  return {
    attributes: (data.attributes as Record<string, unknown> | undefined) ?? {},
    relationships: (data.relationships as Record<string, unknown> | undefined) ?? {},
    hasAttributes,
  };
}

/**
 * A to-many linkage `{ "data": [ {"type": T, "id": "..."} ] }` at `pointer`; returns the ids in
 * order, or throws 422. `null` or a missing `data` is the empty list.
 */
export function readToManyLinkage(value: unknown, pointer: string, type: string): string[] {
  if (!isPlainObject(value)) fail([errors.entityUnprocessable(`The relationship must be an object with a 'data' array`, pointer)]);
  const data = value.data;
  if (data === undefined || data === null) return [];
  if (!Array.isArray(data)) fail([errors.entityUnprocessable(`'data' must be an array of resource identifiers`, `${pointer}/data`)]);
  return readLinkageArray(data, `${pointer}/data`, type);
}

export function readLinkageArray(data: unknown[], pointer: string, type: string): string[] {
  const problems: ApiError[] = [];
  const ids: string[] = [];
  data.forEach((item, i) => {
    if (!isPlainObject(item)) {
      problems.push(errors.entityUnprocessable(`A resource identifier must be an object with 'type' and 'id'`, `${pointer}/${i}`));
    } else if (item.type !== type) {
      problems.push(errors.entityUnprocessable(`The type must be '${type}'`, `${pointer}/${i}/type`));
    } else if (typeof item.id !== 'string' || item.id === '') {
      problems.push(errors.entityUnprocessable(`The id must be a non-empty string`, `${pointer}/${i}/id`));
    } else {
      ids.push(item.id);
    }
  });
  if (problems.length > 0) fail(problems);
  return ids;
}

/** `{ "data": [ ... ] }` as the whole body (relationship endpoints). */
export function readLinkageDocument(body: unknown, type: string): string[] {
  if (!isPlainObject(body) || !Array.isArray(body.data)) {
    fail([errors.entityUnprocessable("The request entity must have a 'data' array of resource identifiers", '/data')]);
  }
  return readLinkageArray(body.data, '/data', type);
}

export interface MemberRules {
  type: string;
  operation: 'CREATE' | 'UPDATE';
  /** attributes this operation takes */
  attributes: readonly string[];
  /** attributes of the resource this operation may not set (409 NOT_ALLOWED, not UNKNOWN) */
  notAllowed: readonly string[];
  relationships: readonly string[];
}

/**
 * Names the document's unknown or not-allowed attributes and unknown relationships (409s, A8),
 * and reads the `visibleApps` linkage (422 when malformed).
 */
export function checkMembers(doc: ResourceObject, rules: MemberRules, problems: ApiError[]): { visibleAppIds: string[] } {
  for (const key of Object.keys(doc.attributes)) {
    if (rules.notAllowed.includes(key)) problems.push(errors.attributeNotAllowed(key, rules.operation));
    else if (!rules.attributes.includes(key)) problems.push(errors.attributeUnknown(key, rules.type));
  }
  for (const key of Object.keys(doc.relationships)) {
    if (!rules.relationships.includes(key)) problems.push(errors.relationshipUnknown(key, rules.type));
  }
  const linkage = doc.relationships.visibleApps;
  return { visibleAppIds: linkage === undefined ? [] : readToManyLinkage(linkage, '/data/relationships/visibleApps', 'apps') };
}
