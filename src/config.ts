/**
 * The only reader of process.env. Everything else receives a frozen, validated Config.
 */
import path from 'node:path';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';

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
  readonly logLevel: LogLevel;
}

const LOG_LEVELS: readonly LogLevel[] = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'];

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n  - ${problems.join('\n  - ')}`);
    this.name = 'ConfigError';
  }
}

function parseInteger(raw: string, name: string, min: number, max: number, problems: string[]): number {
  if (!/^\d+$/.test(raw.trim())) {
    problems.push(`${name} must be a whole number between ${min} and ${max}, got '${raw}'`);
    return min;
  }
  const value = Number(raw.trim());
  if (value < min || value > max) {
    problems.push(`${name} must be between ${min} and ${max}, got ${value}`);
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

/** Reads and validates the environment once; throws ConfigError listing every problem. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const problems: string[] = [];
  const dataDir = path.resolve(env.ASC_DATA_DIR?.trim() || './data');
  const host = env.HOST?.trim() || '127.0.0.1';
  const port = parseInteger(env.PORT ?? '8080', 'PORT', 0, 65535, problems);
  const rateLimitPerHour = parseInteger(env.ASC_RATE_LIMIT_PER_HOUR ?? '3600', 'ASC_RATE_LIMIT_PER_HOUR', 1, 1_000_000_000, problems);
  const logLevel = (env.LOG_LEVEL?.trim() || 'info') as LogLevel;
  if (!LOG_LEVELS.includes(logLevel)) {
    problems.push(`LOG_LEVEL must be one of ${LOG_LEVELS.join(', ')}, got '${env.LOG_LEVEL}'`);
  }
  const urlHost = host.includes(':') ? `[${host}]` : host;
  const publicUrl = normalizePublicUrl(env.ASC_PUBLIC_URL?.trim() || `http://${urlHost}:${port}`, problems);
  const databaseUrl = env.ASC_DATABASE_URL?.trim() || undefined;
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    problems.push(`ASC_DATABASE_URL must start with postgres:// or postgresql://`);
  }
  if (problems.length > 0) throw new ConfigError(problems);
  return Object.freeze({ dataDir, databaseUrl, host, port, publicUrl, rateLimitPerHour, logLevel });
}
