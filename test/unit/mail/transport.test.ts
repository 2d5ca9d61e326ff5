/** Message-IDs: one per outbox row, on the sender's domain. */
import { describe, expect, it } from 'vitest';
import { messageIdDomain, messageIdFor, SmtpTransport } from '../../../src/mail/transport.js';

describe('messageIdFor', () => {
  it('is the outbox id at the domain of the sender', () => {
    expect(messageIdFor('0b7c5d2e-58e3-4b8c-9d0e-2f1a6b3c4d5e', 'no-reply@asc.example.test')).toBe(
      '<0b7c5d2e-58e3-4b8c-9d0e-2f1a6b3c4d5e@asc.example.test>',
    );
    expect(messageIdFor('id-1', 'App Store Connect <No-Reply@Example.COM>')).toBe('<id-1@example.com>');
  });

  it('falls back to a reserved domain when the sender has no usable one', () => {
    expect(messageIdDomain('"x" <a@[127.0.0.1]>')).toBe('asc-access.invalid');
    expect(messageIdDomain('a@b c')).toBe('asc-access.invalid');
  });
});

describe('SmtpTransport', () => {
  it('describes itself for the log without the credentials of its URL', () => {
    const t = new SmtpTransport(
      'smtps://mailer%40example.com:s3cr%3At@mail.example.com:465/?tls.rejectUnauthorized=false',
      'a@example.com',
    );
    expect(t.description).toBe('smtps://mail.example.com:465');
    t.close();
  });
});
