/**
 * Boots the real application on a real database — a SQLite file in a fresh temporary directory,
 * or, when ASC_TEST_DIALECT=postgres (vitest's `postgres` project), a fresh schema of the
 * PostgreSQL database at ASC_TEST_PG_URL — and talks to it over a real socket. Every JSON response is checked against the vendored spec and for the headers
 * every response must carry (docs/behavior.md A18).
 */
import { createHash, randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import { afterAll, beforeAll, expect } from 'vitest';
import { buildApp, type BuildOptions, type Services } from '../../src/app.js';
import type { ReadCache } from '../../src/http/read-cache/index.js';
import { ManualClock, type Clock } from '../../src/clock.js';
import type { Config } from '../../src/config.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import type { RateLimiter } from '../../src/http/rate-limit.js';
import type { MailWorker, MailWorkerOptions } from '../../src/mail/worker.js';
import { mintToken, type TokenInput } from '../../src/keys/token.js';
import { loadOperations } from '../../src/spec/openapi.js';
import { responseErrors } from './spec-validator.js';

export const PUBLIC_URL = 'https://asc.example.test';

export const TEST_DIALECT: 'sqlite' | 'postgres' = process.env.ASC_TEST_DIALECT === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_PG_URL = process.env.ASC_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/**
 * One schema per data directory, so a restart on the same directory finds the same data. Named
 * from the whole path: two temporary folders may share their last part (`…/data`), and a schema
 * named after that alone would be shared by tests running at the same time.
 */
export function schemaFor(dataDir: string): string {
  const base = path
    .basename(dataDir)
    .replace(/[^A-Za-z0-9]/g, '_')
    .toLowerCase()
    .slice(0, 30);
  return `t_${base}_${createHash('sha256').update(path.resolve(dataDir)).digest('hex').slice(0, 12)}`;
}

/**
 * The PostgreSQL URL of a schema; the schema travels in the URL, so spawned processes agree. Commits
 * do not wait for the WAL flush (synchronous_commit=off): what a commit makes visible is the same,
 * only a crash of PostgreSQL itself, which no test causes, could lose it.
 */
export function pgUrlFor(schema: string): string {
  const url = new URL(TEST_PG_URL);
  url.searchParams.set('options', `-c search_path=${schema} -c synchronous_commit=off`);
  return url.toString();
}

async function onPostgres(sqlText: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(sqlText);
  } finally {
    await client.end();
  }
}

/** The environment that points a spawned asc-access process at the same database. */
export function databaseEnv(config: Config): Record<string, string> {
  return config.databaseUrl ? { ASC_DATA_DIR: config.dataDir, ASC_DATABASE_URL: config.databaseUrl } : { ASC_DATA_DIR: config.dataDir };
}

export function tempDir(prefix = 'asc-test-'): string {
  return mkdtempSync(path.join(tmpdir(), prefix));
}

export function testConfig(overrides: Partial<Config> = {}): Config {
  const dataDir = overrides.dataDir ?? tempDir();
  return {
    dataDir,
    databaseUrl: TEST_DIALECT === 'postgres' ? pgUrlFor(schemaFor(dataDir)) : undefined,
    host: '127.0.0.1',
    port: 0,
    publicUrl: PUBLIC_URL,
    rateLimitPerHour: 3600,
    // PostgreSQL's shared quota: ASC_TEST_RATE_LIMIT_SYNC_MS=0 runs the suite with a write per request
    rateLimitSyncMs: Number(process.env.ASC_TEST_RATE_LIMIT_SYNC_MS ?? '1000'),
    // ASC_TEST_READ_CACHE=off runs the suite with every read cache off
    readCache: process.env.ASC_TEST_READ_CACHE !== 'off',
    // ASC_TEST_ONE_STATEMENT_CREATE=off runs the suite with every PostgreSQL create in its transaction
    oneStatementCreate: process.env.ASC_TEST_ONE_STATEMENT_CREATE !== 'off',
    // ASC_TEST_PG_NAMED_STATEMENTS=off runs the suite with every PostgreSQL statement unnamed
    pgNamedStatements: process.env.ASC_TEST_PG_NAMED_STATEMENTS !== 'off',
    // ASC_TEST_SHARED_KEY_READS=off runs the suite with each PostgreSQL key read on its own
    sharedKeyReads: process.env.ASC_TEST_SHARED_KEY_READS !== 'off',
    // ASC_TEST_ONE_STATEMENT_LIST=off runs the suite with each PostgreSQL list page and count apart
    oneStatementList: process.env.ASC_TEST_ONE_STATEMENT_LIST !== 'off',
    // ASC_TEST_SHARED_LIST_READS=off runs the suite with each PostgreSQL list page read on its own
    sharedListReads: process.env.ASC_TEST_SHARED_LIST_READS !== 'off',
    responseCacheMb: 16,
    logLevel: 'silent',
    logFormat: 'json',
    // off: no process metrics collected for every test server; tests of /metrics set 'local' (they talk from 127.0.0.1)
    metrics: 'off',
    smtpUrl: undefined,
    mailFrom: 'Test Team <no-reply@asc.example.test>',
    teamName: 'Test Team',
    shutdownTimeoutMs: 10_000,
    // off: many tests send refused tokens by the dozen from 127.0.0.1; test/integration/auth-failures.test.ts turns it on
    authFailureLimit: 0,
    trustProxy: false,
    // one of its own per server: two test servers on one database are two instances (a restart that
    // is to take back its earlier run's mail claims passes the same id)
    instanceId: `test-${randomUUID()}`,
    emulator: false,
    emulatorToken: undefined,
    seedFile: undefined,
    emulatorJournalSize: 1000,
    ...overrides,
  };
}

export interface ApiResponse<T = any> {
  status: number;
  headers: Headers;
  /** parsed JSON, the text for non-JSON bodies, undefined when empty */
  body: T;
  text: string;
}

export interface CallOptions {
  body?: unknown;
  /** raw body text (sent as is) */
  rawBody?: string;
  token?: string | null;
  headers?: Record<string, string>;
  /** skip the spec check (for requests that are not operations of the spec) */
  unchecked?: boolean;
}

const operations = [...loadOperations().values()].map((op) => ({
  key: `${op.method} ${op.path}`,
  method: op.method,
  regex: new RegExp(`^${op.path.replace(/\{[^}]+\}/g, '[^/]+')}$`),
}));

export function operationFor(method: string, path: string): string | undefined {
  const p = path.split('?')[0]!;
  return operations.find((o) => o.method === method && o.regex.test(p))?.key;
}

export interface TestServer {
  baseUrl: string;
  config: Config;
  db: Db;
  services: Services;
  /** the server's own mail worker (drain() delivers everything due now) */
  mailWorker: MailWorker;
  /** its read caches, when they are on */
  cache: ReadCache | undefined;
  clock: ManualClock;
  issuerId: string;
  /** an ADMIN team key's token */
  adminToken: string;
  /** a fresh team key with this role, and a token for it */
  keyWithRole(role: string): Promise<{ keyId: string; privateKeyPem: string; token: string }>;
  token(input: Omit<TokenInput, 'now'> & { now?: Date }): Promise<string>;
  call<T = any>(method: string, path: string, options?: CallOptions): Promise<ApiResponse<T>>;
  createApp(name: string, bundleId?: string): Promise<string>;
  close(): Promise<void>;
}

export interface StartOptions {
  config?: Partial<Config>;
  clock?: Clock;
  rateLimiter?: RateLimiter;
  mailWorker?: MailWorkerOptions;
  /** how often the server's expiry sweeper runs (default one minute) */
  sweepIntervalMs?: number;
  /** where the server's log goes (testConfig's level is silent: set config.logLevel too) */
  logStream?: DestinationStream;
  /** close() leaves the data directory, so that a second server can start on it (a restart) */
  keepDataDir?: boolean;
  /** hooks added before the routes (BuildOptions.beforeRoutes: the emulator's faults and journal) */
  beforeRoutes?: BuildOptions['beforeRoutes'];
  /** wraps the mail transport the config names (BuildOptions.mailTransport: the emulator's mail capture) */
  mailTransport?: BuildOptions['mailTransport'];
}

export async function startTestServer(options: StartOptions = {}): Promise<TestServer> {
  const config = testConfig(options.config);
  const clock = options.clock instanceof ManualClock ? options.clock : new ManualClock(Date.now());
  const pgOptions = config.databaseUrl ? new URL(config.databaseUrl).searchParams.get('options') : null;
  const schema = pgOptions ? /search_path=(\S+)/.exec(pgOptions)?.[1] : undefined;
  const db = await openDatabase(config);
  const { app, services, mailWorker, cache } = await buildApp({
    config,
    db,
    clock,
    ...(options.rateLimiter ? { rateLimiter: options.rateLimiter } : {}),
    ...(options.mailWorker ? { mailWorker: options.mailWorker } : {}),
    ...(options.sweepIntervalMs ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
    ...(options.logStream ? { logStream: options.logStream } : {}),
    ...(options.beforeRoutes ? { beforeRoutes: options.beforeRoutes } : {}),
    ...(options.mailTransport ? { mailTransport: options.mailTransport } : {}),
  });
  const address = await app.listen({ host: '127.0.0.1', port: 0 });
  const admin = await services.keys.create({ name: 'test admin', role: 'ADMIN' });
  const issuerId = admin.issuerId;
  const now = () => clock.now();
  const token = (input: Omit<TokenInput, 'now'> & { now?: Date }) => mintToken({ now: now(), ...input });
  const adminToken = await token({ privateKeyPem: admin.privateKeyPem, keyId: admin.key.id, issuerId });
  let appCounter = 0;

  async function call<T>(method: string, p: string, o: CallOptions = {}): Promise<ApiResponse<T>> {
    const headers: Record<string, string> = { ...o.headers };
    const auth = o.token === undefined ? adminToken : o.token;
    if (auth !== null) headers.authorization = `Bearer ${auth}`;
    let body: string | undefined = o.rawBody;
    if (o.body !== undefined) {
      body = JSON.stringify(o.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${address}${p}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const type = res.headers.get('content-type');
    let parsed: unknown = text === '' ? undefined : text;
    if (type === 'application/json') parsed = JSON.parse(text);
    expect(res.headers.get('x-request-id'), 'X-Request-ID').toMatch(/^[0-9a-f-]{36}$/);
    if (text !== '' && res.status !== 406) expect(type, `Content-Type of ${method} ${p}`).toBe('application/json');
    if (!o.unchecked && type === 'application/json') {
      const op = operationFor(method, p);
      const problems = op
        ? responseErrors(op, res.status, parsed)
        : responseErrors('GET /v1/apps', res.status >= 400 ? res.status : 599, parsed);
      expect(problems, `${method} ${p} -> ${res.status} must match the spec: ${text.slice(0, 500)}`).toEqual([]);
    }
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  return {
    baseUrl: address,
    config,
    db,
    services,
    mailWorker,
    cache,
    clock,
    issuerId,
    adminToken,
    async keyWithRole(role) {
      const k = await services.keys.create({ name: `${role} key`, role });
      return {
        keyId: k.key.id,
        privateKeyPem: k.privateKeyPem,
        token: await token({ privateKeyPem: k.privateKeyPem, keyId: k.key.id, issuerId }),
      };
    },
    token,
    call,
    async createApp(name, bundleId) {
      appCounter++;
      const a = await services.apps.create({
        name,
        bundleId: bundleId ?? `com.example.app${appCounter}.${Date.now()}`,
        sku: `SKU-${name}-${appCounter}`,
      });
      return a.id;
    },
    async close() {
      await app.close();
      await db.close();
      if (!options.keepDataDir) {
        rmSync(config.dataDir, { recursive: true, force: true });
        if (schema) await onPostgres(`drop schema if exists "${schema}" cascade`);
      }
    },
  };
}

/**
 * One test server for the tests of the enclosing `describe`: started by a beforeAll registered here
 * (so before the describe's own set-up, which may use it) and closed by an afterAll after the
 * others. The object returned stands for that server once it has started.
 */
export function useTestServer(options: StartOptions = {}): TestServer {
  let server: TestServer | undefined;
  beforeAll(async () => {
    server = await startTestServer(options);
  });
  afterAll(async () => server?.close());
  return new Proxy({} as TestServer, {
    get(_target, key) {
      if (server === undefined) throw new Error('the test server is used before its beforeAll has started it');
      return Reflect.get(server, key);
    },
  });
}

/** A minimal valid create body; override attributes or relationships as needed. */
export function invitationBody(attributes: Record<string, unknown> = {}, relationships?: Record<string, unknown>) {
  return {
    data: {
      type: 'userInvitations',
      attributes: { email: 'jane@example.com', firstName: 'Jane', lastName: 'Appleseed', roles: ['DEVELOPER'], ...attributes },
      ...(relationships ? { relationships } : {}),
    },
  };
}

export function visibleApps(...ids: string[]) {
  return { visibleApps: { data: ids.map((id) => ({ type: 'apps', id })) } };
}
