/**
 * Mail claims of two instances on one PostgreSQL database (the postgres project runs this file
 * only): instance A started, killed with SIGKILL and started again while instance B is in the middle
 * of delivering leaves B's claims alone; B then delivers each of its messages once.
 * No sleeps: every wait is on the SMTP sink, an exit or a line of output.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/container.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';
import { startCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, testConfig } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';
import { freePort, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const SLOW = { timeout: 120_000 };

interface Serving {
  child: ChildProcessWithoutNullStreams;
  /** resolves with the first line of output that contains `text` */
  line: (text: string) => Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}

async function serve(env: Record<string, string>): Promise<Serving> {
  const child = startCli(['serve'], { ...env, PORT: String(await freePort()) });
  let output = '';
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
    child.once('exit', (code, signal) => resolve({ code, signal })),
  );
  const waiters: { text: string; resolve: (l: string) => void }[] = [];
  const scan = () => {
    for (const w of [...waiters]) {
      const found = output.split('\n').find((l) => l.includes(w.text));
      if (found !== undefined) {
        waiters.splice(waiters.indexOf(w), 1);
        w.resolve(found);
      }
    }
  };
  child.stdout.setEncoding('utf8').on('data', (d: string) => {
    output += d;
    scan();
  });
  child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
  const line = (text: string) =>
    new Promise<string>((resolve, reject) => {
      waiters.push({ text, resolve });
      scan();
      void exit.then((e) => reject(new Error(`the server exited (${JSON.stringify(e)}) before '${text}':\n${output}`)));
    });
  await line('Server listening at');
  return { child, line, exit };
}

describe('mail claims of two instances', SLOW, () => {
  const running: Serving[] = [];
  let sink: SmtpSink | undefined;
  let db: Db | undefined;
  const config = testConfig();
  afterAll(async () => {
    for (const s of running) {
      if (s.child.exitCode === null && s.child.signalCode === null) s.child.kill('SIGKILL');
      await s.exit;
    }
    await sink?.close();
    if (db) await dropDatabase(config, db);
  });

  it("a restart of instance A never releases instance B's live claims", async () => {
    db = await openDatabase(config);
    const services = createServices(db, systemClock, config);
    const emails = ['one@example.org', 'two@example.org', 'three@example.org'];
    for (const email of emails) await services.invitations.create(readInvitationCreate(invitationBody({ email })));

    sink = await startSmtpSink();
    const held = sink.holdNext();
    const env = { ...databaseEnv(config), HOST: '127.0.0.1', LOG_LEVEL: 'info', ASC_SMTP_URL: sink.url };
    const b = await serve({ ...env, ASC_INSTANCE_ID: 'instance-b' });
    running.push(b);
    // B holds every message: the first is with the mail server, the others wait their turn
    await held.arrived;
    const before = await db.kysely.selectFrom('mail_outbox').selectAll().orderBy('id').execute();
    expect(before.map((m) => m.claimed_by_instance)).toEqual(emails.map(() => 'instance-b'));
    expect(before.every((m) => m.status === 'pending' && m.claimed_until !== null)).toBe(true);

    // A starts, dies and starts again: each start has released what its earlier runs held (nothing)
    const a1 = await serve({ ...env, ASC_INSTANCE_ID: 'instance-a' });
    running.push(a1);
    expect(await a1.line('mail worker started')).toContain('"released":0');
    a1.child.kill('SIGKILL');
    await a1.exit;
    const a2 = await serve({ ...env, ASC_INSTANCE_ID: 'instance-a' });
    running.push(a2);
    expect(await a2.line('mail worker started')).toContain('"released":0');

    // B's claims are as B made them
    const after = await db.kysely.selectFrom('mail_outbox').selectAll().orderBy('id').execute();
    expect(after).toEqual(before);

    // B goes on: each message arrives once
    held.release();
    const received = await sink.waitFor(emails.length);
    b.child.kill('SIGTERM');
    a2.child.kill('SIGTERM');
    expect((await b.exit).code).toBe(0);
    expect((await a2.exit).code).toBe(0);
    expect(sink.messages).toHaveLength(emails.length);
    expect(received.map((m) => m.rcptTo[0]).sort()).toEqual([...emails].sort());
    const sent = await db.kysely.selectFrom('mail_outbox').selectAll().execute();
    expect(sent.map((m) => [m.status, m.claimed_by_instance])).toEqual(emails.map(() => ['sent', 'instance-b']));
  });
});
