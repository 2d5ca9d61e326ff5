/**
 * Tokens never reach the server log (docs/security.md): a whole invitation round over real sockets
 * with SMTP configured and the log at `trace`, every line pino writes captured, and neither the
 * activation token nor any bearer token in any of them. Without SMTP the mail log is the mailbox:
 * its one line keeps the link, the request lines still do not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, startTestServer, type TestServer } from '../helpers/harness.js';
import { activationPath, CookieJar, csrfField, openPage } from '../helpers/pages.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

/** pino's destination: every line it writes, as written */
class CapturedLog {
  readonly lines: string[] = [];
  write(chunk: string): void {
    for (const line of chunk.split('\n')) if (line !== '') this.lines.push(line);
  }
  /** the lines holding `secret` */
  holding(secret: string): string[] {
    return this.lines.filter((l) => l.includes(secret));
  }
  parsed(): Record<string, unknown>[] {
    return this.lines.map((l) => JSON.parse(l) as Record<string, unknown>);
  }
}

const tokenOf = (path: string) => path.slice('/activate/'.length);

describe('request logs with SMTP configured (level trace)', () => {
  const log = new CapturedLog();
  let sink: SmtpSink;
  let s: TestServer;

  beforeAll(async () => {
    sink = await startSmtpSink();
    s = await startTestServer({ config: { smtpUrl: sink.url, logLevel: 'trace' }, logStream: log });
  });
  afterAll(async () => {
    await s?.close();
    await sink?.close();
  });

  it('hold no activation token through invite, delivery, page, accept and refused posts', async () => {
    const accepted = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'ada@example.com' }) });
    expect(accepted.status, accepted.text).toBe(201);
    const declined = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'alan@example.com' }) });
    expect(declined.status, declined.text).toBe(201);
    await s.mailWorker.drain();
    expect(sink.messages).toHaveLength(2);
    const paths = sink.messages.map((m) => {
      const link = /https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+/.exec(m.parsed.text ?? '')?.[0];
      expect(link).toBeDefined();
      return activationPath(link!);
    });
    const [acceptPath, declinePath] = paths as [string, string];

    const jar = new CookieJar();
    const page = await openPage(s.baseUrl, 'GET', acceptPath, { jar });
    expect(page.status).toBe(200);
    // refused (a foreign origin), then accepted
    const foreign = await openPage(s.baseUrl, 'POST', `${acceptPath}/accept`, {
      jar,
      form: { csrf: csrfField(page.text) },
      headers: { origin: 'https://evil.example' },
    });
    expect(foreign.status).toBe(403);
    const done = await openPage(s.baseUrl, 'POST', `${acceptPath}/accept`, {
      jar,
      form: { csrf: csrfField(page.text) },
      headers: { origin: new URL(s.config.publicUrl).origin },
    });
    expect(done.status).toBe(303);
    // used: 404; an unknown path below the token; a query; a form too large (Fastify's own 413)
    expect((await openPage(s.baseUrl, 'GET', acceptPath)).status).toBe(404);
    expect((await openPage(s.baseUrl, 'GET', `${declinePath}/nothing-here`)).status).toBe(404);
    expect((await openPage(s.baseUrl, 'GET', `${declinePath}?from=mail`)).status).toBe(200);
    const big = await openPage(s.baseUrl, 'POST', `${declinePath}/decline`, { form: { csrf: 'x'.repeat(10_000) } });
    expect(big.status).toBe(413);

    const lines = log.parsed();
    const incoming = lines.filter((l) => l.msg === 'incoming request').map((l) => (l.req as { url: string }).url);
    expect(incoming).toContain('/activate/[redacted]');
    expect(incoming).toContain('/activate/[redacted]/accept');
    expect(incoming).toContain('/activate/[redacted]?from=mail');
    expect(lines.filter((l) => l.msg === 'request completed').length).toBeGreaterThanOrEqual(incoming.length);
    // with SMTP configured, the mail log's line (which carries the link) is never written
    expect(log.lines.filter((l) => l.includes('kept in the mail log'))).toEqual([]);
    for (const p of paths) expect(log.holding(tokenOf(p))).toEqual([]);
  });

  it('hold no bearer token: valid, with a bad signature, or in the query', async () => {
    const valid = await s.call('GET', '/v1/users');
    expect(valid.status).toBe(200);
    const [h, p, sig] = s.adminToken.split('.') as [string, string, string];
    const forged = `${h}.${p}.${sig.slice(0, -4)}${sig.endsWith('AAAA') ? 'BBBB' : 'AAAA'}`;
    expect((await s.call('GET', '/v1/users', { token: forged })).status).toBe(401);
    const inQuery = await s.call('GET', `/v1/apps?access_token=${s.adminToken}`, { token: null });
    expect(inQuery.status).toBe(401);
    const unknownPath = await s.call('GET', `/v1/nothing/${s.adminToken}`, { unchecked: true });
    expect(unknownPath.status).toBe(404);

    const lines = log.parsed();
    const urls = lines.filter((l) => l.msg === 'incoming request').map((l) => (l.req as { url: string }).url);
    expect(urls).toContain('/v1/apps?access_token=[redacted]');
    expect(urls).toContain('/v1/nothing/[redacted]');
    for (const secret of [s.adminToken, forged, sig, p]) expect(log.holding(secret)).toEqual([]);
  });
});

describe('the mail log without SMTP (level debug)', () => {
  const log = new CapturedLog();
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer({ config: { logLevel: 'debug' }, logStream: log });
  });
  afterAll(async () => s?.close());

  it('keeps the link in its own line (the mailbox) and nowhere else', async () => {
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'grace@example.com' }) });
    expect(created.status, created.text).toBe(201);
    await s.mailWorker.drain();
    const mailLines = log.lines.filter((l) => l.includes('kept in the mail log'));
    expect(mailLines).toHaveLength(1);
    const link = /https?:\/\/\S+\/activate\/[A-Za-z0-9_-]{43}/.exec(mailLines[0]!)?.[0];
    expect(link).toBeDefined();
    const path = activationPath(link!);
    expect((await openPage(s.baseUrl, 'GET', path)).status).toBe(200);
    expect(log.holding(tokenOf(path))).toEqual(mailLines);
  });
});
