/**
 * The mail outbox and its delivery worker on a real SQLite file, with a transport the test
 * controls: the invitation and its message are one transaction; backoff; claims (a crashed
 * worker's messages are taken over when its claim runs out, two workers never send one message
 * twice); stop() lets the delivery in flight finish and hands back the rest; wake-ups; messages
 * of invitations that are gone are dropped. No sleeps: every wait is on a promise the transport
 * or the worker resolves.
 */
import { rmSync } from 'node:fs';
import type { FastifyBaseLogger } from 'fastify';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createServices, type Services } from '../../src/container.js';
import { ManualClock } from '../../src/clock.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import type { OutboxRow } from '../../src/mail/outbox-repository.js';
import { LogTransport, type MailTransport } from '../../src/mail/transport.js';
import { MailWorker, type MailWorkerOptions } from '../../src/mail/worker.js';
import { renderOutboxMail } from '../../src/mail/templates.js';
import { invitationBody, PUBLIC_URL, testConfig } from '../helpers/harness.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';

const HOUR = 60 * 60 * 1000;
const silent = { info: () => {}, warn: () => {}, error: () => {} };

/** Records deliveries; fails while `failing`; can hold a delivery until released. */
class FakeTransport implements MailTransport {
  readonly kind = 'sent' as const;
  readonly description = 'a fake';
  delivered: string[] = [];
  attempts = 0;
  failing = false;
  closed = false;
  private held: { started: () => void; gate: Promise<void> } | undefined;
  private waiters: { n: number; resolve: () => void }[] = [];

  async deliver(m: OutboxRow): Promise<void> {
    this.attempts++;
    const held = this.held;
    this.held = undefined;
    if (held) {
      held.started();
      await held.gate;
    }
    if (this.failing) throw new Error('421 mail server unavailable');
    this.delivered.push(m.recipient);
    for (const w of [...this.waiters]) {
      if (this.delivered.length >= w.n) {
        this.waiters.splice(this.waiters.indexOf(w), 1);
        w.resolve();
      }
    }
  }

  close(): void {
    this.closed = true;
  }

  /** The next delivery waits; `started` resolves when it has begun. */
  holdNext(): { started: Promise<void>; release: () => void } {
    let started!: () => void;
    let release!: () => void;
    const startedP = new Promise<void>((r) => (started = r));
    const gate = new Promise<void>((r) => (release = r));
    this.held = { started, gate };
    return { started: startedP, release };
  }

  /** Resolves once `n` messages were delivered in total. */
  waitFor(n: number): Promise<void> {
    return new Promise((resolve) => {
      this.waiters.push({ n, resolve });
      if (this.delivered.length >= n) resolve();
    });
  }
}

let config: ReturnType<typeof testConfig>;
let clock: ManualClock;
let db: Db;
let services: Services;
const extraDbs: Db[] = [];
const workers: MailWorker[] = [];
let queued = 0;
let onQueued: () => void = () => {};

beforeEach(async () => {
  config = testConfig();
  clock = new ManualClock(Date.parse('2026-11-26T10:00:00.000Z'));
  db = await openDatabase(config);
  queued = 0;
  onQueued = () => {};
  services = createServices(db, clock, config, () => {
    queued++;
    onQueued();
  });
});

afterEach(async () => {
  for (const w of workers.splice(0)) await w.stop();
  for (const d of extraDbs.splice(0)) await d.close();
  await db.close();
  rmSync(config.dataDir, { recursive: true, force: true });
});

function worker(transport: MailTransport, options: MailWorkerOptions = {}, on: Services = services): MailWorker {
  const w = new MailWorker(on.outbox, transport, clock, silent, { backoffMs: 1_000, pollMs: HOUR, ...options });
  workers.push(w);
  return w;
}

async function invite(email: string, attributes: Record<string, unknown> = {}): Promise<string> {
  return (await services.invitations.create(readInvitationCreate(invitationBody({ email, ...attributes })), 'ops key')).id;
}

function rows() {
  return db.kysely.selectFrom('mail_outbox').selectAll().orderBy('recipient').execute();
}

describe('the outbox', () => {
  it('holds one pending message per created invitation, written with it, and tells the worker after the commit', async () => {
    const id = await invite('a@example.com');
    expect(queued).toBe(1);
    const [row] = await rows();
    expect(row).toMatchObject({
      invitation_id: id,
      recipient: 'a@example.com',
      status: 'pending',
      attempts: 0,
      next_attempt_at: clock.now().toISOString(),
      claimed_until: null,
      created_at: clock.now().toISOString(),
      sent_at: null,
    });
    expect(row!.activation_link).toMatch(new RegExp(`^${PUBLIC_URL}/activate/[A-Za-z0-9_-]{43}$`));
    // the data the message is rendered from, not its rendering (migration 008)
    expect(row).toMatchObject({ text_body: '', html_body: '' });
    const mail = renderOutboxMail(row!);
    expect(mail.subject).toBe(row!.subject);
    expect(mail.text).toContain(`Email: a@example.com\nRoles: Developer\n`);
    expect(mail.text).toContain(row!.activation_link);
    expect(mail.html).toContain(`href="${row!.activation_link}"`);
  });

  it('holds no message for a refused invitation (the transaction rolled back)', async () => {
    await invite('dup@example.com');
    await expect(invite('DUP@example.com')).rejects.toThrow();
    await expect(
      services.invitations.create(
        readInvitationCreate(invitationBody({ email: 'x@example.com' }, { visibleApps: { data: [{ type: 'apps', id: '999' }] } })),
      ),
    ).rejects.toThrow();
    expect((await rows()).map((r) => r.recipient)).toEqual(['dup@example.com']);
    expect(queued).toBe(1);
  });
});

describe('the mail worker', () => {
  it('keeps mail without SMTP in the mail log: a batch logged, then marked together, each once', async () => {
    const emails = ['a@example.com', 'b@example.com', 'c@example.com', 'd@example.com', 'e@example.com'];
    for (const email of emails) await invite(email);
    const lines: string[] = [];
    const log = { info: ((_: object, line: string) => void lines.push(line)) as Pick<FastifyBaseLogger, 'info'>['info'] };
    const w = worker(new LogTransport(log), { batch: 2 });
    clock.advance(1_000);
    expect(await w.drain()).toBe(5);
    expect(lines.map((l) => /for (\S+) kept/.exec(l)?.[1])).toEqual(emails);
    const logged = await rows();
    for (const row of logged) {
      expect(row).toMatchObject({
        status: 'logged',
        attempts: 1,
        claimed_until: null,
        last_error: null,
        sent_at: clock.now().toISOString(),
      });
      // the mail log is the mailbox: it keeps the link
      expect(row.activation_link).toMatch(/\/activate\//);
    }
    expect(await w.drain()).toBe(0);
    expect(lines).toHaveLength(5);
  });

  it('retries with exponential backoff up to the maximum, then delivers once', async () => {
    const t = new FakeTransport();
    t.failing = true;
    const w = worker(t, { backoffMs: 1_000, maxBackoffMs: 5_000 });
    await invite('a@example.com');
    const t0 = clock.now().getTime();
    const waits: number[] = [];
    for (let attempt = 1; attempt <= 5; attempt++) {
      await w.drain();
      const [row] = await rows();
      expect(row).toMatchObject({ status: 'pending', attempts: attempt, claimed_until: null, last_error: '421 mail server unavailable' });
      const wait = Date.parse(row!.next_attempt_at) - clock.now().getTime();
      waits.push(wait);
      // not due a millisecond early
      clock.advance(wait - 1);
      await w.drain();
      expect((await rows())[0]!.attempts).toBe(attempt);
      clock.advance(1);
    }
    expect(waits).toEqual([1_000, 2_000, 4_000, 5_000, 5_000]);
    expect(t.attempts).toBe(5);

    t.failing = false;
    expect(await w.drain()).toBe(1);
    const [row] = await rows();
    expect(row).toMatchObject({ status: 'sent', attempts: 6, last_error: null, claimed_until: null, sent_at: clock.now().toISOString() });
    expect(clock.now().getTime() - t0).toBe(17_000);
    clock.advance(HOUR);
    expect(await w.drain()).toBe(0);
    expect(t.delivered).toEqual(['a@example.com']);
  });

  it('leaves a message claimed by another worker alone until the claim runs out (that worker died)', async () => {
    const t = new FakeTransport();
    const w = worker(t);
    await invite('a@example.com');
    const until = new Date(clock.now().getTime() + 60_000).toISOString();
    await db.kysely.updateTable('mail_outbox').set({ claimed_until: until }).execute();
    expect(await w.drain()).toBe(0);
    clock.advance(59_999);
    expect(await w.drain()).toBe(0);
    clock.advance(1);
    expect(await w.drain()).toBe(1);
    expect(t.delivered).toEqual(['a@example.com']);
  });

  it('claims each message for one worker only: two workers on two connections send each message once', async () => {
    const other = await openDatabase(config);
    extraDbs.push(other);
    const otherServices = createServices(other, clock, config);
    const emails = Array.from({ length: 30 }, (_, i) => `m${String(i).padStart(2, '0')}@example.com`);
    for (const e of emails) await invite(e);
    const a = new FakeTransport();
    const b = new FakeTransport();
    const [na, nb] = await Promise.all([worker(a, { batch: 4 }).drain(), worker(b, { batch: 4 }, otherServices).drain()]);
    expect(na + nb).toBe(30);
    expect([...a.delivered, ...b.delivered].sort()).toEqual(emails);
    expect((await rows()).every((r) => r.status === 'sent' && r.attempts === 1)).toBe(true);
  });

  it('runs one pass at a time: drain() during a background pass waits for it and sends nothing twice', async () => {
    const t = new FakeTransport();
    const w = worker(t, { batch: 1 });
    await invite('a@example.com');
    await invite('b@example.com');
    const held = t.holdNext();
    w.start();
    await held.started;
    const drained = w.drain();
    held.release();
    // the background pass delivered both; the drain() queued behind it found nothing left
    expect(await drained).toBe(0);
    expect(t.delivered.sort()).toEqual(['a@example.com', 'b@example.com']);
    expect(t.attempts).toBe(2);
  });

  it('delivers after a commit without waiting for the poll (wake-up), also when mail is queued during a pass', async () => {
    const t = new FakeTransport();
    const w = worker(t, { pollMs: HOUR });
    onQueued = () => w.wake();
    w.start();
    const held = t.holdNext();
    await invite('a@example.com');
    await held.started;
    // queued while the pass above is delivering: a second pass follows it
    await invite('b@example.com');
    await invite('c@example.com');
    held.release();
    await t.waitFor(3);
    expect(t.delivered.sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
  });

  it('stop() waits for the delivery in flight, records it, and hands the other claimed messages back', async () => {
    const t = new FakeTransport();
    const w = worker(t, { batch: 10 });
    for (const e of ['a@example.com', 'b@example.com', 'c@example.com']) await invite(e);
    const held = t.holdNext();
    w.start();
    await held.started;
    expect((await rows()).filter((r) => r.claimed_until !== null)).toHaveLength(3);
    let stopped = false;
    const stopping = w.stop().then(() => (stopped = true));
    // the worker cannot finish stopping while the delivery is held
    await Promise.resolve();
    expect(stopped).toBe(false);
    expect(t.closed).toBe(false);
    held.release();
    await stopping;
    expect(t.closed).toBe(true);
    const after = await rows();
    expect(after.filter((r) => r.status === 'sent')).toHaveLength(1);
    expect(after.filter((r) => r.status === 'pending').map((r) => [r.attempts, r.claimed_until])).toEqual([
      [0, null],
      [0, null],
    ]);
    expect(await w.drain()).toBe(0);

    // the next worker (after a restart) sends the other two at once, no claim to wait for
    const next = new FakeTransport();
    expect(await worker(next).drain()).toBe(2);
    expect([...t.delivered, ...next.delivered].sort()).toEqual(['a@example.com', 'b@example.com', 'c@example.com']);
  });

  it('drops the undelivered mail of invitations that were cancelled, declined, accepted or expired', async () => {
    const t = new FakeTransport();
    t.failing = true;
    const w = worker(t);
    const cancelled = await invite('cancelled@example.com');
    await invite('accepted@example.com');
    await invite('declined@example.com');
    await invite('expires@example.com');
    await w.drain();
    const link = async (email: string) =>
      (await rows())
        .find((r) => r.recipient === email)!
        .activation_link!.split('/')
        .pop()!;
    await services.invitations.cancel(cancelled);
    expect((await services.activation.accept(await link('accepted@example.com'))).state).toBe('accepted');
    expect(await services.activation.decline(await link('declined@example.com'))).toBe('declined');

    t.failing = false;
    clock.advance(72 * HOUR);
    expect(await w.drain()).toBe(0);
    expect((await rows()).map((r) => [r.recipient, r.status])).toEqual([
      ['accepted@example.com', 'cancelled'],
      ['cancelled@example.com', 'cancelled'],
      ['declined@example.com', 'cancelled'],
      ['expires@example.com', 'cancelled'],
    ]);
    expect(t.delivered).toEqual([]);
  });

  it('drops stale mail as it claims, batch by batch: a batch that was all dropped does not end the pass', async () => {
    const t = new FakeTransport();
    const w = worker(t, { batch: 2 });
    // due first (created first), and expired by the time the worker looks: their batches are dropped whole
    for (const e of ['gone1@example.com', 'gone2@example.com', 'gone3@example.com', 'gone4@example.com']) await invite(e);
    clock.advance(72 * HOUR);
    await invite('live@example.com');
    expect(await w.drain()).toBe(1);
    expect(t.delivered).toEqual(['live@example.com']);
    expect((await rows()).map((r) => [r.recipient, r.status])).toEqual([
      ['gone1@example.com', 'cancelled'],
      ['gone2@example.com', 'cancelled'],
      ['gone3@example.com', 'cancelled'],
      ['gone4@example.com', 'cancelled'],
      ['live@example.com', 'sent'],
    ]);
  });

  it('sends the mail of a pending invitation right up to its expiry', async () => {
    const t = new FakeTransport();
    t.failing = true;
    const w = worker(t, { maxBackoffMs: HOUR });
    await invite('late@example.com');
    await w.drain();
    t.failing = false;
    clock.advance(72 * HOUR - 1);
    expect(await w.drain()).toBe(1);
    expect((await rows())[0]!.status).toBe('sent');
  });

  it('does nothing after stop(), and wake() does nothing before start()', async () => {
    const t = new FakeTransport();
    const w = worker(t);
    await invite('a@example.com');
    w.wake();
    expect(await w.drain()).toBe(1); // drain() works before start()
    await invite('b@example.com');
    await w.stop();
    expect(await w.drain()).toBe(0);
    w.start();
    w.wake();
    expect(await w.drain()).toBe(0);
    expect(t.delivered).toEqual(['a@example.com']);
  });
});
