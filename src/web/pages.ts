/**
 * What the activation pages show: for each page, its template (templates/activation/<name>.eta,
 * rendered by Eta through @fastify/view, see ./views.ts) and the data it is rendered with. The
 * markup lives in the templates, where every `<%= %>` is HTML-escaped (autoEscape); the only raw
 * insertions are our own constants (the stylesheet, the icons, the page body in the layout). Pages
 * carry no script. Pages that must not tell states apart (unknown and used links) take no input
 * but the team name, so their bodies are identical.
 */
import type { UserRole } from '../domain/roles.js';
import { ROLE_NAMES } from '../domain/roles.js';
import { CSRF_FIELD } from './csrf.js';
import { FAVICON_DATA_URI } from './favicon.js';
import { STYLESHEET } from './style.js';

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
export const ICONS = {
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

// ---- pages ------------------------------------------------------------------------------------

/** A page to render: the template's name (without `.eta`) and its data. */
export interface Page {
  template: 'pending' | 'accepted' | 'declined' | 'expired' | 'not-found' | 'forbidden' | 'error';
  data: Record<string, unknown>;
}

/** What the layout needs on every page. */
function page(template: Page['template'], title: string, teamName: string, data: Record<string, unknown> = {}): Page {
  return { template, data: { title, teamName, icons: ICONS, stylesheet: STYLESHEET, favicon: FAVICON_DATA_URI, ...data } };
}

/** 200: the invitation, with Accept and Decline. */
export function pendingPage(v: InvitationView & { token: string; csrf: string; now: Date }): Page {
  const [expiresDay, expiresTime] = formatPageDate(v.expiresAt);
  return page('pending', `Join ${v.teamName}`, v.teamName, {
    invitedBy: v.invitedBy,
    name: `${v.firstName} ${v.lastName}`,
    email: v.email,
    initials: initials(v.teamName),
    roles: v.roles.map((r) => ROLE_NAMES[r]),
    apps: v.apps,
    timeLeft: timeLeft(v.expiresAt, v.now),
    expiresIso: v.expiresAt.toISOString(),
    expiresDay,
    expiresTime,
    // the form actions are relative: they resolve against /activate/<token>
    token: encodeURIComponent(v.token),
    csrfField: CSRF_FIELD,
    csrf: v.csrf,
  });
}

/** 200, the result page after Accept (a reload shows it again): the team, nothing about the person. */
export function acceptedPage(teamName: string): Page {
  return page('accepted', `You're now a member of ${teamName}`, teamName);
}

/** 200, the result page after Decline. */
export function declinedPage(teamName: string): Page {
  return page('declined', 'Invitation declined', teamName);
}

/** 410: the invitation ran out of time. */
export function expiredPage(teamName: string): Page {
  return page('expired', 'Invitation expired', teamName);
}

/** 404: unknown, already used, declined or cancelled. Takes nothing that could tell them apart. */
export function notFoundPage(teamName: string): Page {
  return page('not-found', 'Invitation not found', teamName);
}

/** 403: the form did not come from our page (missing or wrong CSRF value, foreign Origin). */
export function forbiddenPage(teamName: string, token: string | undefined): Page {
  return page('forbidden', 'Request not verified', teamName, { back: token ? `../${encodeURIComponent(token)}` : null });
}

/** Any other failure (400, 413, 415, 500): nothing about internals. */
export function errorPage(teamName: string, status: number): Page {
  const serverError = status >= 500;
  return page('error', serverError ? 'Something went wrong' : "This request couldn't be processed", teamName, { serverError });
}
