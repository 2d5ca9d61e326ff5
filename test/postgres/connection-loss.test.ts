/**
 * PostgreSQL lost and back: the server talks to PostgreSQL through a TCP proxy in this process that
 * the test cuts (every connection dropped, new ones closed at once) and restores. While it is cut,
 * requests get 503 with `Retry-After` and an ErrorResponse, never a 500, and the log says so once;
 * once it is restored, the server takes requests again by itself, nothing acknowledged lost.
 */
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { activationPath, openPage } from '../helpers/pages.js';
import {
  invitationBody,
  schemaFor,
  startTestServer,
  tempDir,
  testConfig,
  TEST_PG_URL,
  type ApiResponse,
  type TestServer,
} from '../helpers/harness.js';

/** A TCP proxy to PostgreSQL that can be cut and restored. */
class Proxy {
  private readonly server: net.Server;
  private readonly sockets = new Set<net.Socket>();
  private cut = false;

  constructor(private readonly target: { host: string; port: number }) {
    this.server = net.createServer((client) => {
      client.on('error', () => undefined);
      if (this.cut) return client.destroy();
      const upstream = net.connect(this.target.port, this.target.host);
      for (const [a, b] of [
        [client, upstream],
        [upstream, client],
      ] as const) {
        this.sockets.add(a);
        a.on('error', () => b.destroy());
        a.on('close', () => {
          this.sockets.delete(a);
          b.destroy();
        });
        a.pipe(b);
      }
    });
  }

  async listen(): Promise<number> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return (this.server.address() as net.AddressInfo).port;
  }

  /** Drops every connection; new ones are closed as soon as they are made. */
  cutOff(): void {
    this.cut = true;
    for (const socket of this.sockets) socket.destroy();
  }

  restore(): void {
    this.cut = false;
  }

  close(): Promise<void> {
    this.cutOff();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }
}

interface LogLine {
  level: number;
  msg: string;
}

describe('PostgreSQL connection lost and restored', () => {
  const target = new URL(TEST_PG_URL);
  const proxy = new Proxy({ host: target.hostname, port: Number(target.port || 5432) });
  const logs: LogLine[] = [];
  let server: TestServer;

  beforeAll(async () => {
    const port = await proxy.listen();
    const dataDir = tempDir();
    const url = new URL(testConfig({ dataDir }).databaseUrl!);
    expect(url.searchParams.get('options')).toContain(schemaFor(dataDir));
    url.hostname = '127.0.0.1';
    url.port = String(port);
    server = await startTestServer({
      config: { dataDir, databaseUrl: url.toString(), logLevel: 'info' },
      logStream: { write: (line) => logs.push(JSON.parse(line) as LogLine) },
    });
  });
  afterAll(async () => {
    proxy.restore();
    await server.close();
    await proxy.close();
  });

  let counter = 0;
  const create = () =>
    server.call('POST', '/v1/userInvitations', { body: invitationBody({ email: `lost-${++counter}@example.com` }), unchecked: true });

  it('answers 503 while PostgreSQL cannot be reached, logs it once, and recovers by itself', async () => {
    const acknowledged: string[] = [];
    const before = await create();
    expect(before.status).toBe(201);
    acknowledged.push((before.body as { data: { id: string } }).data.id);

    const [mail] = await server.services.outbox.forInvitation(acknowledged[0]!);
    const page = activationPath(mail!.activation_link!);

    proxy.cutOff();
    // the activation page a person opens from the email: a 503 page, not the 500 one
    const pageDuring = await openPage(server.baseUrl, 'GET', page);
    expect(pageDuring.status).toBe(503);
    expect(pageDuring.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
    expect(pageDuring.headers.get('content-type')).toMatch(/^text\/html/);
    const during: ApiResponse[] = [];
    for (let round = 0; round < 5; round++) {
      during.push(...(await Promise.all([create(), create(), server.call('GET', '/v1/userInvitations', { unchecked: true })])));
    }
    for (const res of during) {
      expect(res.status, res.text).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect(res.body).toEqual({
        errors: [
          { id: expect.any(String), status: '503', code: 'SERVICE_UNAVAILABLE', title: expect.any(String), detail: expect.any(String) },
        ],
      });
    }
    // liveness does not depend on the database; readiness does, and reports to the same incident
    expect((await server.call('GET', '/healthz', { token: null, unchecked: true })).status).toBe(200);
    const notReady = await server.call('GET', '/readyz', { token: null, unchecked: true });
    expect(notReady.status).toBe(503);
    expect(notReady.body.errors[0].code).toBe('SERVICE_UNAVAILABLE');
    const errorLines = logs.filter((l) => l.level >= 50).map((l) => l.msg);
    expect(errorLines).toHaveLength(1);
    expect(errorLines[0]).toMatch(/^database unavailable: /);

    proxy.restore();
    expect((await server.call('GET', '/readyz', { token: null, unchecked: true })).status).toBe(200);
    const after = await create();
    expect(after.status, after.text).toBe(201);
    acknowledged.push((after.body as { data: { id: string } }).data.id);
    expect(logs.filter((l) => l.msg.startsWith('database available again')).map((l) => l.msg)).toEqual([
      `database available again after ${during.length + 1} failed requests`,
    ]);
    expect((await openPage(server.baseUrl, 'GET', page)).status).toBe(200);
    for (const id of acknowledged) expect((await server.call('GET', `/v1/userInvitations/${id}`)).status, id).toBe(200);
  });
});
