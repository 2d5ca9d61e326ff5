/** `asc-access mail`: the mail log, a list and one message with its text. */
import { parseArgs } from 'node:util';
import type { Config } from '../../config.js';
import type { OutboxRow } from '../../mail/outbox-repository.js';
import { LINK_NOT_KEPT, renderOutboxMail } from '../../mail/templates.js';
import { CommandError, UsageError, withServices, type Out } from '../command.js';

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

export async function mailCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { limit: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  await withServices(config, async (s) => {
    if (sub === 'list') {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit must be 1 to 100000');
      const rows = await s.outbox.list(limit);
      const messages = rows.map((m) => mailView(m, false));
      const lines = rows.map((m) =>
        [m.id, m.status.padEnd(9), `attempts=${String(m.attempts)}`, m.recipient, JSON.stringify(m.subject), linkText(m) ?? '-'].join('  '),
      );
      out(lines.length > 0 ? lines.join('\n') : 'the mail log is empty', { messages });
    } else if (sub === 'show') {
      const id = positionals[0];
      if (!id) throw new UsageError('mail show needs an ID (see mail list)');
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
      out([...head, '', String(view.textBody)].join('\n'), view);
    } else {
      throw new UsageError(`unknown mail command '${sub ?? ''}'`);
    }
  });
}
