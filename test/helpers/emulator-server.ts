/**
 * A whole server started as `asc-access serve` starts it (startServer), with the emulator on or off,
 * on a fresh data directory (SQLite, or a schema of its own on PostgreSQL), and plain HTTP helpers
 * for its controls and its API.
 */
import { rmSync } from 'node:fs';
import pg from 'pg';
import type { DestinationStream } from 'pino';
import { expect } from 'vitest';
import type { Config } from '../../src/config.js';
import { mintToken } from '../../src/keys/token.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { TEST_PG_URL, testConfig } from './harness.js';

export interface Answer<T = any> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export interface Key {
  issuerId: string;
  keyId: string;
  privateKey: string;
}

export interface EmulatorServer {
  server: RunningServer;
  config: Config;
  base: string;
  /** what the server printed (the first-start message) */
  printed: string[];
  /** a request to a control: `path` is below /_emulator/v1 */
  control<T = any>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<Answer<T>>;
  /** an API request with a fresh token of `key` (null: no token) */
  api<T = any>(key: Key | null, method: string, path: string, body?: unknown): Promise<Answer<T>>;
  /** any request */
  request<T = any>(method: string, path: string, init?: { body?: unknown; headers?: Record<string, string> }): Promise<Answer<T>>;
  /** a fresh ADMIN key of the default team */
  defaultKey(): Promise<Key>;
  /** stops the server; the data directory stays when `keep` */
  close(keep?: boolean): Promise<void>;
}

export const tokenOf = (key: Key) => mintToken({ privateKeyPem: key.privateKey, keyId: key.keyId, issuerId: key.issuerId });

export async function startEmulatorServer(overrides: Partial<Config> = {}, logStream?: DestinationStream): Promise<EmulatorServer> {
  const config = testConfig({ emulator: true, ...overrides });
  const printed: string[] = [];
  const server = await startServer(config, { print: (s) => printed.push(s), ...(logStream ? { logStream } : {}) });
  const base = server.address;

  async function request<T>(
    method: string,
    path: string,
    init: { body?: unknown; headers?: Record<string, string> } = {},
  ): Promise<Answer<T>> {
    const headers: Record<string, string> = { ...init.headers };
    let body: string | undefined;
    if (init.body !== undefined) {
      body = JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${base}${path}`, { method, headers, ...(body !== undefined ? { body } : {}) });
    const text = await res.text();
    const parsed: unknown =
      text === '' ? undefined : res.headers.get('content-type')?.startsWith('application/json') ? JSON.parse(text) : text;
    return { status: res.status, headers: res.headers, body: parsed as T, text };
  }

  return {
    server,
    config,
    base,
    printed,
    control: (method, path, body, headers) =>
      request(method, `/_emulator/v1${path}`, { ...(body !== undefined ? { body } : {}), ...(headers ? { headers } : {}) }),
    async api(key, method, path, body) {
      const headers: Record<string, string> = key ? { authorization: `Bearer ${await tokenOf(key)}` } : {};
      return request(method, path, { headers, ...(body !== undefined ? { body } : {}) });
    },
    request,
    async defaultKey() {
      const created = await server.services.keys.create({ name: 'test admin', role: 'ADMIN' });
      return { issuerId: created.issuerId, keyId: created.key.id, privateKey: created.privateKeyPem };
    },
    async close(keep = false) {
      await server.close();
      if (keep) return;
      rmSync(config.dataDir, { recursive: true, force: true });
      const schema = config.databaseUrl
        ? /search_path=(\S+)/.exec(new URL(config.databaseUrl).searchParams.get('options') ?? '')?.[1]
        : undefined;
      if (schema) {
        const client = new pg.Client({ connectionString: TEST_PG_URL });
        await client.connect();
        try {
          await client.query(`drop schema if exists "${schema}" cascade`);
        } finally {
          await client.end();
        }
      }
    },
  };
}

/** An ErrorResponse with one error of this status and code; its first error. */
export function oneError(
  res: Answer,
  status: number,
  code: string,
): { detail?: string; source?: { pointer?: string; parameter?: string } } {
  expect(res.status, res.text).toBe(status);
  expect(res.headers.get('content-type')).toMatch(/^application\/json/);
  expect(res.body.errors, res.text).toHaveLength(1);
  expect(res.body.errors[0]).toMatchObject({ status: String(status), code });
  return res.body.errors[0];
}
