/**
 * The only reader of process.env. Everything else receives a frozen, validated Config.
 */
import { existsSync, readFileSync } from 'node:fs';
import { isIP } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import { parseEnv } from 'node:util';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** json: one JSON object a line (for log collectors); pretty: pino-pretty's human lines (for a terminal) */
export type LogFormat = 'json' | 'pretty';
/** who may read GET /metrics (src/http/metrics.ts): local clients only, anyone, or nobody (404) */
export type MetricsAccess = 'local' | 'on' | 'off';

export interface Config {
  /** Directory holding the SQLite file and the first-start key. */
  readonly dataDir: string;
  /** PostgreSQL URL; when absent the embedded SQLite file is used. */
  readonly databaseUrl: string | undefined;
  readonly host: string;
  readonly port: number;
  /** Base of every link and `Location` header, without a trailing slash. */
  readonly publicUrl: string;
  readonly rateLimitPerHour: number;
  /**
   * PostgreSQL: how often (ms) an instance reconciles its quota counts with the others' through the
   * database (src/http/quota-sync.ts); 0 counts with a write per request, exact across instances.
   */
  readonly rateLimitSyncMs: number;
  /** the read caches (src/http/read-cache/): ASC_READ_CACHE=off turns every one of them off */
  readonly readCache: boolean;
  /**
   * PostgreSQL: a create whose email is free is written by one statement
   * (src/resources/user-invitations/one-statement-create.ts); ASC_ONE_STATEMENT_CREATE=off leaves
   * every create to its transaction. SQLite always uses the transaction.
   */
  readonly oneStatementCreate: boolean;
  /**
   * PostgreSQL: query texts that come back run as named statements, parsed and planned once per
   * connection (src/db/pg-statements.ts); ASC_PG_NAMED_STATEMENTS=off runs every one unnamed.
   */
  readonly pgNamedStatements: boolean;
  /**
   * PostgreSQL: key reads that arrive together share one statement (src/keys/shared-key-reads.ts);
   * ASC_SHARED_KEY_READS=off reads each request's key on its own.
   */
  readonly sharedKeyReads: boolean;
  /**
   * PostgreSQL: a list's page and its total are read by one statement (src/db/list-query.ts);
   * ASC_ONE_STATEMENT_LIST=off reads them with two.
   */
  readonly oneStatementList: boolean;
  /**
   * PostgreSQL: reads of the same list page that arrive together share one statement
   * (src/db/shared-list-reads.ts); ASC_SHARED_LIST_READS=off reads each page on its own.
   */
  readonly sharedListReads: boolean;
  /** room for whole read responses kept on SQLite (src/http/read-cache/response-cache.ts), in MiB; 0: none */
  readonly responseCacheMb: number;
  readonly logLevel: LogLevel;
  readonly logFormat: LogFormat;
  /**
   * GET /metrics (Prometheus): `local` (default) serves it to clients connected from a loopback
   * address with no X-Forwarded-For or Forwarded header (a request a proxy relays is not local);
   * `on` to any client; `off` to none.
   */
  readonly metrics: MetricsAccess;
  /** smtp:// or smtps:// URL (with credentials); absent: messages stay in the database's mail log */
  readonly smtpUrl: string | undefined;
  /** sender of invitation emails */
  readonly mailFrom: string;
  /** the team's name, shown in emails and on activation pages */
  readonly teamName: string;
  /**
   * On SIGTERM, how long in-flight requests may take to finish (src/server.ts); connections still
   * open after it are closed.
   */
  readonly shutdownTimeoutMs: number;
  /**
   * Failed authentications a client address may have per minute before its requests are refused
   * with 429 until the minute has passed (src/http/auth-failures.ts); 0: no limit.
   */
  readonly authFailureLimit: number;
  /**
   * Fastify's trustProxy: the proxies whose X-Forwarded-For names the client (addresses, CIDR ranges,
   * or `loopback`, `linklocal`, `uniquelocal`); false: the socket's peer is the client.
   */
  readonly trustProxy: false | readonly string[];
  /**
   * This instance's name, the same across its restarts (ASC_INSTANCE_ID; default `<hostname>:<PORT>`).
   * Its mail claims carry it, so that a restart takes back at once what its earlier run had claimed
   * when it died, and never what another instance holds. Instances sharing a PostgreSQL database
   * need distinct ids (on one host: distinct ports or ASC_INSTANCE_ID).
   */
  readonly instanceId: string;
  /**
   * The emulator's controls under /_emulator/v1 (src/emulator/): ASC_EMULATOR=1 or true, or
   * `asc-access serve --emulator`. A test target only: its clock, state and faults are anyone's
   * to change who may call them.
   */
  readonly emulator: boolean;
  /** ASC_EMULATOR_TOKEN: when set, the controls want `Authorization: Bearer <it>` from any peer; unset: loopback peers only */
  readonly emulatorToken: string | undefined;
  /** ASC_SEED_FILE: a state document applied to the default team at start when its database is empty */
  readonly seedFile: string | undefined;
  /** ASC_EMULATOR_JOURNAL_SIZE: API requests each team's journal keeps (default 1000) */
  readonly emulatorJournalSize: number;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];
const LOG_FORMATS: readonly LogFormat[] = ['json', 'pretty'];
const METRICS_ACCESS: readonly MetricsAccess[] = ['local', 'on', 'off'];
const BOOLEAN_WORDS = new Set(['1', 'true', '0', 'false']);
const WILDCARD_HOSTS = new Set(['0.0.0.0', '::', '[::]', '::0']);

/** The file of variables read at start, in the working directory. */
export const ENV_FILE = '.env';

/**
 * The environment the configuration is read from: `env` over the variables of `.env` in `cwd`, if
 * there is one (a variable set in the environment wins over the file's, even when empty). The file
 * is parsed by node:util parseEnv (KEY=value lines, # comments, quoted values); nothing is written
 * into process.env.
 */
export function environment(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): NodeJS.ProcessEnv {
  const file = path.join(cwd, ENV_FILE);
  if (!existsSync(file)) return env;
  let fromFile: NodeJS.Dict<string>;
  try {
    fromFile = parseEnv(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`${file} cannot be read: ${err instanceof Error ? err.message : String(err)}`]);
  }
  return { ...fromFile, ...env };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    // one problem: one line
    super(problems.length === 1 ? `Invalid configuration: ${problems[0]}` : `Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

/** A switch that is on unless the variable says off. */
function onOff(raw: string | undefined, name: string, problems: string[]): boolean {
  const setting = raw?.trim().toLowerCase() || 'on';
  if (setting !== 'on' && setting !== 'off') problems.push(`${name} must be on or off, got '${raw}'`);
  return setting !== 'off';
}

function parseInteger(raw: string, name: string, min: number, max: number, problems: string[]): number {
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${name} must be a whole number between ${min} and ${max}, got '${raw}'`);
    return min;
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
    // a usable stand-in, so that the public URL derived from PORT does not report a second problem
    return min;
  }
  return value;
}

export function normalizePublicUrl(raw: string, problems: string[]): string {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    problems.push(`ASC_PUBLIC_URL must be an absolute http(s) URL, got '${raw}'`);
    return raw;
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    problems.push(`ASC_PUBLIC_URL must use http or https, got '${url.protocol}'`);
  }
  if (url.search || url.hash) {
    problems.push('ASC_PUBLIC_URL must not carry a query or fragment');
  }
  return `${url.origin}${url.pathname}`.replace(/\/+$/, '');
}

const PROXY_NAMES = new Set(['loopback', 'linklocal', 'uniquelocal']);

/**
 * ASC_TRUST_PROXY: unset or `off`, or a comma-separated list of addresses, CIDR ranges and the names
 * loopback, linklocal, uniquelocal. A hop count is refused: it cannot tell a proxy from a client that
 * sends its own X-Forwarded-For (Fastify trusts no X-Forwarded-For given one).
 */
export function parseTrustProxy(raw: string | undefined, problems: string[]): false | readonly string[] {
  const text = raw?.trim() ?? '';
  if (text === '' || text.toLowerCase() === 'off') return false;
  const entries = text.split(',').map((e) => e.trim());
  for (const e of entries) {
    const [address, bits, extra] = e.split('/');
    const family = isIP(address ?? '');
    const validBits = bits === undefined || (/^\d{1,3}$/.test(bits) && Number(bits) <= (family === 6 ? 128 : 32));
    if (!(PROXY_NAMES.has(e) || (family !== 0 && validBits && extra === undefined))) {
      problems.push(`ASC_TRUST_PROXY must be off or the proxies' addresses or CIDR ranges separated by commas, got '${e}'`);
    }
  }
  return Object.freeze(entries);
}

/** Reads and validates the environment once; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const dataDir = path.resolve(env.ASC_DATA_DIR?.trim() || './data');
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = parseInteger(env.PORT ?? '8080', 'PORT', 0, 65535, problems);
  const rateLimitPerHour = parseInteger(env.ASC_RATE_LIMIT_PER_HOUR ?? '3600', 'ASC_RATE_LIMIT_PER_HOUR', 1, 1_000_000_000, problems);
  const rateLimitSyncMs = parseInteger(env.ASC_RATE_LIMIT_SYNC_MS ?? '1000', 'ASC_RATE_LIMIT_SYNC_MS', 0, 60_000, problems);
  const responseCacheMb = parseInteger(env.ASC_RESPONSE_CACHE_MB ?? '16', 'ASC_RESPONSE_CACHE_MB', 0, 4096, problems);
  const shutdownTimeoutMs = parseInteger(env.ASC_SHUTDOWN_TIMEOUT_MS ?? '10000', 'ASC_SHUTDOWN_TIMEOUT_MS', 0, 3_600_000, problems);
  const authFailureLimit = parseInteger(env.ASC_AUTH_FAILURE_LIMIT ?? '30', 'ASC_AUTH_FAILURE_LIMIT', 0, 1_000_000, problems);
  const trustProxy = parseTrustProxy(env.ASC_TRUST_PROXY, problems);
  const readCache = onOff(env.ASC_READ_CACHE, 'ASC_READ_CACHE', problems);
  const oneStatementCreate = onOff(env.ASC_ONE_STATEMENT_CREATE, 'ASC_ONE_STATEMENT_CREATE', problems);
  const pgNamedStatements = onOff(env.ASC_PG_NAMED_STATEMENTS, 'ASC_PG_NAMED_STATEMENTS', problems);
  const sharedKeyReads = onOff(env.ASC_SHARED_KEY_READS, 'ASC_SHARED_KEY_READS', problems);
  const oneStatementList = onOff(env.ASC_ONE_STATEMENT_LIST, 'ASC_ONE_STATEMENT_LIST', problems);
  const sharedListReads = onOff(env.ASC_SHARED_LIST_READS, 'ASC_SHARED_LIST_READS', problems);
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${env.LOG_LEVEL}'`);
  }
  const logFormat = (env.LOG_FORMAT?.trim().toLowerCase() || 'json') as LogFormat;
  if (!LOG_FORMATS.includes(logFormat)) problems.push(`LOG_FORMAT must be json or pretty, got '${env.LOG_FORMAT}'`);
  const metrics = (env.ASC_METRICS?.trim().toLowerCase() || 'local') as MetricsAccess;
  if (!METRICS_ACCESS.includes(metrics)) problems.push(`ASC_METRICS must be local, on or off, got '${env.ASC_METRICS}'`);
  // links (Location headers, emails, pages) to a wildcard address reach nobody
  if (WILDCARD_HOSTS.has(host) && !env.ASC_PUBLIC_URL?.trim()) {
    problems.push(`HOST is ${host} (every address) and ASC_PUBLIC_URL is unset: set ASC_PUBLIC_URL to the address people and clients use`);
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const publicUrl = normalizePublicUrl(env.ASC_PUBLIC_URL?.trim() || `http://${urlHost}:${port}`, problems);
  const databaseUrl = env.ASC_DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`ASC_DATABASE_URL must start with postgres:// or postgresql://`);
  }
  const smtpUrl = env.ASC_SMTP_URL?.trim() || undefined;
  if (smtpUrl !== undefined) {
    try {
      const u = new URL(smtpUrl);
      if (u.protocol !== 'smtp:' && u.protocol !== 'smtps:') problems.push(`ASC_SMTP_URL must start with smtp:// or smtps://`);
    } catch {
      problems.push(`ASC_SMTP_URL must be a URL such as smtp://user:password@mail.example.com:587`);
    }
  }
  const mailFrom = env.ASC_MAIL_FROM?.trim() || 'App Store Connect <no-reply@asc-access.invalid>';
  if (/[\r\n]/.test(mailFrom) || !/@/.test(mailFrom))
    problems.push(`ASC_MAIL_FROM must be one email address, optionally with a display name`);
  const teamName = env.ASC_TEAM_NAME?.trim() || 'My Team';
  if (/\p{Cc}/u.test(teamName) || teamName.length > 100)
    problems.push('ASC_TEAM_NAME must be at most 100 characters without control characters');
  const instanceId = env.ASC_INSTANCE_ID?.trim() || `${hostname()}:${port}`;
  if (/\p{Cc}/u.test(instanceId) || instanceId.length > 200)
    problems.push('ASC_INSTANCE_ID must be at most 200 characters without control characters');
  const emulatorSetting = env.ASC_EMULATOR?.trim().toLowerCase() || 'false';
  if (!BOOLEAN_WORDS.has(emulatorSetting)) problems.push(`ASC_EMULATOR must be 1, true, 0 or false, got '${env.ASC_EMULATOR}'`);
  const emulator = emulatorSetting === '1' || emulatorSetting === 'true';
  const emulatorToken = env.ASC_EMULATOR_TOKEN?.trim() || undefined;
  if (emulatorToken !== undefined && !/^[\x21-\x7e]{16,512}$/.test(emulatorToken)) {
    problems.push('ASC_EMULATOR_TOKEN must be 16 to 512 printable characters without spaces');
  }
  const seedFile = env.ASC_SEED_FILE?.trim() ? path.resolve(env.ASC_SEED_FILE.trim()) : undefined;
  if (seedFile !== undefined && !existsSync(seedFile)) problems.push(`ASC_SEED_FILE names ${seedFile}, which does not exist`);
  const emulatorJournalSize = parseInteger(env.ASC_EMULATOR_JOURNAL_SIZE ?? '1000', 'ASC_EMULATOR_JOURNAL_SIZE', 0, 1_000_000, problems);
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({
    dataDir,
    databaseUrl,
    host,
    port,
    publicUrl,
    rateLimitPerHour,
    rateLimitSyncMs,
    readCache,
    oneStatementCreate,
    pgNamedStatements,
    sharedKeyReads,
    oneStatementList,
    sharedListReads,
    responseCacheMb,
    logLevel,
    logFormat,
    metrics,
    smtpUrl,
    mailFrom,
    teamName,
    shutdownTimeoutMs,
    authFailureLimit,
    trustProxy,
    instanceId,
    emulator,
    emulatorToken,
    seedFile,
    emulatorJournalSize,
  });
}
