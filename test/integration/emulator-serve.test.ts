/**
 * `asc-access serve --emulator` as a real process: the controls answer, the log says loudly that
 * they are on, SIGTERM stops it (every team with it); a refused ASC_SEED_FILE stops the start with
 * one line.
 */
import { rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { afterAll, describe, expect, it } from 'vitest';
import { STATE_FORMAT } from '../../src/emulator/state.js';
import { completion, startCli } from '../helpers/cli.js';
import { databaseEnv, schemaFor, tempDir, TEST_DIALECT, TEST_PG_URL, testConfig } from '../helpers/harness.js';
import { freePort } from '../helpers/smtp-sink.js';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
  if (TEST_DIALECT !== 'postgres') return;
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    for (const d of dirs) await client.query(`drop schema if exists "${schemaFor(d)}" cascade`);
  } finally {
    await client.end();
  }
});

describe('serve --emulator', () => {
  it('turns the controls on and warns in the log; SIGTERM stops it', async () => {
    const dir = tempDir('asc-serve-emulator-');
    dirs.push(dir);
    const port = await freePort();
    const child = startCli(['serve', '--emulator'], { ...databaseEnv(testConfig({ dataDir: dir })), PORT: String(port) });
    const done = completion(child);
    let stdout = '';
    child.stdout.on('data', (d: Buffer | string) => (stdout += String(d)));
    await new Promise<void>((resolve, reject) => {
      const check = () => {
        if (stdout.includes('first start')) resolve();
      };
      child.stdout.on('data', check);
      child.once('exit', () => reject(new Error(`serve exited:\n${stdout}`)));
    });
    const probe = await fetch(`http://127.0.0.1:${port}/_emulator/v1`);
    expect(probe.status).toBe(200);
    expect(await probe.json()).toMatchObject({ emulator: true, teams: 1 });
    const team = await fetch(`http://127.0.0.1:${port}/_emulator/v1/teams`, { method: 'POST' });
    expect(team.status).toBe(201);
    const warn = stdout
      .split('\n')
      .filter((l) => l.startsWith('{'))
      .map((l) => JSON.parse(l) as { level: number; msg: string })
      .find((l) => l.level === 40);
    expect(warn?.msg).toMatch(/^THE EMULATOR IS ON/);
    child.kill('SIGTERM');
    expect((await done).code).toBe(0);
  });

  it('a seed file that is refused stops the start with one line naming where', async () => {
    const dir = tempDir('asc-serve-seed-');
    dirs.push(dir);
    const file = path.join(dir, 'seed.json');
    writeFileSync(
      file,
      JSON.stringify({ format: STATE_FORMAT, users: [{ username: 'not-an-email', firstName: 'A', lastName: 'B', roles: ['DEVELOPER'] }] }),
    );
    const port = await freePort();
    const run = await completion(
      startCli(['serve', '--emulator'], { ...databaseEnv(testConfig({ dataDir: dir })), PORT: String(port), ASC_SEED_FILE: file }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^asc-access: Invalid configuration: ASC_SEED_FILE \S+seed\.json is refused at '\/users\/0\/username': [^\n]+\n$/,
    );
  });
});
