/**
 * The emulator's teams over real HTTP: isolated apps on databases of their own, reached by the
 * token's issuer (or an individual key's id) and by activation tokens; created with a fresh key or
 * from a seed, deleted with their files. And ASC_SEED_FILE, applied at start to an empty database.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError } from '../../src/config.js';
import { STATE_FORMAT } from '../../src/emulator/state.js';
import { mintToken } from '../../src/keys/token.js';
import { startServer } from '../../src/server.js';
import { oneError, startEmulatorServer, type EmulatorServer, type Key } from '../helpers/emulator-server.js';
import { invitationBody, testConfig } from '../helpers/harness.js';

function privateKeyPem(): string {
  return generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
}

interface Created extends Key {
  id: string;
}

describe('teams on one emulator', () => {
  let s: EmulatorServer;
  let a: Created;
  let b: Created;
  beforeAll(async () => {
    s = await startEmulatorServer();
    const made = await Promise.all([s.control('POST', '/teams', {}), s.control('POST', '/teams')]);
    for (const res of made) expect(res.status, res.text).toBe(201);
    [a, b] = made.map((res) => res.body as Created) as [Created, Created];
  });
  afterAll(() => s.close());

  const teamOf = (t: Created) => s.server.emulator!.get(t.id)!;

  it('a new team has its own issuer id and an ADMIN key, and is listed', async () => {
    expect(a).toMatchObject({ id: expect.stringMatching(/^team-[0-9a-f]{10}$/), keyId: expect.any(String) });
    expect(a.privateKey).toMatch(/^-----BEGIN PRIVATE KEY-----/);
    expect(new Set([a.issuerId, b.issuerId, s.server.emulator!.defaultTeam.issuerId]).size).toBe(3);
    const listed = await s.control('GET', '/teams');
    // made at the same time: listed in the order they were ready
    expect(listed.body.data.map((t: any) => t.id).sort()).toEqual(['default', a.id, b.id].sort());
    expect(listed.body.data.find((t: any) => t.id === a.id)).toEqual({
      id: a.id,
      issuerId: a.issuerId,
      createdAt: expect.stringMatching(/^\d{4}-/),
    });
    expect((await s.control('GET', '')).body.teams).toBe(3);
    expect((await s.api(a, 'GET', '/v1/apps')).status).toBe(200);
  });

  it('two teams driven in parallel see only their own invitations, users, faults, journal and clock', async () => {
    await Promise.all([s.control('DELETE', `/teams/${a.id}/journal`), s.control('DELETE', `/teams/${b.id}/journal`)]);
    const emails = ['same@example.com', 'second@example.com', 'third@example.com'];
    const [inA, inB] = await Promise.all(
      [a, b].map(async (team) => {
        const ids: string[] = [];
        for (const email of emails) {
          const res = await s.api(team, 'POST', '/v1/userInvitations', invitationBody({ email }));
          expect(res.status, res.text).toBe(201);
          ids.push(res.body.data.id);
        }
        return ids;
      }),
    );
    const [listA, listB] = await Promise.all([s.api(a, 'GET', '/v1/userInvitations'), s.api(b, 'GET', '/v1/userInvitations')]);
    expect(listA.body.data.map((i: any) => i.id).sort()).toEqual([...inA!].sort());
    expect(listB.body.data.map((i: any) => i.id).sort()).toEqual([...inB!].sort());
    // the default team saw none of it
    const key = await s.defaultKey();
    expect((await s.api(key, 'GET', '/v1/userInvitations')).body.data).toEqual([]);

    // an activation page goes to the team that knows its token; accepting it there makes A's user only
    const [mail] = await teamOf(a).built.services.outbox.forInvitation(inA![0]!);
    const page = new URL(mail!.activation_link!).pathname;
    const opened = await s.request('GET', page);
    expect(opened.status).toBe(200);
    expect(opened.text).toContain('same@example.com');
    const accepted = await teamOf(a).built.services.activation.accept(page.split('/').pop()!);
    expect(accepted.state).toBe('accepted');
    const [usersA, usersB] = await Promise.all([s.api(a, 'GET', '/v1/users'), s.api(b, 'GET', '/v1/users')]);
    expect(usersA.body.data.map((u: any) => u.attributes.username)).toEqual(['same@example.com']);
    expect(usersB.body.data).toEqual([]);

    // an individual key's token (no issuer) goes to the team holding the key
    const individual = await teamOf(a).built.services.keys.createIndividual({
      name: 'own key',
      userId: (accepted as { userId: string }).userId,
    });
    const individualToken = await mintToken({ privateKeyPem: individual.privateKeyPem, keyId: individual.key.id });
    expect((await s.request('GET', '/v1/apps', { headers: { authorization: `Bearer ${individualToken}` } })).status).toBe(200);

    // each team's mail holds its own invitations' messages; B's invitee accepts through B's controls
    const [mailA, mailB] = await Promise.all([s.control('GET', `/teams/${a.id}/mail`), s.control('GET', `/teams/${b.id}/mail`)]);
    expect(mailA.body.data.map((m: any) => m.invitationId).sort()).toEqual([...inA!].sort());
    expect(mailB.body.data.map((m: any) => m.invitationId).sort()).toEqual([...inB!].sort());
    const sameInB = await s.control('GET', `/teams/${b.id}/mail?to=SAME@example.com`);
    expect(sameInB.body.data.map((m: any) => m.invitationId)).toEqual([inB![0]]);
    const acceptedInB = await s.control('POST', `/teams/${b.id}/invitations/second@example.com/accept`);
    expect(acceptedInB.status, acceptedInB.text).toBe(200);
    expect(acceptedInB.body.invitationId).toBe(inB![1]);
    const usersOfB = await s.api(b, 'GET', '/v1/users');
    expect(usersOfB.body.data.map((u: any) => u.id)).toEqual([acceptedInB.body.userId]);
    expect((await s.api(a, 'GET', `/v1/userInvitations/${inA![1]}`)).status).toBe(200);
    oneError(await s.control('POST', `/teams/${a.id}/invitations/${inB![2]}/accept`), 404, 'NOT_FOUND');

    // faults of A leave B alone
    const fault = await s.control('POST', `/teams/${a.id}/faults`, { path: '/v1/users', action: { status: 500 } });
    expect(fault.status).toBe(201);
    oneError(await s.api(a, 'GET', '/v1/users'), 500, 'UNEXPECTED_ERROR');
    expect((await s.api(b, 'GET', '/v1/users')).status).toBe(200);
    expect((await s.control('GET', `/teams/${b.id}/faults`)).body.data).toEqual([]);
    await s.control('DELETE', `/teams/${a.id}/faults`);

    // each journal holds its own team's requests only
    const [journalA, journalB] = await Promise.all([
      s.control('GET', `/teams/${a.id}/journal`),
      s.control('GET', `/teams/${b.id}/journal`),
    ]);
    expect(new Set(journalA.body.data.map((e: any) => e.keyId))).toEqual(new Set([a.keyId, individual.key.id]));
    expect(new Set(journalB.body.data.map((e: any) => e.keyId))).toEqual(new Set([b.keyId]));
    expect(journalB.body.data.filter((e: any) => e.method === 'POST')).toHaveLength(3);
    expect(new Set(journalB.body.data.map((e: any) => e.path))).toEqual(new Set(['/v1/userInvitations', '/v1/users']));

    // A's clock moves, B's does not
    const moved = await s.control('POST', `/teams/${a.id}/clock/advance`, { by: '72h' });
    expect(moved.body.offsetMs).toBe(72 * 3_600_000);
    expect((await s.control('GET', `/teams/${b.id}/clock`)).body.offsetMs).toBe(0);
    oneError(await s.api(a, 'GET', `/v1/userInvitations/${inA![1]}`), 410, 'GONE');
    expect((await s.api(b, 'GET', `/v1/userInvitations/${inB![2]}`)).status).toBe(200);
  });

  it("a token with one team's issuer and another team's key is 401", async () => {
    oneError(await s.api({ ...b, issuerId: a.issuerId }, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
    oneError(await s.api({ ...a, issuerId: b.issuerId }, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
    const key = await s.defaultKey();
    oneError(await s.api({ ...key, issuerId: a.issuerId }, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
    oneError(await s.api({ ...a, issuerId: key.issuerId }, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
    // an unknown issuer goes to the default team, which does not know it
    oneError(await s.api({ ...a, issuerId: '00000000-0000-4000-8000-000000000000' }, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
  });

  it('a team made from a seed: its key, its issuer; a seed naming a taken issuer is 409, a bad one 422', async () => {
    const privateKey = privateKeyPem();
    const issuerId = '5d1f0c2e-8a4b-4c6d-9e7f-0a1b2c3d4e5f';
    const seed = {
      format: STATE_FORMAT,
      team: { issuerId },
      apiKeys: [{ id: 'SEEDED0001', name: 'Seeded', role: 'ADMIN', privateKey }],
      apps: [{ name: 'Seeded App', bundleId: 'com.example.seeded', sku: 'SEEDED' }],
    };
    const made = await s.control('POST', '/teams', { seed });
    expect(made.status, made.text).toBe(201);
    expect(made.body).toMatchObject({ issuerId, keyId: 'SEEDED0001', privateKey });
    const apps = await s.api(made.body, 'GET', '/v1/apps');
    expect(apps.body.data.map((x: any) => x.attributes.name)).toEqual(['Seeded App']);

    const taken = oneError(await s.control('POST', '/teams', { seed: { ...seed, apiKeys: [] } }), 409, 'ENTITY_ERROR');
    expect(taken.source).toEqual({ pointer: '/seed/team/issuerId' });
    const bad = oneError(
      await s.control('POST', '/teams', { seed: { format: STATE_FORMAT, apps: [{ name: 'x' }] } }),
      422,
      'ENTITY_UNPROCESSABLE',
    );
    expect(bad.source?.pointer).toMatch(/^\/seed\/apps\/0/);
    // importing another team's issuer into a team is refused too
    const importTaken = oneError(
      await s.control('PUT', `/teams/${b.id}/state`, { format: STATE_FORMAT, team: { issuerId } }),
      409,
      'ENTITY_ERROR',
    );
    expect(importTaken.source).toEqual({ pointer: '/team/issuerId' });
    // a seed without keys gets a fresh one
    const keyless = await s.control('POST', '/teams', {
      seed: { format: STATE_FORMAT, apps: [{ name: 'Plain', bundleId: 'com.example.plain', sku: 'PLAIN' }] },
    });
    expect(keyless.status, keyless.text).toBe(201);
    expect((await s.api(keyless.body, 'GET', '/v1/apps')).body.data).toHaveLength(1);
    expect((await s.control('DELETE', `/teams/${made.body.id}`)).status).toBe(204);
    expect((await s.control('DELETE', `/teams/${keyless.body.id}`)).status).toBe(204);
  });

  it('an import that changes a team’s issuer id moves its requests with it', async () => {
    const made = await s.control('POST', '/teams');
    const exported = await s.control('GET', `/teams/${made.body.id}/state`);
    const issuerId = '6e2a1d3f-9b5c-4d7e-8f90-1b2c3d4e5f60';
    expect((await s.control('PUT', `/teams/${made.body.id}/state`, { ...exported.body, team: { issuerId } })).status).toBe(204);
    expect((await s.api({ ...made.body, issuerId }, 'GET', '/v1/apps')).status).toBe(200);
    oneError(await s.api(made.body, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
    expect((await s.control('GET', '/teams')).body.data.find((t: any) => t.id === made.body.id).issuerId).toBe(issuerId);
    expect((await s.control('DELETE', `/teams/${made.body.id}`)).status).toBe(204);
  });

  it('deleting a team closes it and removes its files; its tokens go to the default team', async () => {
    const made = await s.control('POST', '/teams');
    const dir = s.server.emulator!.directory(teamOf(made.body))!;
    expect(existsSync(dir)).toBe(true);
    expect((await s.api(made.body, 'GET', '/v1/apps')).status).toBe(200);
    expect((await s.control('DELETE', `/teams/${made.body.id}`)).status).toBe(204);
    expect(existsSync(dir)).toBe(false);
    oneError(await s.api(made.body, 'GET', '/v1/apps'), 401, 'NOT_AUTHORIZED');
    oneError(await s.control('GET', `/teams/${made.body.id}/clock`), 404, 'NOT_FOUND');
    oneError(await s.control('DELETE', `/teams/${made.body.id}`), 404, 'NOT_FOUND');
    expect((await s.control('GET', '/teams')).body.data.map((t: any) => t.id).sort()).toEqual(['default', a.id, b.id].sort());
  });

  it('closing the server closes every team and removes their files', async () => {
    const other = await startEmulatorServer();
    const made = await other.control('POST', '/teams');
    const dir = other.server.emulator!.directory(other.server.emulator!.get(made.body.id)!)!;
    expect(existsSync(dir)).toBe(true);
    await other.close();
    expect(existsSync(dir)).toBe(false);
  });
});

describe('ASC_SEED_FILE', () => {
  function seedFile(doc: unknown): string {
    const file = path.join(mkdtempSync(path.join(tmpdir(), 'asc-seed-')), 'seed.json');
    writeFileSync(file, JSON.stringify(doc));
    return file;
  }

  it('is applied at start to an empty database, with no first-start key; not again on a restart', async () => {
    const privateKey = privateKeyPem();
    const issuerId = '3a4b5c6d-7e8f-4a0b-9c1d-2e3f4a5b6c7d';
    const file = seedFile({
      format: STATE_FORMAT,
      team: { issuerId },
      apiKeys: [{ id: 'STARTKEY01', name: 'Start', role: 'ADMIN', privateKey }],
      apps: [{ name: 'From Seed', bundleId: 'com.example.fromseed', sku: 'FROMSEED' }],
    });
    const key: Key = { issuerId, keyId: 'STARTKEY01', privateKey };
    const first = await startEmulatorServer({ seedFile: file });
    let restarted: EmulatorServer | undefined;
    try {
      expect(first.printed).toEqual([]);
      expect(first.server.firstKey).toBeUndefined();
      expect((await first.api(key, 'GET', '/v1/apps')).body.data.map((x: any) => x.attributes.name)).toEqual(['From Seed']);
      await first.server.services.apps.create({ name: 'Added Later', bundleId: 'com.example.later', sku: 'LATER' });
      await first.close(true);
      restarted = await startEmulatorServer({ seedFile: file, dataDir: first.config.dataDir });
      expect(restarted.printed).toEqual([]);
      const apps = await restarted.api(key, 'GET', '/v1/apps');
      expect(apps.body.data.map((x: any) => x.attributes.name).sort()).toEqual(['Added Later', 'From Seed']);
    } finally {
      await (restarted ?? first).close();
    }
  });

  it('applies with the emulator off as well', async () => {
    const privateKey = privateKeyPem();
    const file = seedFile({ format: STATE_FORMAT, apiKeys: [{ id: 'OFFKEY0001', name: 'Off', role: 'ADMIN', privateKey }] });
    const s = await startEmulatorServer({ emulator: false, seedFile: file });
    try {
      const issuerId = (await s.server.services.keys.team()).issuerId;
      expect((await s.api({ issuerId, keyId: 'OFFKEY0001', privateKey }, 'GET', '/v1/apps')).status).toBe(200);
      expect(s.printed).toEqual([]);
    } finally {
      await s.close();
    }
  });

  it('a bad seed file stops the start with one line naming the JSON pointer', async () => {
    const file = seedFile({ format: STATE_FORMAT, apps: [{ name: 'No Bundle' }] });
    const config = testConfig({ emulator: true, seedFile: file });
    const failed = await startServer(config, { print: () => undefined }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect(failed).toBeInstanceOf(ConfigError);
    const message = (failed as Error).message;
    expect(message).not.toContain('\n');
    expect(message).toMatch(/^Invalid configuration: ASC_SEED_FILE .*seed\.json is refused at '\/apps\/0\/bundleId'/);

    const notJson = path.join(path.dirname(file), 'broken.json');
    writeFileSync(notJson, '{"format":');
    const broken = await startServer(testConfig({ seedFile: notJson }), { print: () => undefined }).then(
      () => undefined,
      (err: unknown) => err,
    );
    expect((broken as Error).message).toMatch(/ASC_SEED_FILE .*broken\.json is not a readable JSON file/);
  });
});
