/**
 * asc-access/testing's startEmulator: which key it hands out (a seed's key, found by id or by its
 * public half; the first-start key; a new key when the seed's keys have no private halves), teams
 * made through it with their own key and controls, refusals as EmulatorControlError, and stop().
 */
import { generateKeyPairSync } from 'node:crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { EmulatorControlError, type Emulator, type TeamKey } from '../../src/testing/index.js';
import { startTestEmulator } from '../helpers/test-emulator.js';

const started: Emulator[] = [];

async function start(options: Parameters<typeof startTestEmulator>[0] = {}): Promise<Emulator> {
  const emu = await startTestEmulator(options);
  started.push(emu);
  return emu;
}

afterEach(async () => {
  for (const emu of started.splice(0)) await emu.stop();
});

const pem = () => generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

/** GET /v1/apps with a fresh token of `key`: its status and the app names. */
async function apps(emu: Emulator, key: TeamKey): Promise<{ status: number; names: string[] }> {
  const res = await fetch(`${emu.baseUrl}/v1/apps`, { headers: { authorization: `Bearer ${await key.token()}` } });
  const body = (await res.json()) as { data?: { attributes: { name: string } }[] };
  return { status: res.status, names: (body.data ?? []).map((a) => a.attributes.name) };
}

describe('startEmulator', () => {
  it('without a seed hands out the ADMIN key of the first start', async () => {
    const emu = await start();
    expect(emu.keyId).toMatch(/^[A-Z0-9]{10}$/);
    expect(emu.privateKey).toContain('BEGIN PRIVATE KEY');
    const state = await emu.state.export();
    expect(state.team.issuerId).toBe(emu.issuerId);
    expect(state.apiKeys.map((k) => [k.id, k.role])).toEqual([[emu.keyId, 'ADMIN']]);
    expect(await apps(emu, emu)).toEqual({ status: 200, names: [] });
  });

  it("with a seed object whose key has no id, finds the key's id by its public half", async () => {
    const privateKey = pem();
    const emu = await start({
      seed: {
        format: 'asc-access-state/1',
        apiKeys: [
          {
            name: 'public only',
            role: 'ADMIN',
            publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          },
          { name: 'CI', role: 'APP_MANAGER', privateKey },
        ],
        apps: [{ name: 'Seeded', bundleId: 'com.example.seeded', sku: 'SEEDED' }],
      },
    });
    const state = await emu.state.export();
    expect(state.apiKeys).toHaveLength(2);
    expect(state.apiKeys.find((k) => k.name === 'CI')?.id).toBe(emu.keyId);
    expect(emu.privateKey).toBe(privateKey);
    expect(await apps(emu, emu)).toEqual({ status: 200, names: ['Seeded'] });
  });

  it('with a seed whose keys have no private halves, adds an ADMIN key to hand out', async () => {
    const emu = await start({
      seed: {
        format: 'asc-access-state/1',
        apiKeys: [
          {
            id: 'PUBLICONLY',
            name: 'elsewhere',
            role: 'ADMIN',
            publicKey: generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey.export({ type: 'spki', format: 'pem' }).toString(),
          },
        ],
      },
    });
    expect(emu.keyId).not.toBe('PUBLICONLY');
    expect((await emu.state.export()).apiKeys.map((k) => k.id).sort()).toEqual([emu.keyId, 'PUBLICONLY'].sort());
    expect((await apps(emu, emu)).status).toBe(200);
  });

  it('makes teams with their own key and controls, isolated from the default team', async () => {
    const emu = await start();
    const team = await emu.teams.create({
      seed: { format: 'asc-access-state/1', apps: [{ name: 'Theirs', bundleId: 'com.example.theirs', sku: 'T' }] },
    });
    expect(team.key).not.toBeNull();
    expect(team.issuerId).not.toBe(emu.issuerId);
    expect(await apps(emu, team.key!)).toEqual({ status: 200, names: ['Theirs'] });
    expect(await apps(emu, emu)).toEqual({ status: 200, names: [] });
    await team.clock.advance('1d');
    expect((await team.clock.get()).offsetMs).toBe(86_400_000);
    expect((await emu.clock.get()).offsetMs).toBe(0);
    expect((await team.journal.list()).map((e) => e.keyId)).toEqual([team.keyId]);
    expect((await emu.team(team.id).journal.list()).length).toBe(1);
    expect((await emu.teams.list()).map((t) => t.id)).toEqual(['default', team.id]);
    await emu.teams.delete(team.id);
    expect((await emu.teams.list()).map((t) => t.id)).toEqual(['default']);
  });

  it('throws EmulatorControlError with the status and ErrorResponse of a refusal', async () => {
    const emu = await start();
    const refused = await emu.clock.set('2001-01-01T00:00:00Z').catch((err: unknown) => err);
    expect(refused).toBeInstanceOf(EmulatorControlError);
    const error = refused as EmulatorControlError;
    expect(error.status).toBe(409);
    expect(error.errors[0]).toMatchObject({ status: '409', source: { pointer: '/now' } });
    expect(error.message).toBe(error.errors[0]!.detail);
    await expect(emu.faults.add({ path: 'nope', action: { status: 429 } })).rejects.toMatchObject({ status: 422 });
  });

  it('stop() closes the server, and a second stop() is the same promise', async () => {
    const emu = await startTestEmulator();
    const { baseUrl } = emu;
    expect((await fetch(`${baseUrl}/healthz`)).status).toBe(200);
    const stopping = emu.stop();
    expect(emu.stop()).toBe(stopping);
    await stopping;
    await expect(fetch(`${baseUrl}/healthz`)).rejects.toThrow();
  });
});
