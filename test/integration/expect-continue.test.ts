/**
 * `Expect: 100-continue` (RFC 9110, 10.1.1) over a raw socket: a body whose declared length is over
 * the limit is refused with Apple's 413 before any `100 Continue`, so the client never sends it; a
 * body within the limit is invited with `100 Continue` and processed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BODY_LIMIT_BYTES } from '../../src/http/responses.js';
import { invitationBody } from '../helpers/harness.js';
import { RawConnection, requestHead, serveForTest, type ServedTest } from '../helpers/raw-http.js';

describe('Expect: 100-continue', () => {
  let s: ServedTest;
  beforeAll(async () => {
    s = await serveForTest();
  });
  afterAll(async () => {
    await s?.cleanUp();
  });

  it('answers a declared length over the limit with 413 and closes, before any 100 Continue', async () => {
    const c = await RawConnection.open(s.server.address);
    await c.write(
      requestHead('POST', '/v1/userInvitations', {
        host: 'localhost',
        authorization: `Bearer ${s.token}`,
        'content-type': 'application/json',
        'content-length': 20 * 1024 * 1024,
        expect: '100-continue',
      }),
    );
    const first = await c.next();
    expect(first.status).toBe(413);
    expect(first.headers['content-type']).toBe('application/json');
    expect(first.headers.connection).toBe('close');
    expect(first.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    expect(JSON.parse(first.body)).toEqual({
      errors: [
        {
          id: expect.stringMatching(/^[0-9a-f-]{36}$/),
          status: '413',
          code: 'ENTITY_TOO_LARGE',
          title: 'The provided entity is too large',
          detail: `The request body must not exceed ${BODY_LIMIT_BYTES} bytes`,
        },
      ],
    });
    // nothing else was written (no late 100 Continue), and the connection ends without a reset
    expect(await c.closed()).toEqual({ reset: false });
    expect(c.pending()).toBe('');
  });

  it('invites a body within the limit with 100 Continue and processes it', async () => {
    const c = await RawConnection.open(s.server.address);
    const body = JSON.stringify(invitationBody({ email: 'continue@example.com' }));
    await c.write(
      requestHead('POST', '/v1/userInvitations', {
        host: 'localhost',
        authorization: `Bearer ${s.token}`,
        'content-type': 'application/json',
        'content-length': Buffer.byteLength(body),
        expect: '100-continue',
      }),
    );
    const interim = await c.next();
    expect(interim.status).toBe(100);
    await c.write(body);
    const created = await c.next();
    expect(created.status).toBe(201);
    expect(JSON.parse(created.body).data.attributes.email).toBe('continue@example.com');
    c.destroy();
  });

  it('refuses a declared length over the limit without a valid token with 401, also before any 100 Continue', async () => {
    const c = await RawConnection.open(s.server.address);
    await c.write(
      requestHead('POST', '/v1/userInvitations', {
        host: 'localhost',
        'content-type': 'application/json',
        'content-length': BODY_LIMIT_BYTES + 1,
        expect: '100-continue',
      }),
    );
    const first = await c.next();
    expect(first.status).toBe(401);
    expect(first.headers.connection).toBe('close');
    expect(JSON.parse(first.body).errors[0].code).toBe('NOT_AUTHORIZED');
    expect(await c.closed()).toEqual({ reset: false });
  });
});
