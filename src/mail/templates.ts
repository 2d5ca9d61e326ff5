/**
 * The invitation email: plain text and HTML alternatives. The HTML part is an Eta template
 * (templates/mail/invitation.eta, read relative to this module as the pages' templates are) with
 * autoEscape on, so every piece of user input is escaped; the subject is a single line (names
 * cannot carry line breaks, A10).
 */
import { fileURLToPath } from 'node:url';
import { Eta } from 'eta';
import type { MailOutboxTable } from '../db/schema.js';
import { ROLE_NAMES, type UserRole } from '../domain/roles.js';

const eta = new Eta({ views: fileURLToPath(new URL('../../templates/mail/', import.meta.url)), autoEscape: true, cache: true });

export interface InvitationMailInput {
  teamName: string;
  /** the person who invited (individual key); null when a team key did: only the team is named */
  invitedBy: string | null;
  firstName: string;
  lastName: string;
  email: string;
  roles: readonly UserRole[];
  /** names of the apps the invitee will see; null = all apps */
  apps: readonly string[] | null;
  expiresAt: Date;
  link: string;
}

export interface RenderedMail {
  subject: string;
  text: string;
  html: string;
}

export function rolesInWords(roles: readonly UserRole[]): string {
  return roles.map((r) => ROLE_NAMES[r]).join(', ');
}

export function formatExpiry(date: Date): string {
  return `${date.toISOString().slice(0, 16).replace('T', ' ')} UTC`;
}

/** A subject line never carries a line break, whatever a name contains. */
function oneLine(s: string): string {
  return s.replace(/[\r\n\u2028\u2029]+/g, ' ');
}

/** The subject of an invitation email (also kept in the mail log's row, for listing). */
export function invitationSubject(teamName: string): string {
  return oneLine(`You're invited to join ${teamName} on App Store Connect`);
}

/**
 * What the outbox keeps of a message (its `template_data`): the input it is rendered from, as
 * JSON. A few hundred bytes instead of the 2 KB of its text and HTML (migration 008).
 */
export function mailTemplateData(m: InvitationMailInput): string {
  return JSON.stringify({ ...m, expiresAt: m.expiresAt.toISOString() });
}

/** The columns of the outbox that hold a new message (migration 008): its subject and its data, no rendering. */
export function storedMail(m: InvitationMailInput): Pick<MailOutboxTable, 'subject' | 'text_body' | 'html_body' | 'template_data'> {
  return { subject: invitationSubject(m.teamName), text_body: '', html_body: '', template_data: mailTemplateData(m) };
}

/** What a message sent over SMTP shows where its activation link was. */
export const LINK_NOT_KEPT = '(not kept after delivery)';

/**
 * The data of a message once it went out over SMTP: without its activation link, which only the
 * recipient's mailbox keeps from then on (the invitation itself keeps only the token's SHA-256).
 */
export function templateDataWithoutLink(templateData: string | null): string | null {
  if (templateData === null) return null;
  const { link: _link, ...rest } = JSON.parse(templateData) as Record<string, unknown>;
  return JSON.stringify(rest);
}

/** A message of the outbox as it is sent and shown: rendered from its data (a sent one without its link). */
export function renderOutboxMail(row: Pick<MailOutboxTable, 'template_data'>): RenderedMail {
  // every message is written with its data (migration 008 came before any release)
  if (row.template_data === null) throw new Error('an outbox message has no template data');
  const data = JSON.parse(row.template_data) as Omit<InvitationMailInput, 'expiresAt' | 'link'> & { expiresAt: string; link?: string };
  return renderInvitationMail({ ...data, link: data.link ?? LINK_NOT_KEPT, expiresAt: new Date(data.expiresAt) });
}

export function renderInvitationMail(m: InvitationMailInput): RenderedMail {
  const name = `${m.firstName} ${m.lastName}`;
  // apps by name, so that the email reads the same whatever order the ids came in
  const apps =
    m.apps === null ? 'All apps' : m.apps.length === 0 ? 'No apps yet' : [...m.apps].sort((a, b) => a.localeCompare(b, 'en')).join(', ');
  const roles = rolesInWords(m.roles);
  const expires = formatExpiry(m.expiresAt);
  const subject = invitationSubject(m.teamName);
  // a person who invited is named (individual keys); a team key's invitation names only the team
  const invitation = m.invitedBy ? `${m.invitedBy} invited you` : "You're invited";
  const text = [
    `Dear ${name},`,
    '',
    `${invitation} to join the team "${m.teamName}" on App Store Connect.`,
    '',
    `Email: ${m.email}`,
    `Roles: ${roles}`,
    `Apps: ${apps}`,
    '',
    `To accept, open this link before ${expires}:`,
    m.link,
    '',
    'If you were not expecting this invitation, you can ignore this email or decline it at the link above.',
  ].join('\n');
  const html = eta.render('invitation', {
    subject,
    invitation,
    teamName: m.teamName,
    name,
    email: m.email,
    roles,
    apps,
    link: m.link,
    expires,
  });
  return { subject, text, html };
}
