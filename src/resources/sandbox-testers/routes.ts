/** HTTP for /v2/sandboxTesters and /v2/sandboxTestersClearPurchaseHistoryRequest. */
import { mayManageSandboxTesters } from '../../http/auth.js';
import type { Operation } from '../../http/operation.js';
import type { RouteDeps } from '../../http/route-deps.js';
import { collectionDocument } from '../../jsonapi/collection.js';
import { applyFields } from '../../jsonapi/document.js';
import { linkTo } from '../../jsonapi/links.js';
import { parseList } from '../../jsonapi/list.js';
import { listParam } from '../../jsonapi/query.js';
import { SANDBOX_TESTER_LIST } from './repository.js';
import { readClearPurchaseHistory, readSandboxTesterUpdate } from './request.js';
import {
  CLEAR_REQUESTS_PATH,
  clearRequestSelfLink,
  sandboxTesterSelfLink,
  serializeClearRequest,
  serializeSandboxTester,
} from './serializer.js';
import { SANDBOX_TESTERS_DEFAULT_LIMIT, type SandboxTestersService } from './service.js';

/** Every operation: the roles of A19, reads and writes alike. */
export function sandboxTesterRoutes(testers: SandboxTestersService, deps: RouteDeps): Operation[] {
  return [
    {
      key: 'GET /v2/sandboxTesters',
      write: false,
      permits: mayManageSandboxTesters,
      body: false,
      // testers change only by writes (this API's PATCH, the CLI): nothing changes with time alone
      reuse: {},
      async handle({ query, path }) {
        const { request, limit, cursorSort } = parseList(
          SANDBOX_TESTER_LIST,
          query,
          deps.cursors,
          'sandboxTesters',
          SANDBOX_TESTERS_DEFAULT_LIMIT,
        );
        const page = await testers.page(request, limit);
        const fields = listParam(query, 'fields[sandboxTesters]');
        const body = collectionDocument({
          base: deps.base,
          path,
          pairs: query.pairs,
          data: page.items.map((t) => applyFields(serializeSandboxTester(t, deps.base), fields)),
          total: page.total,
          limit,
          ...(page.next ? { nextCursor: deps.cursors.encode({ sort: cursorSort, ...page.next }) } : {}),
        });
        return { status: 200, body };
      },
    },
    {
      key: 'PATCH /v2/sandboxTesters/{id}',
      write: true,
      permits: mayManageSandboxTesters,
      body: true,
      async handle({ params, body }) {
        const tester = await testers.update(params.id!, readSandboxTesterUpdate(body, params.id!));
        return {
          status: 200,
          body: { data: serializeSandboxTester(tester, deps.base), links: { self: sandboxTesterSelfLink(deps.base, tester.id) } },
        };
      },
    },
    {
      key: 'POST /v2/sandboxTestersClearPurchaseHistoryRequest',
      write: true,
      permits: mayManageSandboxTesters,
      body: true,
      async handle({ body }) {
        const request = await testers.clearPurchaseHistory(readClearPurchaseHistory(body));
        // as Apple's example: the document links to the collection, its resource to itself (B10.5)
        return {
          status: 201,
          headers: { location: clearRequestSelfLink(deps.base, request.id) },
          body: { data: serializeClearRequest(request, deps.base), links: { self: linkTo(deps.base, CLEAR_REQUESTS_PATH) } },
        };
      },
    },
  ];
}
