/** Sandbox testers to Apple's `SandboxTesterV2`, clear requests to `SandboxTestersClearPurchaseHistoryRequestV2` (B10.2, B10.5). */
import type { Resource } from '../../jsonapi/document.js';
import type { ClearPurchaseHistoryRequest, SandboxTester } from './service.js';

export const CLEAR_REQUESTS_PATH = '/v2/sandboxTestersClearPurchaseHistoryRequest';

export function sandboxTesterSelfLink(base: string, id: string): string {
  return `${base}/v2/sandboxTesters/${encodeURIComponent(id)}`;
}

export function serializeSandboxTester(tester: SandboxTester, base: string): Resource {
  return {
    type: 'sandboxTesters',
    id: tester.id,
    attributes: {
      firstName: tester.firstName,
      lastName: tester.lastName,
      acAccountName: tester.email,
      territory: tester.territory,
      applePayCompatible: tester.applePayCompatible,
      interruptPurchases: tester.interruptPurchases,
      subscriptionRenewalRate: tester.subscriptionRenewalRate,
    },
    links: { self: sandboxTesterSelfLink(base, tester.id) },
  };
}

/**
 * Apple's example links a clear request to `…/v2/sandboxTestersClearPurchaseHistoryRequest/{id}`,
 * a path with no operation in the spec (404 here, A22); the link is kept as Apple writes it.
 */
export function clearRequestSelfLink(base: string, id: string): string {
  return `${base}${CLEAR_REQUESTS_PATH}/${encodeURIComponent(id)}`;
}

/** The resource holds its type, id and link only: the spec gives it neither attributes nor relationships. */
export function serializeClearRequest(request: ClearPurchaseHistoryRequest, base: string) {
  return { type: 'sandboxTestersClearPurchaseHistoryRequest', id: request.id, links: { self: clearRequestSelfLink(base, request.id) } };
}
