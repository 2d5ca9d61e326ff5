/** The pure parts of the activation pages: dates, badges, cookies and the CSRF comparison. */
import { describe, expect, it } from 'vitest';
import { csrfCookieOptions, csrfMatches, isCsrfToken, namedOnce, newCsrfToken } from '../../../src/web/csrf.js';
import { errorPage, forbiddenPage, formatPageDate, initials, notFoundPage, pendingPage, timeLeft } from '../../../src/web/pages.js';
import { renderPage } from '../../../src/web/views.js';

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

  it('a cookie counts only when the header names it exactly once', () => {
    expect(namedOnce('a=1; asc_csrf=abc; b=2', 'asc_csrf')).toBe(true);
    expect(namedOnce('asc_csrf=abc; asc_csrf=def', 'asc_csrf')).toBe(false);
    expect(namedOnce('xasc_csrf=abc', 'asc_csrf')).toBe(false);
    expect(namedOnce(undefined, 'asc_csrf')).toBe(false);
  });

  it('the cookie is HttpOnly and SameSite=Strict, Secure on request', () => {
    expect(csrfCookieOptions({ path: '/activate', secure: true })).toEqual({
      path: '/activate',
      httpOnly: true,
      sameSite: 'strict',
      secure: true,
    });
    expect(csrfCookieOptions({ path: '/p/activate', secure: false })).toMatchObject({ secure: false });
  });
});

describe('the pages rendered from their templates', () => {
  it('the 404 page escapes the team name and depends on nothing else', () => {
    const html = renderPage(notFoundPage('<b>R&D</b>'));
    expect(html).toContain('<span class="team">&lt;b&gt;R&amp;D&lt;/b&gt;</span>');
    expect(html).not.toContain('<b>');
    expect(renderPage(notFoundPage('Team'))).toBe(renderPage(notFoundPage('Team')));
  });

  it('escapes every value of the invitation page by default, in text and in attributes', () => {
    const x = `<img src=x onerror="a('1')">&`;
    const html = renderPage(
      pendingPage({
        teamName: x,
        invitedBy: x,
        firstName: x,
        lastName: x,
        email: x,
        roles: ['DEVELOPER'],
        apps: [{ name: x, bundleId: x }],
        expiresAt: new Date('2026-11-29T10:22:31.000Z'),
        token: 'tok"en',
        csrf: `"><script>`,
        now: new Date('2026-11-26T10:22:31.000Z'),
      }),
    );
    const escaped = '&lt;img src=x onerror=&quot;a(&#39;1&#39;)&quot;&gt;&amp;';
    expect(html).not.toMatch(/<img|<script|onerror="/);
    expect(html).toContain(`<strong>${escaped}</strong> invited you, <strong>${escaped} ${escaped}</strong>`);
    expect(html).toContain(`<li>${escaped}<span class="id">${escaped}</span></li>`);
    expect(html).toContain('action="tok%22en/accept"');
    expect(html).toContain('value="&quot;&gt;&lt;script&gt;"');
  });

  it('the 403 page links back only to what it is given; the error pages tell 4xx from 5xx', () => {
    expect(renderPage(forbiddenPage('T', 'abc'))).toContain('<a class="btn primary" href="../abc">Back to the invitation</a>');
    expect(renderPage(forbiddenPage('T', undefined))).not.toContain('Back to the invitation');
    expect(renderPage(errorPage('T', 413))).toContain('<h1 id="title">This request couldn\'t be processed</h1>');
    expect(renderPage(errorPage('T', 500))).toContain('<h1 id="title">Something went wrong</h1>');
  });
});
