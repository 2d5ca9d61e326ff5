/**
 * `asc-access emulator ...` against a real running emulator (started with asc-access/testing):
 * every control from the command line, human and --json output, the emulator's refusals printed as
 * their detail with exit 1, and where it finds the emulator (--url, ASC_EMULATOR_URL, PORT) and
 * its token (--token, ASC_EMULATOR_TOKEN).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Emulator } from '../../src/testing/index.js';
import { completion, jsonOutput, runCli, startCli, type CliRun } from '../helpers/cli.js';
import { startEmulatorServer } from '../helpers/emulator-server.js';
import { emulatorSchemaErrors } from '../helpers/emulator-spec.js';
import { freePort } from '../helpers/smtp-sink.js';
import { startTestEmulator } from '../helpers/test-emulator.js';

let emu: Emulator;
let dir: string;

/** `asc-access emulator <args>` pointed at the emulator by ASC_EMULATOR_URL. */
const cli = (args: string[], env: Record<string, string> = {}) => runCli(['emulator', ...args], { ASC_EMULATOR_URL: emu.baseUrl, ...env });

async function ok(args: string[], env?: Record<string, string>): Promise<CliRun> {
  const ran = await cli(args, env);
  expect(ran.code, `emulator ${args.join(' ')}\n${ran.stdout}${ran.stderr}`).toBe(0);
  expect(ran.stderr).toBe('');
  return ran;
}

async function refused(args: string[], detail: string | RegExp, env?: Record<string, string>): Promise<CliRun> {
  const ran = await cli(args, env);
  expect(ran.code, ran.stdout + ran.stderr).toBe(1);
  expect(ran.stderr).toMatch(typeof detail === 'string' ? `asc-access: ${detail}` : detail);
  expect(ran.stderr).not.toContain('    at ');
  return ran;
}

async function invite(email: string): Promise<string> {
  const res = await fetch(`${emu.baseUrl}/v1/userInvitations`, {
    method: 'POST',
    headers: { authorization: `Bearer ${await emu.token()}`, 'content-type': 'application/json' },
    body: JSON.stringify({
      data: { type: 'userInvitations', attributes: { email, firstName: 'Cli', lastName: 'Example', roles: ['DEVELOPER'] } },
    }),
  });
  expect(res.status, await res.clone().text()).toBe(201);
  return ((await res.json()) as { data: { id: string } }).data.id;
}

beforeAll(async () => {
  emu = await startTestEmulator();
  dir = mkdtempSync(path.join(tmpdir(), 'asc-cli-emulator-'));
});

afterAll(async () => {
  await emu?.stop();
  if (dir) rmSync(dir, { recursive: true, force: true });
});

describe('asc-access emulator', () => {
  it('clock: show, advance, set; an earlier instant is refused with the detail', async () => {
    expect((await ok(['clock'])).stdout).toMatch(/^\d{4}-\d\d-\d\dT.* \(the wall clock's time\)\n$/);
    const shown = jsonOutput(await ok(['clock', 'show', '--json']));
    expect(emulatorSchemaErrors('Clock', shown)).toEqual([]);
    expect(shown.offsetMs).toBe(0);
    const advanced = await ok(['clock', 'advance', '72h']);
    expect(advanced.stdout).toMatch(/ \(3d ahead of the wall clock\)\n$/);
    const bigger = jsonOutput(await ok(['clock', 'advance', '1d2h', '--json']));
    expect(bigger.offsetMs).toBe((72 + 26) * 3_600_000);
    const target = new Date(Date.parse(bigger.now) + 86_400_000).toISOString();
    const set = jsonOutput(await ok(['clock', 'set', target, '--json']));
    expect(Date.parse(set.now)).toBeGreaterThanOrEqual(Date.parse(target));
    expect((await emu.clock.now()).getTime()).toBeGreaterThanOrEqual(Date.parse(target));
    await refused(['clock', 'set', '2001-01-01T00:00:00Z'], /^asc-access: .+\n$/);
    await refused(['clock', 'advance', 'soon'], /^asc-access: .+\n$/);
  });

  it('mail, accept and decline by email or id', async () => {
    const a = await invite('cli.a@example.com');
    const b = await invite('cli.b@example.com');
    const list = await ok(['mail', 'list']);
    const lines = list.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toContain('cli.a@example.com');
    expect(lines[0]).toMatch(/ http\S*\/activate\/\S+$/);
    const toB = jsonOutput(await ok(['mail', 'list', '--to', 'CLI.B@example.com', '--json']));
    expect(toB.data).toHaveLength(1);
    expect(emulatorSchemaErrors('Message', toB.data[0])).toEqual([]);
    expect(toB.data[0].invitationId).toBe(b);
    const shown = await ok(['mail', 'show', toB.data[0].id]);
    expect(shown.stdout).toContain(`invitationId:   ${b}`);
    expect(shown.stdout).toContain(toB.data[0].text);

    const accepted = jsonOutput(await ok(['accept', 'cli.a@example.com', '--json']));
    expect(accepted).toEqual({ userId: expect.any(String), invitationId: a });
    expect((await ok(['decline', b])).stdout).toBe(`declined: ${b}\n`);
    await refused(['accept', a], /^asc-access: .+\n$/);
    await refused(['decline', 'nobody@example.com'], /^asc-access: .+\n$/);

    expect((await ok(['mail', 'clear'])).stdout).toBe('mail cleared\n');
    expect((await ok(['mail'])).stdout).toBe('no mail\n');
    await refused(['mail', 'show', 'no-such-message'], /^asc-access: .+\n$/);
  });

  it('export, reset and import round-trip the state; reset --keep', async () => {
    await invite('cli.state@example.com');
    const exported = await ok(['export']);
    const document = JSON.parse(exported.stdout);
    expect(emulatorSchemaErrors('StateDocument', document)).toEqual([]);
    expect(document).toEqual(await emu.state.export());
    const file = path.join(dir, 'state.json');
    writeFileSync(file, exported.stdout);

    expect((await ok(['reset'])).stdout).toBe('team default reset\n');
    const empty = await emu.state.export();
    expect([empty.apiKeys, empty.invitations, empty.users]).toEqual([[], [], []]);
    expect((await ok(['import', file])).stdout).toBe(`imported ${file} into team default\n`);
    expect(JSON.parse((await ok(['export'])).stdout)).toEqual(document);

    expect((await ok(['reset', '--keep', 'apiKeys,apps'])).stdout).toBe('team default reset (kept apiKeys, apps)\n');
    const kept = await emu.state.export();
    expect(kept.apiKeys).toEqual(document.apiKeys);
    expect(kept.invitations).toEqual([]);
    const wrong = await cli(['reset', '--keep', 'users']);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toContain('--keep takes apiKeys and apps, not users');

    const bad = path.join(dir, 'bad.json');
    writeFileSync(bad, JSON.stringify({ format: 'asc-access-state/1', apps: [{ name: 'A' }] }));
    await refused(['import', bad], /^asc-access: .+\n$/);
    writeFileSync(bad, '{ not json');
    await refused(['import', bad], `${bad} is not JSON`);
    await refused(['import', path.join(dir, 'missing.json')], `cannot read ${path.join(dir, 'missing.json')}`);
  });

  it('faults: add (status, delay, drop), list, remove, clear; the API answers the fault', async () => {
    const added = jsonOutput(
      await ok(['faults', 'add', '--method', 'GET', '--path', '/v1/users*', '--status', '429', '--times', '1', '--json']),
    );
    expect(emulatorSchemaErrors('FaultRule', added)).toEqual([]);
    expect(added).toMatchObject({ method: 'GET', path: '/v1/users*', action: { status: 429 }, times: 1, remaining: 1 });
    const res = await fetch(`${emu.baseUrl}/v1/users`, { headers: { authorization: `Bearer ${await emu.token()}` } });
    expect(res.status).toBe(429);
    expect(res.headers.get('x-rate-limit')).toMatch(/user-hour-rem:0/);
    expect((await ok(['faults', 'list'])).stdout).toBe(`${added.id}  GET /v1/users*  status 429  0 of 1 left  hits 1\n`);

    const delay = jsonOutput(await ok(['faults', 'add', '--path', '/v1/apps', '--delay-ms', '5', '--share', '0.5', '--json']));
    expect(delay).toMatchObject({ method: '*', action: { delayMs: 5 }, share: 0.5, times: null });
    const drop = jsonOutput(await ok(['faults', 'add', '--path', '/v1/*', '--drop', '--json']));
    expect(drop.action).toEqual({ drop: true });
    expect((await ok(['faults', 'list'])).stdout.trimEnd().split('\n')).toEqual([
      `${added.id}  GET /v1/users*  status 429  0 of 1 left  hits 1`,
      `${delay.id}  * /v1/apps  delay 5 ms  every time  share 0.5  hits 0`,
      `${drop.id}  * /v1/*  drop  every time  hits 0`,
    ]);
    expect((await ok(['faults', 'remove', drop.id])).stdout).toBe(`removed ${drop.id}\n`);
    await refused(['faults', 'remove', drop.id], /^asc-access: .+\n$/);
    expect((await ok(['faults', 'clear'])).stdout).toBe('fault rules cleared\n');
    expect(jsonOutput(await ok(['faults', 'list', '--json']))).toEqual({ data: [] });

    // refused by the emulator (a path not starting with /) and by the CLI itself
    await refused(['faults', 'add', '--path', 'v1', '--status', '500'], /^asc-access: .*'path'.*\n$/);
    const usage = await cli(['faults', 'add', '--path', '/v1/*']);
    expect(usage.code).toBe(2);
    expect(usage.stderr).toContain('--status, --delay-ms or --drop');
    expect((await cli(['faults', 'add', '--path', '/v1/*', '--status', '429', '--drop'])).code).toBe(2);
  });

  it('journal: filtered list, human and JSON; clear', async () => {
    await ok(['journal', 'clear']);
    const token = await emu.token();
    await fetch(`${emu.baseUrl}/v1/apps?limit=1`, { headers: { authorization: `Bearer ${token}` } });
    await fetch(`${emu.baseUrl}/v1/users`, { headers: { authorization: 'Bearer nonsense' } });
    const all = jsonOutput(await ok(['journal', '--json']));
    expect(all.data.map((e: { path: string; status: number }) => [e.path, e.status])).toEqual([
      ['/v1/apps', 200],
      ['/v1/users', 401],
    ]);
    for (const entry of all.data) expect(emulatorSchemaErrors('JournalEntry', entry)).toEqual([]);
    const human = await ok(['journal', 'list', '--status', '200']);
    expect(human.stdout).toMatch(new RegExp(`^\\d+  \\S+  GET  /v1/apps\\?limit=1  200  ${emu.keyId}\\n$`));
    const byKey = jsonOutput(await ok(['journal', '--key-id', emu.keyId, '--method', 'get', '--path', '/v1/*', '--limit', '5', '--json']));
    expect(byKey.data.map((e: { path: string }) => e.path)).toEqual(['/v1/apps']);
    expect((await ok(['journal', 'clear'])).stdout).toBe('journal cleared\n');
    expect(jsonOutput(await ok(['journal', 'clear', '--json']))).toEqual({ cleared: 'journal', team: 'default' });
    expect((await ok(['journal'])).stdout).toBe('no requests\n');
  });

  it('teams: create (with a seed), list, act on one with --team, delete', async () => {
    const seed = path.join(dir, 'seed.json');
    writeFileSync(
      seed,
      JSON.stringify({ format: 'asc-access-state/1', apps: [{ name: 'Seeded', bundleId: 'com.example.seeded', sku: 'S1' }] }),
    );
    const created = jsonOutput(await ok(['teams', 'create', '--seed', seed, '--json']));
    expect(emulatorSchemaErrors('CreatedTeam', created)).toEqual([]);
    expect(created.privateKey).toContain('PRIVATE KEY');
    const human = await ok(['teams', 'list']);
    expect(human.stdout).toContain(`${created.id}  ${created.issuerId}  `);
    expect(human.stdout.split('\n')[0]).toMatch(/^default {2}/);
    const state = JSON.parse((await ok(['export', '--team', created.id])).stdout);
    expect(state.apps.map((a: { name: string }) => a.name)).toEqual(['Seeded']);
    expect(state.team.issuerId).toBe(created.issuerId);
    await ok(['clock', 'advance', '1h', '--team', created.id]);
    expect(jsonOutput(await ok(['clock', '--json', '--team', created.id])).offsetMs).toBeGreaterThanOrEqual(3_600_000);
    expect((await ok(['teams', 'delete', created.id])).stdout).toBe(`team ${created.id} deleted\n`);
    await refused(['clock', '--team', created.id], /^asc-access: .+\n$/);
    await refused(['teams', 'delete', 'default'], /^asc-access: .+\n$/);
  });

  it('finds the emulator by --url, ASC_EMULATOR_URL or PORT, and says when it cannot', async () => {
    const port = new URL(emu.baseUrl).port;
    expect((await runCli(['emulator', 'clock'], { PORT: port })).code).toBe(0);
    expect((await runCli(['emulator', 'clock', '--url', emu.baseUrl], { ASC_EMULATOR_URL: 'http://127.0.0.1:1' })).code).toBe(0);
    const closed = await freePort();
    const unreachable = await runCli(['emulator', 'clock'], { ASC_EMULATOR_URL: `http://127.0.0.1:${closed}` });
    expect(unreachable.code).toBe(1);
    expect(unreachable.stderr).toMatch(new RegExp(`^asc-access: cannot reach the emulator at http://127.0.0.1:${closed}: .+\\n$`));
    const json = await runCli(['emulator', 'mail', 'list', '--json'], { ASC_EMULATOR_URL: `http://127.0.0.1:${closed}` });
    expect(JSON.parse(json.stdout)).toEqual({ error: expect.stringContaining('cannot reach the emulator') });
    const bad = await runCli(['emulator', 'clock', '--url', 'ftp://example.com'], {});
    expect(bad.code).toBe(2);
  });

  it('import - reads the document from the standard input (the built CLI as a process)', async () => {
    await invite('cli.stdin@example.com');
    const document = await emu.state.export();
    await emu.state.reset();
    const child = startCli(['emulator', 'import', '-'], { ASC_EMULATOR_URL: emu.baseUrl });
    child.stdin.end(JSON.stringify(document));
    const ran = await completion(child);
    expect(ran, ran.stderr).toMatchObject({ code: 0, stdout: 'imported the standard input into team default\n', stderr: '' });
    expect(await emu.state.export()).toEqual(document);
  });

  it('against a server without the emulator: says to turn it on', async () => {
    const off = await startEmulatorServer({ emulator: false });
    try {
      const ran = await runCli(['emulator', 'clock'], { ASC_EMULATOR_URL: off.base });
      expect(ran.code).toBe(1);
      expect(ran.stderr).toMatch(/^asc-access: .*\(is the emulator on\? ASC_EMULATOR=1 or serve --emulator\)\n$/);
    } finally {
      await off.close();
    }
  });

  it('with ASC_EMULATOR_TOKEN: refused without it, served with --token or the variable', async () => {
    const guarded = await startTestEmulator({ env: { ASC_EMULATOR_TOKEN: 'cli-test-token-0123456789' } });
    try {
      const env = { ASC_EMULATOR_URL: guarded.baseUrl };
      const without = await runCli(['emulator', 'teams', 'list'], env);
      expect(without.code).toBe(1);
      expect(without.stderr).toMatch(/ASC_EMULATOR_TOKEN/);
      const wrong = await runCli(['emulator', 'teams', 'list', '--token', 'not-it'], env);
      expect(wrong.code).toBe(1);
      expect((await runCli(['emulator', 'teams', 'list', '--token', 'cli-test-token-0123456789'], env)).code).toBe(0);
      expect((await runCli(['emulator', 'clock'], { ...env, ASC_EMULATOR_TOKEN: 'cli-test-token-0123456789' })).code).toBe(0);
    } finally {
      await guarded.stop();
    }
  });
});
