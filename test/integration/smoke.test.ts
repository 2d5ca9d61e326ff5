import { describe, expect, it } from 'vitest';
import { invitationBody, useTestServer } from '../helpers/harness.js';

describe('smoke', () => {
  const s = useTestServer();

  it('creates and lists an invitation', async () => {
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody() });
    expect(created.status).toBe(201);
    const list = await s.call('GET', '/v1/userInvitations');
    expect(list.status).toBe(200);
    expect(list.body.data).toHaveLength(1);
  });
});
