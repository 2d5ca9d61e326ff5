/**
 * Injected faults for the emulator: rules by method and path pattern that turn matching API
 * requests into an error status, a delay or a dropped connection. Owner: the faults work of issue 22.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';

export type FaultAction = { status: number } | { delayMs: number } | { drop: true };

export interface FaultRuleInput {
  method?: string;
  path: string;
  action: FaultAction;
  times?: number;
  share?: number;
}

export interface FaultRule {
  id: string;
  method: string;
  path: string;
  action: FaultAction;
  /** null: unlimited */
  times: number | null;
  share: number;
  hits: number;
  /** null: unlimited */
  remaining: number | null;
}

/** Thrown by FaultRules.add for an invalid rule: answered 422 with this pointer. */
export class FaultRuleError extends Error {
  constructor(
    message: string,
    readonly pointer: string,
  ) {
    super(message);
    this.name = 'FaultRuleError';
  }
}

export interface FaultRules {
  /** validates (throws FaultRuleError) and adds */
  add(input: unknown): FaultRule;
  list(): FaultRule[];
  /** false when there is no such rule */
  remove(id: string): boolean;
  clear(): void;
}

export function faultRules(): FaultRules {
  throw new Error('faultRules: not built yet (issue 22, faults)');
}

/**
 * Adds the hook that applies `rules` to `app`'s API requests (/v1 and /v2), before authentication.
 * The journal learns which rule hit a request from faultApplied(request).
 */
export function installFaults(app: FastifyInstance, rules: FaultRules): void {
  void app;
  void rules;
  throw new Error('installFaults: not built yet (issue 22, faults)');
}

/** The id of the fault rule that answered or delayed `request`, or null. */
export function faultApplied(request: FastifyRequest): string | null {
  void request;
  throw new Error('faultApplied: not built yet (issue 22, faults)');
}
