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

/** The value of one cookie in a Cookie header; undefined when absent or given more than once. */
export function readCookie(header: string | undefined, name: string): string | undefined {
  if (!header) return undefined;
  const values: string[] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    if (part.slice(0, eq).trim() === name) values.push(part.slice(eq + 1).trim());
  }
  return values.length === 1 ? values[0] : undefined;
}

export interface CookieScope {
  /** the path the cookie is sent for, e.g. `/activate` */
  path: string;
  /** add `Secure` (the public URL is https) */
  secure: boolean;
}

export function csrfCookieHeader(value: string, scope: CookieScope): string {
  return `${CSRF_COOKIE}=${value}; Path=${scope.path}; HttpOnly; SameSite=Strict${scope.secure ? '; Secure' : ''}`;
}

/** Both present, well formed and equal; the comparison does not leak where they differ. */
export function csrfMatches(cookie: unknown, field: unknown): boolean {
  if (!isCsrfToken(cookie) || !isCsrfToken(field)) return false;
  return timingSafeEqual(Buffer.from(cookie, 'utf8'), Buffer.from(field, 'utf8'));
}
