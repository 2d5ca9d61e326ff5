/**
 * The HTML of the activation pages. Pure functions from view models to complete documents; every
 * piece of user input (names, email, team and app names, the inviter) goes through escapeHtml.
 * Pages carry no script. Pages that must not tell states apart (unknown and used links) take no
 * input but the team name, so their bodies are identical.
 */
import escapeHtml from 'escape-html';
import type { UserRole } from '../domain/roles.js';
import { ROLE_NAMES } from '../domain/roles.js';
import { CSRF_FIELD } from './csrf.js';
import { FAVICON_DATA_URI } from './favicon.js';
import { STYLESHEET } from './style.js';

const e = escapeHtml;

export interface AppView {
  name: string;
  bundleId: string;
}

export interface InvitationView {
  teamName: string;
  invitedBy: string | null;
  firstName: string;
  lastName: string;
  email: string;
  roles: readonly UserRole[];
  /** null: all apps */
  apps: readonly AppView[] | null;
  expiresAt: Date;
}

const DAY_FORMAT = new Intl.DateTimeFormat('en-US', { dateStyle: 'long', timeZone: 'UTC' });
const TIME_FORMAT = new Intl.DateTimeFormat('en-US', { timeStyle: 'short', timeZone: 'UTC' });

/** The day and the time of a moment, in UTC: ["November 29, 2026", "10:22 AM UTC"] */
export function formatPageDate(date: Date): [day: string, time: string] {
  return [DAY_FORMAT.format(date), `${TIME_FORMAT.format(date)} UTC`];
}

/** "in 3 days", "in 5 hours", "in less than an hour" */
export function timeLeft(until: Date, now: Date): string {
  const hours = Math.floor((until.getTime() - now.getTime()) / 3_600_000);
  if (hours >= 24) {
    const days = Math.round(hours / 24);
    return `in ${days} day${days === 1 ? '' : 's'}`;
  }
  if (hours >= 1) return `in ${hours} hour${hours === 1 ? '' : 's'}`;
  return 'in less than an hour';
}

/** Up to two initials of the team's name, for its badge. */
export function initials(name: string): string {
  const words = name.split(/\s+/).filter((w) => /[\p{L}\p{N}]/u.test(w));
  const letters = words.slice(0, 2).map((w) => [...w.replace(/^[^\p{L}\p{N}]+/u, '')][0] ?? '');
  return letters.join('').toUpperCase() || '#';
}

// ---- icons (inline SVG: no requests, nothing for the CSP to admit) ---------------------------

const svg = (body: string, size = 30) =>
  `<svg width="${size}" height="${size}" viewBox="0 0 24 24" fill="none" stroke="currentColor" stroke-width="2" stroke-linecap="round" stroke-linejoin="round" aria-hidden="true" focusable="false">${body}</svg>`;
const ICONS = {
  team: svg(
    '<circle cx="9" cy="8" r="3.2"/><path d="M3.5 19c.6-3.2 2.8-5 5.5-5s4.9 1.8 5.5 5"/><circle cx="17" cy="9" r="2.4"/><path d="M16 14.2c2.3.1 4 1.6 4.5 4.3"/>',
    18,
  ),
  check: svg('<path d="M5 12.5l4.5 4.5L19 7.5"/>'),
  clock: svg('<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>'),
  clockSmall: svg('<circle cx="12" cy="12" r="8.5"/><path d="M12 7.5V12l3 2"/>', 16),
  link: svg(
    '<path d="M10 14a4 4 0 0 0 5.7 0l2.8-2.8a4 4 0 0 0-5.7-5.7l-1 1"/><path d="M14 10a4 4 0 0 0-5.7 0l-2.8 2.8a4 4 0 0 0 5.7 5.7l1-1"/><path d="M4 4l16 16"/>',
  ),
  shield: svg('<path d="M12 3l7 3v5.5c0 4.3-2.9 7.9-7 9.5-4.1-1.6-7-5.2-7-9.5V6z"/><path d="M12 8.5v4"/><path d="M12 15.8v.2"/>'),
  cross: svg('<path d="M7.5 7.5l9 9"/><path d="M16.5 7.5l-9 9"/>'),
  alert: svg('<circle cx="12" cy="12" r="8.5"/><path d="M12 8v4.5"/><path d="M12 16v.2"/>'),
};

// ---- layout ----------------------------------------------------------------------------------

function layout(title: string, teamName: string, content: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<meta name="robots" content="noindex, nofollow">
<meta name="color-scheme" content="light dark">
<title>${e(title)}</title>
<link rel="icon" href="${e(FAVICON_DATA_URI)}">
<style>${STYLESHEET}</style>
</head>
<body>
<header class="top"><div class="brand"><span class="mark">${ICONS.team}</span><span class="team">${e(teamName)}</span><span class="sub">Users and Access</span></div></header>
<main>
${content}
</main>
<footer class="foot">${e(teamName)} · App Store Connect Users and Access</footer>
</body>
</html>
`;
}

function rolesList(roles: readonly UserRole[]): string {
  return `<ul class="chips">${roles.map((r) => `<li>${e(ROLE_NAMES[r])}</li>`).join('')}</ul>`;
}

function appsList(apps: readonly AppView[] | null): string {
  if (apps === null) return 'All apps';
  if (apps.length === 0) return 'No apps yet';
  return `<ul class="apps">${apps.map((a) => `<li>${e(a.name)}<span class="id">${e(a.bundleId)}</span></li>`).join('')}</ul>`;
}

function fact(label: string, valueHtml: string): string {
  return `<div><dt>${e(label)}</dt><dd>${valueHtml}</dd></div>`;
}

function statusCard(
  icon: keyof typeof ICONS,
  tone: 'ok' | 'warn' | 'bad' | 'neutral',
  heading: string,
  leadHtml: string,
  extra = '',
): string {
  return `<section class="card status" aria-labelledby="title">
<div class="icon ${tone}">${ICONS[icon]}</div>
<h1 id="title">${heading}</h1>
<p class="lead">${leadHtml}</p>
${extra}</section>`;
}

// ---- pages -----------------------------------------------------------------------------------

/** 200: the invitation, with Accept and Decline. */
export function pendingPage(v: InvitationView & { token: string; csrf: string; now: Date }): string {
  const name = `${v.firstName} ${v.lastName}`;
  const team = `<strong>${e(v.teamName)}</strong>`;
  const lead = v.invitedBy
    ? `<strong>${e(v.invitedBy)}</strong> invited you, <strong>${e(name)}</strong>, to join ${team} on App Store Connect.`
    : `You, <strong>${e(name)}</strong>, are invited to join ${team} on App Store Connect.`;
  const hidden = `<input type="hidden" name="${CSRF_FIELD}" value="${e(v.csrf)}">`;
  // relative actions: they resolve against /activate/<token> whatever prefix the public URL has
  const token = encodeURIComponent(v.token);
  const [day, time] = formatPageDate(v.expiresAt);
  const content = `<article class="card invite" aria-labelledby="title">
<div class="hero">
<div class="avatar" aria-hidden="true">${e(initials(v.teamName))}</div>
<div class="intro">
<p class="eyebrow">Team invitation</p>
<h1 id="title">Join ${e(v.teamName)}</h1>
<p class="lead">${lead}</p>
</div>
<p class="pill">${ICONS.clockSmall}Expires ${e(timeLeft(v.expiresAt, v.now))}</p>
</div>
<div class="details">
<dl class="facts">
${fact('Name', e(name))}
${fact('Username', e(v.email))}
${fact('Roles', rolesList(v.roles))}
${fact('Apps', appsList(v.apps))}
${fact('Expires', `<time datetime="${e(v.expiresAt.toISOString())}">${e(day)}<span class="when">${e(time)}</span></time>`)}
</dl>
<div class="actions">
<form method="post" action="${e(token)}/accept">${hidden}<button class="btn primary" type="submit">Accept invitation</button></form>
<form method="post" action="${e(token)}/decline">${hidden}<button class="btn secondary" type="submit">Decline</button></form>
</div>
<p class="fine">Accepting adds you to ${e(v.teamName)} with the username ${e(v.email)} and the roles above. Not expecting this invitation? Decline it, or simply let it expire.</p>
</div>
</article>`;
  return layout(`Join ${v.teamName}`, v.teamName, content);
}

/** 200 after Accept (the result page a reload shows again): the team, nothing about the person. */
export function acceptedPage(teamName: string): string {
  const content = statusCard(
    'check',
    'ok',
    `You're now a member of ${e(teamName)}`,
    "Your account is ready, and the team's admins can now see you in Users and Access. You can close this page.",
  );
  return layout(`You're now a member of ${teamName}`, teamName, content);
}

/** 200 after Decline. */
export function declinedPage(teamName: string): string {
  const content = statusCard(
    'cross',
    'neutral',
    'Invitation declined',
    `You won't be added to ${e(teamName)}. If this was a mistake, ask the person who invited you to send a new invitation.`,
  );
  return layout('Invitation declined', teamName, content);
}

/** 410: the invitation ran out of time. */
export function expiredPage(teamName: string): string {
  const content = statusCard(
    'clock',
    'warn',
    'This invitation has expired',
    `Invitations are valid for 72 hours. Ask an admin of ${e(teamName)} to send you a new one.`,
  );
  return layout('Invitation expired', teamName, content);
}

/** 404: unknown, already used, declined or cancelled. Takes nothing that could tell them apart. */
export function notFoundPage(teamName: string): string {
  const content = statusCard(
    'link',
    'neutral',
    "This invitation link isn't valid",
    'It may have been used or cancelled already, or copied incompletely. Check the link in your email, or ask the person who invited you for a new invitation.',
  );
  return layout('Invitation not found', teamName, content);
}

/** 403: the form did not come from our page (missing or wrong CSRF value, foreign Origin). */
export function forbiddenPage(teamName: string, token: string | undefined): string {
  const back = token
    ? `<div class="actions"><a class="btn primary" href="../${e(encodeURIComponent(token))}">Back to the invitation</a></div>`
    : '';
  const content = statusCard(
    'shield',
    'bad',
    "We couldn't verify this request",
    'For your security, an invitation can only be answered from its own page, with cookies allowed for this site. Open the invitation again and try once more.',
    back,
  );
  return layout('Request not verified', teamName, content);
}

/** Any other failure (400, 413, 415, 500): nothing about internals. */
export function errorPage(teamName: string, status: number): string {
  const [heading, lead] =
    status >= 500
      ? ['Something went wrong', 'The invitation could not be processed just now. Nothing was changed; please try again in a moment.']
      : ["This request couldn't be processed", 'Open the invitation link from your email and use the buttons on that page.'];
  return layout(heading, teamName, statusCard('alert', status >= 500 ? 'bad' : 'neutral', heading, lead));
}
