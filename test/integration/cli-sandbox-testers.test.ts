/**
 * `asc-access sandbox-testers` in this process on a real data directory (docs/parity.md, "Sandbox
 * testers"): create (no password; a territory code in any case), list and delete, by id or email,
 * and the refusals: one line and exit 1 for what the team can't take, exit 2 for a command line
 * not understood.
 */
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { UUID } from '../helpers/api-errors.js';
import { jsonOutput, runCli } from '../helpers/cli.js';
import { databaseEnv, tempDir, testConfig } from '../helpers/harness.js';

const ISO = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const NO_STACK = /^\s+at /m;

describe('asc-access sandbox-testers', () => {
  let dir: string;
  let env: Record<string, string>;
  const made: Array<{ id: string; email: string }> = [];

  beforeAll(async () => {
    dir = tempDir('asc-cli-sandbox-');
    const config = testConfig({ dataDir: dir });
    env = databaseEnv(config);
    // what the server's first start does: only `serve` creates a database
    await (await openDatabase(config)).close();
  });
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  const create = (email: string, territory = 'USA', extra: string[] = []) =>
    runCli(
      ['sandbox-testers', 'create', '--first-name', 'Anne', '--last-name', 'Johnson', '--email', email, '--territory', territory, ...extra],
      env,
    );

  it('list says so when there is no tester', async () => {
    const run = await runCli(['sandbox-testers', 'list'], env);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe('the team has no sandbox testers\n');
    expect(jsonOutput(await runCli(['sandbox-testers', 'list', '--json'], env))).toStrictEqual({ sandboxTesters: [] });
  });

  it("create --json prints the tester with Apple's defaults; no password is asked for", async () => {
    const run = await create('anne@sandbox.example.com', 'usa', ['--json']);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const tester = jsonOutput(run);
    expect(tester).toStrictEqual({
      id: expect.stringMatching(UUID),
      firstName: 'Anne',
      lastName: 'Johnson',
      email: 'anne@sandbox.example.com',
      territory: 'USA',
      applePayCompatible: true,
      interruptPurchases: false,
      subscriptionRenewalRate: 'MONTHLY_RENEWAL_EVERY_FIVE_MINUTES',
      createdAt: expect.stringMatching(ISO),
    });
    made.push(tester);
    const password = await runCli(
      [
        'sandbox-testers',
        'create',
        '--first-name',
        'A',
        '--last-name',
        'B',
        '--email',
        'p@x.example.com',
        '--territory',
        'USA',
        '--password',
        'x',
      ],
      env,
    );
    expect(password.code).toBe(2);
    expect(password.stderr).toBe(
      "asc-access: unknown option '--password' for 'sandbox-testers create' (see 'asc-access sandbox-testers create --help')\n",
    );
  });

  it('create prints plain lines without --json; list shows every tester by id', async () => {
    const run = await create('Ben.Tester@Sandbox.example.com', 'JPN');
    expect(run.code).toBe(0);
    const id = /^id: {9}(\S+)$/m.exec(run.stdout)?.[1];
    expect(id).toMatch(UUID);
    expect(run.stdout).toBe(`sandbox tester created\nid:         ${id}\nemail:      Ben.Tester@Sandbox.example.com\nterritory:  JPN\n`);
    made.push({ id: id!, email: 'Ben.Tester@Sandbox.example.com' });
    const list = await runCli(['sandbox-testers', 'list'], env);
    expect(list.code).toBe(0);
    expect(list.stdout).toBe(
      `${made[0]!.id}  anne@sandbox.example.com  Anne Johnson  USA\n${id}  Ben.Tester@Sandbox.example.com  Anne Johnson  JPN\n`,
    );
    const json = jsonOutput(await runCli(['sandbox-testers', 'list', '--json'], env));
    expect(json.sandboxTesters.map((t: { id: string }) => t.id)).toEqual(made.map((t) => t.id));
  });

  describe('refuses with one line and a non-zero exit', () => {
    const refusal = async (args: string[], code: number, message: string) => {
      const run = await runCli(args, env);
      expect(run.code).toBe(code);
      expect(run.stderr).toBe(`asc-access: ${message}\n`);
      expect(run.stderr).not.toMatch(NO_STACK);
      return run;
    };

    it('an unknown territory, a bad email and an empty name, all at once (and as JSON)', async () => {
      const run = await refusal(
        ['sandbox-testers', 'create', '--first-name', ' ', '--last-name', 'L', '--email', 'not-an-email', '--territory', 'XYZ', '--json'],
        1,
        "You must provide a value for the attribute 'firstName' with this request; 'not-an-email' is not a valid email address; " +
          "'XYZ' is not a territory code (such as USA, CAN or GBR)",
      );
      expect(jsonOutput(run).error).toMatch(/^You must provide a value/);
    });

    it('an email a tester has already, in any case', async () => {
      await refusal(
        ['sandbox-testers', 'create', '--first-name', 'A', '--last-name', 'B', '--email', 'ANNE@sandbox.example.com', '--territory', 'USA'],
        1,
        "A sandbox tester with the email 'ANNE@sandbox.example.com' exists already",
      );
    });

    it('a missing --territory, and delete without a tester', async () => {
      await refusal(
        ['sandbox-testers', 'create', '--first-name', 'A', '--last-name', 'B', '--email', 'c@sandbox.example.com'],
        2,
        "required option '--territory <code>' not specified (see 'asc-access sandbox-testers create --help')",
      );
      await refusal(
        ['sandbox-testers', 'delete'],
        2,
        "missing required argument 'ID_OR_EMAIL' (see 'asc-access sandbox-testers delete --help')",
      );
      await refusal(['sandbox-testers', 'delete', 'nobody'], 1, "There is no sandbox tester with the id 'nobody'");
      await refusal(
        ['sandbox-testers', 'delete', 'nobody@example.com'],
        1,
        "There is no sandbox tester with the email 'nobody@example.com'",
      );
    });

    it('a data directory without a database', async () => {
      const empty = tempDir('asc-cli-sandbox-empty-');
      try {
        const run = await runCli(['sandbox-testers', 'list'], databaseEnv(testConfig({ dataDir: empty })));
        expect(run.code).toBe(1);
        expect(run.stderr).toMatch(
          /^asc-access: no asc-access database at .*; start the server once, or (set ASC_DATA_DIR|check ASC_DATABASE_URL)\n$/,
        );
      } finally {
        rmSync(empty, { recursive: true, force: true });
      }
    });
  });

  it('delete by id or by email (any case); the email is free again', async () => {
    const byId = await runCli(['sandbox-testers', 'delete', made[0]!.id, '--json'], env);
    expect(byId.code).toBe(0);
    expect(jsonOutput(byId).deleted).toMatchObject({ id: made[0]!.id, email: 'anne@sandbox.example.com' });
    const byEmail = await runCli(['sandbox-testers', 'delete', 'ben.tester@sandbox.example.com'], env);
    expect(byEmail.code).toBe(0);
    expect(byEmail.stdout).toBe(`sandbox tester deleted: ${made[1]!.id}  Ben.Tester@Sandbox.example.com\n`);
    expect(jsonOutput(await runCli(['sandbox-testers', 'list', '--json'], env))).toStrictEqual({ sandboxTesters: [] });
    const again = await create('anne@sandbox.example.com');
    expect(again.code).toBe(0);
  });

  it('the group alone prints its help with create, list and delete', async () => {
    const run = await runCli(['sandbox-testers'], env);
    expect(run.code).toBe(1);
    expect(run.stdout.startsWith('Usage: asc-access sandbox-testers [options] [command]\n')).toBe(true);
    for (const sub of ['create', 'list', 'delete']) expect(run.stdout).toMatch(new RegExp(`^  ${sub}`, 'm'));
    const root = await runCli([], env);
    expect(root.stdout).toMatch(/^ {2}sandbox-testers /m);
  });
});
