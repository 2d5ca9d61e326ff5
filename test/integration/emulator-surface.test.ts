/**
 * spec/emulator.openapi.json against a running emulator (started with asc-access/testing): every
 * operation the document lists is served and answers with a status the document lists for it and
 * a body of that response's schema; refusals are Apple's ErrorResponse with the statuses it names.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/testing/index.js';
import { controlOperations, controlResponseErrors, operationOf } from '../helpers/emulator-spec.js';
import { startTestEmulator } from '../helpers/test-emulator.js';

interface Answer {
  status: number;
  body: any;
}

let emu: Emulator;
const covered = new Set<string>();

/** A control request, its answer checked against the document. */
async function control(method: string, path: string, body?: unknown, raw?: string): Promise<Answer> {
  const res = await fetch(`${emu.baseUrl}${path}`, {
    method,
    headers: body !== undefined || raw !== undefined ? { 'content-type': 'application/json' } : {},
    ...(body !== undefined ? { body: JSON.stringify(body) } : raw !== undefined ? { body: raw } : {}),
  });
  const text = await res.text();
  const parsed: unknown = text === '' ? undefined : JSON.parse(text);
  const where = `${method} ${path} -> ${res.status} ${text.slice(0, 400)}`;
  // served: an unknown path answers PATH_ERROR
  if (res.status === 404) expect((parsed as { errors: { code: string }[] }).errors[0]?.code, where).not.toBe('PATH_ERROR');
  expect(controlResponseErrors(method, new URL(path, emu.baseUrl).pathname, res.status, parsed), where).toEqual([]);
  covered.add(operationOf(method, new URL(path, emu.baseUrl).pathname)!.operationId);
  return { status: res.status, body: parsed };
}

async function invite(email: string): Promise<string> {
  const res = await fetch(`${emu.baseUrl}/v1/userInvitations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await emu.token()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      data: { type: 'userInvitations', attributes: { email, firstName: 'Ann', lastName: 'Example', roles: ['DEVELOPER'] } },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { data: { id: string } }).data.id;
}

const P = '/_emulator/v1';
const T = `${P}/teams/default`;

beforeAll(async () => {
  emu = await startTestEmulator();
});

afterAll(async () => {
  await emu?.stop();
});

describe('spec/emulator.openapi.json against a running emulator', () => {
  it('serves every operation the document lists, each answer as the document says', async () => {
    expect((await control('GET', P)).body).toMatchObject({ emulator: true, teams: 1 });
    expect((await control('GET', `${P}/teams`)).body.data.map((t: { id: string }) => t.id)).toEqual(['default']);
    const created = await control('POST', `${P}/teams`, {});
    expect(created.status).toBe(201);
    expect(created.body.keyId).toMatch(/^[A-Z0-9]{10}$/);

    expect((await control('GET', `${T}/clock`)).body.offsetMs).toBe(0);
    expect((await control('POST', `${T}/clock/advance`, { by: '1h' })).body.offsetMs).toBeGreaterThanOrEqual(3_600_000);
    const later = new Date(Date.now() + 2 * 3_600_000).toISOString();
    const set = await control('PUT', `${T}/clock`, { now: later });
    expect(Date.parse(set.body.now)).toBeGreaterThanOrEqual(Date.parse(later));

    const a = await invite('ann.a@example.com');
    const b = await invite('ann.b@example.com');
    const mail = await control('GET', `${T}/mail`);
    expect(mail.body.data.map((m: { invitationId: string }) => m.invitationId)).toEqual([a, b]);
    const toA = await control('GET', `${T}/mail?to=ANN.A@example.com`);
    expect(toA.body.data).toHaveLength(1);
    const one = await control('GET', `${T}/mail/${encodeURIComponent(toA.body.data[0].id)}`);
    expect(one.body).toEqual(toA.body.data[0]);
    const accepted = await control('POST', `${T}/invitations/ann.a@example.com/accept`);
    expect(accepted.body.invitationId).toBe(a);
    expect((await control('POST', `${T}/invitations/${b}/decline`)).status).toBe(204);
    expect((await control('DELETE', `${T}/mail`)).status).toBe(204);
    expect((await control('GET', `${T}/mail`)).body.data).toEqual([]);

    const state = await control('GET', `${T}/state`);
    expect(state.body.users.map((u: { id: string }) => u.id)).toEqual([accepted.body.userId]);
    expect((await control('PUT', `${T}/state`, state.body)).status).toBe(204);
    expect((await control('GET', `${T}/state`)).body).toEqual(state.body);

    const rule = await control('POST', `${T}/faults`, { method: 'get', path: '/v1/apps*', action: { delayMs: 1 }, times: 2 });
    expect(rule.status).toBe(201);
    expect(rule.body).toMatchObject({ method: 'GET', times: 2, remaining: 2, hits: 0 });
    expect((await control('GET', `${T}/faults`)).body.data).toEqual([rule.body]);
    expect((await control('DELETE', `${T}/faults/${rule.body.id}`)).status).toBe(204);
    await control('POST', `${T}/faults`, { path: '/v1/*', action: { status: 503 }, share: 0.5 });
    expect((await control('DELETE', `${T}/faults`)).status).toBe(204);
    expect((await control('GET', `${T}/faults`)).body.data).toEqual([]);

    const journal = await control('GET', `${T}/journal?method=POST&path=/v1/userInvitations&status=201&limit=5`);
    expect(journal.body.data).toHaveLength(2);
    expect((await control('DELETE', `${T}/journal`)).status).toBe(204);
    expect((await control('GET', `${T}/journal`)).body.data).toEqual([]);

    expect((await control('POST', `${T}/reset`, { keep: ['apiKeys'] })).status).toBe(204);
    const after = (await control('GET', `${T}/state`)).body;
    expect(after.users).toEqual([]);
    expect(after.apiKeys).toEqual(state.body.apiKeys);

    expect((await control('DELETE', `${P}/teams/${created.body.id}`)).status).toBe(204);
    expect([...covered].sort(), 'operations the document lists that were not called').toEqual(
      controlOperations()
        .map((op) => op.operationId)
        .sort(),
    );
  });

  it("answers refusals with Apple's ErrorResponse and a status the document lists", async () => {
    const missing = await control('GET', `${P}/teams/no-such-team/clock`);
    expect(missing.status).toBe(404);
    expect((await control('DELETE', `${P}/teams/default`)).status).toBe(409);
    const past = await control('PUT', `${T}/clock`, { now: '2001-01-01T00:00:00Z' });
    expect(past.status).toBe(409);
    expect(past.body.errors[0].detail).toBeTruthy();
    expect((await control('POST', `${T}/clock/advance`, { by: 'soon' })).status).toBe(422);
    const badRule = await control('POST', `${T}/faults`, { path: 'v1', action: { status: 200 } });
    expect(badRule.status).toBe(422);
    expect(badRule.body.errors.map((e: { source?: { pointer: string } }) => e.source?.pointer)).toContain('/path');
    const badState = await control('PUT', `${T}/state`, { format: 'something else' });
    expect(badState.status).toBe(422);
    expect(badState.body.errors[0].source).toEqual({ pointer: '/format' });
    expect((await control('POST', `${T}/invitations/nobody@example.com/accept`)).status).toBe(404);
    expect((await control('GET', `${T}/mail/no-such-message`)).status).toBe(404);
    expect((await control('DELETE', `${T}/faults/no-such-rule`)).status).toBe(404);
    expect((await control('POST', `${T}/faults`, undefined, '{"path": ')).status).toBe(400);

    const id = await invite('twice@example.com');
    expect((await control('POST', `${T}/invitations/${id}/accept`)).status).toBe(200);
    expect((await control('POST', `${T}/invitations/${id}/accept`)).status).toBe(410);
    expect((await control('POST', `${T}/invitations/${id}/decline`)).status).toBe(410);
  });
});
