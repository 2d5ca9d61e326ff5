/**
 * The JSON Schema of a state document as import and seed files take it (src/emulator/state.ts):
 * the shape, types, enums and the single-value patterns. What a schema can't state (names as the
 * API takes them, keys that parse, references between members, uniqueness across arrays) is
 * checked by state.ts after this. An export always validates against it.
 *
 * Every member of an item may be left out where state.ts can fill it in (ids, dates, a public key
 * given its private half, the access flags), and so may every array.
 */
import { Ajv, type ErrorObject } from 'ajv';
import { fullFormats } from 'ajv-formats/dist/formats.js';
import { TEAM_KEY_ROLES, USER_ROLES } from '../domain/roles.js';
import { INDIVIDUAL_KEY_ROLE } from '../keys/service.js';
import { SUBSCRIPTION_RENEWAL_RATES, TERRITORY_CODES } from '../resources/sandbox-testers/service.js';

export const STATE_FORMAT = 'asc-access-state/1';

const UUID = '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$';

const uuid = (what: string) => ({ type: 'string', pattern: UUID, description: `${what}: a UUID in lower case` });
const instant = (what: string) => ({
  type: 'string',
  format: 'date-time',
  description: `${what}: an ISO 8601 date-time with its offset, years 0000 to 9999`,
});
const text = (what: string) => ({ type: 'string', description: what });
const roles = {
  type: 'array',
  items: { type: 'string', enum: [...USER_ROLES] },
  uniqueItems: true,
  description: "roles: UserRole values of Apple's spec, each once",
};
const visibleAppIds = {
  type: 'array',
  items: { type: 'string' },
  uniqueItems: true,
  description: 'visibleAppIds: ids of apps of this document, each once',
};

/** draft-07, for ajv's default dialect. */
export const STATE_DOCUMENT_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  title: 'asc-access state document',
  type: 'object',
  required: ['format'],
  additionalProperties: false,
  properties: {
    format: { const: STATE_FORMAT, description: `format: "${STATE_FORMAT}"` },
    /** left out: the team keeps its issuer id */
    team: {
      type: 'object',
      required: ['issuerId'],
      additionalProperties: false,
      properties: { issuerId: uuid('issuerId') },
    },
    apiKeys: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name'],
        additionalProperties: false,
        properties: {
          // Apple's key ids, as src/keys/service.ts makes them
          id: { type: 'string', pattern: '^[A-Z0-9]{10}$', description: 'id: 10 characters, A-Z and 0-9' },
          name: text('name'),
          // a team key's one role; an individual key's (userId set) is INDIVIDUAL and may be left out
          role: {
            type: 'string',
            enum: [...TEAM_KEY_ROLES, INDIVIDUAL_KEY_ROLE],
            description: `role: one of ${[...TEAM_KEY_ROLES, INDIVIDUAL_KEY_ROLE].join(', ')}`,
          },
          publicKey: text('publicKey: the SPKI PEM of an EC P-256 public key'),
          // import and seed files only: never stored, never exported
          privateKey: text('privateKey: the PEM of an EC P-256 private key (the .p8 file)'),
          userId: { ...uuid('userId'), type: ['string', 'null'] },
          createdAt: instant('createdAt'),
          revokedAt: { ...instant('revokedAt'), type: ['string', 'null'] },
        },
      },
    },
    apps: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'bundleId', 'sku'],
        additionalProperties: false,
        properties: {
          // numeric strings, as Apple's (docs/behavior.md A13)
          id: { type: 'string', pattern: '^[0-9]{1,19}$', description: 'id: a numeric string of 1 to 19 digits' },
          name: text('name'),
          // the rules of AppsService.create (src/resources/apps/service.ts)
          bundleId: { type: 'string', pattern: '^[A-Za-z0-9.-]{1,155}$', description: 'bundleId: 1 to 155 of A-Z, a-z, 0-9, . and -' },
          sku: text('sku'),
          primaryLocale: {
            type: 'string',
            pattern: '^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$',
            description: 'primaryLocale: a locale such as en-US',
          },
          createdAt: instant('createdAt'),
        },
      },
    },
    users: {
      type: 'array',
      items: {
        type: 'object',
        required: ['username', 'firstName', 'lastName', 'roles'],
        additionalProperties: false,
        properties: {
          id: uuid('id'),
          username: text('username: an email address'),
          firstName: text('firstName'),
          lastName: text('lastName'),
          roles,
          allAppsVisible: { type: 'boolean' },
          provisioningAllowed: { type: 'boolean' },
          visibleAppIds,
          createdAt: instant('createdAt'),
        },
      },
    },
    invitations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['email', 'firstName', 'lastName', 'roles'],
        additionalProperties: false,
        properties: {
          id: uuid('id'),
          email: text('email: an email address'),
          firstName: text('firstName'),
          lastName: text('lastName'),
          roles,
          allAppsVisible: { type: 'boolean' },
          provisioningAllowed: { type: 'boolean' },
          visibleAppIds,
          createdAt: instant('createdAt'),
          expirationDate: instant('expirationDate'),
          invitedBy: { ...text('invitedBy: the name of who sent it, or null'), type: ['string', 'null'] },
          tokenHash: {
            type: ['string', 'null'],
            pattern: '^[0-9a-f]{64}$',
            description: 'tokenHash: the SHA-256 of the activation token, 64 hex digits in lower case, or null',
          },
        },
      },
    },
    endedInvitations: {
      type: 'array',
      items: {
        type: 'object',
        required: ['id', 'outcome'],
        additionalProperties: false,
        properties: {
          id: uuid('id'),
          outcome: { type: 'string', enum: ['accepted', 'expired'], description: 'outcome: accepted or expired' },
          at: instant('at'),
        },
      },
    },
    // Sandbox Apple Accounts (docs/behavior.md A19-A23): made by the operator, changed by the API
    sandboxTesters: {
      type: 'array',
      items: {
        type: 'object',
        required: ['firstName', 'lastName', 'email', 'territory'],
        additionalProperties: false,
        properties: {
          id: uuid('id'),
          firstName: text('firstName'),
          lastName: text('lastName'),
          // Apple's acAccountName
          email: text('email: an email address'),
          // as PATCH /v2/sandboxTesters/{id} takes it: a value of the spec's TerritoryCode
          territory: {
            type: 'string',
            enum: [...TERRITORY_CODES],
            description: "territory: a TerritoryCode of Apple's spec, in upper case, such as USA",
          },
          applePayCompatible: { type: 'boolean' },
          interruptPurchases: { type: 'boolean' },
          subscriptionRenewalRate: {
            type: 'string',
            enum: [...SUBSCRIPTION_RENEWAL_RATES],
            description: `subscriptionRenewalRate: one of ${SUBSCRIPTION_RENEWAL_RATES.join(', ')}`,
          },
          createdAt: instant('createdAt'),
        },
      },
    },
    // the clear purchase history requests recorded (A22): what was asked, of whom, and when
    sandboxClearRequests: {
      type: 'array',
      items: {
        type: 'object',
        required: ['sandboxTesterIds'],
        additionalProperties: false,
        properties: {
          id: uuid('id'),
          sandboxTesterIds: {
            type: 'array',
            items: { type: 'string' },
            minItems: 1,
            uniqueItems: true,
            description: 'sandboxTesterIds: ids of sandbox testers of this document, at least one, each once',
          },
          createdAt: instant('createdAt'),
        },
      },
    },
  },
} as const;

/**
 * RFC 3339 date-times (ajv-formats' full check of the calendar) that are an instant JavaScript
 * dates hold, in the years 0000 to 9999 once taken to UTC: what the database stores is
 * `toISOString()`, and what export writes must read back.
 */
const rfc3339 = fullFormats['date-time'] as { validate: (value: string) => boolean };

function isInstant(value: string): boolean {
  if (!rfc3339.validate(value)) return false;
  const ms = Date.parse(value);
  return !Number.isNaN(ms) && /^\d{4}-/.test(new Date(ms).toISOString());
}

const ajv = new Ajv({ allErrors: false, verbose: true, strict: true, allowUnionTypes: true });
ajv.addFormat('date-time', { type: 'string', validate: isInstant });
const validate = ajv.compile(STATE_DOCUMENT_SCHEMA);

export interface ShapeProblem {
  /** JSON Pointer to the offending member */
  pointer: string;
  message: string;
}

const escapeSegment = (s: string) => s.replace(/~/g, '~0').replace(/\//g, '~1');

function describe(error: ErrorObject): ShapeProblem {
  const at = error.instancePath;
  const params = error.params as Record<string, unknown>;
  const description = (error.parentSchema as { description?: string } | undefined)?.description;
  switch (error.keyword) {
    case 'required': {
      const name = String(params.missingProperty);
      return { pointer: `${at}/${escapeSegment(name)}`, message: 'is required' };
    }
    case 'additionalProperties': {
      const name = String(params.additionalProperty);
      return { pointer: `${at}/${escapeSegment(name)}`, message: 'is not a member this object can have' };
    }
    case 'uniqueItems':
      // the later of the two equal items
      return { pointer: `${at}/${Math.max(Number(params.i), Number(params.j))}`, message: 'is given more than once' };
    case 'type':
      return { pointer: at, message: `must be of type ${([] as unknown[]).concat(params.type).map(String).join(' or ')}` };
    case 'enum': {
      const allowed = params.allowedValues as unknown[];
      // a long list (the territories) is named by its description rather than written out
      if (allowed.length > 20 && description) return { pointer: at, message: `must be ${description.replace(/^[^:]*: /, '')}` };
      return { pointer: at, message: `must be one of ${allowed.map(String).join(', ')}` };
    }
    case 'minItems':
      return { pointer: at, message: `must have at least ${String(params.limit)} item(s)` };
    case 'const':
      return { pointer: at, message: `must be ${JSON.stringify(params.allowedValue)}` };
    case 'pattern':
    case 'format':
      return { pointer: at, message: description ? `must be ${description.replace(/^[^:]*: /, '')}` : (error.message ?? 'is invalid') };
    default:
      return { pointer: at, message: error.message ?? 'is invalid' };
  }
}

/** The first member of `input` the schema refuses, or undefined when its shape is right. */
export function shapeProblem(input: unknown): ShapeProblem | undefined {
  if (validate(input)) return undefined;
  const first = validate.errors?.[0];
  return first ? describe(first) : { pointer: '', message: 'is not a state document' };
}
