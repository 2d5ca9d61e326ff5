/**
 * Where invitation emails go: SMTP through nodemailer when ASC_SMTP_URL is set; otherwise the
 * embedded default, the database's mail log, with the activation link written to the server log.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { FastifyBaseLogger } from 'fastify';
import type { OutboxRow } from './outbox-repository.js';
import { renderOutboxMail } from './templates.js';

export interface MailTransport {
  /** 'sent' for real delivery, 'logged' for the mail log */
  readonly kind: 'sent' | 'logged';
  /** where messages go, for the log (never with credentials) */
  readonly description: string;
  deliver(message: OutboxRow): Promise<void>;
  close(): void;
}

/** Limits on one SMTP delivery, so that a mail server that hangs neither holds up shutdown nor outlives a claim. */
const SMTP_TIMEOUTS = { connectionTimeout: 30_000, greetingTimeout: 30_000, socketTimeout: 60_000 } as const;

/** The right-hand side of our Message-IDs: the sender's domain, when it has a usable one. */
export function messageIdDomain(from: string): string {
  const address = /<([^<>]*)>\s*$/.exec(from)?.[1] ?? from;
  const domain = address
    .slice(address.lastIndexOf('@') + 1)
    .trim()
    .toLowerCase();
  return /^[a-z0-9-]+(\.[a-z0-9-]+)*$/.test(domain) ? domain : 'asc-access.invalid';
}

/** One Message-ID per outbox row, the same on every attempt: a receiver can tell a repeat from a new message. */
export function messageIdFor(outboxId: string, from: string): string {
  return `<${outboxId}@${messageIdDomain(from)}>`;
}

export class SmtpTransport implements MailTransport {
  readonly kind = 'sent' as const;
  readonly description: string;
  private readonly transporter: Transporter;

  /**
   * `url` is smtp:// (STARTTLS when offered) or smtps:// (TLS from the start), with
   * percent-encoded credentials in its user-info (smtp://user:p%40ss@host:587); query
   * parameters are nodemailer options (e.g. `?tls.rejectUnauthorized=false`).
   */
  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transporter = nodemailer.createTransport({ url, ...SMTP_TIMEOUTS });
    const u = new URL(url);
    this.description = `${u.protocol}//${u.host}`;
  }

  async deliver(m: OutboxRow): Promise<void> {
    const mail = renderOutboxMail(m);
    await this.transporter.sendMail({
      from: this.from,
      // an address object, not a string: a string would be parsed as an address list
      to: { name: '', address: m.recipient },
      envelope: { from: this.from, to: [m.recipient] },
      // one line whatever it holds (templates make it so; nodemailer encodes it as a header word)
      subject: mail.subject.replace(/[\r\n]+/g, ' '),
      text: mail.text,
      html: mail.html,
      messageId: messageIdFor(m.id, this.from),
      disableFileAccess: true,
      disableUrlAccess: true,
    });
  }

  close(): void {
    this.transporter.close();
  }
}

export class LogTransport implements MailTransport {
  readonly kind = 'logged' as const;
  readonly description = 'the mail log in the database (ASC_SMTP_URL is not set; activation links are logged)';
  constructor(private readonly log: Pick<FastifyBaseLogger, 'info'>) {}

  async deliver(m: OutboxRow): Promise<void> {
    this.log.info(
      { mailId: m.id, to: m.recipient, subject: m.subject, activationLink: m.activation_link },
      `invitation email for ${m.recipient} kept in the mail log (no ASC_SMTP_URL); activation link: ${m.activation_link ?? '(none)'}`,
    );
  }

  close(): void {}
}
