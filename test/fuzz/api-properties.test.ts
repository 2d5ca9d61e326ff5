/**
 * Property-based robustness: random query strings on every GET endpoint (/v1 and the sandbox testers
 * of /v2), random and near-valid
 * JSON documents, raw non-JSON bodies and random content types on POST /v1/userInvitations,
 * random ids on DELETE. Whatever arrives, the answer is a 2xx, or a 4xx whose body is a valid
 * ErrorResponse (the harness checks every JSON body against the spec) whose errors carry the
 * response's status; never a 5xx, never a hang.
 *
 * URLs are raw strings: fetch applies only WHATWG URL normalization (it percent-encodes spaces,
 * quotes, non-ASCII; it never re-encodes `%`), so malformed percent-encodings reach the server.
 * Each target is normalized with `new URL` first, exactly as fetch would, so that the harness's
 * spec check looks at the path the server actually received.
 *
 * Each property runs 300 times in `npm test` and longer under `npm run fuzz` (fuzz-options.ts).
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, PUBLIC_URL, useTestServer, visibleApps, type ApiResponse } from '../helpers/harness.js';
import { USER_ROLES } from '../../src/domain/roles.js';
import { SUBSCRIPTION_RENEWAL_RATES } from '../../src/resources/sandbox-testers/service.js';
import { hasBidiControl, hasLoneSurrogate, hasVisibleCharacter } from '../../src/domain/text.js';
import { loadOperations } from '../../src/spec/openapi.js';
import { responseErrors } from '../helpers/spec-validator.js';
import { FUZZ_TEST_TIMEOUT, fuzzParameters, reportRun, requestsSent, runsLabel } from './fuzz-options.js';

const RUNS = 300;
const TIMEOUT = FUZZ_TEST_TIMEOUT;

/** 2xx, or 4xx with an ErrorResponse whose every error has the response's status. */
function expectApiAnswer(r: ApiResponse, what: string): void {
  expect(r.status, `${what} -> ${r.status} ${r.text.slice(0, 300)}`).toBeLessThan(500);
  expect((r.status >= 200 && r.status < 300) || (r.status >= 400 && r.status < 500), `${what} -> ${r.status}`).toBe(true);
  if (r.status >= 400) {
    expect(r.headers.get('content-type'), what).toBe('application/json');
    const list = (r.body as { errors?: Array<{ status: unknown }> } | undefined)?.errors;
    expect(Array.isArray(list) && list.length > 0, `${what}: errors[]`).toBe(true);
    expect(list![0]!.status, what).toBe(String(r.status));
    for (const e of list!) expect(e.status, what).toBe(String(r.status));
  }
}

/** What fetch will send for this raw target: WHATWG-normalized path and query, no fragment. */
function normalized(base: string, target: string): string | undefined {
  try {
    const u = new URL(base + target);
    return u.pathname + u.search;
  } catch {
    return undefined;
  }
}

function safeEncode(s: string): string {
  try {
    return encodeURIComponent(s);
  } catch {
    return s; // lone surrogates: sent raw, fetch turns them into U+FFFD
  }
}

describe('fuzzing the HTTP surface', () => {
  const s = useTestServer({ config: { rateLimitPerHour: 10_000_000 } });
  const appIds: string[] = [];
  const invitationIds: string[] = [];
  const testerIds: string[] = [];
  let deletedId = '';
  const cursors: string[] = [];
  const emails = ['ada@example.com', 'bob+tag@example.com', 'Cy@Example.org'];
  const sentBefore = requestsSent();
  afterAll(() => reportRun('api-properties', requestsSent() - sentBefore));

  beforeAll(async () => {
    for (const name of ['Fuzz One', 'Fuzz Two', 'Fuzz Three']) appIds.push(await s.createApp(name));
    const bodies = [
      invitationBody({ email: emails[0], roles: ['ADMIN'] }),
      invitationBody({ email: emails[1], lastName: 'Zed' }, visibleApps(appIds[0]!, appIds[1]!, appIds[2]!)),
      invitationBody({ email: emails[2], roles: ['MARKETING'] }, visibleApps(appIds[1]!)),
      invitationBody({ email: 'gone@example.com' }),
    ];
    for (const body of bodies) {
      const r = await s.call('POST', '/v1/userInvitations', { body });
      expect(r.status).toBe(201);
      invitationIds.push(r.body.data.id);
    }
    deletedId = invitationIds.pop()!;
    expect((await s.call('DELETE', `/v1/userInvitations/${deletedId}`)).status).toBe(204);
    for (const [i, territory] of ['USA', 'CAN', 'JPN'].entries()) {
      const tester = await s.services.sandboxTesters.create({
        firstName: 'Fuzz',
        lastName: `Tester ${i}`,
        email: `tester${i}@sandbox.example.com`,
        territory,
      });
      testerIds.push(tester.id);
    }

    // real cursors of every paged endpoint (and sort), to be replayed anywhere and mutated
    for (const p of [
      '/v1/userInvitations?limit=1',
      '/v1/userInvitations?limit=1&sort=-email',
      '/v1/userInvitations?limit=1&sort=lastName,-email',
      '/v1/apps?limit=1',
      '/v1/apps?limit=1&sort=-name',
      '/v2/sandboxTesters?limit=1',
      `/v1/userInvitations/${invitationIds[1]}/visibleApps?limit=1`,
      `/v1/userInvitations/${invitationIds[1]}/relationships/visibleApps?limit=1`,
    ]) {
      const r = await s.call('GET', p);
      expect(r.status).toBe(200);
      const next: string = r.body.links.next;
      cursors.push(new URL(next).searchParams.get('cursor')!);
    }
    expect(cursors.every((c) => c.length > 0)).toBe(true);
  });

  // ---- query strings ------------------------------------------------------------------------

  const KNOWN_NAMES = [
    'limit',
    'cursor',
    'sort',
    'include',
    'fields[userInvitations]',
    'fields[apps]',
    'fields[users]',
    'fields[builds]',
    'fields[sandboxTesters]',
    'filter[email]',
    'filter[roles]',
    'filter[visibleApps]',
    'filter[username]',
    'filter[id]',
    'filter[name]',
    'filter[bundleId]',
    'filter[sku]',
    'filter[appStoreVersions]',
    'filter[appStoreVersions.platform]',
    'exists[gameCenterEnabledVersions]',
    'exists[app]',
    'limit[visibleApps]',
    'limit[appClips]',
    'limit[builds]',
    'filter[]',
    'fields[]',
    'limit[]',
    'filter',
    'fields',
    'filter[email',
    'filter]email[',
    '[',
    ']',
    '[]',
    '',
    'Limit',
    'LIMIT',
    'limit ',
  ];
  const ENUMISH = [
    'territory',
    'acAccountName',
    'subscriptionRenewalRate',
    'visibleApps',
    'apps',
    'email',
    '-email',
    '--email',
    'lastName',
    '-lastName',
    'firstName',
    'name',
    '-name',
    'bundleId',
    '-bundleId',
    'sku',
    'roles',
    'allAppsVisible',
    'expirationDate',
    'builds',
    'appStoreVersions',
    'IOS',
    '-',
    ...USER_ROLES,
  ];

  function queryArbitrary() {
    const name = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...KNOWN_NAMES) },
      {
        weight: 2,
        arbitrary: fc
          .tuple(fc.constantFrom('filter', 'fields', 'limit', 'exists'), fc.string({ unit: 'grapheme', maxLength: 12 }))
          .map(([p, k]) => `${p}[${k}]`),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 12 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'binary', maxLength: 8 }) },
    );
    const mutatedCursor = fc
      .tuple(fc.constantFrom(...cursors), fc.nat(), fc.constantFrom('A', '.', '%', '=', '', 'xx'))
      .map(([c, i, ch]) => {
        const at = i % c.length;
        return c.slice(0, at) + ch + c.slice(at + 1);
      });
    const value = fc.oneof(
      fc.constantFrom(
        '',
        '0',
        '1',
        '2',
        '10',
        '20',
        '49',
        '50',
        '51',
        '199',
        '200',
        '201',
        '-1',
        '+1',
        '1.5',
        '1e2',
        ' 1',
        '01',
        '0x10',
        'NaN',
        'Infinity',
        'true',
        'false',
        'null',
      ),
      fc.bigInt({ min: -(10n ** 40n), max: 10n ** 40n }).map(String),
      fc.integer().map(String),
      fc.constantFrom(...ENUMISH),
      fc.uniqueArray(fc.constantFrom(...ENUMISH), { maxLength: 5 }).map((xs) => xs.join(',')),
      fc.constantFrom(...appIds, ...invitationIds, deletedId, ...emails, 'ADA@EXAMPLE.COM'),
      fc.constantFrom(...cursors),
      mutatedCursor,
      fc.string({ unit: 'grapheme', maxLength: 20 }),
      fc.string({ unit: 'binary', maxLength: 20 }),
      fc.string({
        unit: fc.constantFrom(
          '%',
          '[',
          ']',
          ',',
          '=',
          '&',
          '#',
          '+',
          ' ',
          'a',
          '1',
          '\\',
          '/',
          '?',
          '.',
          '-',
          '"',
          "'",
          '<',
          '>',
          '{',
          '}',
          '|',
          '^',
          '`',
          '%2C',
          '%5B',
          '%26',
        ),
        maxLength: 14,
      }),
      fc.constantFrom(
        '%',
        '%%',
        '%zz',
        '%E0%A4%A',
        '%00',
        '%FF',
        '%C0%80',
        '%ED%A0%80',
        '%2C',
        '%252C',
        'a%2Cb',
        ',',
        ',,',
        'a,,b',
        'a,',
        '\u0000',
        '\u2028',
        '\uFEFF',
      ),
      fc.integer({ min: 100, max: 2500 }).map((n) => Array.from({ length: n }, (_, i) => String(i)).join(',')),
    );
    const mode = fc.constantFrom('raw', 'encoded', 'mixed');
    const pair = fc.record({ name, value, mode, equals: fc.boolean() }).map(({ name: n, value: v, mode: m, equals }) => {
      const k = m === 'raw' ? n : safeEncode(n);
      const val = m === 'encoded' ? safeEncode(v) : v;
      return equals || v !== '' ? `${k}=${val}` : k;
    });
    return fc.oneof(
      { weight: 8, arbitrary: fc.array(pair, { maxLength: 6 }).map((ps) => ps.join('&')) },
      { weight: 1, arbitrary: fc.array(pair, { maxLength: 4 }).map((ps) => `&${ps.join('&&')}&`) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
    );
  }

  const operations = loadOperations();

  /** A name as clients send it: raw brackets (the published client) or percent-encoded. */
  const nameForm = (name: string) => fc.constantFrom(name, safeEncode(name));

  /**
   * A query of this endpoint's own parameters with acceptable values, built from the spec:
   * decoded [name, value] pairs and the raw query string that carries them.
   */
  function specQueryArbitrary(template: string): fc.Arbitrary<{ pairs: Array<[string, string]>; raw: string }> {
    const op = operations.get(`GET ${template}`)!;
    const filterValue = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 10 }).filter((v) => !v.includes(','));
    const params = [...op.parameters.values()].filter((p) => p.kind !== 'string');
    const one = (p: (typeof params)[number]): fc.Arbitrary<string[]> => {
      if (p.kind === 'integer') return fc.integer({ min: 1, max: p.maximum }).map((n) => [String(n)]);
      if (p.kind === 'boolean') return fc.boolean().map((b) => [String(b)]);
      if (p.kind === 'array' && p.enum) {
        const selector = p.name === 'sort' ? (v: string) => v.replace(/^-/, '') : (v: string) => v;
        return fc.uniqueArray(fc.constantFrom(...p.enum), { minLength: 1, maxLength: p.name === 'sort' ? 2 : 4, selector });
      }
      if (p.name === 'filter[email]') {
        return fc.uniqueArray(fc.constantFrom(...emails, 'ADA@EXAMPLE.COM', 'nobody@example.com'), { minLength: 1, maxLength: 3 });
      }
      if (p.name === 'filter[visibleApps]' || p.name === 'filter[id]') {
        return fc.uniqueArray(fc.oneof(fc.constantFrom(...appIds), fc.bigInt({ min: 0n, max: 10n ** 12n }).map(String)), {
          minLength: 1,
          maxLength: 3,
        });
      }
      return fc.uniqueArray(filterValue, { minLength: 1, maxLength: 3 });
    };
    return fc
      .shuffledSubarray(params, { maxLength: Math.min(5, params.length) })
      .chain((chosen) =>
        fc.tuple(
          ...chosen.map((p) =>
            fc.tuple(nameForm(p.name), one(p), fc.boolean()).map(([form, values, rawCommas]) => ({ p, form, values, rawCommas })),
          ),
        ),
      )
      .map((items) => ({
        pairs: items.map(({ p, values }) => [p.name, values.join(',')] as [string, string]),
        raw: items
          .map(({ form, values, rawCommas }) => `${form}=${rawCommas ? values.map(safeEncode).join(',') : safeEncode(values.join(','))}`)
          .join('&'),
      }));
  }

  function idArbitrary() {
    return fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...invitationIds, ...appIds, deletedId) },
      { weight: 2, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(safeEncode) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
      { weight: 1, arbitrary: fc.bigInt({ min: 0n, max: 10n ** 30n }).map(String) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '%zz',
          '%',
          '%E0%A4',
          '%00',
          '%2F',
          '..',
          '.',
          '%2e%2e',
          'null',
          'undefined',
          '0',
          '-1',
          'x'.repeat(1200),
        ),
      },
    );
  }

  const TEMPLATES = [
    '/v1/userInvitations',
    '/v1/userInvitations/{id}',
    '/v1/userInvitations/{id}/visibleApps',
    '/v1/userInvitations/{id}/relationships/visibleApps',
    '/v1/apps',
    '/v1/apps/{id}',
    '/v2/sandboxTesters',
  ];

  it(
    `GET endpoints: random query strings and ids are answered 2xx or 4xx with an ErrorResponse (${runsLabel(RUNS)})`,
    async () => {
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TEMPLATES).chain((t) => fc.tuple(fc.constant(t), specQueryArbitrary(t))),
          idArbitrary(),
          queryArbitrary(),
          fc.nat(3),
          async ([template, valid], id, random, mix) => {
            // the random query alone, or mixed into a valid one (before, after, instead of nothing)
            const query = [random, `${random}&${valid.raw}`, `${valid.raw}&${random}`, valid.raw][mix]!;
            const raw = template.replace('{id}', id) + (query !== '' || mix === 0 ? `?${query}` : '');
            const target = normalized(s.baseUrl, raw);
            fc.pre(target !== undefined);
            const r = await s.call('GET', target!);
            seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
            expectApiAnswer(r, `GET ${target}`);
            if (r.status === 200) {
              const links = r.body.links as { self: string; next?: string };
              // links are absolute, on the public base URL, and parse as URLs
              expect(/^\/v[12]\//.test(links.self.slice(PUBLIC_URL.length)) && links.self.startsWith(PUBLIC_URL), links.self).toBe(true);
              expect(() => new URL(links.self)).not.toThrow();
              if (links.next) {
                const u = new URL(links.next);
                const next = await s.call('GET', `${u.pathname}${u.search}`);
                expect(next.status, `next of GET ${target}: ${links.next}`).toBe(200);
              }
            }
          },
        ),
        fuzzParameters(RUNS),
      );
      // the generators reach both successes and rejections
      expect(seen.get(200) ?? 0).toBeGreaterThan(0);
      expect(seen.get(400) ?? 0).toBeGreaterThan(0);
      expect(seen.get(404) ?? 0).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it(
    `GET endpoints: any combination of the spec's own parameters with acceptable values gets 200 and is echoed in links.self (${runsLabel(RUNS)})`,
    async () => {
      const idsFor = (t: string) => (t.startsWith('/v1/apps/') ? appIds : invitationIds);
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom(...TEMPLATES).chain((t) => fc.tuple(fc.constant(t), fc.constantFrom(...idsFor(t)), specQueryArbitrary(t))),
          async ([template, id, query]) => {
            const path = template.replace('{id}', id);
            const target = query.raw === '' ? path : `${path}?${query.raw}`;
            const r = await s.call('GET', target);
            expect(r.status, `GET ${target}: ${r.text.slice(0, 300)}`).toBe(200);
            const self = new URL(r.body.links.self as string);
            expect(`${self.origin}${self.pathname}`).toBe(`${PUBLIC_URL}${path}`);
            expect([...self.searchParams], `links.self of GET ${target}`).toEqual(query.pairs);
            if (r.body.links.next) {
              const next = new URL(r.body.links.next as string);
              expect([...next.searchParams][0]![0]).toBe('cursor');
              const page = await s.call('GET', `${next.pathname}${next.search}`);
              expect(page.status, `next of GET ${target}`).toBe(200);
            }
          },
        ),
        fuzzParameters(RUNS),
      );
    },
    TIMEOUT,
  );

  it(
    'a query too long for the HTTP parser still gets an ErrorResponse with X-Request-ID',
    async () => {
      const ids = Array.from({ length: 5000 }, (_, i) => String(1_000_000_000 + i)).join(',');
      const r = await s.call('GET', `/v1/apps?filter[id]=${ids}`);
      expect(r.status).toBe(431);
      expectApiAnswer(r, 'GET /v1/apps with a 55 KB query');
    },
    TIMEOUT,
  );

  // ---- JSON bodies --------------------------------------------------------------------------

  function documentArbitrary() {
    let n = 0;
    const freshEmail = fc.constant(null).map(() => `fuzz${Date.now().toString(36)}${n++}@example.com`);
    const email = fc.oneof(
      { weight: 4, arbitrary: freshEmail },
      { weight: 2, arbitrary: fc.emailAddress() },
      {
        weight: 1,
        arbitrary: fc.constantFrom(...emails, 'ADA@example.com', 'a@b', '@x.com', 'x@', 'a b@c.de', `${'a'.repeat(250)}@x.com`, ''),
      },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const name = fc.oneof(
      { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 30 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 95, maxLength: 110 }) },
      {
        weight: 1,
        arbitrary: fc.constantFrom(
          '',
          ' ',
          '  x  ',
          '\u0000',
          'a\nb',
          'tab\t',
          '\u2028',
          '\u007f',
          'x'.repeat(100),
          'x'.repeat(101),
          '👩‍👩‍👧‍👦'.repeat(30),
        ),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const roles = fc.oneof(
      { weight: 4, arbitrary: fc.uniqueArray(fc.constantFrom(...USER_ROLES), { minLength: 1, maxLength: 4 }) },
      {
        weight: 1,
        arbitrary: fc.array(fc.oneof(fc.constantFrom(...USER_ROLES), fc.string({ maxLength: 12 }), fc.jsonValue({ maxDepth: 0 })), {
          maxLength: 5,
        }),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const flag = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(true, false, null) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const attributes = fc
      .tuple(
        fc.record(
          {
            email,
            firstName: name,
            lastName: name,
            roles,
            allAppsVisible: flag,
            provisioningAllowed: flag,
            expirationDate: fc.jsonValue({ maxDepth: 0 }),
          },
          { requiredKeys: [] },
        ),
        fc.oneof(
          { weight: 5, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), fc.jsonValue({ maxDepth: 1 }), { maxKeys: 3 }) },
        ),
      )
      .map(([known, extra]) => ({ ...extra, ...known }));
    const linkage = fc.oneof(
      { weight: 5, arbitrary: fc.record({ type: fc.constant('apps'), id: fc.constantFrom(...appIds) }) },
      {
        weight: 2,
        arbitrary: fc.record(
          {
            type: fc.oneof(fc.constant('apps'), fc.jsonValue({ maxDepth: 0 })),
            id: fc.oneof(fc.constantFrom(...appIds, '', '0'), fc.jsonValue({ maxDepth: 1 })),
          },
          { requiredKeys: [] },
        ),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const relationships = fc.oneof(
      { weight: 4, arbitrary: fc.record({ visibleApps: fc.record({ data: fc.array(linkage, { maxLength: 4 }) }) }) },
      {
        weight: 2,
        arbitrary: fc.record(
          {
            visibleApps: fc.oneof(
              fc.record(
                { data: fc.oneof(fc.array(linkage, { maxLength: 3 }), fc.constant(null), fc.jsonValue({ maxDepth: 1 })) },
                { requiredKeys: [] },
              ),
              fc.jsonValue({ maxDepth: 1 }),
            ),
            users: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: [] },
        ),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    );
    const type = fc.oneof(
      { weight: 8, arbitrary: fc.constant('userInvitations') },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) },
    );
    const data = fc.oneof(
      { weight: 6, arbitrary: fc.record({ type, attributes, relationships }, { requiredKeys: ['type', 'attributes'] }) },
      {
        weight: 2,
        arbitrary: fc.record(
          {
            type,
            id: fc.jsonValue({ maxDepth: 0 }),
            attributes: fc.oneof(attributes, fc.jsonValue({ maxDepth: 1 })),
            relationships,
            links: fc.jsonValue({ maxDepth: 1 }),
          },
          { requiredKeys: [] },
        ),
      },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
    );
    return fc.oneof(
      { weight: 8, arbitrary: fc.record({ data }) },
      {
        weight: 1,
        arbitrary: fc.record(
          { data, included: fc.jsonValue({ maxDepth: 1 }), meta: fc.jsonValue({ maxDepth: 1 }) },
          { requiredKeys: ['data'] },
        ),
      },
      { weight: 2, arbitrary: fc.jsonValue() },
    );
  }

  interface ValidDocument {
    doc: { data: { type: string; attributes: Record<string, unknown>; relationships?: Record<string, unknown> } };
    allAppsVisible: boolean;
    provisioningAllowed: boolean;
    apps: string[];
  }

  /** Documents that satisfy every rule of docs/behavior.md A8-A12, with the outcome they must have. */
  function validDocumentArbitrary(): fc.Arbitrary<ValidDocument> {
    let n = 0;
    // every rule of checkName (src/domain/names.ts) on the trimmed name
    const CONTROL = /[\p{Cc}\u2028\u2029]/u;
    const name = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).filter((v) => {
      const t = v.trim();
      return (
        t.length > 0 && [...t].length <= 100 && !CONTROL.test(t) && !hasLoneSurrogate(t) && !hasBidiControl(t) && hasVisibleCharacter(t)
      );
    });
    const localPart = fc
      .array(fc.stringMatching(/^[a-z0-9!#$%&'*+/=?^_`{|}~-]{1,6}$/), { minLength: 1, maxLength: 3 })
      .map((ps) => ps.join('.'));
    const email = fc
      .tuple(localPart, fc.constantFrom('example.com', 'Example.ORG', 'mail.example.co.uk'), fc.boolean())
      .map(([local, domain, upper]) => {
        const e = `${local}.v${Date.now().toString(36)}${n++}@${domain}`;
        return upper ? e.toUpperCase() : e;
      });
    // roles that see all apps (A12) take no visible apps; the others may
    const ACCESS: Array<{ roles: string[]; limited: boolean; provisioning?: true }> = [
      { roles: ['ADMIN'], limited: false },
      { roles: ['FINANCE'], limited: false },
      { roles: ['APP_MANAGER', 'ACCESS_TO_REPORTS'], limited: false },
      { roles: ['ADMIN', 'CLOUD_MANAGED_DEVELOPER_ID'], limited: false },
      { roles: ['DEVELOPER', 'CLOUD_MANAGED_APP_DISTRIBUTION'], limited: false, provisioning: true },
      { roles: ['DEVELOPER'], limited: true },
      { roles: ['MARKETING', 'SALES'], limited: true },
      { roles: ['CUSTOMER_SUPPORT'], limited: true },
      { roles: ['APP_MANAGER', 'CREATE_APPS', 'GENERATE_INDIVIDUAL_KEYS'], limited: true },
    ];
    const absent = Symbol('absent');
    const optional = <T>(...values: T[]) => fc.constantFrom<T | typeof absent>(absent, ...values);
    return fc
      .record({
        email,
        firstName: name,
        lastName: name,
        access: fc.constantFrom(...ACCESS),
        apps: fc.shuffledSubarray(appIds),
        allFlag: optional<boolean | null>(null, true, false),
        provisioningFlag: optional<boolean | null>(null, false),
        emptyLinkage: fc.boolean(),
      })
      .map((g) => {
        const attributes: Record<string, unknown> = { email: g.email, firstName: g.firstName, lastName: g.lastName, roles: g.access.roles };
        const adminLike = g.access.roles.includes('ADMIN');
        let provisioningAllowed = adminLike;
        if (g.access.provisioning) {
          attributes.provisioningAllowed = true;
          provisioningAllowed = true;
        } else if (g.provisioningFlag !== absent && !adminLike) {
          attributes.provisioningAllowed = g.provisioningFlag;
        }
        const apps = g.access.limited && g.allFlag !== true ? g.apps : [];
        let allAppsVisible: boolean;
        if (!g.access.limited) {
          allAppsVisible = true;
          if (g.allFlag !== absent && g.allFlag !== false) attributes.allAppsVisible = g.allFlag;
        } else {
          if (g.allFlag !== absent && !(apps.length > 0 && g.allFlag === true)) attributes.allAppsVisible = g.allFlag;
          allAppsVisible = apps.length > 0 ? false : g.allFlag === absent || g.allFlag === null ? true : g.allFlag;
        }
        const doc: ValidDocument['doc'] = { data: { type: 'userInvitations', attributes } };
        if (apps.length > 0 || g.emptyLinkage) {
          doc.data.relationships = { visibleApps: { data: apps.map((id) => ({ type: 'apps', id })) } };
        }
        return { doc, allAppsVisible, provisioningAllowed, apps };
      });
  }

  /** A valid document with one member replaced by a random or near-valid value, or removed. */
  function mutatedDocumentArbitrary(): fc.Arbitrary<unknown> {
    const attributePaths = [
      'email',
      'firstName',
      'lastName',
      'roles',
      'allAppsVisible',
      'provisioningAllowed',
      'expirationDate',
      'id',
      'type',
      'visibleApps',
    ].map((k) => ['data', 'attributes', k]);
    const path = fc.oneof(
      { weight: 4, arbitrary: fc.constantFrom(...attributePaths) },
      { weight: 1, arbitrary: fc.string({ maxLength: 12 }).map((k) => ['data', 'attributes', k]) },
      {
        weight: 3,
        arbitrary: fc.constantFrom<Array<string | number>>(
          ['data', 'type'],
          ['data', 'id'],
          ['data', 'attributes'],
          ['data', 'relationships'],
          ['data', 'relationships', 'visibleApps'],
          ['data', 'relationships', 'visibleApps', 'data'],
          ['data', 'relationships', 'visibleApps', 'data', 0],
          ['data', 'relationships', 'visibleApps', 'data', 0, 'id'],
          ['data', 'relationships', 'visibleApps', 'data', 0, 'type'],
          ['data', 'relationships', 'users'],
          ['data', 'links'],
          ['data'],
        ),
      },
    );
    const value = fc.oneof(
      { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 2 }) },
      { weight: 1, arbitrary: fc.string({ unit: 'grapheme', maxLength: 20 }) },
      {
        weight: 3,
        arbitrary: fc.constantFrom<unknown>(
          '',
          ' ',
          null,
          true,
          false,
          0,
          -1,
          1.5,
          '1',
          [],
          {},
          'x'.repeat(101),
          ' x ',
          'ADMIN',
          'apps',
          'userInvitations',
          'users',
          ['ADMIN', 'ADMIN'],
          ['ACCOUNT_HOLDER'],
          ['ACCESS_TO_REPORTS'],
          ['CLOUD_MANAGED_DEVELOPER_ID'],
          ['CLOUD_MANAGED_APP_DISTRIBUTION', 'DEVELOPER'],
          ['FINANCE', 'DEVELOPER'],
          ['GENERATE_INDIVIDUAL_KEYS'],
          ['admin'],
          'ada@example.com',
          'ADA@EXAMPLE.COM',
          'not-an-email',
          'a@b',
          `${'a'.repeat(65)}@example.com`,
          '2030-01-01T00:00:00Z',
          [{ type: 'apps', id: '1' }],
          { data: [] },
          { data: null },
          { data: {} },
          { type: 'apps', id: '1' },
        ),
      },
      { weight: 1, arbitrary: fc.constant(undefined) }, // removes the member
    );
    return fc.tuple(validDocumentArbitrary(), path, value).map(([valid, at, v]) => {
      const doc = structuredClone(valid.doc) as unknown as Record<string | number, unknown>;
      let node: Record<string | number, unknown> = doc;
      for (const key of at.slice(0, -1)) {
        const child = node[key];
        if (typeof child !== 'object' || child === null) return doc; // nothing there to mutate
        node = child as Record<string | number, unknown>;
      }
      const last = at[at.length - 1]!;
      if (v === undefined) delete node[last];
      else node[last] = v;
      return doc;
    });
  }

  it(
    `POST /v1/userInvitations: valid documents of every role and app combination get 201 with the right access (${runsLabel(RUNS)})`,
    async () => {
      await fc.assert(
        fc.asyncProperty(validDocumentArbitrary(), async (v) => {
          const r = await s.call('POST', '/v1/userInvitations', { body: v.doc });
          const what = `POST ${JSON.stringify(v.doc)}`;
          expect(r.status, `${what} -> ${r.text.slice(0, 400)}`).toBe(201);
          const a = r.body.data.attributes;
          expect(a.email, what).toBe(v.doc.data.attributes.email);
          expect(a.roles, what).toEqual(v.doc.data.attributes.roles);
          expect(a.firstName, what).toBe((v.doc.data.attributes.firstName as string).trim());
          expect(a.allAppsVisible, what).toBe(v.allAppsVisible);
          expect(a.provisioningAllowed, what).toBe(v.provisioningAllowed);
          const linkage = await s.call('GET', `/v1/userInvitations/${r.body.data.id}/relationships/visibleApps`);
          expect(
            linkage.body.data.map((d: { id: string }) => d.id),
            what,
          ).toEqual([...v.apps].sort());
        }),
        fuzzParameters(RUNS),
      );
    },
    TIMEOUT,
  );

  it(
    `POST /v1/userInvitations: random and near-valid JSON documents get 201, 409 or 422 (${runsLabel(RUNS)})`,
    async () => {
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(
          fc.oneof({ weight: 3, arbitrary: mutatedDocumentArbitrary() }, { weight: 2, arbitrary: documentArbitrary() }),
          async (doc) => {
            const r = await s.call('POST', '/v1/userInvitations', {
              rawBody: JSON.stringify(doc),
              headers: { 'content-type': 'application/json' },
            });
            seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
            const what = `POST ${JSON.stringify(doc).slice(0, 400)}`;
            expectApiAnswer(r, what);
            expect([201, 409, 422], what).toContain(r.status);
            if (r.status === 409 || r.status === 422) {
              // A3: errors about the document point into it
              for (const e of r.body.errors as Array<{ source?: { pointer?: string } }>) {
                expect(typeof e.source?.pointer, `${what}: ${JSON.stringify(e)}`).toBe('string');
              }
            }
            if (r.status === 201) {
              const sent = (doc as { data: { attributes: Record<string, unknown> } }).data.attributes;
              const inv = r.body.data;
              expect(inv.attributes.email).toBe(sent.email);
              expect(inv.attributes.roles).toEqual(sent.roles);
              expect(r.headers.get('location')).toBe(`${PUBLIC_URL}/v1/userInvitations/${inv.id}`);
              const back = await s.call('GET', `/v1/userInvitations/${inv.id}`);
              expect(back.status).toBe(200);
              expect(back.body.data.attributes).toEqual(inv.attributes);
            }
          },
        ),
        fuzzParameters(RUNS),
      );
      expect(seen.get(201) ?? 0).toBeGreaterThan(0);
      expect(seen.get(409) ?? 0).toBeGreaterThan(0);
      expect(seen.get(422) ?? 0).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  // ---- sandbox testers: PATCH and clear purchase history --------------------------------------

  /** A value of the spec's kind for a sandbox tester attribute, or anything else JSON. */
  function sandboxAttributes() {
    const anything = fc.jsonValue({ maxDepth: 1 });
    return fc
      .tuple(
        fc.record(
          {
            territory: fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom('USA', 'CAN', 'GBR', 'DEU', 'JPN', 'BRA', null) },
              { weight: 1, arbitrary: fc.constantFrom('usa', 'XYZ', 'US', '', 'USA ') },
              { weight: 1, arbitrary: anything },
            ),
            interruptPurchases: fc.oneof({ weight: 4, arbitrary: fc.constantFrom(true, false, null) }, { weight: 1, arbitrary: anything }),
            subscriptionRenewalRate: fc.oneof(
              { weight: 4, arbitrary: fc.constantFrom(...SUBSCRIPTION_RENEWAL_RATES, null) },
              { weight: 1, arbitrary: anything },
            ),
            firstName: anything,
            applePayCompatible: anything,
          },
          { requiredKeys: [] },
        ),
        fc.oneof(
          { weight: 6, arbitrary: fc.constant({}) },
          { weight: 1, arbitrary: fc.dictionary(fc.string({ maxLength: 10 }), anything, { maxKeys: 2 }) },
        ),
      )
      .map(([known, extra]) => ({ ...extra, ...known }));
  }

  /** A PATCH of a tester (a live one, mostly): near-valid, or anything JSON. */
  function testerPatchArbitrary() {
    const id = fc.oneof(
      { weight: 5, arbitrary: fc.constantFrom(...testerIds) },
      { weight: 1, arbitrary: fc.constantFrom('nobody', deletedId) },
    );
    const data = fc.record(
      {
        type: fc.oneof({ weight: 8, arbitrary: fc.constant('sandboxTesters') }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) }),
        attributes: fc.oneof({ weight: 8, arbitrary: sandboxAttributes() }, { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) }),
        relationships: fc.jsonValue({ maxDepth: 2 }),
      },
      { requiredKeys: ['type'] },
    );
    return fc.tuple(id, data, fc.nat(9), fc.jsonValue()).map(([target, d, shape, other]) => ({
      target,
      // mostly the path's id in the body; sometimes another, none, or not a document at all
      doc: shape === 0 ? other : { data: { ...d, ...(shape === 1 ? {} : { id: shape === 2 ? 'other' : target }) } },
    }));
  }

  /** A clear purchase history request: testers that exist, mostly, or anything. */
  function clearArbitrary() {
    const item = fc.oneof(
      { weight: 6, arbitrary: fc.constantFrom(...testerIds).map((id) => ({ type: 'sandboxTesters', id })) },
      { weight: 1, arbitrary: fc.constantFrom('nobody', deletedId, '', '\u0000').map((id) => ({ type: 'sandboxTesters', id })) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 1 }) },
    );
    const relationships = fc.oneof(
      { weight: 6, arbitrary: fc.record({ sandboxTesters: fc.record({ data: fc.array(item, { maxLength: 4 }) }) }) },
      { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 3 }) },
    );
    return fc.oneof(
      {
        weight: 8,
        arbitrary: fc
          .record(
            {
              type: fc.oneof(
                { weight: 8, arbitrary: fc.constant('sandboxTestersClearPurchaseHistoryRequest') },
                { weight: 1, arbitrary: fc.jsonValue({ maxDepth: 0 }) },
              ),
              relationships,
              attributes: fc.jsonValue({ maxDepth: 1 }),
              id: fc.jsonValue({ maxDepth: 0 }),
            },
            { requiredKeys: ['type', 'relationships'] },
          )
          .map((data) => ({ data })),
      },
      { weight: 1, arbitrary: fc.jsonValue() },
    );
  }

  it(
    `PATCH /v2/sandboxTesters/{id}: random and near-valid documents get 200, 404, 409 or 422; a 200 holds what was sent (${runsLabel(RUNS)})`,
    async () => {
      const seen = new Map<number, number>();
      // each tester's attributes as the server has them, kept up to date from each 200
      const current = new Map<string, Record<string, unknown>>();
      for (const t of (await s.call('GET', '/v2/sandboxTesters?limit=200')).body.data) current.set(t.id, t.attributes);
      await fc.assert(
        fc.asyncProperty(testerPatchArbitrary(), async ({ target, doc }) => {
          const r = await s.call('PATCH', `/v2/sandboxTesters/${encodeURIComponent(target)}`, {
            rawBody: JSON.stringify(doc),
            headers: { 'content-type': 'application/json' },
          });
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          const what = `PATCH ${target} ${JSON.stringify(doc).slice(0, 400)}`;
          expectApiAnswer(r, what);
          expect([200, 404, 409, 422], what).toContain(r.status);
          if (r.status !== 200) return;
          const sent = (doc as { data: { attributes?: Record<string, unknown> } }).data.attributes ?? {};
          const expected = { ...current.get(target) };
          for (const name of ['territory', 'interruptPurchases', 'subscriptionRenewalRate']) {
            if (sent[name] !== undefined && sent[name] !== null) expected[name] = sent[name];
          }
          expect(r.body.data.attributes, what).toEqual(expected);
          current.set(target, r.body.data.attributes);
        }),
        fuzzParameters(RUNS),
      );
      for (const status of [200, 404, 409, 422]) expect(seen.get(status) ?? 0, `answers with ${status}`).toBeGreaterThan(0);
      // and the list agrees with what the answers said
      for (const t of (await s.call('GET', '/v2/sandboxTesters?limit=200')).body.data) expect(t.attributes).toEqual(current.get(t.id));
    },
    TIMEOUT,
  );

  it(
    `POST /v2/sandboxTestersClearPurchaseHistoryRequest: random and near-valid documents get 201, 409 or 422 (${runsLabel(RUNS)})`,
    async () => {
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(clearArbitrary(), async (doc) => {
          const r = await s.call('POST', '/v2/sandboxTestersClearPurchaseHistoryRequest', {
            rawBody: JSON.stringify(doc),
            headers: { 'content-type': 'application/json' },
          });
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          const what = `POST ${JSON.stringify(doc).slice(0, 400)}`;
          expectApiAnswer(r, what);
          expect([201, 409, 422], what).toContain(r.status);
          if (r.status === 201) {
            const named = (doc as { data: { relationships: { sandboxTesters: { data: Array<{ id: string }> } } } }).data.relationships
              .sandboxTesters.data;
            const recorded = await s.services.sandboxTesters.findClearRequest(r.body.data.id as string);
            expect(recorded?.testerIds, what).toEqual([...new Set(named.map((t) => t.id))].sort());
          }
        }),
        {
          ...fuzzParameters(RUNS),
          // a valid request first: most generated documents carry an `id` or odd attributes, so with
          // some seeds none of the random ones is a 201, and the 201's checks above would not run
          examples: [
            [
              {
                data: {
                  type: 'sandboxTestersClearPurchaseHistoryRequest',
                  relationships: { sandboxTesters: { data: testerIds.map((id) => ({ type: 'sandboxTesters', id })) } },
                },
              },
            ],
          ],
        },
      );
      for (const status of [201, 409, 422]) expect(seen.get(status) ?? 0, `answers with ${status}`).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  // ---- raw bodies and content types ----------------------------------------------------------

  const JSON_TYPES = ['application/json', 'application/json; charset=utf-8'];
  const NON_JSON_TYPES = [
    'text/plain',
    'application/x-www-form-urlencoded',
    'application/octet-stream',
    'multipart/form-data; boundary=xyz',
    'text/html',
    'application/xml',
  ];

  /** POST with any bytes and any Content-Type, checked like the harness does. */
  async function rawPost(body: string | Uint8Array, contentType: string | undefined): Promise<ApiResponse> {
    const headers: Record<string, string> = { authorization: `Bearer ${s.adminToken}` };
    if (contentType !== undefined) headers['content-type'] = contentType;
    const res = await fetch(`${s.baseUrl}/v1/userInvitations`, {
      method: 'POST',
      headers,
      body: typeof body === 'string' ? body : Buffer.from(body),
    });
    const text = await res.text();
    const type = res.headers.get('content-type');
    expect(res.headers.get('x-request-id'), 'X-Request-ID').toMatch(/^[0-9a-f-]{36}$/);
    let parsed: unknown = text === '' ? undefined : text;
    if (type === 'application/json') {
      parsed = JSON.parse(text);
      expect(responseErrors('POST /v1/userInvitations', res.status, parsed), text.slice(0, 300)).toEqual([]);
    }
    return { status: res.status, headers: res.headers, body: parsed, text };
  }

  it(
    `POST /v1/userInvitations: raw bodies with random content types get 4xx ErrorResponses (${runsLabel(RUNS)})`,
    async () => {
      const header = fc
        .string({ unit: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)), maxLength: 40 })
        .map((t) => t.trim());
      const contentType = fc.oneof(
        { weight: 3, arbitrary: fc.constantFrom(...JSON_TYPES) },
        { weight: 3, arbitrary: fc.constantFrom(...NON_JSON_TYPES) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            'Application/JSON',
            'application/json;charset=latin1',
            'application/vnd.api+json',
            'text/json',
            '*/*',
            'application/json, text/plain',
            ';',
            'application/',
            'json',
            'application/jsonx',
          ),
        },
        { weight: 2, arbitrary: header },
        { weight: 1, arbitrary: fc.constant(undefined) },
      );
      const notJson = (t: string) => {
        try {
          JSON.parse(t);
          return false;
        } catch {
          return true;
        }
      };
      const body = fc.oneof(
        { weight: 3, arbitrary: fc.string({ unit: 'grapheme', maxLength: 60 }).filter(notJson) },
        { weight: 2, arbitrary: fc.string({ unit: 'binary', maxLength: 60 }).filter(notJson) },
        {
          weight: 2,
          arbitrary: fc.constantFrom(
            '{',
            '{"data":',
            '{"data":{}',
            "{'data':{}}",
            '[1,]',
            '{"a":1}}',
            'undefined',
            'NaN',
            '\uFEFF{"data":{}}',
            '{"data":{"type":"userInvitations"',
            'email=a@b.c&roles=ADMIN',
            ' ',
            '\n',
          ),
        },
        { weight: 2, arbitrary: fc.uint8Array({ minLength: 1, maxLength: 64 }) },
      );
      const seen = new Map<number, number>();
      await fc.assert(
        fc.asyncProperty(body, contentType, async (b, t) => {
          const r = await rawPost(b, t);
          seen.set(r.status, (seen.get(r.status) ?? 0) + 1);
          const shown = typeof b === 'string' ? JSON.stringify(b) : `bytes ${Buffer.from(b).toString('hex')}`;
          const what = `POST ${shown} as ${String(t)}`;
          expectApiAnswer(r, what);
          // none of these bodies is a valid document
          expect(r.status, what).not.toBe(201);
          expect(r.status, what).toBeGreaterThanOrEqual(400);
          if (typeof b === 'string' && t !== undefined && JSON_TYPES.includes(t)) {
            expect(r.status, what).toBe(400);
            expect(r.body.errors[0].code, what).toBe('ENTITY_INVALID');
          }
          if (t !== undefined && NON_JSON_TYPES.includes(t)) {
            expect(r.status, what).toBe(415);
          }
        }),
        fuzzParameters(RUNS),
      );
      expect(seen.get(400) ?? 0).toBeGreaterThan(0);
      expect(seen.get(415) ?? 0).toBeGreaterThan(0);
    },
    TIMEOUT,
  );

  it('a body over the size limit gets a 413 ErrorResponse', async () => {
    const big = JSON.stringify(invitationBody({ firstName: 'x'.repeat(2 * 1024 * 1024) }));
    const r = await rawPost(big, 'application/json');
    expect(r.status).toBe(413);
    expectApiAnswer(r, 'POST 2 MB');
  });

  // ---- DELETE with random ids --------------------------------------------------------------

  it(
    `DELETE /v1/userInvitations/{random id}: 404 (or 405 for other paths), never a hang (${runsLabel(RUNS)})`,
    async () => {
      const randomId = fc.oneof(
        { weight: 4, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 40 }).map(safeEncode) },
        { weight: 1, arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }) },
        { weight: 1, arbitrary: fc.uuid() },
        { weight: 1, arbitrary: fc.constantFrom(deletedId, ...appIds, '%zz', '%', '..', 'x'.repeat(1200)) },
      );
      await fc.assert(
        fc.asyncProperty(randomId, async (id) => {
          const target = normalized(s.baseUrl, `/v1/userInvitations/${id}`);
          fc.pre(target !== undefined);
          const r = await s.call('DELETE', target!);
          expectApiAnswer(r, `DELETE ${target}`);
          // a raw id with '?' in it ends the path: what follows is a query, and DELETE defines no
          // parameters, so a named one is a 400 PARAMETER_ERROR
          const query = new URL(s.baseUrl + target!).searchParams;
          if (r.status === 400) {
            expect([...query.keys()].length, `DELETE ${target}`).toBeGreaterThan(0);
            expect(r.body.errors[0].code, `DELETE ${target}`).toMatch(/^PARAMETER_ERROR/);
          } else {
            expect([404, 405], `DELETE ${target}`).toContain(r.status);
          }
        }),
        fuzzParameters(RUNS),
      );
      // the fixtures survived
      const list = await s.call('GET', '/v1/userInvitations?filter[email]=ada@example.com');
      expect(list.body.data.map((d: { id: string }) => d.id)).toEqual([invitationIds[0]]);
    },
    TIMEOUT,
  );
});
