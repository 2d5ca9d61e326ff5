/**
 * The whole HTTP surface under structured random input: every operation of the vendored spec and
 * the activation pages, over real HTTP to one real test server. A request is built from parts
 * chosen at random:
 *
 * - the path id: a live row of the right type (users, invitations, apps, sandbox testers), a row of another type,
 *   a deleted row, an unknown UUID, odd strings (percent-encodings, dot segments, very long ones);
 * - the query: the operation's own parameters with valid and invalid values, other operations'
 *   parameters, unknown names, repeated names, raw and percent-encoded;
 * - the headers: Accept and Content-Type variants, Authorization with an ADMIN token, a token of
 *   another role, a scoped token, an individual key's token, an expired one, a bad signature, an
 *   unknown key, a revoked key, no token or a malformed header, and a few other headers;
 * - the body: the operation's valid document, or that document with one member changed (wrong
 *   types, nulls, huge strings, unicode edge cases), removed or added, nested deep, cut with
 *   invalid UTF-8 bytes, or replaced by a text that is not JSON;
 * - for the pages: the token (live, used, unknown, odd), the action, the CSRF cookie and form
 *   field (right, wrong, missing, repeated), Origin and Sec-Fetch-Site, the form's content type
 *   and extra fields, invalid bytes, a body over the form limit.
 *
 * Whatever arrives: no 5xx; every API 4xx is Apple's ErrorResponse with its status (406 keeps
 * Apple's plain-text body); every API JSON body matches the spec; the pages answer HTML and
 * accept or decline only with the right CSRF cookie and field from an allowed origin; no body
 * carries a stack frame, a source path, an error name or a server path; and after each property
 * the server still answers its health check. A failure prints the request as sent: method, URL,
 * headers and body.
 *
 * Rows the requests use up (a deleted invitation or user, an accepted or declined invitation) are
 * replaced at once, so "a live row" stays live for the whole run.
 */
import { tmpdir } from 'node:os';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, operationFor, PUBLIC_URL, useTestServer } from '../helpers/harness.js';
import { responseErrors } from '../helpers/spec-validator.js';
import { activationToken, createUser, individualKey } from '../helpers/users.js';
import { USER_ROLES } from '../../src/domain/roles.js';
import { SUBSCRIPTION_RENEWAL_RATES } from '../../src/resources/sandbox-testers/service.js';
import { loadOperations, type OperationSpec } from '../../src/spec/openapi.js';
import { CSRF_COOKIE, CSRF_FIELD, newCsrfToken } from '../../src/web/csrf.js';
import { FUZZ_TEST_TIMEOUT, fuzzParameters, reportRun, requestsSent, runsLabel } from './fuzz-options.js';

const API_RUNS = 150;
const PAGE_RUNS = 100;

// ---- the request as sent, printed whole ---------------------------------------------------------

interface SentRequest {
  method: string;
  /** path and query as the server receives them (after fetch's URL normalization) */
  target: string;
  headers: Record<string, string>;
  body: string | Uint8Array | undefined;
}

const SHOWN_BODY = 3000;

function showBody(body: string | Uint8Array | undefined): string {
  if (body === undefined) return '(no body)';
  if (typeof body === 'string') {
    const shown = JSON.stringify(body.slice(0, SHOWN_BODY));
    return body.length > SHOWN_BODY ? `${shown}… (${body.length} characters in all)` : shown;
  }
  const hex = Buffer.from(body.subarray(0, SHOWN_BODY)).toString('hex');
  return `bytes ${hex}${body.length > SHOWN_BODY ? `… (${body.length} bytes in all)` : ''}`;
}

/** An HTTP request as text: request line, headers, a blank line, the body as a JSON string or hex. */
function render(r: SentRequest): string {
  const head = [
    `${r.method} ${r.target.length > SHOWN_BODY ? `${r.target.slice(0, SHOWN_BODY)}… (${r.target.length} characters)` : r.target}`,
  ];
  for (const [k, v] of Object.entries(r.headers)) head.push(`${k}: ${v}`);
  return `${head.join('\n')}\n\n${showBody(r.body)}`;
}

/** Gives a generated value a readable form in fast-check's counterexample report. */
function readable<T extends object>(value: T, show: (v: T) => string): T {
  return Object.assign(value, { [fc.toStringMethod]: () => show(value) });
}

// ---- what no answer may contain -------------------------------------------------------------------

const LEAKS: Array<[string, RegExp]> = [
  ['a stack frame', /\bat (?:async )?[\w$.<>[\]]+ \(|\bat (?:file:\/\/)?\/[^\s)]*:\d+:\d+/],
  ['a source path', /\/(?:src|dist|test)\/[\w/.-]+\.[cm]?[jt]s\b/],
  ['node_modules', /node_modules/],
  ['an error name', /\b[A-Z]?[a-z]*Error: /],
  ['a database error', /SQLITE_[A-Z]|syntax error at or near|violates [a-z ]*constraint|duplicate key value|deadlock detected/],
];

/** The leaks in an answer's text; a pattern that the request itself carries is not counted. */
function leaksIn(text: string, request: SentRequest, serverPaths: string[]): string[] {
  let decoded = request.target;
  try {
    decoded = decodeURIComponent(request.target);
  } catch {
    // a malformed percent-encoding: the raw target is what can be echoed
  }
  const sent = `${render(request)}\n${decoded}\n${typeof request.body === 'string' ? request.body : Buffer.from(request.body ?? []).toString('latin1')}`;
  const found = LEAKS.filter(([, re]) => re.test(text) && !re.test(sent)).map(([name]) => name);
  for (const p of serverPaths) if (text.includes(p) && !sent.includes(p)) found.push(`the server path ${p}`);
  return found;
}

/** Fastify's router (find-my-way) takes a path it can decode, with no parameter over 100 characters. */
function routable(path: string): boolean {
  try {
    return decodeURIComponent(path)
      .split('/')
      .every((segment) => segment.length <= 100);
  } catch {
    return false;
  }
}

// ---- shared generators ----------------------------------------------------------------------------

function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogates: sent raw, fetch turns them into U+FFFD
  }
}

const ODD_IDS = [
  '%zz',
  '%',
  '%00',
  '%2F',
  '%2f..%2f',
  '..',
  '.',
  '%2e%2e',
  '%C0%AF',
  '%ED%A0%80',
  '%F0%9F%98%80',
  '%FF%FE',
  'null',
  'undefined',
  '0',
  '-1',
  '1e999',
  'a b',
  '\u202e',
  '\u200b',
  '\ufeff',
  '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}',
  '<script>',
  "'; drop table users; --",
  '${7*7}',
  '__proto__',
  'constructor',
  'x'.repeat(1200),
  'x'.repeat(20_000),
];

const ODD_VALUES = [
  '',
  '0',
  '-1',
  '1.5',
  '1e2',
  '01',
  '201',
  '9'.repeat(40),
  'NaN',
  'true',
  'null',
  ',',
  ',,',
  '%',
  '%zz',
  '%00',
  '%C0%80',
  '%ED%A0%80',
  '\u0000',
  '\u202e',
  '\ufeff',
  '[]',
  '{}',
  'a'.repeat(3000),
];

/** A query string of this operation's parameters (valid and invalid values) and of others. */
function queryArbitrary(op: OperationSpec | undefined, ids: string[], emails: string[]): fc.Arbitrary<string> {
  const own = op ? [...op.parameters.values()] : [];
  const validValue = (p: (typeof own)[number]): fc.Arbitrary<string> => {
    if (p.kind === 'integer') return fc.integer({ min: 1, max: Math.min(p.maximum, 1000) }).map(String);
    if (p.kind === 'boolean') return fc.boolean().map(String);
    if (p.kind === 'array' && p.enum)
      return fc.uniqueArray(fc.constantFrom(...p.enum), { minLength: 1, maxLength: 3 }).map((v) => v.join(','));
    if (/email|username/.test(p.name)) return fc.constantFrom(...emails);
    if (/visibleApps|\[id\]/.test(p.name)) return fc.constantFrom(...ids);
    return fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 });
  };
  const anyName = fc.constantFrom(
    'limit',
    'cursor',
    'sort',
    'include',
    'fields[users]',
    'fields[apps]',
    'fields[userInvitations]',
    'fields[sandboxTesters]',
    'filter[email]',
    'filter[username]',
    'filter[roles]',
    'filter[visibleApps]',
    'filter[id]',
    'filter[name]',
    'limit[visibleApps]',
    'exists[gameCenterEnabledVersions]',
    'filter[',
    'filter[]',
    '[]',
    '',
    'LIMIT',
    'unknown',
  );
  const oddValue = fc.oneof(
    fc.constantFrom(...ODD_VALUES),
    fc.string({ unit: 'grapheme', maxLength: 16 }),
    fc.string({ unit: 'binary', maxLength: 8 }),
  );
  const pair = fc.oneof(
    ...(own.length > 0
      ? [
          { weight: 5, arbitrary: fc.constantFrom(...own).chain((p) => fc.tuple(fc.constant(p.name), validValue(p))) },
          { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...own.map((p) => p.name)), oddValue) },
        ]
      : []),
    { weight: 2, arbitrary: fc.tuple(anyName, fc.oneof(oddValue, fc.constantFrom(...ids, ...emails))) },
    { weight: 1, arbitrary: fc.tuple(fc.string({ unit: 'grapheme', maxLength: 10 }), oddValue) },
  );
  const encoded = fc.tuple(pair, fc.constantFrom('raw', 'encoded', 'name only')).map(([[name, value], how]) => {
    if (how === 'raw') return `${name}=${value}`;
    if (how === 'name only') return safeEncode(name);
    return `${safeEncode(name)}=${safeEncode(value)}`;
  });
  return fc.oneof(
    // an operation without parameters mostly gets none, so that its body is what is tried
    { weight: own.length > 0 ? 3 : 12, arbitrary: fc.constant('') },
    { weight: 6, arbitrary: fc.array(encoded, { maxLength: 5 }).map((ps) => ps.join('&')) },
    // the same parameter twice
    { weight: 1, arbitrary: fc.tuple(encoded, encoded).map(([a, b]) => `${a}&${a.split('=')[0]}=${b.split('=')[1] ?? ''}`) },
    { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
  );
}

/** Optional headers a client may send, with odd values. */
const extraHeaders = fc.dictionary(
  fc.constantFrom(
    'x-forwarded-for',
    'cookie',
    'if-none-match',
    'if-modified-since',
    'range',
    'accept-encoding',
    'x-request-id',
    'forwarded',
  ),
  fc.constantFrom('', '*', '"abc"', 'W/"1"', 'bytes=0-1', 'gzip, br', '1.2.3.4, ::1', 'a=b; c', 'for=unknown', 'x'.repeat(2000), 'é'),
  { maxKeys: 2 },
);

// ---- the suite ------------------------------------------------------------------------------------

describe('fuzzing every operation and the activation pages', () => {
  const s = useTestServer({ config: { rateLimitPerHour: 10_000_000 } });
  const sentBefore = requestsSent();
  /** the statuses of the generated requests, both properties */
  const seen = new Map<number, number>();
  afterAll(() => reportRun('surface', requestsSent() - sentBefore, seen));

  const operations = [...loadOperations().values()];
  /** live rows, by type; a row used up is replaced at once */
  const live = { invitations: [] as string[], users: [] as string[], apps: [] as string[], testers: [] as string[] };
  /** activation tokens of pending invitations, and tokens already used */
  const tokens: string[] = [];
  const usedTokens: string[] = [];
  const gone: string[] = [];
  const emails = ['ada@example.com', 'bob@example.com', 'ADA@EXAMPLE.COM', 'nobody@example.com'];
  const auth: Record<string, string | undefined> = {};
  const csrf = newCsrfToken();
  let serverPaths: string[] = [];
  let fresh = 0;
  const freshEmail = () => `fz${Date.now().toString(36)}${fresh++}@example.com`;

  async function newInvitation(): Promise<string> {
    const r = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: freshEmail(), roles: ['DEVELOPER'] }) });
    expect(r.status, r.text).toBe(201);
    return r.body.data.id as string;
  }
  const newUser = () => createUser(s, { email: freshEmail(), roles: ['MARKETING'], allAppsVisible: true });

  beforeAll(async () => {
    for (const name of ['Fuzz One', 'Fuzz Two', 'Fuzz Three']) live.apps.push(await s.createApp(name));
    for (let i = 0; i < 4; i++) live.invitations.push(await newInvitation());
    for (let i = 0; i < 4; i++) live.users.push(await newUser());
    for (const territory of ['USA', 'CAN', 'DEU', 'JPN']) {
      const t = await s.services.sandboxTesters.create({ firstName: 'Fuzz', lastName: 'Tester', email: freshEmail(), territory });
      live.testers.push(t.id);
    }
    for (let i = 0; i < 4; i++) tokens.push(await activationToken(s, await newInvitation()));
    // a deleted invitation, a deleted user and a used token
    const doomed = await newInvitation();
    expect((await s.call('DELETE', `/v1/userInvitations/${doomed}`)).status).toBe(204);
    const leaver = await newUser();
    expect((await s.call('DELETE', `/v1/users/${leaver}`)).status).toBe(204);
    gone.push(doomed, leaver);
    const usedInvitation = await newInvitation();
    usedTokens.push(await activationToken(s, usedInvitation));
    expect((await s.services.activation.accept(usedTokens[0]!)).state).toBe('accepted');

    const developer = await s.keyWithRole('DEVELOPER');
    const finance = await s.keyWithRole('FINANCE');
    const revoked = await s.keyWithRole('ADMIN');
    await s.services.keys.revoke(revoked.keyId);
    // the user of this key stays out of the live pool: deleting it would also remove the key
    const keyHolder = await createUser(s, { email: freshEmail(), roles: ['ADMIN'] });
    const admin = await s.keyWithRole('ADMIN');
    const past = new Date(s.clock.now().getTime() - 3_600_000);
    const flip = (t: string) => t.slice(0, -2) + (t.endsWith('AA') ? 'BB' : 'AA');
    Object.assign(auth, {
      admin: `Bearer ${s.adminToken}`,
      developer: `Bearer ${developer.token}`,
      finance: `Bearer ${finance.token}`,
      individual: `Bearer ${(await individualKey(s, keyHolder)).token}`,
      scoped: `Bearer ${await s.token({ privateKeyPem: admin.privateKeyPem, keyId: admin.keyId, issuerId: s.issuerId, scope: ['GET /v1/apps?limit=1'] })}`,
      expired: `Bearer ${await s.token({ privateKeyPem: admin.privateKeyPem, keyId: admin.keyId, issuerId: s.issuerId, now: past })}`,
      'bad signature': `Bearer ${flip(s.adminToken)}`,
      'unknown key': `Bearer ${await s.token({ privateKeyPem: admin.privateKeyPem, keyId: 'ZZZZZZZZZZ', issuerId: s.issuerId })}`,
      'other issuer': `Bearer ${await s.token({ privateKeyPem: admin.privateKeyPem, keyId: admin.keyId, issuerId: crypto.randomUUID() })}`,
      revoked: `Bearer ${revoked.token}`,
      none: undefined,
      'empty bearer': 'Bearer ',
      basic: 'Basic YWRtaW46YWRtaW4=',
      'lower-case scheme': `bearer ${s.adminToken}`,
      'two tokens': `Bearer ${s.adminToken}, Bearer ${developer.token}`,
      'not a JWT': 'Bearer abc.def.ghi',
      'header only': `Bearer ${s.adminToken.split('.')[0]}`,
    });
    serverPaths = [process.cwd(), s.config.dataDir, tmpdir()].filter((p) => p.length > 4);
  });

  /** The server answers its health check and an ADMIN read. */
  async function expectHealthy(): Promise<void> {
    const health = await fetch(`${s.baseUrl}/healthz`);
    expect(health.status).toBe(200);
    expect(await health.json()).toEqual({ status: 'ok' });
    const r = await s.call('GET', '/v1/apps?limit=1');
    expect(r.status).toBe(200);
  }

  interface Answer {
    status: number;
    headers: Headers;
    text: string;
  }

  async function send(request: SentRequest): Promise<Answer> {
    const res = await fetch(`${s.baseUrl}${request.target}`, {
      method: request.method,
      headers: request.headers,
      redirect: 'manual',
      ...(request.body !== undefined ? { body: typeof request.body === 'string' ? request.body : Buffer.from(request.body) } : {}),
    });
    return { status: res.status, headers: res.headers, text: await res.text() };
  }

  /** What fetch will send for this raw target: the WHATWG-normalized path and query. */
  function normalized(target: string): string | undefined {
    try {
      const u = new URL(s.baseUrl + target);
      return u.pathname + u.search;
    } catch {
      return undefined;
    }
  }

  // ---- API operations -----------------------------------------------------------------------

  type Kind = keyof typeof live;
  type IdChoice = { live: Kind; index: number } | { literal: string };

  const kindOf = (template: string): Kind =>
    template.startsWith('/v1/users')
      ? 'users'
      : template.startsWith('/v1/apps')
        ? 'apps'
        : template.startsWith('/v2/sandboxTesters')
          ? 'testers'
          : 'invitations';

  function idArbitrary(template: string): fc.Arbitrary<IdChoice> {
    const index = fc.nat(1000);
    return fc.oneof(
      { weight: 6, arbitrary: index.map((i) => ({ live: kindOf(template), index: i })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.constantFrom<Kind>('users', 'invitations', 'apps', 'testers'), index)
          .map(([k, i]) => ({ live: k, index: i })),
      },
      { weight: 1, arbitrary: fc.constantFrom(...gone).map((g) => ({ literal: g })) },
      { weight: 1, arbitrary: fc.uuid().map((u) => ({ literal: u })) },
      { weight: 2, arbitrary: fc.constantFrom(...ODD_IDS).map((o) => ({ literal: o })) },
      {
        weight: 1,
        arbitrary: fc
          .tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }), fc.boolean())
          .map(([t, enc]) => ({ literal: enc ? safeEncode(t) : t })),
      },
    );
  }

  const resolveId = (id: IdChoice): string => ('literal' in id ? id.literal : live[id.live][id.index % live[id.live].length]!);
  const showId = (id: IdChoice): string =>
    'literal' in id ? id.literal : `<live ${id.live} #${id.index % Math.max(1, live[id.live].length)}>`;

  /** The valid document of an operation that takes one; `@@id` stands for the path id. */
  function validDocument(op: OperationSpec): fc.Arbitrary<unknown> {
    const apps = fc.subarray(live.apps).map((ids) => ids.map((id) => ({ type: 'apps', id })));
    // mostly combinations Apple accepts (so that writes succeed too), sometimes any
    const roles = fc.oneof(
      { weight: 3, arbitrary: fc.constantFrom(['DEVELOPER'], ['MARKETING', 'SALES'], ['CUSTOMER_SUPPORT'], ['APP_MANAGER']) },
      { weight: 1, arbitrary: fc.uniqueArray(fc.constantFrom(...USER_ROLES), { minLength: 1, maxLength: 3 }) },
    );
    if (op.path === '/v1/userInvitations') {
      return fc
        .record({ roles, apps, all: fc.option(fc.boolean(), { nil: undefined }) })
        .map((g) =>
          invitationBody(
            { email: freshEmail(), roles: g.roles, ...(g.all !== undefined ? { allAppsVisible: g.all } : {}) },
            g.apps.length > 0 ? { visibleApps: { data: g.apps } } : undefined,
          ),
        );
    }
    if (op.path === '/v1/users/{id}') {
      return fc
        .record({ roles, allAppsVisible: fc.boolean(), provisioningAllowed: fc.boolean(), apps }, { requiredKeys: [] })
        .map(({ apps: a, ...attributes }) => ({
          data: { type: 'users', id: '@@id', attributes, ...(a ? { relationships: { visibleApps: { data: a } } } : {}) },
        }));
    }
    if (op.path === '/v2/sandboxTesters/{id}') {
      return fc
        .record(
          {
            territory: fc.oneof(fc.constantFrom('USA', 'CAN', 'GBR', 'FRA', 'BRA'), fc.constant(null)),
            interruptPurchases: fc.option(fc.boolean(), { nil: null }),
            subscriptionRenewalRate: fc.option(fc.constantFrom(...SUBSCRIPTION_RENEWAL_RATES), { nil: null }),
          },
          { requiredKeys: [] },
        )
        .map((attributes) => ({ data: { type: 'sandboxTesters', id: '@@id', attributes } }));
    }
    if (op.path === '/v2/sandboxTestersClearPurchaseHistoryRequest') {
      return fc.subarray(live.testers, { minLength: 1 }).map((ids) => ({
        data: {
          type: 'sandboxTestersClearPurchaseHistoryRequest',
          relationships: { sandboxTesters: { data: ids.map((id) => ({ type: 'sandboxTesters', id })) } },
        },
      }));
    }
    return apps.map((data) => ({ data }));
  }

  const EDGE_STRINGS = [
    '\ud800',
    'x\udc00',
    '\u202e',
    '\u2066x',
    '\u200b',
    '\ufeff',
    '\u0000',
    '\u2028',
    'e\u0301',
    '\u{1F469}\u200d\u{1F469}\u200d\u{1F467}\u200d\u{1F466}',
    '\u{10FFFF}',
    '\u00a0',
    ' ',
    '',
  ];

  const edgeValue = fc.oneof(
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    {
      weight: 2,
      arbitrary: fc.constantFrom<unknown>(null, true, 0, -1, 1e308, '', [], {}, 'ADMIN', 'apps', 'users', [{ type: 'apps', id: '1' }]),
    },
    { weight: 2, arbitrary: fc.constantFrom(...EDGE_STRINGS) },
    { weight: 1, arbitrary: fc.integer({ min: 1000, max: 300_000 }).map((n) => 'x'.repeat(n)) },
  );

  /** Every member path of a JSON value (objects' keys, arrays' indices), the root excluded. */
  function memberPaths(value: unknown, prefix: Array<string | number> = []): Array<Array<string | number>> {
    if (typeof value !== 'object' || value === null) return [];
    const out: Array<Array<string | number>> = [];
    for (const [k, v] of Object.entries(value)) {
      const p = [...prefix, Array.isArray(value) ? Number(k) : k];
      out.push(p, ...memberPaths(v, p));
    }
    return out;
  }

  /** Sets (or, with `undefined`, removes) the member at `path` of a copy of `doc`. */
  function withMember(doc: unknown, path: Array<string | number>, value: unknown): unknown {
    const copy = structuredClone(doc) as Record<string | number, unknown>;
    let node = copy;
    for (const key of path.slice(0, -1)) node = node[key] as Record<string | number, unknown>;
    const last = path[path.length - 1]!;
    if (value === undefined) delete node[last];
    else node[last] = value;
    return copy;
  }

  const NESTING = '@@nest';
  const INVALID_UTF8 = [[0xff], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0xe2, 0x82], [0xf8, 0x88, 0x80, 0x80, 0x80], [0x80], [0xfe, 0xff]];
  const NOT_JSON = ['', ' ', '{', '{"data":', '[1,]', '{"data":{}}}', "{'data':1}", 'null', '[]', '1e400', 'NaN', '"str"', '\ufeff{}'];

  type BodyPlan = { kind: 'text'; text: string; how: string } | { kind: 'bytes'; bytes: Uint8Array; how: string };

  /** The body of a request to `op`: its valid document, mutated or not, or something else. */
  function bodyArbitrary(op: OperationSpec): fc.Arbitrary<BodyPlan | undefined> {
    const takesBody = op.method !== 'GET' && !(op.method === 'DELETE' && !op.path.endsWith('visibleApps'));
    const doc = takesBody ? validDocument(op) : fc.constant({ data: [] });
    const text = (how: string) => (t: string) => ({ kind: 'text' as const, text: t, how });
    const mutated = fc.tuple(doc, fc.nat(), edgeValue, fc.constantFrom('set', 'remove', 'add')).map(([d, i, v, what]) => {
      const paths = memberPaths(d);
      const p = paths[i % paths.length]!;
      if (what === 'remove') return text(`without ${p.join('.')}`)(JSON.stringify(withMember(d, p, undefined)));
      if (what === 'add')
        return text(`with an extra member in ${p.slice(0, -1).join('.')}`)(JSON.stringify(withMember(d, [...p.slice(0, -1), 'extra'], v)));
      return text(`${p.join('.')} changed`)(JSON.stringify(withMember(d, p, v)));
    });
    const nested = fc
      .tuple(doc, fc.nat(), fc.constantFrom(10, 63, 64, 65, 200, 10_000, 100_000), fc.constantFrom('[', '{"a":'))
      .map(([d, i, depth, open]) => {
        const paths = memberPaths(d);
        const close = open === '[' ? ']' : '}';
        const t = JSON.stringify(withMember(d, paths[i % paths.length]!, NESTING)).replace(
          JSON.stringify(NESTING),
          `${open.repeat(depth)}1${close.repeat(depth)}`,
        );
        return text(`nested ${depth} deep`)(t);
      });
    const badBytes = fc.tuple(doc, fc.nat(), fc.constantFrom(...INVALID_UTF8)).map(([d, i, bad]) => {
      const t = Buffer.from(JSON.stringify(d));
      // inside a string when the position falls after a quote, anywhere otherwise
      const quotes = [...t.keys()].filter((k) => t[k] === 0x22);
      const at = quotes.length > 0 ? quotes[i % quotes.length]! + 1 : i % (t.length + 1);
      return { kind: 'bytes' as const, bytes: Buffer.concat([t.subarray(0, at), Buffer.from(bad), t.subarray(at)]), how: 'invalid UTF-8' };
    });
    const arms: Array<fc.WeightedArbitrary<BodyPlan | undefined>> = [
      { weight: 1, arbitrary: fc.constantFrom(...NOT_JSON).map(text('not JSON')) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => text('any JSON')(JSON.stringify(v))) },
      { weight: 1, arbitrary: nested },
      { weight: 1, arbitrary: badBytes },
    ];
    if (takesBody) {
      arms.push(
        { weight: 4, arbitrary: doc.map((d) => text('valid')(JSON.stringify(d))) },
        { weight: 6, arbitrary: mutated },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
    } else {
      arms.push({ weight: 12, arbitrary: fc.constant(undefined) });
    }
    return fc.oneof(...arms);
  }

  interface ApiPlan {
    method: string;
    template: string;
    id: IdChoice | undefined;
    query: string;
    auth: string;
    accept: string | undefined;
    contentType: string | undefined;
    extra: Record<string, string>;
    body: BodyPlan | undefined;
  }

  const METHODS = ['GET', 'POST', 'PATCH', 'PUT', 'DELETE', 'OPTIONS'];

  function apiPlanArbitrary(): fc.Arbitrary<ApiPlan> {
    const authChoice = fc.oneof(
      { weight: 6, arbitrary: fc.constant('admin') },
      { weight: 4, arbitrary: fc.constantFrom(...Object.keys(auth).filter((k) => k !== 'admin')) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme-ascii', maxLength: 40 }).map((g) => `raw:${g}`) },
    );
    const accept = fc.oneof(
      { weight: 4, arbitrary: fc.constant(undefined) },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          'application/json',
          '*/*',
          'application/*',
          'application/vnd.api+json',
          'text/html',
          'application/xml',
          'application/json;q=0',
          'text/html, application/json;q=0.1',
          '',
          ';;',
          'x'.repeat(500),
        ),
      },
    );
    const contentType = fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/json') },
      {
        weight: 3,
        arbitrary: fc.constantFrom(
          undefined,
          'application/json; charset=utf-8',
          'application/json; charset=latin1',
          'Application/JSON',
          'application/vnd.api+json',
          'text/plain',
          'application/x-www-form-urlencoded',
          'multipart/form-data; boundary=x',
          'application/octet-stream',
          ';',
          'application/json, text/plain',
        ),
      },
    );
    const fromSpec = fc.constantFrom(...operations).chain((op) =>
      fc.record({
        method: fc.constant(op.method),
        template: fc.constant(op.path),
        id: op.path.includes('{id}') ? idArbitrary(op.path) : fc.constant(undefined),
        query: queryArbitrary(op, live.apps, emails),
        body: bodyArbitrary(op),
      }),
    );
    // a method the path does not have
    const otherMethod = fc.constantFrom(...new Set(operations.map((o) => o.path))).chain((template) =>
      fc.record({
        method: fc.constantFrom(...METHODS),
        template: fc.constant(template),
        id: template.includes('{id}') ? idArbitrary(template) : fc.constant(undefined),
        query: queryArbitrary(undefined, live.apps, emails),
        body: fc.option(
          fc.constantFrom(...NOT_JSON).map((t) => ({ kind: 'text' as const, text: t, how: 'not JSON' })),
          { nil: undefined },
        ),
      }),
    );
    return fc
      .tuple(
        fc.oneof({ weight: 9, arbitrary: fromSpec }, { weight: 1, arbitrary: otherMethod }),
        authChoice,
        accept,
        contentType,
        extraHeaders,
      )
      .map(([r, a, acc, ct, extra]) => readable({ ...r, auth: a, accept: acc, contentType: ct, extra }, (p) => render(planned(p, showId))));
  }

  /** The request a plan stands for, ids shown by `idText` (resolved, or described for the report). */
  function planned(p: ApiPlan, idText: (id: IdChoice) => string): SentRequest {
    const id = p.id === undefined ? undefined : idText(p.id);
    const path = id === undefined ? p.template : p.template.replace('{id}', id);
    const headers: Record<string, string> = { ...p.extra };
    const authorization = p.auth.startsWith('raw:') ? p.auth.slice(4) : auth[p.auth];
    if (authorization !== undefined) headers.authorization = authorization;
    if (p.accept !== undefined) headers.accept = p.accept;
    let body: string | Uint8Array | undefined;
    // fetch sends no body with GET
    if (p.body && p.method !== 'GET') {
      if (p.contentType !== undefined) headers['content-type'] = p.contentType;
      body = p.body.kind === 'text' ? p.body.text.replaceAll('@@id', JSON.stringify(id ?? '').slice(1, -1)) : p.body.bytes;
    }
    return { method: p.method, target: p.query === '' ? path : `${path}?${p.query}`, headers, body };
  }

  /** Keeps the live rows live: a row a DELETE removed is replaced; invitations created join the pool. */
  async function replenish(p: ApiPlan, answer: Answer): Promise<void> {
    if (p.method === 'POST' && p.template === '/v1/userInvitations' && answer.status === 201 && live.invitations.length < 50) {
      live.invitations.push((JSON.parse(answer.text) as { data: { id: string } }).data.id);
    }
    if (p.method !== 'DELETE' || answer.status !== 204 || p.id === undefined || !('live' in p.id) || p.template.endsWith('visibleApps'))
      return;
    const pool = live[p.id.live];
    const at = p.id.index % pool.length;
    gone.push(pool[at]!);
    pool[at] = p.id.live === 'users' ? await newUser() : await newInvitation();
  }

  it(
    `every operation of the spec: no 5xx, 4xx are ErrorResponses, bodies match the spec, nothing leaks (${runsLabel(API_RUNS)})`,
    async () => {
      const before = new Map(seen);
      await fc.assert(
        fc.asyncProperty(apiPlanArbitrary(), async (plan) => {
          const draft = planned(plan, resolveId);
          const target = normalized(draft.target);
          fc.pre(target !== undefined);
          const request = { ...draft, target: target! };
          const what = `\n${render(request)}\n`;
          const r = await send(request);
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          expect(r.status, `${what}-> ${r.status} ${r.text.slice(0, 500)}`).toBeLessThan(500);
          expect(leaksIn(r.text, request, serverPaths), `${what}-> ${r.status} ${r.text.slice(0, 2000)}`).toEqual([]);
          const type = r.headers.get('content-type');
          if (r.status >= 400 && r.status !== 406) {
            expect(type, `${what}-> ${r.status} ${r.text.slice(0, 500)}`).toBe('application/json');
            const errors = (JSON.parse(r.text) as { errors?: Array<{ status: string }> }).errors;
            expect(Array.isArray(errors) && errors.length > 0, `${what}-> ${r.text.slice(0, 500)}`).toBe(true);
            for (const e of errors!) expect(e.status, `${what}-> ${r.text.slice(0, 500)}`).toBe(String(r.status));
          }
          if (type === 'application/json') {
            const op = operationFor(request.method, request.target);
            const parsed: unknown = JSON.parse(r.text);
            const problems = op
              ? responseErrors(op, r.status, parsed)
              : responseErrors('GET /v1/apps', r.status >= 400 ? r.status : 599, parsed);
            expect(problems, `${what}-> ${r.status} must match the spec: ${r.text.slice(0, 500)}`).toEqual([]);
          }
          await replenish(plan, r);
        }),
        fuzzParameters(API_RUNS),
      );
      await expectHealthy();
      // the generators reach successes and the main refusals
      for (const status of [200, 400, 401, 404]) {
        expect((seen.get(status) ?? 0) - (before.get(status) ?? 0), `answers with ${status}`).toBeGreaterThan(0);
      }
    },
    FUZZ_TEST_TIMEOUT,
  );

  // ---- activation pages ---------------------------------------------------------------------

  interface PagePlan {
    method: string;
    token: { live: number } | { used: number } | { literal: string };
    action: string;
    query: string;
    cookie: 'right' | 'wrong' | 'none' | 'malformed' | 'twice';
    field: 'right' | 'wrong' | 'none' | 'empty' | 'twice';
    origin: 'ours' | 'foreign' | 'null' | 'none' | 'other port';
    fetchSite: string | undefined;
    contentType: string | undefined;
    extra: string;
    rawBytes: Uint8Array | undefined;
    accept: string | undefined;
  }

  const PUBLIC_ORIGIN = new URL(PUBLIC_URL).origin;

  function pageRequest(p: PagePlan, tokenText: (t: PagePlan['token']) => string): SentRequest {
    const token = tokenText(p.token);
    const path = `/activate/${token}${p.action}`;
    const headers: Record<string, string> = {};
    const cookie = { right: csrf, wrong: newCsrfToken(), malformed: 'short', none: undefined, twice: csrf }[p.cookie];
    if (cookie !== undefined)
      headers.cookie = p.cookie === 'twice' ? `${CSRF_COOKIE}=${csrf}; ${CSRF_COOKIE}=${csrf}` : `${CSRF_COOKIE}=${cookie}`;
    const origin = {
      ours: PUBLIC_ORIGIN,
      foreign: 'https://evil.example',
      null: 'null',
      none: undefined,
      'other port': `${PUBLIC_ORIGIN}:8443`,
    }[p.origin];
    if (origin !== undefined) headers.origin = origin;
    if (p.fetchSite !== undefined) headers['sec-fetch-site'] = p.fetchSite;
    if (p.accept !== undefined) headers.accept = p.accept;
    let body: string | Uint8Array | undefined;
    if (p.method === 'POST' || p.method === 'PUT') {
      const field = { right: [csrf], wrong: [newCsrfToken()], none: [], empty: [''], twice: [csrf, csrf] }[p.field];
      body = [...field.map((v) => `${CSRF_FIELD}=${v}`), p.extra].filter((x) => x !== '').join('&');
      if (p.rawBytes) body = Buffer.concat([Buffer.from(body), p.rawBytes]);
      if (p.contentType !== undefined) headers['content-type'] = p.contentType;
    }
    return { method: p.method, target: p.query === '' ? path : `${path}?${p.query}`, headers, body };
  }

  const tokenOf = (t: PagePlan['token']): string =>
    'live' in t ? tokens[t.live % tokens.length]! : 'used' in t ? usedTokens[t.used % usedTokens.length]! : t.literal;
  const showToken = (t: PagePlan['token']): string =>
    'live' in t ? `<live token #${t.live % Math.max(1, tokens.length)}>` : 'used' in t ? '<used token>' : t.literal;

  function pagePlanArbitrary(): fc.Arbitrary<PagePlan> {
    const token = fc.oneof(
      { weight: 6, arbitrary: fc.nat(1000).map((i) => ({ live: i })) },
      { weight: 1, arbitrary: fc.nat(1000).map((i) => ({ used: i })) },
      { weight: 1, arbitrary: fc.stringMatching(/^[A-Za-z0-9_-]{43}$/).map((t) => ({ literal: t })) },
      { weight: 2, arbitrary: fc.constantFrom(...ODD_IDS).map((t) => ({ literal: t })) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }).map((t) => ({ literal: safeEncode(t) })) },
    );
    return fc
      .record({
        method: fc.oneof(
          { weight: 8, arbitrary: fc.constantFrom('GET', 'POST') },
          { weight: 1, arbitrary: fc.constantFrom('PUT', 'DELETE', 'PATCH') },
        ),
        token,
        action: fc.oneof(
          { weight: 6, arbitrary: fc.constantFrom('/accept', '/decline', '') },
          { weight: 1, arbitrary: fc.constantFrom('/', '/accept/', '/other', '/accept/x', '/%61ccept', '/ACCEPT', '/../accept') },
        ),
        query: fc.oneof({ weight: 6, arbitrary: fc.constant('') }, { weight: 1, arbitrary: queryArbitrary(undefined, [], emails) }),
        cookie: fc.constantFrom('right', 'right', 'right', 'wrong', 'none', 'malformed', 'twice'),
        field: fc.constantFrom('right', 'right', 'right', 'wrong', 'none', 'empty', 'twice'),
        origin: fc.constantFrom('ours', 'ours', 'none', 'foreign', 'null', 'other port'),
        fetchSite: fc.constantFrom(undefined, undefined, 'same-origin', 'none', 'cross-site', 'same-site', 'garbage'),
        contentType: fc.oneof(
          { weight: 6, arbitrary: fc.constant('application/x-www-form-urlencoded') },
          {
            weight: 2,
            arbitrary: fc.constantFrom(
              undefined,
              'application/x-www-form-urlencoded; charset=latin1',
              'application/json',
              'text/plain',
              'multipart/form-data; boundary=x',
              'application/octet-stream',
              ';',
            ),
          },
        ),
        extra: fc.oneof(
          { weight: 5, arbitrary: fc.constant('') },
          {
            weight: 2,
            arbitrary: fc.constantFrom(
              'a=b',
              'csrf',
              '=',
              '&&',
              '%zz=%zz',
              'csrf%5B%5D=x',
              '__proto__=1',
              'x'.repeat(5000),
              `${CSRF_FIELD}=${'y'.repeat(43)}`,
            ),
          },
          { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 30 }) },
        ),
        rawBytes: fc.option(
          fc.constantFrom(...INVALID_UTF8).map((b) => Uint8Array.from(b)),
          { nil: undefined, freq: 6 },
        ),
        accept: fc.constantFrom(undefined, undefined, 'text/html', 'application/json', '*/*', 'image/png'),
      })
      .map((p) => readable(p as PagePlan, (v) => render(pageRequest(v, showToken))));
  }

  it(
    `activation pages: no 5xx, HTML answers, forms act only with the right CSRF from an allowed origin, nothing leaks (${runsLabel(PAGE_RUNS)})`,
    async () => {
      const before = new Map(seen);
      await fc.assert(
        fc.asyncProperty(pagePlanArbitrary(), async (plan) => {
          const draft = pageRequest(plan, tokenOf);
          const target = normalized(draft.target);
          fc.pre(target !== undefined);
          const request = { ...draft, target: target! };
          const what = `\n${render(request)}\n`;
          const r = await send(request);
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          const shown = `${what}-> ${r.status} ${r.text.slice(0, 500)}`;
          expect(r.status, shown).toBeLessThan(500);
          expect(leaksIn(r.text, request, serverPaths), `${what}-> ${r.status} ${r.text.slice(0, 2000)}`).toEqual([]);
          const type = r.headers.get('content-type');
          if (r.status === 303) {
            // back to the page itself, or after an answer to its result page (POST-redirect-GET)
            expect(r.headers.get('location'), shown).toMatch(/^\.\.\/(?:[^/]+|result\/(?:accepted|declined))$/);
          } else if (!request.target.startsWith('/activate/')) {
            // a dot segment took the path out of /activate: the API answers
            if (r.status >= 400) expect(type, shown).toBe('application/json');
          } else if (r.status === 431) {
            // refused by the HTTP parser before any route: the API's ErrorResponse
            expect(type, shown).toBe('application/json');
          } else if (!routable(request.target.split('?')[0]!) && type === 'application/json') {
            // a path the router cannot decode, or with a segment over its length limit, on a
            // method the pages serve: the API's 404 ErrorResponse (other methods get the 404 page)
            expect(r.status, shown).toBe(404);
            expect((JSON.parse(r.text) as { errors: Array<{ code: string }> }).errors[0]!.code, shown).toBe('PATH_ERROR');
          } else {
            expect(type, shown).toBe('text/html; charset=utf-8');
            expect(r.text, shown).toMatch(/^<!doctype html>/i);
          }
          const acted = request.method === 'POST' && r.status === 200;
          if (acted) {
            // only the right cookie and field, from our origin (or one withheld), may act
            expect(plan.cookie, `${shown}: acted without the CSRF cookie`).toBe('right');
            expect(plan.field, `${shown}: acted without the CSRF field`).toBe('right');
            expect(['ours', 'null', 'none'], `${shown}: acted from another origin`).toContain(plan.origin);
            expect([undefined, 'same-origin', 'none'], `${shown}: acted cross-site`).toContain(plan.fetchSite);
            expect('live' in plan.token, shown).toBe(true);
            const at = (plan.token as { live: number }).live % tokens.length;
            usedTokens.push(tokens[at]!);
            tokens[at] = await activationToken(s, await newInvitation());
          }
        }),
        fuzzParameters(PAGE_RUNS),
      );
      await expectHealthy();
      for (const status of [200, 303, 403, 404]) {
        expect((seen.get(status) ?? 0) - (before.get(status) ?? 0), `answers with ${status}`).toBeGreaterThan(0);
      }
    },
    FUZZ_TEST_TIMEOUT,
  );
});
