/** The emulator's mail capture (src/emulator/mail.ts): what it records of a delivery, and how much it keeps. */
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../../src/clock.js';
import { ApiError } from '../../../src/errors/api-error.js';
import { mailCapture, recipientFilter } from '../../../src/emulator/mail.js';
import type { OutboxRow } from '../../../src/mail/outbox-repository.js';
import { renderOutboxMail, storedMail } from '../../../src/mail/templates.js';
import type { MailTransport } from '../../../src/mail/transport.js';

const BASE = 'https://asc.example.test';
const T0 = Date.parse('2026-03-01T10:00:00.000Z');

function outboxRow(n: number, recipient = `person${n}@example.com`): OutboxRow {
  const link = `${BASE}/activate/${'t'.repeat(40)}${String(n).padStart(3, '0')}`;
  return {
    id: `mail-${n}`,
    invitation_id: `inv-${n}`,
    recipient,
    ...storedMail({
      teamName: 'Test Team',
      invitedBy: null,
      firstName: 'Pat',
      lastName: `Number ${n}`,
      email: recipient,
      roles: ['DEVELOPER'],
      apps: null,
      expiresAt: new Date(T0 + 72 * 3600_000),
      link,
    }),
    activation_link: link,
    status: 'pending',
    attempts: 0,
    next_attempt_at: new Date(T0).toISOString(),
    claimed_until: null,
    claimed_by_instance: null,
    claimed_by_boot: null,
    last_error: null,
    created_at: new Date(T0).toISOString(),
    sent_at: null,
  };
}

/** A transport that keeps what it is handed, or refuses it. */
function recorder(fail = false): MailTransport & { got: string[]; closed: number } {
  const t = {
    kind: 'sent' as const,
    description: 'smtp://mail.example.test:25',
    got: [] as string[],
    closed: 0,
    async deliver(row: OutboxRow) {
      if (fail) throw new Error('421 try again later');
      t.got.push(row.id);
    },
    close() {
      t.closed++;
    },
  };
  return t;
}

describe('mailCapture', () => {
  it('records the rendered message with its link, invitation id and emulated time, then delivers it', async () => {
    const clock = new ManualClock(T0);
    const capture = mailCapture(clock);
    const configured = recorder();
    const transport = capture.wrap(configured);
    expect(transport.kind).toBe('sent');
    expect(transport.description).toBe('smtp://mail.example.test:25');

    clock.advance(5000);
    const row = outboxRow(1);
    await transport.deliver(row);
    const rendered = renderOutboxMail(row);
    const link = `${BASE}/activate/${'t'.repeat(40)}001`;
    expect(capture.list()).toEqual([
      {
        id: 'mail-1',
        to: 'person1@example.com',
        subject: "You're invited to join Test Team on App Store Connect",
        text: rendered.text,
        html: rendered.html,
        activationLink: link,
        invitationId: 'inv-1',
        sentAt: '2026-03-01T10:00:05.000Z',
      },
    ]);
    expect(rendered.text).toContain(link);
    expect(capture.get('mail-1')?.activationLink).toBe(link);
    expect(capture.get('mail-2')).toBeUndefined();
    expect(configured.got).toEqual(['mail-1']);
    transport.close();
    expect(configured.closed).toBe(1);
  });

  it('finds the link in the text when the row no longer holds it', async () => {
    const capture = mailCapture(new ManualClock(T0));
    await capture.wrap(recorder()).deliver({ ...outboxRow(7), activation_link: null });
    expect(capture.get('mail-7')?.activationLink).toBe(`${BASE}/activate/${'t'.repeat(40)}007`);
  });

  it('shows a message older than template data as it was stored, without a link', async () => {
    const capture = mailCapture(new ManualClock(T0));
    const row = {
      ...outboxRow(8),
      template_data: null,
      subject: 'Old subject',
      text_body: 'old text',
      html_body: '<p>old</p>',
      activation_link: null,
    };
    await capture.wrap(recorder()).deliver(row);
    expect(capture.get('mail-8')).toMatchObject({ subject: 'Old subject', text: 'old text', html: '<p>old</p>', activationLink: null });
  });

  it('keeps a message whose delivery failed, once per outbox row however often it is retried', async () => {
    const clock = new ManualClock(T0);
    const capture = mailCapture(clock);
    const transport = capture.wrap(recorder(true));
    await expect(transport.deliver(outboxRow(1))).rejects.toThrow('421');
    await transport.deliver(outboxRow(2)).catch(() => undefined);
    clock.advance(60_000);
    await transport.deliver(outboxRow(1)).catch(() => undefined);
    // the retry replaced the first record and moved to the end, with its new time
    expect(capture.list().map((m) => [m.id, m.sentAt])).toEqual([
      ['mail-2', '2026-03-01T10:00:00.000Z'],
      ['mail-1', '2026-03-01T10:01:00.000Z'],
    ]);
  });

  it('keeps the newest `size` messages', async () => {
    const capture = mailCapture(new ManualClock(T0), 3);
    const transport = capture.wrap(recorder());
    for (let n = 1; n <= 5; n++) await transport.deliver(outboxRow(n));
    expect(capture.list().map((m) => m.id)).toEqual(['mail-3', 'mail-4', 'mail-5']);
    expect(capture.get('mail-2')).toBeUndefined();

    const none = mailCapture(new ManualClock(T0), 0);
    await none.wrap(recorder()).deliver(outboxRow(1));
    expect(none.list()).toEqual([]);
    expect(() => mailCapture(new ManualClock(T0), -1)).toThrow(RangeError);
    expect(() => mailCapture(new ManualClock(T0), 1.5)).toThrow(RangeError);
  });

  it('filters by recipient whatever the case, and clears', async () => {
    const capture = mailCapture(new ManualClock(T0));
    const transport = capture.wrap(recorder());
    await transport.deliver(outboxRow(1, 'Jane.Doe@Example.com'));
    await transport.deliver(outboxRow(2, 'john@example.com'));
    await transport.deliver(outboxRow(3, 'jane.doe@example.com'));
    expect(capture.list({ to: 'JANE.DOE@example.COM' }).map((m) => m.id)).toEqual(['mail-1', 'mail-3']);
    expect(capture.list({ to: 'jane@example.com' })).toEqual([]);
    expect(capture.list({}).map((m) => m.id)).toEqual(['mail-1', 'mail-2', 'mail-3']);
    capture.clear();
    expect(capture.list()).toEqual([]);
  });
});

describe('recipientFilter (?to= of GET /mail)', () => {
  const refusal = (url: string) => {
    try {
      recipientFilter(url);
    } catch (err) {
      if (err instanceof ApiError) return [err.status, err.code, err.source];
      throw err;
    }
    return undefined;
  };

  it('reads one address, percent-decoded, keeping +', () => {
    expect(recipientFilter('/mail')).toEqual({});
    expect(recipientFilter('/mail?')).toEqual({});
    expect(recipientFilter('/mail?to=a+b%40example.com')).toEqual({ to: 'a+b@example.com' });
    expect(recipientFilter('/mail?to=%20Jane@Example.com%20')).toEqual({ to: 'Jane@Example.com' });
  });

  it('refuses an empty, repeated or undecodable value, and any other parameter', () => {
    for (const url of ['/mail?to=', '/mail?to', '/mail?to=a@x.com&to=b@x.com', '/mail?to=%E0%A4%A'])
      expect(refusal(url), url).toEqual([400, 'PARAMETER_ERROR.INVALID', { parameter: 'to' }]);
    expect(refusal('/mail?email=a@x.com')).toEqual([400, 'PARAMETER_ERROR.ILLEGAL', { parameter: 'email' }]);
    expect(refusal('/mail?to=a@x.com&limit=3')).toEqual([400, 'PARAMETER_ERROR.ILLEGAL', { parameter: 'limit' }]);
  });
});
