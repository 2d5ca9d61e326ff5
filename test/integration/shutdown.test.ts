/**
 * Shutting down under keep-alive (src/server.ts, what SIGTERM runs), over raw sockets: a request in
 * flight when the drain starts finishes; a request arriving on a kept-alive socket meanwhile is
 * refused with 503, `Retry-After` and `Connection: close`, never a reset; idle sockets close; a
 * request that never finishes is cut at ASC_SHUTDOWN_TIMEOUT_MS.
 */
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { invitationBody } from '../helpers/harness.js';
import { RawConnection, requestHead, serveForTest, type ServedTest } from '../helpers/raw-http.js';

describe('shutdown', () => {
  let s: ServedTest | undefined;
  const connections: RawConnection[] = [];
  afterEach(async () => {
    for (const c of connections.splice(0)) c.destroy();
    await s?.cleanUp();
    s = undefined;
  });

  async function connect(): Promise<RawConnection> {
    const c = await RawConnection.open(s!.server.address);
    connections.push(c);
    return c;
  }

  const headers = (token: string, body?: string) => ({
    host: 'localhost',
    authorization: `Bearer ${token}`,
    ...(body !== undefined ? { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) } : {}),
  });

  /** A connection that has been answered once and is kept alive. */
  async function keptAlive(token: string): Promise<RawConnection> {
    const c = await connect();
    await c.write(requestHead('GET', '/v1/userInvitations', headers(token)));
    const res = await c.next();
    expect(res.status).toBe(200);
    expect(res.headers.connection).toBe('keep-alive');
    return c;
  }

  /** A POST whose head and half its body have reached the application: in flight until the rest is sent. */
  async function halfSent(token: string, body: string): Promise<{ c: RawConnection; rest: string }> {
    const c = await connect();
    const arrived = once(s!.server.app.server, 'request');
    const half = Math.floor(body.length / 2);
    await c.write(requestHead('POST', '/v1/userInvitations', headers(token, body)) + body.slice(0, half));
    await arrived;
    return { c, rest: body.slice(half) };
  }

  it('finishes the request in flight and refuses one arriving on a kept-alive socket with 503 and Connection: close', async () => {
    s = await serveForTest();
    const idle = await keptAlive(s.token);
    const busy = await halfSent(s.token, JSON.stringify(invitationBody({ email: 'in-flight@example.com' })));

    const closing = s.server.close();

    const late = JSON.stringify(invitationBody({ email: 'late@example.com' }));
    await idle.write(requestHead('POST', '/v1/userInvitations', headers(s.token, late)) + late);
    const refused = await idle.next();
    expect(refused.status).toBe(503);
    expect(refused.headers).toMatchObject({ connection: 'close', 'content-type': 'application/json', 'retry-after': '5' });
    expect(refused.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(refused.body)).toEqual({
      errors: [
        {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          status: '503',
          code: 'SERVICE_UNAVAILABLE',
          title: 'The service is temporarily unavailable.',
          detail: 'The server is shutting down. Send the request again.',
        },
      ],
    });
    expect(await idle.closed()).toEqual({ reset: false });

    await busy.c.write(busy.rest);
    const finished = await busy.c.next();
    expect(finished.status).toBe(201);
    expect(finished.headers.connection).toBe('close');
    expect(JSON.parse(finished.body).data.attributes.email).toBe('in-flight@example.com');
    expect(await busy.c.closed()).toEqual({ reset: false });

    await closing;
    await expect(RawConnection.open(s.server.address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    // the refused request was not processed: only the one in flight made an invitation
    const db = await openDatabase(s.config);
    try {
      const emails = await db.kysely.selectFrom('user_invitations').select('email').execute();
      expect(emails.map((r) => r.email)).toEqual(['in-flight@example.com']);
    } finally {
      await db.close();
    }
  });

  it('closes idle kept-alive sockets without a reset', async () => {
    s = await serveForTest();
    const idle = await keptAlive(s.token);
    await s.server.close();
    expect(await idle.closed()).toEqual({ reset: false });
    expect(idle.pending()).toBe('');
  });

  it('finishes at the drain timeout even while a request hangs', async () => {
    s = await serveForTest({ shutdownTimeoutMs: 200 });
    const stuck = await halfSent(s.token, JSON.stringify(invitationBody({ email: 'stuck@example.com' })));
    // far beyond the 200 ms drain: only a shutdown that waits for the request forever misses it
    let bound: NodeJS.Timeout | undefined;
    const outcome = await Promise.race([
      s.server.close().then(() => 'closed'),
      new Promise((resolve) => (bound = setTimeout(() => resolve('still open'), 20_000))),
    ]);
    clearTimeout(bound);
    expect(outcome).toBe('closed');
    await stuck.c.closed();
    expect(stuck.c.ended).toBe(true);
  });
});
