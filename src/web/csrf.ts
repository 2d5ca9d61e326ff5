/**
 * CSRF protection for the activation forms: a double-submit cookie. The page sets a random value
 * in an HttpOnly, SameSite=Strict cookie and repeats it in a hidden form field; a POST must carry
 * both, equal (compared in constant time). A POST whose Origin is not the public URL's is refused
 * before that.
 */
import { randomBytes, timingSafeEqual } from 'node:crypto';

export const CSRF_COOKIE = 'asc_csrf';
export const CSRF_FIELD = 'csrf';

/** 256 random bits, base64url: exactly 43 characters. */
const CSRF_SHAPE = /^[A-Za-z0-9_-]{43}$/;

export function newCsrfToken(): string {
  return randomBytes(32).toString('base64url');
}

export function isCsrfToken(value: unknown): value is string {
  return typeof value === 'string' && CSRF_SHAPE.test(value);
}

/**
 * Whether a Cookie header names `name` exactly once. @fastify/cookie keeps the first of several
 * cookies of one name; a second one can only come from elsewhere (a sibling subdomain tossing a
 * cookie with a longer path, which browsers send first), so the CSRF check treats it as absent.
 */
export function namedOnce(header: string | undefined, name: string): boolean {
  if (!header) return false;
  let count = 0;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq !== -1 && part.slice(0, eq).trim() === name) count++;
  }
  return count === 1;
}

export interface CookieScope {
  /** the path the cookie is sent for, e.g. `/activate` */
  path: string;
  /** add `Secure` (the public URL is https) */
  secure: boolean;
}

/** @fastify/cookie's options for the CSRF cookie: HttpOnly, SameSite=Strict, only under the pages' path. */
export function csrfCookieOptions(scope: CookieScope): { path: string; httpOnly: true; sameSite: 'strict'; secure: boolean } {
  return { path: scope.path, httpOnly: true, sameSite: 'strict', secure: scope.secure };
}

/** Both present, well formed and equal; the comparison does not leak where they differ. */
export function csrfMatches(cookie: unknown, field: unknown): boolean {
  if (!isCsrfToken(cookie) || !isCsrfToken(field)) return false;
  return timingSafeEqual(Buffer.from(cookie, 'utf8'), Buffer.from(field, 'utf8'));
}
