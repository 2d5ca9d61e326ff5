/**
 * The emulator's captured mail: every invitation email a team's mail worker delivers, kept as JSON
 * for tests to read (Mailpit's idea), whether or not SMTP is configured.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { ApiError } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { sendErrors, sendJson, splitTarget } from '../http/responses.js';
import type { OutboxRow } from '../mail/outbox-repository.js';
import { renderOutboxMail, type RenderedMail } from '../mail/templates.js';
import type { MailTransport } from '../mail/transport.js';
import type { EmulatorTeam } from './team.js';

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

/** An activation link as the message shows it: the public URL, then /activate/ and the token. */
const ACTIVATION_LINK = /\bhttps?:\/\/[^\s"'<>]*\/activate\/[A-Za-z0-9_-]+/;

/** The message as its recipient gets it: rendered from its data, or as stored by rows older than that data. */
function rendered(row: OutboxRow): RenderedMail {
  return row.template_data === null ? { subject: row.subject, text: row.text_body, html: row.html_body } : renderOutboxMail(row);
}

/** What a test reads of one outbox row at the moment it is delivered (after that, its link is no longer stored). */
export function captureOf(row: OutboxRow, sentAt: Date): CapturedMail {
  const mail = rendered(row);
  return {
    id: row.id,
    to: row.recipient,
    subject: mail.subject,
    text: mail.text,
    html: mail.html,
    activationLink: row.activation_link ?? ACTIVATION_LINK.exec(mail.text)?.[0] ?? null,
    invitationId: row.invitation_id,
    sentAt: sentAt.toISOString(),
  };
}

/**
 * A capture keeping the newest `size` messages (a whole number; 0 keeps none), stamped with
 * `clock` (the team's emulated time).
 *
 * A message is recorded before it is handed to the configured transport, so a test sees it even
 * while SMTP refuses it. A retried delivery records the message again: it replaces the earlier
 * record of the same outbox row (ids stay unique) and moves to the end, with the new time.
 */
export function mailCapture(clock: Clock, size = 1000): MailCapture {
  if (!Number.isInteger(size) || size < 0) throw new RangeError(`mail capture size must be a whole number, not ${size}`);
  // insertion order is delivery order; re-inserting a key (delete, then set) moves it to the end
  const messages = new Map<string, CapturedMail>();

  function record(mail: CapturedMail): void {
    messages.delete(mail.id);
    if (size === 0) return;
    messages.set(mail.id, mail);
    while (messages.size > size) messages.delete(messages.keys().next().value as string);
  }

  return {
    wrap(configured) {
      return {
        kind: configured.kind,
        description: configured.description,
        async deliver(row) {
          record(captureOf(row, clock.now()));
          await configured.deliver(row);
        },
        close: () => configured.close(),
      };
    },
    list(filter = {}) {
      const all = [...messages.values()];
      if (filter.to === undefined) return all;
      const to = filter.to.toLowerCase();
      return all.filter((m) => m.to.toLowerCase() === to);
    },
    get: (id) => messages.get(id),
    clear: () => messages.clear(),
  };
}

/** Answers an ApiError thrown by `run` as Apple's ErrorResponse; anything else goes to the app's error handler. */
export async function answering(reply: FastifyReply, run: () => Promise<FastifyReply>): Promise<FastifyReply> {
  try {
    return await run();
  } catch (err) {
    if (err instanceof ApiError) return sendErrors(reply, [err]);
    throw err;
  }
}

/**
 * `?to=`: one address, not empty; a repeated or empty one, or any other parameter, is refused
 * rather than guessed at. Read from the raw query (the app parses none for its routes), percent-
 * decoded, with `+` kept as it is: it is a character of addresses.
 */
export function recipientFilter(url: string): { to?: string } {
  const { query } = splitTarget(url);
  const values: string[] = [];
  for (const pair of query === '' ? [] : query.split('&')) {
    if (pair === '') continue;
    const eq = pair.indexOf('=');
    const name = eq === -1 ? pair : pair.slice(0, eq);
    let value: string;
    try {
      value = decodeURIComponent(eq === -1 ? '' : pair.slice(eq + 1));
    } catch {
      value = '';
    }
    if (name !== 'to') throw errors.parameterIllegal(safeName(name));
    values.push(value.trim());
  }
  if (values.length === 0) return {};
  if (values.length > 1 || values[0] === '') throw errors.parameterInvalid('to', "The parameter 'to' must be one email address");
  return { to: values[0]! };
}

/** A parameter's name as an error may quote it: decoded when it can be, and not too long. */
function safeName(raw: string): string {
  let name = raw;
  try {
    name = decodeURIComponent(raw);
  } catch {
    // quoted as received
  }
  return name.length > 100 ? `${name.slice(0, 100)}…` : name;
}

/**
 * The mail controls, on `scope` (prefixed with the team's path, `/_emulator/v1/teams/:team`):
 * GET /mail (`?to=` filters by recipient, any case) lists the captured messages oldest first,
 * after delivering everything the team's outbox holds due, so a test never has to poll; GET
 * /mail/:id reads one; DELETE /mail forgets them all.
 */
export function registerMailControls(scope: FastifyInstance, teamOf: (request: FastifyRequest) => EmulatorTeam): void {
  scope.get('/mail', (request, reply) =>
    answering(reply, async () => {
      const filter = recipientFilter(request.url);
      const team = teamOf(request);
      await team.built.mailWorker.drain();
      return sendJson(reply, 200, { data: team.mail.list(filter) });
    }),
  );
  scope.get<{ Params: { id: string } }>('/mail/:id', (request, reply) =>
    answering(reply, async () => {
      const team = teamOf(request);
      await team.built.mailWorker.drain();
      const mail = team.mail.get(request.params.id);
      if (!mail) throw errors.notFound('mail', request.params.id, `There is no captured message with id '${request.params.id}'`);
      return sendJson(reply, 200, mail);
    }),
  );
  scope.delete('/mail', (request, reply) =>
    answering(reply, async () => {
      teamOf(request).mail.clear();
      return reply.code(204).send();
    }),
  );
}
