/**
 * A minimal browser for the activation pages over real HTTP: a cookie jar kept from Set-Cookie
 * (name=value, sent back on every request, as a browser would for /activate), form posts as
 * application/x-www-form-urlencoded, and the hidden CSRF field read out of the page.
 */
export interface PageResponse {
  status: number;
  headers: Headers;
  text: string;
}

export class CookieJar {
  private readonly cookies = new Map<string, string>();

  /** Keeps every cookie a response sets (attributes are the test's business, not the jar's). */
  store(headers: Headers): void {
    for (const line of headers.getSetCookie()) {
      const pair = line.split(';', 1)[0]!;
      const eq = pair.indexOf('=');
      if (eq > 0) this.cookies.set(pair.slice(0, eq).trim(), pair.slice(eq + 1).trim());
    }
  }

  get(name: string): string | undefined {
    return this.cookies.get(name);
  }

  set(name: string, value: string): void {
    this.cookies.set(name, value);
  }

  header(): string | undefined {
    if (this.cookies.size === 0) return undefined;
    return [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; ');
  }
}

export interface PageOptions {
  /** form fields, sent as application/x-www-form-urlencoded */
  form?: Record<string, string>;
  jar?: CookieJar;
  headers?: Record<string, string>;
}

/** One request to a page; cookies from the jar go out, cookies the answer sets go into it. */
export async function openPage(
  baseUrl: string,
  method: 'GET' | 'POST' | 'PUT' | 'DELETE',
  path: string,
  o: PageOptions = {},
): Promise<PageResponse> {
  const headers: Record<string, string> = { ...o.headers };
  const cookie = o.jar?.header();
  if (cookie) headers.cookie = cookie;
  let body: string | undefined;
  if (o.form) {
    body = new URLSearchParams(o.form).toString();
    headers['content-type'] ??= 'application/x-www-form-urlencoded';
  }
  const res = await fetch(`${baseUrl}${path}`, { method, headers, redirect: 'manual', ...(body !== undefined ? { body } : {}) });
  o.jar?.store(res.headers);
  return { status: res.status, headers: res.headers, text: await res.text() };
}

/** The hidden CSRF field's value in a page (both forms carry the same one). */
export function csrfField(html: string): string {
  const m = /<input type="hidden" name="csrf" value="([^"]+)">/.exec(html);
  if (!m) throw new Error('the page has no CSRF field');
  return m[1]!;
}

/**
 * `/activate/<token>` out of an activation link, whatever its origin and whatever path prefix the
 * public URL has (a reverse proxy strips it before the request reaches the server).
 */
export function activationPath(link: string): string {
  const m = /(\/activate\/[A-Za-z0-9_-]+)$/.exec(new URL(link).pathname);
  if (!m) throw new Error(`not an activation link: ${link}`);
  return m[1]!;
}
