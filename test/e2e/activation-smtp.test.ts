/**
 * The whole way an invitee takes, over real sockets: an invitation created through the API, its
 * email received by a real SMTP server in this process (smtp-server), the activation link taken
 * out of the message as it arrived, the invitation accepted through the HTML pages with a cookie
 * jar, then the new user in GET /v1/users and the invitation answering 410 GONE (docs/behavior.md A6, A14).
 *
 * No sleeps: the mail worker's drain() resolves after the SMTP server has acknowledged the message,
 * and the server records a message before it acknowledges it.
 */
import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, PUBLIC_URL, startTestServer, visibleApps, type TestServer } from '../helpers/harness.js';
import { activationPath, CookieJar, csrfField, openPage } from '../helpers/pages.js';
import { createUser, individualKey } from '../helpers/users.js';

interface Received {
  rcptTo: string[];
  raw: string;
}

/** A real SMTP server on a free local port that keeps every message it is given. */
async function startSmtp(): Promise<{ url: string; messages: Received[]; close(): Promise<void> }> {
  const messages: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        messages.push({ rcptTo: session.envelope.rcptTo.map((r) => r.address), raw: Buffer.concat(chunks).toString('utf8') });
        callback();
      });
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.server.address() as AddressInfo;
  return {
    url: `smtp://127.0.0.1:${port}`,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** Decodes a MIME part body by its Content-Transfer-Encoding. */
function decodePart(encoding: string, body: string): string {
  switch (encoding.toLowerCase()) {
    case 'quoted-printable':
      return Buffer.from(
        body.replace(/=\r?\n/g, '').replace(/=([0-9A-F]{2})/gi, (_m, hex: string) => String.fromCharCode(parseInt(hex, 16))),
        'latin1',
      ).toString('utf8');
    case 'base64':
      return Buffer.from(body.replace(/\s+/g, ''), 'base64').toString('utf8');
    default:
      return body;
  }
}

/** The text/plain (or text/html) part of a (possibly multipart) message, decoded. */
function textPart(raw: string, type: 'plain' | 'html' = 'plain'): string {
  const [head, ...rest] = raw.split(/\r?\n\r?\n/);
  const body = rest.join('\r\n\r\n');
  const unfolded = head!.replace(/\r?\n[ \t]+/g, ' ');
  const boundary = /boundary="?([^";\r\n]+)"?/i.exec(unfolded)?.[1];
  if (!boundary) {
    const enc = /^content-transfer-encoding:\s*(\S+)/im.exec(unfolded)?.[1] ?? '7bit';
    return decodePart(enc, body);
  }
  for (const part of body.split(`--${boundary}`)) {
    const [partHead, ...partBody] = part.replace(/^\r?\n/, '').split(/\r?\n\r?\n/);
    const h = (partHead ?? '').replace(/\r?\n[ \t]+/g, ' ');
    if (new RegExp(`^content-type:\\s*text\\/${type}`, 'im').test(h)) {
      const enc = /^content-transfer-encoding:\s*(\S+)/im.exec(h)?.[1] ?? '7bit';
      return decodePart(enc, partBody.join('\r\n\r\n').replace(/\r?\n$/, ''));
    }
    if (/^content-type:\s*multipart\//im.test(h)) return textPart(part.replace(/^\r?\n/, ''), type);
  }
  throw new Error(`the message has no text/${type} part`);
}

describe('invitation email → activation link → accepted through the pages', () => {
  let smtp: Awaited<ReturnType<typeof startSmtp>>;
  let s: TestServer;

  beforeAll(async () => {
    smtp = await startSmtp();
    s = await startTestServer({ config: { smtpUrl: smtp.url, teamName: 'Acme Studios' } });
  });
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('delivers the link over SMTP; accepting it makes the invitee a user and the invitation 410', async () => {
    const appId = await s.createApp('Acme Maps', 'com.acme.maps');
    const created = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody(
        { email: 'grace@example.com', firstName: 'Grace', lastName: 'Hopper', roles: ['DEVELOPER'] },
        visibleApps(appId),
      ),
    });
    expect(created.status, created.text).toBe(201);
    const invitationId: string = created.body.data.id;

    // over SMTP, as the invitee's mail server receives it
    await s.mailWorker.drain();
    expect(smtp.messages).toHaveLength(1);
    const [message] = smtp.messages;
    expect(message!.rcptTo).toEqual(['grace@example.com']);
    const text = textPart(message!.raw);
    const html = textPart(message!.raw, 'html');
    // a team key ("test admin") sent it: the invitee reads the team, never the key's label
    expect(text).toMatch(/Dear Grace Hopper,\r?\n\r?\nYou're invited to join the team "Acme Studios" on App Store Connect\./);
    expect(html).toContain('You&#39;re invited to join Acme Studios</h1>');
    for (const part of [text, html]) expect(part).not.toContain('test admin');
    const links = [...text.matchAll(/https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+/g)].map((m) => m[0]);
    expect(links).toHaveLength(1);
    const link = links[0]!;
    expect(link.startsWith(`${PUBLIC_URL}/activate/`)).toBe(true);
    // the public URL is where a proxy would forward to this server: the path is what reaches it
    const path = activationPath(link);
    // the HTML part's fallback under the button is a link as well
    expect(html).toContain(`<a href="${link}" style="color:#0071e3;word-break:break-all">${link}</a>`);

    const jar = new CookieJar();
    const page = await openPage(s.baseUrl, 'GET', path, { jar });
    expect(page.status).toBe(200);
    expect(page.text).toContain('<h1 id="title">Join Acme Studios</h1>');
    expect(page.text).toContain('You, <strong>Grace Hopper</strong>, are invited to join <strong>Acme Studios</strong>');
    expect(page.text).not.toContain('test admin');
    expect(page.text).toContain('<li>Acme Maps<span class="id">com.acme.maps</span></li>');
    expect(jar.get('asc_csrf')).toBe(csrfField(page.text));

    const accepted = await openPage(s.baseUrl, 'POST', `${path}/accept`, {
      jar,
      form: { csrf: csrfField(page.text) },
      headers: { origin: PUBLIC_URL },
    });
    expect(accepted.status).toBe(303);
    const result = await openPage(s.baseUrl, 'GET', new URL(accepted.headers.get('location')!, `${PUBLIC_URL}${path}/accept`).pathname);
    expect(result.status).toBe(200);
    expect(result.text).toContain("You're now a member of Acme Studios");

    // the new user, through the API: username = the invitation's email, names, roles, flags, apps
    const users = await s.call('GET', `/v1/users?filter[username]=${encodeURIComponent('grace@example.com')}&include=visibleApps`);
    expect(users.status, users.text).toBe(200);
    expect(users.body.data).toHaveLength(1);
    const [user] = users.body.data;
    expect(user.attributes).toEqual({
      username: 'grace@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      roles: ['DEVELOPER'],
      allAppsVisible: false,
      provisioningAllowed: false,
    });
    expect(user.relationships.visibleApps.data).toEqual([{ type: 'apps', id: appId }]);
    expect(users.body.included.map((a: { id: string }) => a.id)).toEqual([appId]);
    const one = await s.call('GET', `/v1/users/${user.id}`);
    expect(one.status).toBe(200);
    expect(one.body.data.attributes.username).toBe('grace@example.com');

    const gone = await s.call('GET', `/v1/userInvitations/${invitationId}`);
    expect(gone.status).toBe(410);
    expect(gone.body.errors[0]).toMatchObject({ status: '410', code: 'GONE', detail: `The invitation '${invitationId}' was accepted` });

    // the link works once: used, it is the page of an unknown link
    const again = await openPage(s.baseUrl, 'GET', path, { jar });
    expect(again.status).toBe(404);
    expect(again.text).toContain("This invitation link isn't valid");
    // and no second message went out
    await s.mailWorker.drain();
    expect(smtp.messages).toHaveLength(1);
  });

  it('an invitation sent with an individual key names the person, in the email and on the page', async () => {
    const inviter = await createUser(s, { email: 'ada@example.com', firstName: 'Ada', lastName: 'Lovelace', roles: ['ADMIN'] });
    const { token } = await individualKey(s, inviter);
    await s.mailWorker.drain();
    const before = smtp.messages.length;
    const created = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'alan@example.com', firstName: 'Alan', lastName: 'Turing', roles: ['DEVELOPER'] }),
      token,
    });
    expect(created.status, created.text).toBe(201);
    await s.mailWorker.drain();
    const message = smtp.messages.slice(before).find((m) => m.rcptTo.includes('alan@example.com'));
    expect(message).toBeDefined();
    const text = textPart(message!.raw);
    const html = textPart(message!.raw, 'html');
    expect(text).toContain('Ada Lovelace invited you to join the team "Acme Studios" on App Store Connect.');
    expect(html).toContain('Ada Lovelace invited you to join Acme Studios</h1>');
    // the individual key's own label stays out
    for (const part of [text, html]) expect(part).not.toContain('key of');

    const link = /https?:\/\/\S+\/activate\/[A-Za-z0-9_-]+/.exec(text)![0];
    const page = await openPage(s.baseUrl, 'GET', activationPath(link));
    expect(page.status).toBe(200);
    expect(page.text).toContain(
      '<strong>Ada Lovelace</strong> invited you, <strong>Alan Turing</strong>, to join <strong>Acme Studios</strong>',
    );
    expect(page.text).not.toContain('key of');
  });
});
