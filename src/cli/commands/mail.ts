/** `asc-access mail`: the mail log, a list and one message with its text. */
import { Command } from 'commander';
import type { OutboxRow } from '../../mail/outbox-repository.js';
import { LINK_NOT_KEPT, renderOutboxMail } from '../../mail/templates.js';
import { CommandError, UsageError, withServices, type CommandContext } from '../command.js';

/**
 * What the text output shows for a message's link: the link, or for a message sent over SMTP a note
 * that it was not kept (OutboxRepository.markDelivered). A message 'logged' keeps its link: without
 * SMTP the mail log is the mailbox.
 */
function linkText(m: OutboxRow): string | null {
  return m.activation_link ?? (m.status === 'sent' && m.invitation_id !== null ? LINK_NOT_KEPT : null);
}

/** The mail log's view of an outbox row (the text and HTML bodies only with `full`). */
function mailView(m: OutboxRow, full: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: m.id,
    invitationId: m.invitation_id,
    recipient: m.recipient,
    subject: m.subject,
    status: m.status,
    attempts: m.attempts,
    activationLink: m.activation_link,
    createdAt: m.created_at,
    sentAt: m.sent_at,
    nextAttemptAt: m.status === 'pending' ? m.next_attempt_at : null,
    lastError: m.last_error,
  };
  if (full) {
    const mail = renderOutboxMail(m);
    Object.assign(view, { textBody: mail.text, htmlBody: mail.html });
  }
  return view;
}

export function mailCommand(ctx: CommandContext): Command {
  const mail = new Command('mail').description('the mail log: what was sent or is waiting, with activation links');
  mail
    .command('list')
    .description('the mail log, newest first (recipient, subject, status, attempts, activation link)')
    .option('--limit <n>', 'how many messages, 1 to 100000 (default 100)')
    .option('--json', 'print one JSON object')
    .action(async (o: { limit?: string }) => {
      const limit = o.limit === undefined ? 100 : Number(o.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit must be 1 to 100000');
      await withServices(ctx.config(), async (s) => {
        const rows = await s.outbox.list(limit);
        const messages = rows.map((m) => mailView(m, false));
        const lines = rows.map((m) =>
          [m.id, m.status.padEnd(9), `attempts=${String(m.attempts)}`, m.recipient, JSON.stringify(m.subject), linkText(m) ?? '-'].join(
            '  ',
          ),
        );
        ctx.out(lines.length > 0 ? lines.join('\n') : 'the mail log is empty', { messages });
      });
    });
  mail
    .command('show')
    .description('one message of the mail log, with its text (--json adds the HTML)')
    .argument('<ID>', 'the message (see mail list)')
    .option('--json', 'print one JSON object')
    .action((id: string) =>
      withServices(ctx.config(), async (s) => {
        const m = await s.outbox.find(id);
        if (!m) throw new CommandError(`there is no message with id '${id}' in the mail log`);
        const view = mailView(m, true);
        const shown: Record<string, unknown> = { ...view, activationLink: linkText(m) };
        const head = [
          'id',
          'invitationId',
          'recipient',
          'subject',
          'status',
          'attempts',
          'activationLink',
          'createdAt',
          'sentAt',
          'nextAttemptAt',
          'lastError',
        ]
          .filter((k) => shown[k] !== null && shown[k] !== undefined)
          .map((k) => `${`${k}:`.padEnd(16)}${String(shown[k])}`);
        ctx.out([...head, '', String(view.textBody)].join('\n'), view);
      }),
    );
  return mail;
}
