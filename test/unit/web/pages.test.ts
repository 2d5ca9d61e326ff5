/** The pure parts of the activation pages: dates, badges, cookies and the CSRF comparison. */
import { describe, expect, it } from 'vitest';
import { csrfCookieHeader, csrfMatches, isCsrfToken, newCsrfToken, readCookie } from '../../../src/web/csrf.js';
import { formatPageDate, initials, notFoundPage, timeLeft } from '../../../src/web/pages.js';

const HOUR = 3_600_000;

describe('timeLeft', () => {
  const now = new Date('2026-11-26T10:00:00Z');
  const at = (ms: number) => new Date(now.getTime() + ms);
  it.each([
    [72 * HOUR, 'in 3 days'],
    [72 * HOUR - 1, 'in 3 days'],
    [36 * HOUR, 'in 2 days'],
    [24 * HOUR, 'in 1 day'],
    [23 * HOUR + 59 * 60_000, 'in 23 hours'],
    [HOUR, 'in 1 hour'],
    [HOUR - 1, 'in less than an hour'],
    [1, 'in less than an hour'],
  ])('%i ms → %s', (ms, words) => {
    expect(timeLeft(at(ms), now)).toBe(words);
  });
});

describe('formatPageDate', () => {
  it('the day and the time in UTC, whatever the process time zone', () => {
    expect(formatPageDate(new Date('2026-11-29T10:22:31.000Z'))).toEqual(['November 29, 2026', '10:22 AM UTC']);
    expect(formatPageDate(new Date('2027-01-01T00:05:00.000Z'))).toEqual(['January 1, 2027', '12:05 AM UTC']);
  });
});

describe('initials', () => {
  it.each([
    ['Northwind Apps', 'NA'],
    ['acme', 'A'],
    ['R&D <Labs> Studio', 'RL'],
    ['  Ünïcode  team ', 'ÜT'],
    ['— —', '#'],
  ])('%s → %s', (name, badge) => {
    expect(initials(name)).toBe(badge);
  });
});

describe('CSRF helpers', () => {
  it('new values are 43 base64url characters and differ', () => {
    const a = newCsrfToken();
    expect(isCsrfToken(a)).toBe(true);
    expect(a).not.toBe(newCsrfToken());
  });

  it('matches only two equal well-formed values', () => {
    const a = newCsrfToken();
    expect(csrfMatches(a, a)).toBe(true);
    expect(csrfMatches(a, newCsrfToken())).toBe(false);
    expect(csrfMatches(a, undefined)).toBe(false);
    expect(csrfMatches(undefined, a)).toBe(false);
    expect(csrfMatches(`${a}x`, `${a}x`)).toBe(false);
    expect(csrfMatches('', '')).toBe(false);
    expect(csrfMatches(['x'], ['x'])).toBe(false);
  });

  it('reads one cookie; a cookie given twice counts as absent', () => {
    expect(readCookie('a=1; asc_csrf=abc; b=2', 'asc_csrf')).toBe('abc');
    expect(readCookie('asc_csrf=abc; asc_csrf=def', 'asc_csrf')).toBeUndefined();
    expect(readCookie('xasc_csrf=abc', 'asc_csrf')).toBeUndefined();
    expect(readCookie(undefined, 'asc_csrf')).toBeUndefined();
  });

  it('the cookie is HttpOnly and SameSite=Strict, Secure on request', () => {
    expect(csrfCookieHeader('v', { path: '/activate', secure: true })).toBe(
      'asc_csrf=v; Path=/activate; HttpOnly; SameSite=Strict; Secure',
    );
    expect(csrfCookieHeader('v', { path: '/p/activate', secure: false })).toBe('asc_csrf=v; Path=/p/activate; HttpOnly; SameSite=Strict');
  });
});

describe('the 404 page', () => {
  it('escapes the team name and depends on nothing else', () => {
    expect(notFoundPage('<b>R&D</b>')).toContain('&lt;b&gt;R&amp;D&lt;/b&gt;');
    expect(notFoundPage('<b>R&D</b>')).not.toContain('<b>');
    expect(notFoundPage('Team')).toBe(notFoundPage('Team'));
  });
});
