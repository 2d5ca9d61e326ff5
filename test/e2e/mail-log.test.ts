/**
 * The embedded default (no ASC_SMTP_URL): `asc-access serve`, a real process, keeps each
 * invitation email in the database's mail log and writes its activation link to the server log
 * (stdout); after the server stopped, `asc-access mail list` and `mail show` (run in this process)
 * print the mail log.
 * Every wait is on the child's own output or exit, never a sleep.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UUID } from '../helpers/api-errors.js';
import { jsonOutput, runCli, startCli } from '../helpers/cli.js';
import { databaseEnv, tempDir, testConfig } from '../helpers/harness.js';

const PUBLIC = 'https://mail-log.example.test';
const LINK = new RegExp(`^${PUBLIC.replace(/\./g, '\\.')}/activate/[A-Za-z0-9_-]{43}$`);

/** A running child whose stdout is read line by line; waits resolve on a matching line. */
class Serving {
  readonly lines: string[] = [];
  stderr = '';
  private waiters: { test: (line: string) => boolean; resolve: (line: string) => void; reject: (e: Error) => void }[] = [];
  private exited: Promise<number | null>;

  constructor(readonly child: ChildProcessWithoutNullStreams) {
    let partial = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      const parts = (partial + d).split('\n');
      partial = parts.pop()!;
      for (const line of parts) this.push(line);
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (this.stderr += d));
    this.exited = new Promise((resolve) => {
      child.on('close', (code) => {
        for (const w of this.waiters.splice(0))
          w.reject(new Error(`server exited (${code}) before the line came:\n${this.lines.join('\n')}\n${this.stderr}`));
        resolve(code);
      });
    });
  }

  private push(line: string): void {
    this.lines.push(line);
    for (const w of [...this.waiters]) {
      if (w.test(line)) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve(line);
      }
    }
  }

  /** The first line (already read or still to come) that passes `test`. */
  line(test: (line: string) => boolean): Promise<string> {
    const seen = this.lines.find(test);
    if (seen !== undefined) return Promise.resolve(seen);
    return new Promise((resolve, reject) => this.waiters.push({ test, resolve, reject }));
  }

  /** pino's JSON log lines */
  logs(): Record<string, unknown>[] {
    return this.lines.filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Record<string, unknown>);
  }

  stop(): Promise<number | null> {
    this.child.kill('SIGTERM');
    return this.exited;
  }
}

describe('the embedded mail log (no ASC_SMTP_URL)', () => {
  let dir: string;
  let env: Record<string, string>;
  let server: Serving | undefined;
  let baseUrl: string;
  let token: string;
  const links = new Map<string, string>();
  let listed: { id: string; recipient: string }[] = [];

  beforeAll(async () => {
    dir = tempDir('asc-mail-log-');
    env = {
      ...databaseEnv(testConfig({ dataDir: dir })),
      HOST: '127.0.0.1',
      PORT: '0',
      ASC_PUBLIC_URL: PUBLIC,
      LOG_LEVEL: 'info',
      ASC_TEAM_NAME: 'Mail Log Team',
    };
    server = new Serving(startCli(['serve'], env));
    const listening = await server.line((l) => l.includes('Server listening at'));
    baseUrl = /Server listening at (http:\/\/[^"\s]+)/.exec(listening)![1]!;
    // the first-start message prints a ready-made request with a token
    const curl = await server.line((l) => l.includes("curl -H 'Authorization: Bearer "));
    token = /Bearer ([^']+)'/.exec(curl)![1]!;
    // at start-up the server says where mail goes
    expect(server.logs().find((l) => typeof l.mail === 'string')?.mail).toMatch(/^the mail log in the database/);
  });

  afterAll(async () => {
    if (server && server.child.exitCode === null) await server.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  async function invite(email: string, firstName: string): Promise<void> {
    const res = await fetch(`${baseUrl}/v1/userInvitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({
        data: { type: 'userInvitations', attributes: { email, firstName, lastName: 'Example', roles: ['MARKETING'] } },
      }),
    });
    expect(res.status, await res.clone().text()).toBe(201);
    // the worker keeps the message and logs its link, with no mail server anywhere
    const line = await server!.line((l) => l.includes('"activationLink"') && l.includes(email));
    const entry = JSON.parse(line) as { level: number; to: string; activationLink: string; mailId: string; msg: string };
    expect(entry.level).toBe(30);
    expect(entry.to).toBe(email);
    expect(entry.activationLink).toMatch(LINK);
    expect(entry.mailId).toMatch(UUID);
    expect(entry.msg).toContain(entry.activationLink);
    links.set(email, entry.activationLink);
  }

  it('serve writes the activation link of each invitation to the server log', async () => {
    await invite('first@example.com', 'First');
    await invite('second@example.com', 'Second');
    expect(new Set(links.values()).size).toBe(2);
    expect(await server!.stop()).toBe(0);
    // each link was logged once
    for (const link of links.values()) expect(server!.logs().filter((l) => l.activationLink === link)).toHaveLength(1);
  });

  it('mail list --json prints the mail log, newest first', async () => {
    const run = await runCli(['mail', 'list', '--json'], env);
    expect(run.stderr).toBe('');
    expect(run.code).toBe(0);
    const { messages } = jsonOutput(run) as { messages: Record<string, unknown>[] };
    listed = messages as { id: string; recipient: string }[];
    expect(messages.map((m) => m.recipient)).toEqual(['second@example.com', 'first@example.com']);
    for (const m of messages) {
      expect(m).toStrictEqual({
        id: expect.stringMatching(UUID),
        invitationId: expect.stringMatching(UUID),
        recipient: m.recipient,
        subject: "You're invited to join Mail Log Team on App Store Connect",
        status: 'logged',
        attempts: 1,
        activationLink: links.get(m.recipient as string),
        createdAt: expect.any(String),
        sentAt: expect.any(String),
        nextAttemptAt: null,
        lastError: null,
      });
    }
  });

  it('mail list prints one line per message', async () => {
    const run = await runCli(['mail', 'list'], env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(
      /^[0-9a-f-]{36} {2}logged {5}attempts=1 {2}second@example\.com {2}"You're invited to join Mail Log Team on App Store Connect" {2}https:\/\//,
    );
    expect(lines[0]!.endsWith(links.get('second@example.com')!)).toBe(true);
    expect(lines[1]).toContain('first@example.com');
  });

  it('mail show ID prints every field and the text of the message', async () => {
    const first = listed.find((m) => m.recipient === 'first@example.com')!;
    const link = links.get('first@example.com')!;

    const asJson = await runCli(['mail', 'show', first.id, '--json'], env);
    expect(asJson.code).toBe(0);
    const shown = jsonOutput(asJson);
    expect(shown).toMatchObject({ id: first.id, recipient: 'first@example.com', status: 'logged', attempts: 1, activationLink: link });
    expect(shown.textBody).toContain('Dear First Example,');
    expect(shown.textBody).toContain('Roles: Marketing');
    expect(shown.textBody).toContain('Apps: All apps');
    expect(shown.textBody).toContain(link);
    expect(shown.htmlBody).toContain(`href="${link}"`);

    const human = await runCli(['mail', 'show', first.id], env);
    expect(human.code).toBe(0);
    expect(human.stdout).toContain(`id:             ${first.id}\n`);
    expect(human.stdout).toContain('recipient:      first@example.com\n');
    expect(human.stdout).toContain('status:         logged\n');
    expect(human.stdout).toContain('attempts:       1\n');
    expect(human.stdout).toContain(`activationLink: ${link}\n`);
    expect(human.stdout).toContain(`\n\n${shown.textBody}\n`);
  });

  it('mail show of an unknown id fails with a message; mail without a command prints its help', async () => {
    const unknown = await runCli(['mail', 'show', 'no-such-id'], env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("asc-access: there is no message with id 'no-such-id' in the mail log\n");
    const usage = await runCli(['mail'], env);
    expect(usage.code).toBe(1);
    expect(usage.stdout).toMatch(/^Usage: asc-access mail \[options\] \[command\]\n/);
    expect(usage.stdout).toMatch(/^ {2}list \[options\] /m);
    expect(usage.stdout).toMatch(/^ {2}show \[options\] <ID> /m);
  });
});
