/**
 * The emulator's captured mail: every invitation email a team's mail worker delivers, kept as JSON
 * for tests to read (Mailpit's idea), whether or not SMTP is configured.
 */
import type { MailTransport } from '../mail/transport.js';

export interface CapturedMail {
  id: string;
  to: string;
  subject: string;
  text: string;
  html: string;
  /** the activation link the message carries, or null */
  activationLink: string | null;
  invitationId: string | null;
  /** when it was delivered, in emulated time (ISO 8601) */
  sentAt: string;
}

export interface MailCapture {
  /** the transport to deliver through: records each message, then hands it to `configured` */
  wrap(configured: MailTransport): MailTransport;
  /** oldest first; `to` matches the recipient without regard to case */
  list(filter?: { to?: string }): CapturedMail[];
  get(id: string): CapturedMail | undefined;
  clear(): void;
}
