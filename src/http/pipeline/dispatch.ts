/**
 * Spec operations to Fastify routes: each Operation becomes the route its spec entry names, guarded
 * by Admission, its query parsed against the spec, its result sent as JSON. Paths the API does not
 * serve answer 404 (or 405 on a known path), in Apple's form.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ApiError } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import { mayWrite } from '../auth.js';
import { parseQuery } from '../../jsonapi/query.js';
import type { OperationSpec } from '../../spec/openapi.js';
import type { Operation } from '../operation.js';
import { sendErrors, sendJson, splitTarget } from '../responses.js';
import type { Admission } from './admission.js';

function pathTemplateRegex(template: string): RegExp {
  const pattern = template.replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`);
}

/** Registers every operation; each must be in the vendored spec. Returns the paths served. */
export function registerOperations(
  app: FastifyInstance,
  operations: readonly Operation[],
  specs: ReadonlyMap<string, OperationSpec>,
  admission: Admission,
): RegExp[] {
  const templates: RegExp[] = [];
  for (const op of operations) {
    const spec = specs.get(op.key);
    if (!spec) throw new Error(`operation ${op.key} is not in the vendored spec`);
    templates.push(pathTemplateRegex(spec.path));
    app.route({
      method: spec.method,
      url: spec.path.replace(/\{(\w+)\}/g, ':$1'),
      onRequest: admission.guard(spec.path.split('/')[2] ?? '', op.permits ?? (op.write ? mayWrite : undefined), op.checksKey === true),
      config: op.reuse ? { reuse: op.reuse } : {},
      handler: async (request, reply) => {
        const target = splitTarget(request.raw.url);
        const query = parseQuery(target.query, spec);
        // A request sent with no body (and so no Content-Type) is as empty as `{}`-less JSON: 400 (A3).
        if (op.body && request.body === undefined) throw errors.entityInvalid('The request body is empty; it must be a JSON document');
        const result = await op.handle({
          principal: request.principal!,
          query,
          params: request.params as Record<string, string>,
          body: op.body ? request.body : undefined,
          path: target.path,
        });
        // nothing is answered on a key taken as last read until it is confirmed (src/keys/key-check.ts)
        await request.principal!.keyCheck?.confirm();
        if (result.headers) reply.headers(result.headers);
        if (result.body === undefined) return reply.code(result.status).send();
        return sendJson(reply, result.status, result.body);
      },
    });
  }
  return templates;
}

/** The 404 of the API: 405 on a path it serves with another method, else PATH_ERROR (A5). */
export function apiNotFound(templates: readonly RegExp[], admission: Admission) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const { path } = splitTarget(request.raw.url);
    // A valid key is counted and told its quota here too; without one, the path error still wins.
    if (request.headers.authorization !== undefined) {
      try {
        await admission.admit(request, reply);
      } catch (err) {
        if (err instanceof ApiError && err.status === 429) throw err;
      }
    }
    const known = templates.some((t) => t.test(path));
    return sendErrors(reply, [known ? errors.methodNotAllowed() : errors.pathError(path)]);
  };
}
