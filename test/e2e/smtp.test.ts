/**
 * Invitation email over a real SMTP connection to a real SMTP server in this process: the message
 * as received and parsed (text and HTML alternatives, headers, content, the activation link), the
 * token stored only as a hash, escaping, no header injection, credentials in ASC_SMTP_URL, and the
 * outbox guarantee: with the mail server down invitations are still created, and once it is back
 * every message arrives exactly once, also across a server restart.
 *
 * Time is the harness's ManualClock; the worker's background poll is set to an hour so that only
 * wake-ups after a commit and drain() deliver. No test sleeps: each waits on drain() or on the
 * SMTP server's own events.
 */
import { createHash } from 'node:crypto';
import { rmSync } from 'node:fs';
import { afterEach, describe, expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.js';
import { invitationBody, PUBLIC_URL, startTestServer, visibleApps, type StartOptions, type TestServer } from '../helpers/harness.js';
import { addresses, freePort, startSmtpSink, type ReceivedMail, type SmtpSink } from '../helpers/smtp-sink.js';

const HOUR = 60 * 60 * 1000;
const BACKOFF = 1_000;
const LINK = new RegExp(`${PUBLIC_URL.replace(/\./g, '\\.')}/activate/([A-Za-z0-9_-]{43})(?![A-Za-z0-9_-])`);
const FROM = 'Test Team <no-reply@asc.example.test>';

const servers: TestServer[] = [];
const sinks: SmtpSink[] = [];
const dirs: string[] = [];

afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
  for (const k of sinks.splice(0)) await k.close();
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function server(options: StartOptions): Promise<TestServer> {
  const s = await startTestServer({ ...options, mailWorker: { backoffMs: BACKOFF, pollMs: HOUR, ...options.mailWorker } });
  servers.push(s);
  return s;
}

async function sink(options: Parameters<typeof startSmtpSink>[0] = {}): Promise<SmtpSink> {
  const k = await startSmtpSink(options);
  sinks.push(k);
  return k;
}

async function invite(s: TestServer, attributes: Record<string, unknown>, relationships?: Record<string, unknown>): Promise<string> {
  const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody(attributes, relationships) });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id as string;
}

function outboxRows(s: TestServer) {
  return s.db.kysely.selectFrom('mail_outbox').selectAll().orderBy('created_at').orderBy('recipient').execute();
}

/** How often each (Message-ID, recipient) pair arrived. */
function deliveries(messages: readonly ReceivedMail[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (const m of messages) {
    for (const to of m.rcptTo) {
      const key = `${m.parsed.messageId} ${to}`;
      counts.set(key, (counts.get(key) ?? 0) + 1);
    }
  }
  return counts;
}

describe('the invitation email as it arrives over SMTP', () => {
  it('has text and HTML alternatives with the team, names, roles, apps, expiry and the activation link', async () => {
    const k = await sink();
    const s = await server({ config: { smtpUrl: k.url, teamName: 'Acme Studios', mailFrom: FROM } });
    const weather = await s.createApp('Weather Pro');
    const notes = await s.createApp('Notes');
    const id = await invite(
      s,
      { email: 'Jane.Doe@Example.com', firstName: 'Jane', lastName: 'Doe', roles: ['DEVELOPER', 'APP_MANAGER'] },
      visibleApps(weather, notes),
    );
    await s.mailWorker.drain();

    expect(k.messages).toHaveLength(1);
    const m = k.messages[0]!;
    const p = m.parsed;
    // envelope and headers
    // (smtp-server lower-cases the domain of envelope addresses)
    expect(m.rcptTo.map((a) => a.toLowerCase())).toEqual(['jane.doe@example.com']);
    expect(m.mailFrom).toBe('no-reply@asc.example.test');
    expect(p.from?.value).toEqual([{ name: 'Test Team', address: 'no-reply@asc.example.test' }]);
    // the local part as given; the domain as nodemailer writes it (domains are case-insensitive)
    expect(addresses(p.to)).toEqual(['Jane.Doe@example.com']);
    expect(m.raw).toMatch(/^To: Jane\.Doe@example\.com\r?$/m);
    expect(p.subject).toBe("You're invited to join Acme Studios on App Store Connect");
    const [row] = await outboxRows(s);
    expect(p.messageId).toBe(`<${row!.id}@asc.example.test>`);
    expect(p.date).toBeInstanceOf(Date);
    // the two alternatives
    expect(m.raw).toMatch(/^Content-Type: multipart\/alternative;/im);
    expect(m.raw).toMatch(/^Content-Type: text\/plain; charset=utf-8/im);
    expect(m.raw).toMatch(/^Content-Type: text\/html; charset=utf-8/im);
    const text = p.text ?? '';
    const html = typeof p.html === 'string' ? p.html : '';
    expect(html).not.toBe('');

    const expires = new Date(s.clock.now().getTime() + 72 * HOUR).toISOString().slice(0, 16).replace('T', ' ') + ' UTC';
    for (const body of [text, html]) {
      expect(body).toContain('Acme Studios');
      expect(body).toContain('Jane Doe');
      expect(body).toContain('Developer, App Manager');
      expect(body).not.toContain('APP_MANAGER');
      expect(body).toContain('Notes, Weather Pro');
      expect(body).toContain(expires);
      // a team key sent it: the invitee reads the team's name, never the key's label
      expect(body).not.toContain('test admin');
    }
    expect(text).toContain('Roles: Developer, App Manager');
    expect(text).toContain('Apps: Notes, Weather Pro');

    // the link: ASC_PUBLIC_URL/activate/<43-character base64url token = 256 random bits>
    const token = LINK.exec(text)?.[1];
    expect(token, text).toBeDefined();
    expect(html).toContain(`href="${PUBLIC_URL}/activate/${token}"`);
    expect(row).toMatchObject({
      invitation_id: id,
      recipient: 'Jane.Doe@Example.com',
      status: 'sent',
      attempts: 1,
      claimed_until: null,
      last_error: null,
    });
    // sent: the outbox keeps the link no longer (test/e2e/token-at-rest.test.ts)
    expect(row!.activation_link).toBeNull();
    expect(row!.template_data).not.toContain(token!);

    // the invitation keeps only the SHA-256 of the token
    const inv = await s.db.kysely.selectFrom('user_invitations').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(inv.token_hash).toMatch(/^[0-9a-f]{64}$/);
    expect(inv.token_hash).toBe(createHash('sha256').update(token!).digest('hex'));
    expect(JSON.stringify(inv)).not.toContain(token!);
  });

  it('names "All apps" for roles that see every app', async () => {
    const k = await sink();
    const s = await server({ config: { smtpUrl: k.url } });
    await invite(s, { email: 'admin@example.com', roles: ['ADMIN'] });
    await invite(s, { email: 'dev@example.com', roles: ['DEVELOPER'] });
    await s.mailWorker.drain();
    expect(k.messages).toHaveLength(2);
    for (const m of k.messages) {
      expect(m.parsed.text).toContain('Apps: All apps');
      expect(m.parsed.html).toContain('All apps');
    }
    const admin = k.messages.find((m) => m.rcptTo[0] === 'admin@example.com')!;
    expect(admin.parsed.text).toContain('Roles: Admin');
  });

  it('escapes every piece of user input in the HTML and keeps it as is in the text', async () => {
    const k = await sink();
    const s = await server({ config: { smtpUrl: k.url, teamName: 'R&D <Labs>' } });
    const app = await s.createApp('Tom & Jerry <b>Game</b>');
    await invite(
      s,
      { email: 'x@example.com', firstName: '<script>alert("x")</script>', lastName: `O'Brien & Sons`, roles: ['DEVELOPER'] },
      visibleApps(app),
    );
    await s.mailWorker.drain();
    const [m] = await k.waitFor(1);
    const html = m!.parsed.html as string;
    expect(html).not.toContain('<script>');
    expect(html).not.toContain('<b>Game</b>');
    expect(html).not.toContain('R&D <Labs>');
    expect(html).toContain('&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; O&#39;Brien &amp; Sons');
    expect(html).toContain('R&amp;D &lt;Labs&gt;');
    expect(html).toContain('Tom &amp; Jerry &lt;b&gt;Game&lt;/b&gt;');
    expect(m!.parsed.text).toContain(`Dear <script>alert("x")</script> O'Brien & Sons,`);
    expect(m!.parsed.text).toContain('Apps: Tom & Jerry <b>Game</b>');
    expect(m!.parsed.subject).toBe("You're invited to join R&D <Labs> on App Store Connect");
  });

  it('refuses names and addresses with line breaks (409), so nothing can inject a header', async () => {
    const k = await sink();
    const s = await server({ config: { smtpUrl: k.url } });
    const attempts: Record<string, unknown>[] = [
      { firstName: 'Eve\r\nBcc: victim@example.com' },
      { lastName: 'Eve\nSubject: hi' },
      { firstName: 'Eve\u2028X' },
      { email: 'eve@example.com\r\nBcc: victim@example.com' },
      { email: 'eve@example.com, victim@example.com' },
      { email: '"eve\r\nbcc"@example.com' },
    ];
    for (const attributes of attempts) {
      const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody(attributes) });
      expect(res.status, JSON.stringify(attributes)).toBe(409);
      expect(res.body.errors[0].code).toBe('ENTITY_ERROR.ATTRIBUTE.INVALID');
    }
    expect(await outboxRows(s)).toEqual([]);
    await invite(s, { email: 'fine@example.com' });
    await s.mailWorker.drain();
    expect(k.messages.map((m) => m.rcptTo)).toEqual([['fine@example.com']]);
    expect(k.messages[0]!.raw).not.toMatch(/^Bcc:/im);
  });

  it('logs in with the credentials of ASC_SMTP_URL, percent-decoded', async () => {
    const auth = { user: 'mailer@example.com', pass: 'p@ss:w/rd%?#' };
    const k = await sink({ auth });
    expect(k.url).toContain('mailer%40example.com:p%40ss%3Aw%2Frd%25%3F%23@');
    const s = await server({ config: { smtpUrl: k.url } });
    await invite(s, { email: 'auth@example.com' });
    await s.mailWorker.drain();
    expect(k.logins).toEqual([auth]);
    expect(k.messages).toHaveLength(1);
    expect(k.messages[0]!.user).toBe('mailer@example.com');
  });

  it('speaks TLS from the start with smtps://', async () => {
    const auth = { user: 'tls-user', pass: 's3cret' };
    const k = await sink({ auth, secure: true });
    const s = await server({ config: { smtpUrl: k.url } });
    await invite(s, { email: 'tls@example.com' });
    await s.mailWorker.drain();
    expect(k.logins).toEqual([auth]);
    expect(k.messages.map((m) => m.rcptTo)).toEqual([['tls@example.com']]);
  });

  it('keeps retrying with wrong credentials, without writing them into the outbox', async () => {
    const k = await sink({ auth: { user: 'mailer', pass: 'right' } });
    const s = await server({ config: { smtpUrl: `smtp://mailer:wrong-secret@127.0.0.1:${k.port}` } });
    await invite(s, { email: 'auth@example.com' });
    await s.mailWorker.drain();
    const [row] = await outboxRows(s);
    expect(row).toMatchObject({ status: 'pending', attempts: 1 });
    expect(row!.last_error).toMatch(/535|Invalid/);
    expect(row!.last_error).not.toContain('wrong-secret');
    expect(k.messages).toEqual([]);
  });
});

describe('with the mail server down', () => {
  it('still creates invitations; retries with backoff; once it is back every message arrives exactly once', async () => {
    const port = await freePort();
    const s = await server({ config: { smtpUrl: `smtp://127.0.0.1:${port}` } });
    const emails = ['a@example.com', 'b@example.com', 'c@example.com'];
    for (const email of emails) await invite(s, { email });
    await s.mailWorker.drain();

    const t0 = s.clock.now().getTime();
    let rows = await outboxRows(s);
    expect(rows.map((r) => [r.status, r.attempts])).toEqual(emails.map(() => ['pending', 1]));
    for (const r of rows) {
      expect(r.last_error).toMatch(/ECONNREFUSED/);
      expect(r.next_attempt_at).toBe(new Date(t0 + BACKOFF).toISOString());
    }

    // nothing is due before the backoff has passed
    s.clock.advance(BACKOFF - 1);
    await s.mailWorker.drain();
    expect((await outboxRows(s)).map((r) => r.attempts)).toEqual([1, 1, 1]);

    // each failure doubles the wait: 1 s, 2 s, 4 s
    let waited = BACKOFF - 1;
    for (const [attempts, delay] of [
      [2, 2 * BACKOFF],
      [3, 4 * BACKOFF],
    ] as const) {
      s.clock.advance(1);
      waited += 1;
      await s.mailWorker.drain();
      rows = await outboxRows(s);
      expect(rows.map((r) => r.attempts)).toEqual([attempts, attempts, attempts]);
      for (const r of rows) expect(r.next_attempt_at).toBe(new Date(t0 + waited + delay).toISOString());
      s.clock.advance(delay - 1);
      waited += delay - 1;
      await s.mailWorker.drain();
      expect((await outboxRows(s)).map((r) => r.attempts)).toEqual([attempts, attempts, attempts]);
    }

    // the mail server comes back on its port
    const k = await sink({ port });
    s.clock.advance(1);
    expect(await s.mailWorker.drain()).toBe(3);
    rows = await outboxRows(s);
    expect(rows.map((r) => [r.status, r.attempts, r.last_error])).toEqual(emails.map(() => ['sent', 4, null]));

    // and nothing is sent again, however long we wait
    s.clock.advance(24 * HOUR);
    expect(await s.mailWorker.drain()).toBe(0);
    expect(k.messages.map((m) => m.rcptTo[0]).sort()).toEqual(emails);
    expect([...deliveries(k.messages).values()]).toEqual([1, 1, 1]);
    expect(new Set(k.messages.map((m) => m.parsed.messageId))).toEqual(new Set(rows.map((r) => `<${r.id}@asc.example.test>`)));
  });

  it('loses nothing and sends nothing twice when the server restarts in between', async () => {
    const port = await freePort();
    const first = await startTestServer({
      config: { smtpUrl: `smtp://127.0.0.1:${port}` },
      mailWorker: { backoffMs: BACKOFF, pollMs: HOUR },
      keepDataDir: true,
    });
    dirs.push(first.config.dataDir);
    const emails = ['r1@example.com', 'r2@example.com', 'r3@example.com', 'r4@example.com'];
    try {
      for (const email of emails) await invite(first, { email });
      await first.mailWorker.drain();
      first.clock.advance(BACKOFF);
      await first.mailWorker.drain();
      expect((await outboxRows(first)).map((r) => [r.status, r.attempts])).toEqual(emails.map(() => ['pending', 2]));
    } finally {
      await first.close();
    }

    // the mail server is back; a new server process starts on the same data directory
    const k = await sink({ port });
    const second = await server({ config: { dataDir: first.config.dataDir, smtpUrl: `smtp://127.0.0.1:${port}` }, clock: first.clock });
    second.clock.advance(2 * BACKOFF);
    await second.mailWorker.drain();
    await k.waitFor(emails.length);
    const rows = await outboxRows(second);
    expect(rows.map((r) => [r.recipient, r.status, r.attempts])).toEqual(emails.map((e) => [e, 'sent', 3]));

    second.clock.advance(24 * HOUR);
    expect(await second.mailWorker.drain()).toBe(0);
    const counts = deliveries(k.messages);
    expect(counts.size).toBe(emails.length);
    expect([...counts.values()]).toEqual(emails.map(() => 1));
    expect([...counts.keys()].sort()).toEqual(rows.map((r) => `<${r.id}@asc.example.test> ${r.recipient}`).sort());
  });

  it('lets a delivery in flight finish on shutdown, hands back the rest, and the next server sends each once', async () => {
    const port = await freePort();
    const first = await startTestServer({
      config: { smtpUrl: `smtp://127.0.0.1:${port}` },
      mailWorker: { backoffMs: BACKOFF, pollMs: HOUR },
      keepDataDir: true,
    });
    dirs.push(first.config.dataDir);
    const emails = ['s1@example.com', 's2@example.com', 's3@example.com'];
    let closed = false;
    let sentFirst = '';
    try {
      for (const email of emails) await invite(first, { email });
      await first.mailWorker.drain(); // one failed attempt each, all due again at the same time
      const k = await sink({ port });
      const held = k.holdNext();
      first.clock.advance(BACKOFF);
      const draining = first.mailWorker.drain(); // claims all three, then sends the first
      await held.arrived;
      const claimed = await outboxRows(first);
      expect(claimed.map((r) => r.claimed_until === null)).toEqual([false, false, false]);

      // shut down while the mail server holds the first message (received, not yet acknowledged)
      const closing = first.close().then(() => (closed = true));
      await Promise.resolve();
      expect(closed).toBe(false);
      held.release();
      await closing;
      expect(await draining).toBe(1);
      expect(k.messages).toHaveLength(1);
      sentFirst = k.messages[0]!.rcptTo[0]!;
    } finally {
      if (!closed) await first.close();
    }

    // the first message was recorded as sent before the database closed; the other two were handed back
    const db = await openDatabase(first.config);
    try {
      const after = await db.kysely
        .selectFrom('mail_outbox')
        .select(['recipient', 'status', 'attempts', 'claimed_until'])
        .orderBy('recipient')
        .execute();
      expect(after.map((r) => [r.recipient, r.status, r.attempts, r.claimed_until])).toEqual(
        emails.map((e) => (e === sentFirst ? [e, 'sent', 2, null] : [e, 'pending', 1, null])),
      );
    } finally {
      await db.close();
    }

    const second = await server({ config: { dataDir: first.config.dataDir, smtpUrl: `smtp://127.0.0.1:${port}` }, clock: first.clock });
    const k = sinks[0]!;
    await second.mailWorker.drain();
    await k.waitFor(3);
    second.clock.advance(24 * HOUR);
    expect(await second.mailWorker.drain()).toBe(0);
    expect(k.messages.map((m) => m.rcptTo[0]).sort()).toEqual(emails);
    expect([...deliveries(k.messages).values()]).toEqual([1, 1, 1]);
  });
});
