/**
 * Sandbox testers (docs/behavior.md A19-A23, B10): Apple's Sandbox Apple Accounts. The operator
 * creates and deletes them (Apple does that in its web UI, not the API); the API lists them, changes
 * their settings and records requests to clear their purchase history. Holds no SQL and no HTTP.
 */
import type { Clock } from '../../clock.js';
import { emailClaims } from '../../db/email-claims.js';
import type { Page } from '../../db/keyset.js';
import type { ListRequest } from '../../db/list-query.js';
import { isValidEmail } from '../../domain/email.js';
import { checkName } from '../../domain/names.js';
import type { RequestInput } from '../../domain/request-input.js';
import { ApiErrors, type ApiError } from '../../errors/api-error.js';
import { errors } from '../../errors/catalogue.js';
import { mappedListPage } from '../../jsonapi/list.js';
import { uuidV7 } from '../../random.js';
import { loadSpecDocument } from '../../spec/openapi.js';
import type { SandboxTesterRow, SandboxTesterSettings, SandboxTestersRepository } from './repository.js';

const TYPE = 'sandboxTesters';
const TESTERS = '/data/relationships/sandboxTesters';

/** A page of the list when `limit` is not given: what Apple's own example answers (A20, B10.3). */
export const SANDBOX_TESTERS_DEFAULT_LIMIT = 50;

interface EnumSchema {
  enum: string[];
}

/** The spec's TerritoryCode values: a tester's territory is one of them (A21). */
export const TERRITORY_CODES: ReadonlySet<string> = new Set(
  (loadSpecDocument().components.schemas.TerritoryCode as unknown as EnumSchema).enum,
);

/** The spec's subscriptionRenewalRate values. */
export const SUBSCRIPTION_RENEWAL_RATES: readonly string[] = (
  loadSpecDocument().components.schemas.SandboxTesterV2 as unknown as {
    properties: { attributes: { properties: { subscriptionRenewalRate: EnumSchema } } };
  }
).properties.attributes.properties.subscriptionRenewalRate.enum;

/** A new tester's renewal rate: "1 month = 5 minutes" is Apple's default (B10.7). */
export const DEFAULT_RENEWAL_RATE = 'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES';

export interface SandboxTester {
  id: string;
  firstName: string;
  lastName: string;
  /** the Apple Account's email (`acAccountName`) */
  email: string;
  territory: string;
  applePayCompatible: boolean;
  interruptPurchases: boolean;
  subscriptionRenewalRate: string;
  createdAt: string;
}

export function toSandboxTester(row: SandboxTesterRow): SandboxTester {
  return {
    id: row.id,
    firstName: row.first_name,
    lastName: row.last_name,
    email: row.email,
    territory: row.territory,
    applePayCompatible: row.apple_pay_compatible === 1,
    interruptPurchases: row.interrupt_purchases === 1,
    subscriptionRenewalRate: row.subscription_renewal_rate,
    createdAt: row.created_at,
  };
}

/**
 * What PATCH /v2/sandboxTesters/{id} asks to change (read by ./request.ts): each value as given and
 * accepted; undefined when left out, null or refused (the RequestInput's problems say why).
 */
export interface SandboxTesterUpdateInput {
  territory: string | undefined;
  interruptPurchases: boolean | undefined;
  subscriptionRenewalRate: string | undefined;
}

/** What POST /v2/sandboxTestersClearPurchaseHistoryRequest names (read by ./request.ts). */
export interface ClearPurchaseHistoryInput {
  /** the sandboxTesters linkage, in order as given */
  testerIds: string[];
}

/** A recorded clear purchase history request (A22). */
export interface ClearPurchaseHistoryRequest {
  id: string;
  /** the testers it names, each once (as created: in the order first given; as found again: by id) */
  testerIds: string[];
  createdAt: string;
}

/** A problem with what the operator asked the CLI for. */
export class SandboxTesterInputError extends Error {
  override name = 'SandboxTesterInputError';
}

export interface SandboxTesterCreateInput {
  firstName: string;
  lastName: string;
  email: string;
  /** a TerritoryCode, in any case */
  territory: string;
}

export class SandboxTestersService {
  constructor(
    private readonly repo: SandboxTestersRepository,
    private readonly clock: Clock,
  ) {}

  page(req: ListRequest, limit: number): Promise<Page<SandboxTester>> {
    return mappedListPage(this.repo, req, limit, undefined, toSandboxTester);
  }

  /** Every tester, by id (the CLI's list). */
  async list(): Promise<SandboxTester[]> {
    return (await this.repo.listAll()).map(toSandboxTester);
  }

  /**
   * PATCH /v2/sandboxTesters/{id} (A21), its body read by ./request.ts (a document of the wrong
   * shape is a 422 there): then the tester (404), then the body's 409s. What the request leaves out
   * or sends as null keeps its value.
   */
  async update(id: string, request: RequestInput<SandboxTesterUpdateInput>): Promise<SandboxTester> {
    const { territory, interruptPurchases, subscriptionRenewalRate } = request.values;
    return this.repo.transaction(async (trx) => {
      const row = await this.repo.findForUpdate(trx, id);
      if (!row) throw errors.notFound(TYPE, id);
      if (request.problems.length > 0) throw new ApiErrors([...request.problems]);
      const settings: SandboxTesterSettings = {};
      if (territory !== undefined) settings.territory = territory;
      if (interruptPurchases !== undefined) settings.interrupt_purchases = interruptPurchases ? 1 : 0;
      if (subscriptionRenewalRate !== undefined) settings.subscription_renewal_rate = subscriptionRenewalRate;
      await this.repo.update(trx, id, settings);
      return toSandboxTester({ ...row, ...settings });
    });
  }

  /**
   * POST /v2/sandboxTestersClearPurchaseHistoryRequest (A22): records the request and the testers
   * it names; this service holds no purchases, so nothing else happens. At least one tester, each
   * one that exists; a tester named twice counts once, and a tester may be cleared again and again.
   */
  async clearPurchaseHistory(request: RequestInput<ClearPurchaseHistoryInput>): Promise<ClearPurchaseHistoryRequest> {
    const ids = request.values.testerIds;
    const problems: ApiError[] = [...request.problems];
    if (ids.length === 0) {
      problems.push(errors.relationshipInvalid(TESTERS, 'A request to clear purchase history must name at least one sandbox tester'));
    }
    return this.repo.transaction(async (trx) => {
      // a copy: a transaction may run again (src/db/retry.ts)
      const found = [...problems];
      const existing = await this.repo.existingIds(trx, ids);
      ids.forEach((id, i) => {
        if (!existing.has(id)) {
          const detail = `'${id}' is not a valid ID for this relationship. There is no sandbox tester with this id.`;
          found.push(errors.relationshipInvalid(`${TESTERS}/data/${i}`, detail));
        }
      });
      if (found.length > 0) throw new ApiErrors(found);
      const recorded: ClearPurchaseHistoryRequest = {
        id: uuidV7(),
        testerIds: [...new Set(ids)],
        createdAt: this.clock.now().toISOString(),
      };
      await this.repo.insertClearRequest(trx, { id: recorded.id, created_at: recorded.createdAt }, recorded.testerIds);
      return recorded;
    });
  }

  /**
   * A new tester (`asc-access sandbox-testers create`), as Apple's web form makes one but without a
   * password, which this service never uses (A23). Names as A10, a valid email that no one in the
   * team holds, a TerritoryCode; Apple's defaults for the settings (B10.7).
   */
  async create(input: SandboxTesterCreateInput): Promise<SandboxTester> {
    const problems: ApiError[] = [];
    const firstName = checkName('firstName', input.firstName, problems);
    const lastName = checkName('lastName', input.lastName, problems);
    const email = input.email.trim();
    const territory = input.territory.trim().toUpperCase();
    const messages = problems.map((p) => p.message);
    if (!isValidEmail(email)) messages.push(`'${email}' is not a valid email address`);
    if (!TERRITORY_CODES.has(territory)) messages.push(`'${input.territory}' is not a territory code (such as USA, CAN or GBR)`);
    if (messages.length > 0 || !firstName || !lastName) throw new SandboxTesterInputError(messages.join('; '));

    const row: SandboxTesterRow = {
      // time-ordered, so the list (by id) is in the order testers were made
      id: uuidV7(),
      first_name: firstName,
      last_name: lastName,
      email,
      email_key: email.toLowerCase(),
      territory,
      apple_pay_compatible: 1,
      interrupt_purchases: 0,
      subscription_renewal_rate: DEFAULT_RENEWAL_RATE,
      created_at: this.clock.now().toISOString(),
    };
    await this.repo.transaction(async (trx) => {
      if (await this.repo.insert(trx, row)) return;
      const holder = (await emailClaims.find(trx, row.email_key))?.owner_type;
      throw new SandboxTesterInputError(
        holder === 'sandboxTester'
          ? `A sandbox tester with the email '${email}' exists already`
          : `The email '${email}' already belongs to a pending invitation or a user of this team; a sandbox tester needs an Apple Account used nowhere else`,
      );
    });
    return toSandboxTester(row);
  }

  /** Deletes a tester (`asc-access sandbox-testers delete`), by id or email; frees the email. */
  async remove(idOrEmail: string): Promise<SandboxTester> {
    const by = idOrEmail.includes('@') ? 'email' : 'id';
    return this.repo.transaction(async (trx) => {
      const row = await this.repo.findForUpdate(trx, idOrEmail, by);
      if (!row) throw new SandboxTesterInputError(`There is no sandbox tester with the ${by} '${idOrEmail}'`);
      await this.repo.delete(trx, row);
      return toSandboxTester(row);
    });
  }

  /** A recorded clear request, or undefined. */
  async findClearRequest(id: string): Promise<ClearPurchaseHistoryRequest | undefined> {
    const found = await this.repo.findClearRequest(this.repo.db, id);
    return found && { id: found.row.id, testerIds: found.testerIds, createdAt: found.row.created_at };
  }
}
