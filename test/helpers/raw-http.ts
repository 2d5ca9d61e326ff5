/**
 * HTTP/1.1 over a plain socket (node:net), for tests that must see exactly what the server writes:
 * interim `100 Continue` responses, `Connection` headers, a socket closed or reset. Also starts the
 * real server (src/server.ts, as `asc-access serve` does) on a test configuration.
 */
import { rmSync } from 'node:fs';
import net from 'node:net';
import pg from 'pg';
import type { Config } from '../../src/config.js';
import { mintToken } from '../../src/keys/token.js';
import { startServer, type RunningServer } from '../../src/server.js';
import { TEST_PG_URL, testConfig } from './harness.js';

export interface RawResponse {
  status: number;
  /** header names in lower case; a repeated header keeps its last value */
  headers: Record<string, string>;
  body: string;
}

/** One client connection that reads the responses the server writes, one at a time. */
export class RawConnection {
  private buffer = Buffer.alloc(0);
  private waiting: (() => void) | undefined;
  /** set once the server has ended the connection (or it failed) */
  ended = false;
  /** the socket error, e.g. ECONNRESET, if there was one */
  error: NodeJS.ErrnoException | undefined;

  private constructor(readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.wake();
    });
    socket.on('error', (err: NodeJS.ErrnoException) => {
      this.error = err;
      this.ended = true;
      this.wake();
    });
    socket.on('close', () => {
      this.ended = true;
      this.wake();
    });
  }

  static open(address: string): Promise<RawConnection> {
    const url = new URL(address);
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host: url.hostname, port: Number(url.port) }, () => resolve(new RawConnection(socket)));
      socket.once('error', reject);
    });
  }

  private wake(): void {
    const w = this.waiting;
    this.waiting = undefined;
    w?.();
  }

  write(data: string | Buffer): Promise<void> {
    return new Promise((resolve, reject) => this.socket.write(data, (err) => (err ? reject(err) : resolve())));
  }

  /** The bytes received and not yet read as a response. */
  pending(): string {
    return this.buffer.toString('latin1');
  }

  /** Resolves once `predicate` holds for the bytes received, or the connection has ended. */
  private async until(predicate: () => boolean): Promise<void> {
    while (!predicate() && !this.ended) await new Promise<void>((resolve) => (this.waiting = resolve));
  }

  /**
   * The next response the server writes (an interim 1xx one included). Throws when the connection
   * ends before a whole response arrived, naming the socket error if there was one.
   */
  async next(): Promise<RawResponse> {
    await this.until(() => this.buffer.includes('\r\n\r\n'));
    const end = this.buffer.indexOf('\r\n\r\n');
    if (end === -1) throw new Error(`connection ended before a response (${this.error?.code ?? 'closed'}): '${this.pending()}'`);
    const [statusLine, ...lines] = this.buffer.subarray(0, end).toString('latin1').split('\r\n');
    const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(statusLine!)?.[1]);
    const headers: Record<string, string> = {};
    for (const line of lines) {
      const colon = line.indexOf(':');
      headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
    }
    const length = status >= 100 && status < 200 ? 0 : Number(headers['content-length'] ?? 0);
    await this.until(() => this.buffer.length >= end + 4 + length);
    if (this.buffer.length < end + 4 + length) throw new Error(`connection ended within a response (${this.error?.code ?? 'closed'})`);
    const body = this.buffer.subarray(end + 4, end + 4 + length).toString('utf8');
    this.buffer = this.buffer.subarray(end + 4 + length);
    return { status, headers, body };
  }

  /** Resolves when the server has closed the connection; says whether it was reset. */
  async closed(): Promise<{ reset: boolean }> {
    await this.until(() => false);
    return { reset: this.error !== undefined };
  }

  destroy(): void {
    this.socket.destroy();
  }
}

/** A request's head (request line and headers) as written on the wire. */
export function requestHead(method: string, target: string, headers: Record<string, string | number>): string {
  return `${method} ${target} HTTP/1.1\r\n${Object.entries(headers)
    .map(([name, value]) => `${name}: ${value}\r\n`)
    .join('')}\r\n`;
}

export interface ServedTest {
  server: RunningServer;
  config: Config;
  /** an ADMIN team key's token */
  token: string;
  /** closes the server (if not closed yet) and removes its data */
  cleanUp(): Promise<void>;
}

/** The real server on a fresh data directory (and on PostgreSQL, a fresh schema), with an ADMIN token. */
export async function serveForTest(overrides: Partial<Config> = {}): Promise<ServedTest> {
  const config = testConfig(overrides);
  const server = await startServer(config, { print: () => {} });
  const created = await server.services.keys.create({ name: 'test admin', role: 'ADMIN' });
  const token = await mintToken({ privateKeyPem: created.privateKeyPem, keyId: created.key.id, issuerId: created.issuerId });
  return {
    server,
    config,
    token,
    async cleanUp() {
      await server.close();
      rmSync(config.dataDir, { recursive: true, force: true });
      const schema = config.databaseUrl ? new URL(config.databaseUrl).searchParams.get('options')?.split('=')[1] : undefined;
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
