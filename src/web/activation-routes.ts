/**
 * The activation pages a person opens from the invitation email. These are not API operations:
 * they answer HTML, take HTML forms (application/x-www-form-urlencoded) and sit in their own
 * encapsulated plugin under /activate, with their own body parser, 404 page and error page, so the
 * API keeps its JSON-only parsing (415 for forms) and its JSON:API 404s.
 *
 *   GET  /activate/:token           the invitation (200), expired (410), unknown/used (404)
 *   POST /activate/:token/accept    creates the user, deletes the invitation; 303 to /activate/result/accepted
 *   POST /activate/:token/decline   deletes the invitation; 303 to /activate/result/declined
 *   GET  /activate/result/:result   what happened (200), without any name: reloading it shows it again
 */
import fastifyCookie from '@fastify/cookie';
import fastifyFormbody from '@fastify/formbody';
import type { FastifyError, FastifyPluginAsync, FastifyReply, FastifyRequest } from 'fastify';
import type { Clock } from '../clock.js';
import { isStorageUnavailable, STORAGE_RETRY_AFTER_SECONDS, type StorageIncidents } from '../db/storage-errors.js';
import { ApiError } from '../errors/api-error.js';
import type { App } from '../domain/app.js';
import type { ActivationService } from '../resources/user-invitations/activation.js';
import { CSRF_COOKIE, CSRF_FIELD, csrfCookieOptions, csrfMatches, isCsrfToken, newCsrfToken, namedOnce } from './csrf.js';
import {
  acceptedPage,
  declinedPage,
  errorPage,
  expiredPage,
  forbiddenPage,
  notFoundPage,
  pendingPage,
  type AppView,
  type Page,
} from './pages.js';
import { CONTENT_SECURITY_POLICY } from './style.js';
import { registerViews } from './views.js';

export interface ActivationPagesOptions {
  activation: ActivationService;
  teamName: string;
  /** the configured public URL: its origin is the only one forms are accepted from */
  publicUrl: string;
  clock: Clock;
  /** the app's storage incidents: a database unavailable for now gives a 503 page, logged once per incident */
  incidents: StorageIncidents;
}

/** Forms carry one short field; anything bigger is not ours. */
const FORM_BODY_LIMIT = 4096;

/** Only what could be a token is echoed into a link (the 403 page's "back"). */
const TOKEN_LIKE = /^[A-Za-z0-9_-]{1,100}$/;

const PAGE_HEADERS = {
  'content-type': 'text/html; charset=utf-8',
  // the token is in the URL: keep the page out of caches and the URL out of Referer headers
  'cache-control': 'no-store',
  'referrer-policy': 'no-referrer',
  'content-security-policy': CONTENT_SECURITY_POLICY,
  'x-content-type-options': 'nosniff',
  'x-frame-options': 'DENY',
};

/** Browsers honour Cross-Origin-Opener-Policy only on https (and warn about it on http). */
const SECURE_PAGE_HEADERS = { ...PAGE_HEADERS, 'cross-origin-opener-policy': 'same-origin' };

/** Whether the body was parsed as a form (by @fastify/formbody) and not as anything else. */
function isForm(request: FastifyRequest): boolean {
  const type = request.headers['content-type']?.split(';', 1)[0]?.trim().toLowerCase();
  return type === 'application/x-www-form-urlencoded' && typeof request.body === 'object' && request.body !== null;
}

/** Apps as the pages list them: by name. */
function appViews(apps: readonly App[]): AppView[] {
  return apps
    .map((a) => ({ name: a.name, bundleId: a.bundleId }))
    .sort((x, y) => x.name.localeCompare(y.name, 'en') || x.bundleId.localeCompare(y.bundleId));
}

export const activationPages: FastifyPluginAsync<ActivationPagesOptions> = async (app, opts) => {
  const { activation, teamName, clock, incidents } = opts;
  const publicUrl = new URL(opts.publicUrl);
  const expectedOrigin = publicUrl.origin;
  const headers = publicUrl.protocol === 'https:' ? SECURE_PAGE_HEADERS : PAGE_HEADERS;
  // Fastify's own plugins, registered in this context only: the API's routes keep refusing forms
  // with 415 and never parse cookies. Forms are parsed by @fastify/formbody (a repeated field
  // becomes an array), cookies read and written by @fastify/cookie, pages rendered by Eta through
  // @fastify/view.
  await app.register(fastifyFormbody, { bodyLimit: FORM_BODY_LIMIT });
  await app.register(fastifyCookie);
  await registerViews(app);

  const sendPage = async (reply: FastifyReply, status: number, page: Page): Promise<FastifyReply> => {
    const html = await reply.viewAsync(page.template, page.data);
    return reply.code(status).headers(headers).send(html);
  };
  const cookieOptions = csrfCookieOptions({
    // the routes live under the public URL's path, if it has one (a reverse proxy's prefix)
    path: `${publicUrl.pathname.replace(/\/+$/, '')}/activate`,
    secure: publicUrl.protocol === 'https:',
  });

  /** The CSRF cookie's value; undefined when absent, or sent more than once (a cookie tossed in from elsewhere). */
  const csrfCookie = (request: FastifyRequest): string | undefined =>
    namedOnce(request.headers.cookie, CSRF_COOKIE) ? request.cookies[CSRF_COOKIE] : undefined;

  app.setNotFoundHandler((_request, reply) => sendPage(reply, 404, notFoundPage(teamName)));

  // Fastify's request errors (413, 415, bad form) and the inherited JSON parser's ApiErrors (400)
  app.setErrorHandler((err: FastifyError | ApiError, request, reply) => {
    if (isStorageUnavailable(err)) {
      incidents.failed(err, request.log);
      reply.header('retry-after', String(STORAGE_RETRY_AFTER_SECONDS));
      return sendPage(reply, 503, errorPage(teamName, 503));
    }
    const code = err instanceof ApiError ? err.status : err.statusCode;
    const status = typeof code === 'number' && code >= 400 && code < 500 ? code : 500;
    if (status === 500) request.log.error({ err }, 'activation page failed');
    return sendPage(reply, status, errorPage(teamName, status));
  });

  /**
   * The checks every form POST passes before anything changes: the Origin, when sent, is ours;
   * Sec-Fetch-Site, when sent, says same-origin; the CSRF cookie and the form's hidden field are
   * present and equal.
   *
   * `Origin: null` is what browsers send for a form POST from a page whose Referrer-Policy is
   * no-referrer, as ours is (Fetch standard, "append a request Origin header"): it withholds the
   * origin rather than naming a foreign one, so it is let through to the CSRF check, which a
   * cross-site form cannot pass (the SameSite=Strict cookie is not sent with it, and the value is
   * unknown to it).
   */
  function verified(request: FastifyRequest): boolean {
    const origin = request.headers.origin;
    if (origin !== undefined && origin !== 'null' && origin !== expectedOrigin) return false;
    const site = request.headers['sec-fetch-site'];
    if (site !== undefined && site !== 'same-origin' && site !== 'none') return false;
    // only a form (not JSON, which the inherited parser reads too), as @fastify/formbody gives it;
    // the field given twice is an array and fails
    if (!isForm(request)) return false;
    const field = (request.body as Record<string, unknown>)[CSRF_FIELD];
    return csrfMatches(csrfCookie(request), field);
  }

  function refuse(reply: FastifyReply, token: string): Promise<FastifyReply> {
    return sendPage(reply, 403, forbiddenPage(teamName, TOKEN_LIKE.test(token) ? token : undefined));
  }

  app.get<{ Params: { token: string } }>('/:token', async (request, reply) => {
    const found = await activation.lookup(request.params.token);
    if (found.state === 'expired') return sendPage(reply, 410, expiredPage(teamName));
    if (found.state === 'unknown') return sendPage(reply, 404, notFoundPage(teamName));
    // one value per browser session: a second tab or a reload keeps the first tab's form valid
    const existing = csrfCookie(request);
    const csrf = isCsrfToken(existing) ? existing : newCsrfToken();
    reply.setCookie(CSRF_COOKIE, csrf, cookieOptions);
    const { invitation: i } = found;
    return sendPage(
      reply,
      200,
      pendingPage({
        teamName,
        invitedBy: found.invitedBy,
        firstName: i.firstName,
        lastName: i.lastName,
        email: i.email,
        roles: i.roles,
        apps: found.apps ? appViews(found.apps) : null,
        expiresAt: i.expiresAt,
        token: request.params.token,
        csrf,
        now: clock.now(),
      }),
    );
  });

  const formRoute = { bodyLimit: FORM_BODY_LIMIT };

  /**
   * POST-redirect-GET: an answered invitation leads (303) to its result page, which a reload shows
   * again. The token is used up by then, so the result pages take none: they say what happened
   * and nothing about whom (../result/... resolves under whatever prefix the public URL has).
   */
  const toResult = (reply: FastifyReply, result: 'accepted' | 'declined'): FastifyReply =>
    reply
      .code(303)
      .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
      .header('location', `../result/${result}`)
      .send();

  app.post<{ Params: { token: string } }>('/:token/accept', formRoute, async (request, reply) => {
    const { token } = request.params;
    if (!verified(request)) return refuse(reply, token);
    const result = await activation.accept(token);
    if (result.state === 'expired') return sendPage(reply, 410, expiredPage(teamName));
    if (result.state === 'unknown') return sendPage(reply, 404, notFoundPage(teamName));
    return toResult(reply, 'accepted');
  });

  app.post<{ Params: { token: string } }>('/:token/decline', formRoute, async (request, reply) => {
    const { token } = request.params;
    if (!verified(request)) return refuse(reply, token);
    const result = await activation.decline(token);
    if (result === 'expired') return sendPage(reply, 410, expiredPage(teamName));
    if (result === 'unknown') return sendPage(reply, 404, notFoundPage(teamName));
    return toResult(reply, 'declined');
  });

  app.get('/result/accepted', async (_request, reply) => sendPage(reply, 200, acceptedPage(teamName)));
  app.get('/result/declined', async (_request, reply) => sendPage(reply, 200, declinedPage(teamName)));

  // Opening a form's address directly (a bookmark, a reload turned into GET) leads back to the page.
  for (const action of ['accept', 'decline']) {
    app.get<{ Params: { token: string } }>(`/:token/${action}`, async (request, reply) => {
      return reply
        .code(303)
        .headers({ 'cache-control': 'no-store', 'referrer-policy': 'no-referrer' })
        .header('location', `../${encodeURIComponent(request.params.token)}`)
        .send();
    });
  }
};
