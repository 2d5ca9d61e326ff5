/**
 * A server process killed with SIGKILL while it delivers mail, and started again on the same data
 * as the same instance: the messages its dead run had claimed go out at once, long before their
 * claims (10 minutes) would have run out, and each arrives once — except the one whose delivery
 * was under way at the kill, which the mail server had received but not yet acknowledged: that one
 * arrives twice, with the same Message-ID (at least once, docs/parity.md).
 * No sleeps: every wait is on the SMTP sink, an exit or a line of output.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, describe, expect, it } from 'vitest';
import { createServices } from '../../src/container.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';
import { startCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, testConfig } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';
import { freePort, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

// a server process takes seconds to start on a busy machine
const SLOW = { timeout: 120_000 };
const COUNT = 6;

interface Serving {
  child: ChildProcessWithoutNullStreams;
  output: () => string;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

/** `asc-access serve` as a process, resolved once it listens. */
async function serve(env: Record<string, string>): Promise<Serving> {
  const child = startCli(['serve'], { ...env, PORT: String(await freePort()) });
  let output = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  await new Promise<void>((resolve, reject) => {
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      output += d;
      if (output.includes('Server listening at')) resolve();
    });
    void exit.then((e) => reject(new Error(`the server exited (${JSON.stringify(e)}) before listening:\n${output}`)));
  });
  return { child, output: () => output, exit };
}

describe('a server killed with SIGKILL during delivery, then started again', SLOW, () => {
  const running: Serving[] = [];
  let sink: SmtpSink | undefined;
  let db: Db | undefined;
  let config: ReturnType<typeof testConfig>;
  afterEach(async () => {
    for (const s of running.splice(0)) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await s.exit;
    }
    await sink?.close();
    if (db) await dropDatabase(config, db);
  });

  it('sends what the dead run had claimed at once, each message once but the one in flight', async () => {
    config = testConfig();
    db = await openDatabase(config);
    // the messages are waiting before the server starts, so that its first pass claims them all
    const services = createServices(db, systemClock, config);
    const emails = Array.from({ length: COUNT }, (_, n) => `claimed${n}@example.org`);
    for (const email of emails) await services.invitations.create(readInvitationCreate(invitationBody({ email })));

    sink = await startSmtpSink();
    const held = sink.holdNext();
    const env = {
      ...databaseEnv(config),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ASC_SMTP_URL: sink.url,
      ASC_INSTANCE_ID: 'mail-kill-test',
    };
    const first = await serve(env);
    running.push(first);
    // the first message is with the mail server, which does not answer yet: the others wait, claimed
    await held.arrived;
    const claimed = await db.kysely.selectFrom('mail_outbox').selectAll().execute();
    expect(claimed).toHaveLength(COUNT);
    for (const m of claimed) {
      expect(m.status).toBe('pending');
      expect(m.claimed_until).not.toBeNull();
      expect(m.claimed_by_instance).toBe('mail-kill-test');
    }
    const deadBoot = claimed[0]!.claimed_by_boot;
    expect(claimed.every((m) => m.claimed_by_boot === deadBoot)).toBe(true);
    const claimsRunOut = claimed.map((m) => m.claimed_until!).sort()[0]!;

    first.child.kill('SIGKILL');
    expect(await first.exit).toEqual({ code: null, signal: 'SIGKILL' });
    // the mail server got the whole message before the kill: it keeps it (the client never heard 250)
    held.release();
    await sink.waitFor(1);

    const second = await serve(env);
    running.push(second);
    // every message once more than the one in flight: none waits for its claim to run out
    const received = await sink.waitFor(COUNT + 1);
    second.child.kill('SIGTERM');
    expect((await second.exit).code).toBe(0);
    expect(second.output()).toContain(`"released":${COUNT}`);

    const after = await db.kysely.selectFrom('mail_outbox').selectAll().execute();
    expect(after.map((m) => m.status)).toEqual(after.map(() => 'sent'));
    // delivered while the dead run's claims still stood
    for (const m of after) expect(m.sent_at! < claimsRunOut, `${m.sent_at!} < ${claimsRunOut}`).toBe(true);
    expect(after.every((m) => m.claimed_by_boot !== deadBoot)).toBe(true);

    // lost: none; twice: only the message in flight at the kill, with the same Message-ID
    const byRecipient = new Map<string, string[]>();
    for (const m of received) byRecipient.set(m.rcptTo[0]!, [...(byRecipient.get(m.rcptTo[0]!) ?? []), m.parsed.messageId ?? '']);
    expect([...byRecipient.keys()].sort()).toEqual([...emails].sort());
    const twice = [...byRecipient].filter(([, ids]) => ids.length > 1);
    expect(twice).toHaveLength(1);
    expect(twice[0]![0]).toBe(received[0]!.rcptTo[0]);
    expect(new Set(twice[0]![1]).size).toBe(1);
    expect(received.length - byRecipient.size).toBe(1);
  });
});
