/**
 * Writes spec/emulator.openapi.json, the OpenAPI 3.0 document of the emulator's controls
 * (`/_emulator/v1`, docs/testing-your-client.md), from the definitions below. The state document's
 * schema is not written here twice: it is the JSON Schema that import and seed files are checked
 * against (src/emulator/state-schema.ts), turned into OpenAPI 3.0's dialect by `toOpenApi30`.
 *
 *   node --import tsx scripts/emulator-openapi.ts        (npm run spec:emulator)
 *
 * test/unit/emulator/openapi.test.ts fails when the file differs from what this writes.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { FAULT_METHODS, MAX_FAULT_DELAY_MS } from '../src/emulator/faults.js';
import { STATE_DOCUMENT_SCHEMA } from '../src/emulator/state-schema.js';

export const EMULATOR_SPEC_FILE = fileURLToPath(new URL('../spec/emulator.openapi.json', import.meta.url));

type Schema = Record<string, unknown>;

/**
 * A draft-07 schema in OpenAPI 3.0's dialect: no `$schema`; `const` becomes a one-value `enum`;
 * a type `[T, "null"]` becomes `type: T, nullable: true`. Nothing else in the state schema needs it.
 */
export function toOpenApi30(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toOpenApi30);
  if (node === null || typeof node !== 'object') return node;
  const out: Schema = {};
  for (const [key, value] of Object.entries(node as Schema)) {
    if (key === '$schema') continue;
    if (key === 'const') out.enum = [value];
    else if (key === 'type' && Array.isArray(value)) {
      const types = value.filter((t) => t !== 'null');
      if (types.length !== 1) throw new Error(`type ${JSON.stringify(value)} has no OpenAPI 3.0 form`);
      out.type = types[0];
      if (value.includes('null')) out.nullable = true;
    } else out[key] = toOpenApi30(value);
  }
  return out;
}

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: Schema) => ({ 'application/json': { schema } });
const ok = (description: string, schema: Schema) => ({ description, content: json(schema) });
const noContent = { description: 'Done; no body' };
const error = (name: string) => ({ $ref: `#/components/responses/${name}` });
const nullable = (schema: Schema) => ({ ...schema, nullable: true });
const dateTime = (description: string) => ({ type: 'string', format: 'date-time', description });

/** What every control may answer, besides its own: the guard's 401 and 403, and 404 for an unknown team. */
const guarded = { '401': error('Unauthorized'), '403': error('Forbidden') };
const teamScoped = { ...guarded, '404': error('NotFound') };
const withBody = { '400': error('BadRequest') };

const teamParameter = {
  name: 'team',
  in: 'path',
  required: true,
  description: "`default` (the server's own team) or the id of a team made with `POST /_emulator/v1/teams`",
  schema: { type: 'string' },
};

function operation(
  operationId: string,
  summary: string,
  responses: Record<string, unknown>,
  more: { description?: string; parameters?: unknown[]; requestBody?: Schema; tags?: string[] } = {},
): Schema {
  const { requestBody, ...rest } = more;
  return {
    operationId,
    summary,
    ...rest,
    ...(requestBody ? { requestBody: { required: true, content: json(requestBody) } } : {}),
    responses,
  };
}

const schemas: Record<string, Schema> = {
  ErrorResponse: {
    type: 'object',
    description: "Apple's error body, as the API's own errors",
    required: ['errors'],
    properties: {
      errors: {
        type: 'array',
        items: {
          type: 'object',
          required: ['status', 'code', 'title'],
          properties: {
            id: { type: 'string' },
            status: { type: 'string', description: 'the HTTP status, as a string' },
            code: { type: 'string' },
            title: { type: 'string' },
            detail: { type: 'string' },
            source: {
              oneOf: [
                { type: 'object', required: ['pointer'], properties: { pointer: { type: 'string' } }, additionalProperties: false },
                { type: 'object', required: ['parameter'], properties: { parameter: { type: 'string' } }, additionalProperties: false },
              ],
            },
          },
        },
      },
    },
  },
  EmulatorInfo: {
    type: 'object',
    required: ['emulator', 'version', 'teams'],
    properties: {
      emulator: { type: 'boolean', enum: [true] },
      version: { type: 'string', description: "asc-access's version" },
      teams: { type: 'integer', minimum: 1, description: 'how many teams there are, the default one included' },
    },
  },
  Team: {
    type: 'object',
    required: ['id', 'issuerId', 'createdAt'],
    properties: {
      id: { type: 'string', description: '`default`, or the id the emulator gave the team' },
      issuerId: { type: 'string', format: 'uuid', description: "the issuer id of the team's API keys (`iss` of their tokens)" },
      createdAt: dateTime('when the team was made'),
    },
  },
  TeamList: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('Team') } } },
  TeamInput: {
    type: 'object',
    additionalProperties: false,
    properties: { seed: { ...ref('StateDocument') } },
    description: 'A new team: empty but for a fresh ADMIN key, or made from `seed`',
  },
  CreatedTeam: {
    type: 'object',
    required: ['id', 'issuerId', 'keyId', 'privateKey'],
    properties: {
      id: { type: 'string' },
      issuerId: { type: 'string', format: 'uuid' },
      keyId: nullable({
        type: 'string',
        description:
          "the key to call the API with: a fresh ADMIN key when the seed holds no keys, else the seed's first key given with its privateKey (null when none was)",
      }),
      privateKey: nullable({ type: 'string', description: "that key's private half, PEM (the .p8 file's contents)" }),
    },
  },
  Clock: {
    type: 'object',
    required: ['now', 'offsetMs'],
    properties: {
      now: dateTime("the team's emulated time; it keeps running with the wall clock"),
      offsetMs: { type: 'integer', minimum: 0, description: 'how far ahead of the wall clock it is, in milliseconds' },
    },
  },
  ClockAdvance: {
    type: 'object',
    required: ['by'],
    additionalProperties: false,
    properties: {
      by: {
        oneOf: [
          {
            type: 'string',
            description: 'units ms, s, m, h, d, w, combinable ("72h", "1d2h"), or ISO 8601 ("PT72H", "P3D"); at most 100 years',
          },
          { type: 'integer', minimum: 0, description: 'milliseconds (0 moves nothing but still ends what has expired)' },
        ],
      },
    },
  },
  ClockSet: {
    type: 'object',
    required: ['now'],
    additionalProperties: false,
    properties: { now: dateTime('the instant to set the clock to: not earlier than its now (else 409)') },
  },
  Message: {
    type: 'object',
    required: ['id', 'to', 'subject', 'text', 'html', 'activationLink', 'invitationId', 'sentAt'],
    properties: {
      id: { type: 'string' },
      to: { type: 'string', description: 'the recipient' },
      subject: { type: 'string' },
      text: { type: 'string', description: 'the plain-text body' },
      html: { type: 'string', description: 'the HTML body' },
      activationLink: nullable({ type: 'string', format: 'uri', description: 'the link the invitee follows' }),
      invitationId: nullable({ type: 'string', format: 'uuid' }),
      sentAt: dateTime('when it was sent, in emulated time'),
    },
  },
  MessageList: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('Message') } } },
  Accepted: {
    type: 'object',
    required: ['userId', 'invitationId'],
    properties: {
      userId: { type: 'string', format: 'uuid', description: 'the user the acceptance made' },
      invitationId: { type: 'string', format: 'uuid', description: 'the invitation, which now answers 410' },
    },
  },
  ResetInput: {
    type: 'object',
    additionalProperties: false,
    properties: {
      keep: { type: 'array', items: { type: 'string', enum: ['apiKeys', 'apps'] }, uniqueItems: true, description: 'what to keep' },
    },
  },
  StateDocument: {
    ...(toOpenApi30(STATE_DOCUMENT_SCHEMA) as Schema),
    description:
      'A team\'s whole state (export), or what to replace it with (import, a seed): every array and most members may be left out of an import, which fills them in (docs/testing-your-client.md, "The state document")',
  },
  FaultAction: {
    description: 'what a matching request gets: exactly one of these',
    oneOf: [
      {
        type: 'object',
        required: ['status'],
        additionalProperties: false,
        properties: {
          status: {
            type: 'integer',
            minimum: 400,
            maximum: 599,
            description: "answer this status with Apple's ErrorResponse (429 with X-Rate-Limit, 503 with Retry-After)",
          },
        },
      },
      {
        type: 'object',
        required: ['delayMs'],
        additionalProperties: false,
        properties: {
          delayMs: { type: 'integer', minimum: 0, maximum: MAX_FAULT_DELAY_MS, description: 'hold the request this long, then go on' },
        },
      },
      {
        type: 'object',
        required: ['drop'],
        additionalProperties: false,
        properties: { drop: { type: 'boolean', enum: [true], description: 'close the connection without an answer' } },
      },
    ],
  },
  FaultRuleInput: {
    type: 'object',
    required: ['path', 'action'],
    additionalProperties: false,
    properties: {
      method: { type: 'string', description: `one of ${FAULT_METHODS.join(', ')} (any case); default \`*\`, any method` },
      path: {
        type: 'string',
        pattern: '^/',
        maxLength: 2048,
        description: 'a glob over the request path without its query, as sent (not percent-decoded): `*` is any characters',
      },
      action: ref('FaultAction'),
      times: nullable({ type: 'integer', minimum: 1, description: 'how many matching requests the rule takes; absent or null: all' }),
      share: {
        type: 'number',
        minimum: 0,
        maximum: 1,
        description: 'the probability a matching request is taken, greater than 0; default 1',
      },
    },
  },
  FaultRule: {
    type: 'object',
    required: ['id', 'method', 'path', 'action', 'times', 'share', 'hits', 'remaining'],
    properties: {
      id: { type: 'string' },
      method: { type: 'string', enum: [...FAULT_METHODS] },
      path: { type: 'string' },
      action: ref('FaultAction'),
      times: nullable({ type: 'integer', minimum: 1 }),
      share: { type: 'number', minimum: 0, maximum: 1 },
      hits: { type: 'integer', minimum: 0, description: 'requests the rule has taken' },
      remaining: nullable({ type: 'integer', minimum: 0, description: 'null: unlimited; 0: used up (still listed, matches nothing)' }),
    },
  },
  FaultRuleList: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('FaultRule') } } },
  JournalEntry: {
    type: 'object',
    required: ['id', 'at', 'method', 'path', 'query', 'status', 'keyId', 'bodySha256', 'bodyLength', 'durationMs', 'fault'],
    properties: {
      id: { type: 'integer', minimum: 1, description: 'increasing in the order requests finished' },
      at: dateTime('wall time the request arrived'),
      method: { type: 'string' },
      path: { type: 'string', description: 'as received, without the query (not percent-decoded)' },
      query: {
        type: 'object',
        description: 'the query, names and values percent-decoded; a repeated name has an array',
        additionalProperties: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
      },
      status: { type: 'integer', description: "the response's status; 0 when none was sent (dropped, or closed by the client)" },
      keyId: nullable({ type: 'string', description: "the `kid` of the bearer token's header (not verified)" }),
      bodySha256: nullable({ type: 'string', pattern: '^[0-9a-f]{64}$', description: 'SHA-256 of the body as received; null without one' }),
      bodyLength: { type: 'integer', minimum: 0 },
      durationMs: { type: 'number', minimum: 0 },
      fault: nullable({ type: 'string', description: 'the fault rule that answered, delayed or dropped it' }),
    },
  },
  JournalList: { type: 'object', required: ['data'], properties: { data: { type: 'array', items: ref('JournalEntry') } } },
};

const errorResponse = (description: string) => ({ description, content: json(ref('ErrorResponse')) });

const P = '/_emulator/v1';
const T = `${P}/teams/{team}`;

/** The whole document. */
export function emulatorOpenApi(): Schema {
  return {
    openapi: '3.0.3',
    info: {
      title: 'asc-access emulator controls',
      version: '1.0.0',
      description:
        "The controls of asc-access's emulator (`ASC_EMULATOR=1` or `asc-access serve --emulator`): time, mail, invitees, state, faults, a request journal and teams, beside the App Store Connect API it serves (spec/app-store-connect-users-access.json). With the emulator off every path here answers 404 as any unknown path. Only loopback clients may call them, unless ASC_EMULATOR_TOKEN is set: then any client with that bearer token. See docs/testing-your-client.md.",
    },
    servers: [{ url: 'http://127.0.0.1:8080' }],
    tags: [
      { name: 'emulator' },
      { name: 'teams' },
      { name: 'clock' },
      { name: 'mail' },
      { name: 'invitees' },
      { name: 'state' },
      { name: 'faults' },
      { name: 'journal' },
    ],
    security: [{}, { emulatorToken: [] }],
    paths: {
      [P]: {
        get: operation(
          'getEmulator',
          'Whether the emulator is on (a probe)',
          { '200': ok('On', ref('EmulatorInfo')), ...guarded },
          { tags: ['emulator'] },
        ),
      },
      [`${P}/teams`]: {
        get: operation(
          'listTeams',
          'Every team, the default one first',
          { '200': ok('The teams', ref('TeamList')), ...guarded },
          { tags: ['teams'] },
        ),
        post: operation(
          'createTeam',
          'Create an isolated team with its own issuer id, database, clock, mail, faults and journal',
          {
            '201': ok('Created', ref('CreatedTeam')),
            ...withBody,
            ...guarded,
            '409': errorResponse(
              "The seed's issuer id is another team's, or there are as many teams as the emulator takes (100 besides the default)",
            ),
            '422': error('Unprocessable'),
          },
          { tags: ['teams'], requestBody: ref('TeamInput') },
        ),
      },
      [`${P}/teams/{team}`]: {
        parameters: [teamParameter],
        delete: operation(
          'deleteTeam',
          'Delete a team and everything in it',
          { '204': noContent, ...teamScoped, '409': errorResponse('The default team cannot be deleted') },
          { tags: ['teams'] },
        ),
      },
      [`${T}/clock`]: {
        parameters: [teamParameter],
        get: operation(
          'getClock',
          "The team's emulated time",
          { '200': ok('The clock', ref('Clock')), ...teamScoped },
          { tags: ['clock'] },
        ),
        put: operation(
          'setClock',
          'Set the emulated time to an instant (forward only); invitations that end by then end at once',
          {
            '200': ok('The clock', ref('Clock')),
            ...withBody,
            ...teamScoped,
            '409': errorResponse('The instant is earlier than the clock, or after 9000-01-01T00:00:00Z'),
            '422': error('Unprocessable'),
          },
          { tags: ['clock'], requestBody: ref('ClockSet') },
        ),
      },
      [`${T}/clock/advance`]: {
        parameters: [teamParameter],
        post: operation(
          'advanceClock',
          'Move the emulated time ahead; invitations that end meanwhile end at once',
          {
            '200': ok('The clock', ref('Clock')),
            ...withBody,
            ...teamScoped,
            '409': errorResponse('The clock would pass 9000-01-01T00:00:00Z'),
            '422': error('Unprocessable'),
          },
          { tags: ['clock'], requestBody: ref('ClockAdvance') },
        ),
      },
      [`${T}/mail`]: {
        parameters: [teamParameter],
        get: operation(
          'listMail',
          'The captured invitation emails, oldest first (the outbox is drained first)',
          { '200': ok('The messages', ref('MessageList')), ...teamScoped },
          {
            tags: ['mail'],
            parameters: [
              {
                name: 'to',
                in: 'query',
                required: false,
                description: 'only those to this address (any case)',
                schema: { type: 'string' },
              },
            ],
          },
        ),
        delete: operation('clearMail', 'Delete every captured message', { '204': noContent, ...teamScoped }, { tags: ['mail'] }),
      },
      [`${T}/mail/{id}`]: {
        parameters: [teamParameter, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        get: operation('getMail', 'One captured message', { '200': ok('The message', ref('Message')), ...teamScoped }, { tags: ['mail'] }),
      },
      [`${T}/invitations/{invitation}/accept`]: {
        parameters: [teamParameter, invitationParameter()],
        post: operation(
          'acceptInvitation',
          'Accept a pending invitation as its invitee would on the activation page: the user is created, the invitation then answers 410',
          { '200': ok('Accepted', ref('Accepted')), ...teamScoped, '410': error('Gone') },
          { tags: ['invitees'] },
        ),
      },
      [`${T}/invitations/{invitation}/decline`]: {
        parameters: [teamParameter, invitationParameter()],
        post: operation(
          'declineInvitation',
          'Decline a pending invitation as its invitee would on the activation page',
          { '204': noContent, ...teamScoped, '410': error('Gone') },
          { tags: ['invitees'] },
        ),
      },
      [`${T}/reset`]: {
        parameters: [teamParameter],
        post: operation(
          'resetTeam',
          'Empty the team (its issuer id and clock stay), keeping what `keep` names; its mail, journal and fault rules are cleared too',
          { '204': noContent, ...withBody, ...teamScoped, '422': error('Unprocessable') },
          { tags: ['state'], requestBody: ref('ResetInput') },
        ),
      },
      [`${T}/state`]: {
        parameters: [teamParameter],
        get: operation(
          'exportState',
          "The team's whole state",
          { '200': ok('The state document', ref('StateDocument')), ...teamScoped },
          { tags: ['state'] },
        ),
        put: operation(
          'importState',
          "Replace the team's whole state with a state document or seed",
          {
            '204': noContent,
            ...withBody,
            ...teamScoped,
            '409': errorResponse("The document's issuer id is another team's"),
            '422': error('Unprocessable'),
          },
          { tags: ['state'], requestBody: ref('StateDocument') },
        ),
      },
      [`${T}/faults`]: {
        parameters: [teamParameter],
        get: operation(
          'listFaults',
          'The fault rules, in the order they are tried',
          { '200': ok('The rules', ref('FaultRuleList')), ...teamScoped },
          { tags: ['faults'] },
        ),
        post: operation(
          'addFault',
          "Add a fault rule for the team's API requests (/v1, /v2)",
          { '201': ok('The rule', ref('FaultRule')), ...withBody, ...teamScoped, '422': error('Unprocessable') },
          { tags: ['faults'], requestBody: ref('FaultRuleInput') },
        ),
        delete: operation('clearFaults', 'Remove every fault rule', { '204': noContent, ...teamScoped }, { tags: ['faults'] }),
      },
      [`${T}/faults/{id}`]: {
        parameters: [teamParameter, { name: 'id', in: 'path', required: true, schema: { type: 'string' } }],
        delete: operation('removeFault', 'Remove one fault rule', { '204': noContent, ...teamScoped }, { tags: ['faults'] }),
      },
      [`${T}/journal`]: {
        parameters: [teamParameter],
        get: operation(
          'listJournal',
          "The team's last API requests, oldest first",
          { '200': ok('The requests', ref('JournalList')), ...teamScoped, '400': error('BadRequest') },
          {
            tags: ['journal'],
            parameters: [
              { name: 'method', in: 'query', required: false, description: 'only this method (any case)', schema: { type: 'string' } },
              {
                name: 'path',
                in: 'query',
                required: false,
                description: 'only paths matching this glob (`*` any characters)',
                schema: { type: 'string' },
              },
              {
                name: 'status',
                in: 'query',
                required: false,
                description: 'only this status (0: no answer)',
                schema: { type: 'integer', minimum: 0 },
              },
              {
                name: 'keyId',
                in: 'query',
                required: false,
                description: "only requests whose token's `kid` is this",
                schema: { type: 'string' },
              },
              {
                name: 'limit',
                in: 'query',
                required: false,
                description: 'only the newest N that match',
                schema: { type: 'integer', minimum: 0 },
              },
            ],
          },
        ),
        delete: operation('clearJournal', 'Forget every recorded request', { '204': noContent, ...teamScoped }, { tags: ['journal'] }),
      },
    },
    components: {
      securitySchemes: {
        emulatorToken: {
          type: 'http',
          scheme: 'bearer',
          description:
            'ASC_EMULATOR_TOKEN, required (from any client) when the emulator was started with one; without it only loopback clients may call',
        },
      },
      responses: {
        BadRequest: errorResponse('The body is not JSON, or a query parameter is invalid (`source.parameter` names it)'),
        Unauthorized: errorResponse('ASC_EMULATOR_TOKEN is set and the request does not carry it as its bearer token'),
        Forbidden: errorResponse('No ASC_EMULATOR_TOKEN is set and the client is not on a loopback address'),
        NotFound: errorResponse('No such team, or no such item of it'),
        Gone: errorResponse('The invitation has ended (accepted, declined or expired)'),
        Unprocessable: errorResponse('The body is refused; `source.pointer` names the member'),
      },
      schemas,
    },
  };
}

function invitationParameter(): Schema {
  return {
    name: 'invitation',
    in: 'path',
    required: true,
    description: "the invitation's id, or its email (anything with `@`, matched without regard to case)",
    schema: { type: 'string' },
  };
}

/** The file's text: the document, two-space indented, with a final newline. */
export function emulatorOpenApiText(): string {
  return `${JSON.stringify(emulatorOpenApi(), null, 2)}\n`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  writeFileSync(EMULATOR_SPEC_FILE, emulatorOpenApiText());
  process.stdout.write(`wrote ${EMULATOR_SPEC_FILE}\n`);
}
