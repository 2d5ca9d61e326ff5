/**
 * What is loaded: each scenario is a method, the request targets it cycles through and the status
 * that counts as success. POST bodies are a fixed prefix and suffix around a unique email, so that
 * autocannon (in JavaScript) and wrk (in Lua) can make the same requests.
 */
import { FIRST_NAMES, LAST_NAMES, Random, type FakeApp } from './fixtures.js';
import type { SeedSample } from './seed.js';

export type ScenarioId =
  'list' | 'list-fresh' | 'list-include' | 'include-fresh' | 'deep' | 'deep-fresh' | 'filter-email' | 'get-include' | 'create' | 'apps';

export const SCENARIO_IDS: readonly ScenarioId[] = [
  'list',
  'deep',
  'list-fresh',
  'deep-fresh',
  'list-include',
  'include-fresh',
  'filter-email',
  'get-include',
  'create',
  'apps',
];

export interface PostBodies {
  /** body = prefixes[i] + email + suffixes[i], for i cycling through the variants */
  prefixes: string[];
  suffixes: string[];
  /** emails are `${emailStem}${tool}.${n}@${emailDomain}`: unique per run, tool and request */
  emailStem: string;
  emailDomain: string;
}

export interface Scenario {
  id: ScenarioId;
  title: string;
  method: 'GET' | 'POST';
  /** request targets, used in turn */
  paths: string[];
  post?: PostBodies;
  /** the status that counts as a success */
  expect: number;
  /**
   * Sent with `Cache-Control: no-cache`: the server reads and renders every answer anew instead of
   * sending the body it kept for the same request (src/http/read-cache/). The same request
   * without it measures the kept body.
   */
  fresh?: boolean;
}

export const LIST_PATH = '/v1/userInvitations?limit=50';
export const INCLUDE_PATH = '/v1/userInvitations?limit=50&include=visibleApps';

export function deepPath(cursor: string): string {
  return `/v1/userInvitations?limit=50&cursor=${encodeURIComponent(cursor)}`;
}

/** The email of POST request `n` of `tool`. */
export function postEmail(post: PostBodies, tool: string, n: number): string {
  return `${post.emailStem}${tool}.${n}@${post.emailDomain}`;
}

export function postBody(post: PostBodies, tool: string, n: number): string {
  const i = n % post.prefixes.length;
  return `${post.prefixes[i]}${postEmail(post, tool, n)}${post.suffixes[i]}`;
}

/** Invitations as a client would send them: limited roles with one to three visible apps, or all apps. */
function postBodies(apps: readonly FakeApp[], runTag: string): PostBodies {
  const rng = new Random(7);
  const prefixes: string[] = [];
  const suffixes: string[] = [];
  const roleSets = [['DEVELOPER'], ['APP_MANAGER'], ['MARKETING', 'SALES'], ['CUSTOMER_SUPPORT'], ['ADMIN']];
  for (let i = 0; i < 64; i++) {
    const roles = rng.pick(roleSets);
    const limited = !roles.includes('ADMIN');
    const appIds = limited ? rng.sample(apps, rng.int(1, 3)).map((a) => a.id) : [];
    const rest = JSON.stringify({ firstName: rng.pick(FIRST_NAMES), lastName: rng.pick(LAST_NAMES), roles, allAppsVisible: !limited });
    prefixes.push('{"data":{"type":"userInvitations","attributes":{"email":"');
    const relationships = limited
      ? `,"relationships":{"visibleApps":{"data":${JSON.stringify(appIds.map((id) => ({ type: 'apps', id })))}}}`
      : '';
    suffixes.push(`",${rest.slice(1, -1)}}${relationships}}}`);
  }
  return { prefixes, suffixes, emailStem: `load.${runTag}.`, emailDomain: 'example.net' };
}

export function buildScenarios(input: { sample: SeedSample; apps: readonly FakeApp[]; deepCursor?: string; runTag: string }): Scenario[] {
  const { sample } = input;
  // Each deep page runs right after its first page: the target compares the two, and runs side by
  // side see the same machine, where runs a minute apart can differ by more than the 20% allowed.
  const deep = (fresh: boolean): Scenario[] =>
    input.deepCursor === undefined
      ? []
      : [
          {
            id: fresh ? 'deep-fresh' : 'deep',
            title: fresh ? 'list, page 90% deep, read anew (no-cache)' : 'list, page 90% deep (cursor)',
            method: 'GET',
            paths: [deepPath(input.deepCursor)],
            expect: 200,
            ...(fresh ? { fresh: true } : {}),
          },
        ];
  const scenarios: Scenario[] = [
    { id: 'list', title: 'list, first page (limit=50)', method: 'GET', paths: [LIST_PATH], expect: 200 },
    ...deep(false),
    { id: 'list-fresh', title: 'list, first page, read anew (no-cache)', method: 'GET', paths: [LIST_PATH], expect: 200, fresh: true },
    ...deep(true),
    { id: 'list-include', title: 'list, first page, include=visibleApps', method: 'GET', paths: [INCLUDE_PATH], expect: 200 },
    {
      id: 'include-fresh',
      title: 'list, first page, include=visibleApps, read anew (no-cache)',
      method: 'GET',
      paths: [INCLUDE_PATH],
      expect: 200,
      fresh: true,
    },
  ];
  scenarios.push(
    {
      id: 'filter-email',
      title: 'filter[email] (one address)',
      method: 'GET',
      paths: sample.emails.map((e) => `/v1/userInvitations?filter%5Bemail%5D=${encodeURIComponent(e)}`),
      expect: 200,
    },
    {
      id: 'get-include',
      title: 'GET by id, include=visibleApps',
      method: 'GET',
      paths: sample.idsWithApps.map((id) => `/v1/userInvitations/${id}?include=visibleApps`),
      expect: 200,
    },
    {
      id: 'create',
      title: 'POST create (durable)',
      method: 'POST',
      paths: ['/v1/userInvitations'],
      post: postBodies(input.apps, input.runTag),
      expect: 201,
    },
    { id: 'apps', title: 'GET /v1/apps', method: 'GET', paths: ['/v1/apps'], expect: 200 },
  );
  return scenarios;
}

export function requestHeaders(token: string, method: 'GET' | 'POST', fresh = false): Record<string, string> {
  const headers: Record<string, string> = { authorization: `Bearer ${token}`, accept: 'application/json' };
  if (fresh) headers['cache-control'] = 'no-cache';
  if (method === 'POST') headers['content-type'] = 'application/json';
  return headers;
}
