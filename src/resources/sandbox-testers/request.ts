/**
 * PATCH /v2/sandboxTesters/{id} and POST /v2/sandboxTestersClearPurchaseHistoryRequest: the bodies,
 * checked against the spec's SandboxTesterV2UpdateRequest and
 * SandboxTestersClearPurchaseHistoryRequestV2CreateRequest (src/http/request-body.ts), read into
 * the service's input.
 */
import type { RequestInput } from '../../domain/request-input.js';
import { readResourceDocument } from '../../http/request-body.js';
import type { ClearPurchaseHistoryInput, SandboxTesterUpdateInput } from './service.js';

/**
 * A tester's settings. Its other attributes are made with the account and never change (Apple:
 * "you can't edit a tester's name, email address or password"; B10.8): 409 NOT_ALLOWED (A21).
 */
export function readSandboxTesterUpdate(body: unknown, pathId: string): RequestInput<SandboxTesterUpdateInput> {
  const doc = readResourceDocument('PATCH /v2/sandboxTesters/{id}', body, {
    notAllowed: ['firstName', 'lastName', 'acAccountName', 'applePayCompatible'],
    pathId,
  });
  const values = {
    territory: doc.value<string>('territory'),
    interruptPurchases: doc.value<boolean>('interruptPurchases'),
    subscriptionRenewalRate: doc.value<string>('subscriptionRenewalRate'),
  };
  return { values, problems: doc.problems, refused: doc.refused as ReadonlySet<keyof SandboxTesterUpdateInput> };
}

/** The testers a clear request names (its sandboxTesters linkage, null as none). */
export function readClearPurchaseHistory(body: unknown): RequestInput<ClearPurchaseHistoryInput> {
  const doc = readResourceDocument('POST /v2/sandboxTestersClearPurchaseHistoryRequest', body);
  return { values: { testerIds: doc.linkage('sandboxTesters') }, problems: doc.problems, refused: new Set() };
}
