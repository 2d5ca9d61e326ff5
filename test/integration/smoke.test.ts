import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, startTestServer, type TestServer } from '../helpers/harness.js';

describe('smoke', () => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer();
  });
  afterAll(async () => s.close());

  it('creates and lists an invitation', async () => {
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody() });
    expect(created.status).toBe(201);
    const list = await s.call('GET', '/v1/userInvitations');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
  });
});
