/**
 * Where invitation emails go: SMTP through nodemailer when ASC_SMTP_URL is set; otherwise the
 * embedded default, the database's mail log, with the activation link written to the server log.
 */
import nodemailer, { type Transporter } from 'nodemailer';
import type { FastifyBaseLogger } from 'fastify';
import type { OutboxRow } from './outbox-repository.js';

export interface MailTransport {
  /** 'sent' for real delivery, 'logged' for the mail log */
  readonly kind: 'sent' | 'logged';
  deliver(message: OutboxRow): Promise<void>;
  close(): void;
}

export class SmtpTransport implements MailTransport {
  readonly kind = 'sent' as const;
  private readonly transporter: Transporter;

  constructor(
    url: string,
    private readonly from: string,
  ) {
    this.transporter = nodemailer.createTransport(url);
  }

  async deliver(m: OutboxRow): Promise<void> {
    await this.transporter.sendMail({
      from: this.from,
      to: m.recipient,
      subject: m.subject,
      text: m.text_body,
      html: m.html_body,
      // one Message-ID per outbox row: a receiver can tell a repeat from a new message
      messageId: `<${m.id}@asc-access>`,
      // nodemailer refuses header injection itself; recipients were validated on the way in
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
  constructor(private readonly log: Pick<FastifyBaseLogger, 'info'>) {}

  async deliver(m: OutboxRow): Promise<void> {
    this.log.info({ mailId: m.id, to: m.recipient, activationLink: m.activation_link }, `invitation email for ${m.recipient}: ${m.activation_link ?? ''}`);
  }

  close(): void {}
}
