/**
 * The emulator's mail and invitee controls (src/emulator/mail.ts, invitees.ts) mounted on the real
 * application under a team's prefix, as the emulator mounts them, and driven over real HTTP: what
 * an invitation sends is read back as JSON, and the invitee accepts or declines it without the
 * activation page, with the page's effects. Mail goes to the mail log, or to a real SMTP server.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { BuiltApp } from '../../src/app.js';
import { ManualClock } from '../../src/clock.js';
import { registerInviteeControls } from '../../src/emulator/invitees.js';
import { mailCapture, registerMailControls, type CapturedMail } from '../../src/emulator/mail.js';
import type { EmulatorTeam } from '../../src/emulator/team.js';
import { apiError, errorBody, gone, illegalParameter, invalidParameter, notFound } from '../helpers/api-errors.js';
import { storedMail } from '../../src/mail/templates.js';
import { invitationBody, PUBLIC_URL, startTestServer, useTestServer, type StartOptions, type TestServer } from '../helpers/harness.js';
import { startSmtpSink } from '../helpers/smtp-sink.js';

const HOUR = 3600 * 1000;
const TEAM = '/_emulator/v1/teams/default';
const ACTIVATION_LINK = new RegExp(`^${PUBLIC_URL.replace(/\./g, '\\.')}/activate/[A-Za-z0-9_-]{43}$`);

/**
 * Server options that capture its mail and mount the controls under the team prefix. The team the
 * controls act on holds the server's own services, mail worker and capture (what they use of it).
 */
function emulated(server: () => TestServer, options: StartOptions = {}): StartOptions {
  const clock = new ManualClock(Date.now());
  const capture = mailCapture(clock);
  const teamOf = () =>
    ({
      id: 'default',
      issuerId: server().issuerId,
      built: { services: server().services, mailWorker: server().mailWorker } as BuiltApp,
      mail: capture,
    }) as unknown as EmulatorTeam;
  return {
    ...options,
    clock,
    mailTransport: (configured) => capture.wrap(configured),
    beforeRoutes: async (app) => {
      await app.register(
        async (scope) => {
          registerMailControls(scope, teamOf);
          registerInviteeControls(scope, teamOf);
        },
        { prefix: '/_emulator/v1/teams/:team' },
      );
    },
  };
}

/** Controls answer JSON that is not an API operation's: the spec check does not apply. */
const control = (s: TestServer, method: string, path: string) => s.call(method, `${TEAM}${path}`, { unchecked: true, token: null });

async function invite(s: TestServer, token: string, email: string): Promise<string> {
  const res = await s.call('POST', '/v1/userInvitations', { token, body: invitationBody({ email }) });
  expect(res.status, res.text).toBe(201);
  return res.body.data.id as string;
}

const refNotFound = (detail: string) => apiError('NOT_FOUND', detail, { parameter: 'idOrEmail' });
const refGone = (detail: string) => apiError('GONE', detail, { parameter: 'idOrEmail' });

describe('emulator mail and invitee controls', () => {
  let server: TestServer;
  const s = useTestServer(emulated(() => server));
  let seq = 0;
  const email = (tag: string) => `${tag}.${++seq}@invitees.example.com`;
  let token: string;

  beforeAll(async () => {
    server = s;
    token = s.adminToken;
  });

  it('GET /mail shows the invitation email with its activation link and invitation id, without polling', async () => {
    const address = email('Read');
    const id = await invite(s, token, address);
    // no drain here: the control delivers what is due before it answers
    const res = await control(s, 'GET', `/mail?to=${encodeURIComponent(address.toUpperCase())}`);
    expect(res.status, res.text).toBe(200);
    expect(res.body.data).toHaveLength(1);
    const mail = res.body.data[0] as CapturedMail;
    expect(mail).toEqual({
      id: expect.any(String),
      to: address,
      subject: "You're invited to join Test Team on App Store Connect",
      text: expect.stringContaining(`Email: ${address}`),
      html: expect.stringContaining('<'),
      activationLink: expect.stringMatching(ACTIVATION_LINK),
      invitationId: id,
      sentAt: s.clock.now().toISOString(),
    });
    expect(mail.text).toContain(mail.activationLink);
    expect(mail.html).toContain(mail.activationLink);
    // the link is the one the activation page knows
    const token43 = mail.activationLink!.slice(mail.activationLink!.lastIndexOf('/') + 1);
    expect((await s.services.activation.lookup(token43)).state).toBe('pending');

    const one = await control(s, 'GET', `/mail/${mail.id}`);
    expect(one.status).toBe(200);
    expect(one.body).toEqual(mail);
    const all = await control(s, 'GET', '/mail');
    expect(all.body.data.map((m: CapturedMail) => m.id)).toContain(mail.id);
  });

  it('accept by email (any case) creates the user; the invitation then answers 410', async () => {
    const address = email('Accept');
    const id = await invite(s, token, address);
    const res = await control(s, 'POST', `/invitations/${encodeURIComponent(address.toUpperCase())}/accept`);
    expect(res.status, res.text).toBe(200);
    expect(res.body).toEqual({ userId: expect.any(String), invitationId: id });
    const userId = res.body.userId as string;

    const users = await s.call('GET', `/v1/users?filter[username]=${encodeURIComponent(address)}`, { token });
    expect(users.status).toBe(200);
    expect(users.body.data.map((u: { id: string; attributes: { username: string } }) => [u.id, u.attributes.username])).toEqual([
      [userId, address],
    ]);
    const read = await s.call('GET', `/v1/userInvitations/${id}`, { token });
    expect(read.status).toBe(410);
    expect(read.body).toEqual(errorBody(gone(`The invitation '${id}' was accepted`)));

    // the activation link is used up, as after the page's accept
    const mail = (await control(s, 'GET', `/mail?to=${encodeURIComponent(address)}`)).body.data[0] as CapturedMail;
    const token43 = mail.activationLink!.slice(mail.activationLink!.lastIndexOf('/') + 1);
    expect((await s.services.activation.lookup(token43)).state).toBe('unknown');

    // accepting again: by id it has ended (410); by address nothing is pending (404)
    const byId = await control(s, 'POST', `/invitations/${id}/accept`);
    expect(byId.status).toBe(410);
    expect(byId.body).toEqual(errorBody(refGone(`The invitation '${id}' was accepted`)));
    const byEmail = await control(s, 'POST', `/invitations/${encodeURIComponent(address)}/decline`);
    expect(byEmail.status).toBe(404);
    expect(byEmail.body).toEqual(errorBody(refNotFound(`There is no pending invitation for the email '${address}'`)));
  });

  it('an accept through the control and one through the activation link at once: exactly one user', async () => {
    for (let round = 0; round < 5; round++) {
      const address = email('race');
      const id = await invite(s, token, address);
      const mail = (await control(s, 'GET', `/mail?to=${address}`)).body.data[0] as CapturedMail;
      const token43 = mail.activationLink!.slice(mail.activationLink!.lastIndexOf('/') + 1);
      const [viaControl, viaLink] = await Promise.all([
        control(s, 'POST', `/invitations/${round % 2 === 0 ? id : address}/accept`),
        s.services.activation.accept(token43),
      ]);
      // one of them wins; the other finds the invitation gone (410 by id, 404 by address; unknown by token)
      expect([viaControl.status, viaLink.state].sort(), `round ${round}`).toEqual(
        viaControl.status === 200 ? [200, 'unknown'] : [round % 2 === 0 ? 410 : 404, 'accepted'],
      );
      const users = await s.call('GET', `/v1/users?filter[username]=${encodeURIComponent(address)}`, { token });
      expect(users.body.data).toHaveLength(1);
      const winner = viaControl.status === 200 ? viaControl.body.userId : viaLink.state === 'accepted' ? viaLink.userId : undefined;
      expect(users.body.data[0].id).toBe(winner);
    }
  });

  it('decline by id deletes the invitation: it answers 404 from then on', async () => {
    const address = email('decline');
    const id = await invite(s, token, address);
    const res = await control(s, 'POST', `/invitations/${id}/decline`);
    expect(res.status, res.text).toBe(204);
    expect(res.text).toBe('');

    const read = await s.call('GET', `/v1/userInvitations/${id}`, { token });
    expect(read.status).toBe(404);
    expect(read.body).toEqual(errorBody(notFound('userInvitations', id)));
    const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(address)}`, { token });
    expect(list.body.data).toEqual([]);
    const users = await s.call('GET', `/v1/users?filter[username]=${encodeURIComponent(address)}`, { token });
    expect(users.body.data).toEqual([]);

    const again = await control(s, 'POST', `/invitations/${id}/accept`);
    expect(again.status).toBe(404);
    expect(again.body).toEqual(errorBody(refNotFound(`There is no resource of type 'userInvitations' with id '${id}'`)));
    // the address is free again
    await invite(s, token, address);
  });

  it('404 for an invitation nobody knows, by id or by address', async () => {
    for (const [ref, detail] of [
      [
        '00000000-0000-4000-8000-000000000000',
        "There is no resource of type 'userInvitations' with id '00000000-0000-4000-8000-000000000000'",
      ],
      ['not an id', "There is no resource of type 'userInvitations' with id 'not an id'"],
      ['nobody@invitees.example.com', "There is no pending invitation for the email 'nobody@invitees.example.com'"],
      ['nul\u0000id', "There is no resource of type 'userInvitations' with id 'nul\u0000id'"],
      ['nul\u0000@invitees.example.com', "There is no pending invitation for the email 'nul\u0000@invitees.example.com'"],
    ] as const) {
      for (const action of ['accept', 'decline']) {
        const res = await control(s, 'POST', `/invitations/${encodeURIComponent(ref)}/${action}`);
        expect(res.status, `${action} ${ref}`).toBe(404);
        expect(res.body).toEqual(errorBody(refNotFound(detail)));
      }
    }
  });

  it('GET /mail/{id} of an unknown message is 404; a bad ?to= is 400; DELETE /mail forgets every message', async () => {
    const missing = await control(s, 'GET', '/mail/no-such-message');
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual(errorBody(apiError('NOT_FOUND', "There is no captured message with id 'no-such-message'")));

    for (const query of ['to=', 'to=a@example.com&to=b@example.com']) {
      const bad = await control(s, 'GET', `/mail?${query}`);
      expect(bad.status, query).toBe(400);
      expect(bad.body).toEqual(errorBody(invalidParameter('to', "The parameter 'to' must be one email address")));
    }

    const illegal = await control(s, 'GET', '/mail?email=a@example.com');
    expect(illegal.status).toBe(400);
    expect(illegal.body).toEqual(errorBody(illegalParameter('email')));

    // `+` is part of an address, not a space
    const plus = `plus+${email('tag')}`;
    const plusId = await invite(s, token, plus);
    const byPlus = await control(s, 'GET', `/mail?to=${plus}`);
    expect(byPlus.body.data.map((m: CapturedMail) => m.invitationId)).toEqual([plusId]);

    await invite(s, token, email('cleared'));
    expect((await control(s, 'GET', '/mail')).body.data.length).toBeGreaterThan(0);
    const cleared = await control(s, 'DELETE', '/mail');
    expect(cleared.status).toBe(204);
    expect((await control(s, 'GET', '/mail')).body).toEqual({ data: [] });
  });
});

describe('GET /mail delivers what is due before it answers', () => {
  let server: TestServer;
  // the worker looks for due mail once an hour: only a wake (a create through the API) or a drain sends it
  const s = useTestServer(emulated(() => server, { mailWorker: { pollMs: 3_600_000 } }));
  beforeAll(() => {
    server = s;
  });

  it('a message queued without waking the worker is in the first answer', async () => {
    const at = s.clock.now();
    const address = 'queued@drain.example.com';
    const link = `${PUBLIC_URL}/activate/${'q'.repeat(43)}`;
    await s.services.outbox.insert(s.db.kysely, {
      id: '0190a0b0-0000-7000-8000-000000000001',
      invitation_id: null,
      recipient: address,
      ...storedMail({
        teamName: 'Test Team',
        invitedBy: null,
        firstName: 'Queued',
        lastName: 'Person',
        email: address,
        roles: ['DEVELOPER'],
        apps: null,
        expiresAt: new Date(at.getTime() + 72 * HOUR),
        link,
      }),
      activation_link: link,
      status: 'pending',
      attempts: 0,
      next_attempt_at: at.toISOString(),
      claimed_until: null,
      last_error: null,
      created_at: at.toISOString(),
      sent_at: null,
    });
    expect((await s.services.outbox.find('0190a0b0-0000-7000-8000-000000000001'))?.status).toBe('pending');

    const res = await control(s, 'GET', `/mail?to=${address}`);
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual([
      expect.objectContaining({ id: '0190a0b0-0000-7000-8000-000000000001', to: address, activationLink: link, invitationId: null }),
    ]);
    expect((await s.services.outbox.find('0190a0b0-0000-7000-8000-000000000001'))?.status).not.toBe('pending');
  });
});

/** Expiry moves the server's clock: a server of its own, with tokens minted at each request's time. */
describe('emulator invitee controls after expiry', () => {
  let server: TestServer;
  const s = useTestServer(emulated(() => server));
  let admin: { keyId: string; privateKeyPem: string };
  const token = () => s.token({ privateKeyPem: admin.privateKeyPem, keyId: admin.keyId, issuerId: s.issuerId });

  beforeAll(async () => {
    server = s;
    admin = await s.keyWithRole('ADMIN');
  });

  it('410 once the invitation has expired, before and after the sweeper buried it', async () => {
    const address = 'late@expiry.example.com';
    const id = await invite(s, await token(), address);
    s.clock.advance(72 * HOUR);

    for (const ref of [id, address.toUpperCase()]) {
      const name = ref === id ? `The invitation '${id}'` : `The invitation for '${ref}'`;
      for (const action of ['accept', 'decline']) {
        const res = await control(s, 'POST', `/invitations/${encodeURIComponent(ref)}/${action}`);
        expect(res.status, `${action} ${ref}`).toBe(410);
        expect(res.body).toEqual(errorBody(refGone(`${name} has expired`)));
      }
    }
    const users = await s.call('GET', `/v1/users?filter[username]=${encodeURIComponent(address)}`, { token: await token() });
    expect(users.body.data).toEqual([]);

    expect(await s.services.invitations.sweepExpired()).toBeGreaterThanOrEqual(1);
    const byId = await control(s, 'POST', `/invitations/${id}/accept`);
    expect(byId.status).toBe(410);
    expect(byId.body).toEqual(errorBody(refGone(`The invitation '${id}' has expired`)));
    // buried, the address is no one's: nothing is pending for it
    const byEmail = await control(s, 'POST', `/invitations/${address}/accept`);
    expect(byEmail.status).toBe(404);
    const read = await s.call('GET', `/v1/userInvitations/${id}`, { token: await token() });
    expect(read.status).toBe(410);
  });
});

describe('emulator mail capture with SMTP configured', () => {
  it('captures the message and the SMTP server receives it too, with the same link', async () => {
    const sink = await startSmtpSink();
    let server: TestServer | undefined;
    try {
      server = await startTestServer(emulated(() => server!, { config: { smtpUrl: sink.url } }));
      const s = server;
      const address = 'smtp.person@invitees.example.com';
      const id = await invite(s, s.adminToken, address);

      const res = await control(s, 'GET', `/mail?to=${address}`);
      expect(res.status).toBe(200);
      expect(res.body.data).toHaveLength(1);
      const mail = res.body.data[0] as CapturedMail;
      expect(mail.invitationId).toBe(id);
      expect(mail.activationLink).toMatch(ACTIVATION_LINK);

      // drain() (run by the control) resolved after the sink acknowledged the message
      expect(sink.messages).toHaveLength(1);
      const received = sink.messages[0]!;
      expect(received.rcptTo).toEqual([address]);
      expect(received.parsed.subject).toBe(mail.subject);
      expect(received.parsed.text?.trim()).toBe(mail.text.trim());
      expect(received.parsed.text).toContain(mail.activationLink);
      expect(received.parsed.messageId).toBe(`<${mail.id}@asc.example.test>`);

      // the outbox forgot the link once it went out over SMTP; the capture still has it
      const row = await s.services.outbox.find(mail.id);
      expect(row?.status).toBe('sent');
      expect(row?.template_data).not.toContain('/activate/');
      expect((await control(s, 'GET', `/mail/${mail.id}`)).body.activationLink).toBe(mail.activationLink);

      const accepted = await control(s, 'POST', `/invitations/${id}/accept`);
      expect(accepted.status).toBe(200);
      expect(accepted.body.invitationId).toBe(id);
    } finally {
      await server?.close();
      await sink.close();
    }
  });
});
