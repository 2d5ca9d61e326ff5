/**
 * The activation pages over real HTTP, as a browser without JavaScript uses them: a cookie jar kept
 * from Set-Cookie, forms posted as application/x-www-form-urlencoded, the CSRF value read from the
 * page. Checks status, headers and contents of every page, the CSRF and Origin refusals, and what
 * each answer does to the invitation as the API sees it (docs/behavior.md A6, A14).
 */
import { createHash } from 'node:crypto';
import { beforeAll, describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/clock.js';
import { INVITATION_LIFETIME_MS } from '../../src/resources/user-invitations/service.js';
import { errorBody, gone as goneError, UUID } from '../helpers/api-errors.js';
import { invitationBody, PUBLIC_URL, startTestServer, useTestServer, visibleApps, type TestServer } from '../helpers/harness.js';
import { activationPath, CookieJar, csrfField, openPage, type PageResponse } from '../helpers/pages.js';
import { createUser, individualKey } from '../helpers/users.js';

/** A fixed start, so that the expiry on the page is known: created 26th, expires 29th at 10:22. */
const START = Date.parse('2026-11-26T10:22:31.000Z');
/** An unknown token of the right shape (43 base64url characters). */
const UNKNOWN_PATH = `/activate/${'A'.repeat(43)}`;
/** What a browser sends with a form from our page: our origin (or `null`, see below). */
const SAME_ORIGIN = { origin: PUBLIC_URL };

let counter = 0;
function email(tag: string): string {
  counter++;
  return `${tag}.${counter}@example.com`;
}

/** Creates an invitation through the API; returns its id and the page path from its email. */
async function invite(s: TestServer, attributes: Record<string, unknown> = {}, relationships?: Record<string, unknown>, token?: string) {
  const res = await s.call('POST', '/v1/userInvitations', {
    body: invitationBody({ email: email('invitee'), ...attributes }, relationships),
    ...(token ? { token } : {}),
  });
  expect(res.status, res.text).toBe(201);
  const id: string = res.body.data.id;
  const [mail] = await s.services.outbox.forInvitation(id);
  return { id, email: res.body.data.attributes.email as string, path: activationPath(mail!.activation_link!) };
}

/** Opens the invitation page with a fresh jar; returns the jar and the form's CSRF value. */
async function openInvitation(s: TestServer, path: string) {
  const jar = new CookieJar();
  const page = await openPage(s.baseUrl, 'GET', path, { jar });
  expect(page.status).toBe(200);
  return { jar, page, csrf: csrfField(page.text) };
}

function expectPageHeaders(res: PageResponse): void {
  expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
  expect(res.headers.get('cache-control')).toBe('no-store');
  expect(res.headers.get('referrer-policy')).toBe('no-referrer');
  const csp = res.headers.get('content-security-policy') ?? '';
  expect(csp).toContain("default-src 'none'");
  expect(csp).toContain("script-src 'none'");
  expect(csp).toContain("form-action 'self'");
  expect(csp).toContain("frame-ancestors 'none'");
  expect(res.headers.get('x-content-type-options')).toBe('nosniff');
  expect(res.headers.get('x-frame-options')).toBe('DENY');
  // the harness's public URL is https
  expect(res.headers.get('cross-origin-opener-policy')).toBe('same-origin');
  expect(res.headers.get('x-request-id')).toMatch(UUID);
  // no script, inline or linked, and no inline event handlers
  expect(res.text).not.toMatch(/<script|<[^>]*\son[a-z]+=/i);
}

async function userCount(s: TestServer, username?: string): Promise<number> {
  let q = s.db.kysely.selectFrom('users').select((eb) => eb.fn.countAll<number>().as('n'));
  if (username) q = q.where('username', '=', username);
  return Number((await q.executeTakeFirstOrThrow()).n);
}

describe('activation pages', () => {
  const s = useTestServer({ clock: new ManualClock(START) });
  let unknownPage: PageResponse;

  beforeAll(async () => {
    unknownPage = await openPage(s.baseUrl, 'GET', UNKNOWN_PATH);
  });

  describe('GET /activate/<token>: the invitation', () => {
    it('says whom which team invites, with which roles and apps, until when; a team key is not named', async () => {
      const weather = await s.createApp('Weather Pro', 'com.example.weather');
      const notes = await s.createApp('Notes & Co', 'com.example.notes');
      const inv = await invite(
        s,
        { firstName: 'Jane', lastName: 'Appleseed', roles: ['DEVELOPER', 'CREATE_APPS'] },
        visibleApps(weather, notes),
      );
      const jar = new CookieJar();
      const res = await openPage(s.baseUrl, 'GET', inv.path, { jar });

      expect(res.status).toBe(200);
      expectPageHeaders(res);
      const t = res.text;
      expect(t).toContain('<title>Join Test Team</title>');
      expect(t).toContain('<h1 id="title">Join Test Team</h1>');
      // the harness's ADMIN key, a team key named "test admin", sent it: only the team is named
      expect(t).toContain(
        '<p class="lead">You, <strong>Jane Appleseed</strong>, are invited to join <strong>Test Team</strong> on App Store Connect.</p>',
      );
      expect(t).not.toContain('test admin');
      expect(t).toContain(`<dt>Username</dt><dd>${inv.email}</dd>`);
      expect(t).toContain('<ul class="chips"><li>Developer</li><li>Create Apps</li></ul>');
      // apps by name, with their bundle ids; user input escaped
      expect(t).toContain(
        '<ul class="apps"><li>Notes &amp; Co<span class="id">com.example.notes</span></li><li>Weather Pro<span class="id">com.example.weather</span></li></ul>',
      );
      // until when: 72 hours after creation, in words and machine-readable
      expect(t).toContain('<time datetime="2026-11-29T10:22:31.000Z">November 29, 2026<span class="when">10:22 AM UTC</span></time>');
      expect(t).toContain('Expires in 3 days');
      // Accept and Decline: two POST forms with relative actions and the same hidden CSRF value
      const token = inv.path.split('/')[2]!;
      const csrf = csrfField(t);
      expect(t).toContain(
        `<form method="post" action="${token}/accept"><input type="hidden" name="csrf" value="${csrf}"><button class="btn primary" type="submit">Accept invitation</button></form>`,
      );
      expect(t).toContain(
        `<form method="post" action="${token}/decline"><input type="hidden" name="csrf" value="${csrf}"><button class="btn secondary" type="submit">Decline</button></form>`,
      );
      // the CSRF cookie: the same random value, HttpOnly, SameSite=Strict, only for /activate, Secure on https
      expect(res.headers.getSetCookie()).toEqual([`asc_csrf=${csrf}; Path=/activate; HttpOnly; Secure; SameSite=Strict`]);
      expect(csrf).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(jar.get('asc_csrf')).toBe(csrf);
    });

    it('names the person behind an individual key who invited', async () => {
      const inviter = await createUser(s, { email: email('inviter'), firstName: 'Grace', lastName: 'Hopper', roles: ['ADMIN'] });
      const { token } = await individualKey(s, inviter);
      const inv = await invite(s, { firstName: 'Jane', lastName: 'Appleseed' }, undefined, token);
      const res = await openPage(s.baseUrl, 'GET', inv.path);
      expect(res.status).toBe(200);
      expect(res.text).toContain(
        '<strong>Grace Hopper</strong> invited you, <strong>Jane Appleseed</strong>, to join <strong>Test Team</strong>',
      );
      // the key's own label (`key of <user id>`) stays out
      expect(res.text).not.toContain('key of');
    });

    it('"All apps" for roles that see every app', async () => {
      const inv = await invite(s, { roles: ['ADMIN'] });
      const res = await openPage(s.baseUrl, 'GET', inv.path);
      expect(res.status).toBe(200);
      expect(res.text).toContain('<dt>Apps</dt><dd>All apps</dd>');
      expect(res.text).toContain('<ul class="chips"><li>Admin</li></ul>');
    });

    it('admits its own stylesheet by hash in the Content-Security-Policy, and nothing else', async () => {
      const inv = await invite(s);
      const res = await openPage(s.baseUrl, 'GET', inv.path);
      const css = /<style>([\s\S]*)<\/style>/.exec(res.text)![1]!;
      const hash = createHash('sha256').update(css, 'utf8').digest('base64');
      expect(res.headers.get('content-security-policy')).toBe(
        `default-src 'none'; script-src 'none'; style-src 'sha256-${hash}'; img-src 'self' data:; form-action 'self'; base-uri 'none'; frame-ancestors 'none'`,
      );
    });

    it('keeps the CSRF value a browser already has, so a second tab stays valid', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const again = await openPage(s.baseUrl, 'GET', inv.path, { jar });
      expect(csrfField(again.text)).toBe(csrf);
      expect(jar.get('asc_csrf')).toBe(csrf);
    });

    it('escapes every piece of user input: names, email, app names, the inviter', async () => {
      const app = await s.createApp('<img src=x onerror=alert(1)>', 'com.example.xss');
      const inviter = await createUser(s, {
        email: email('xss'),
        firstName: '<script>alert("key")</script>',
        lastName: '&',
        roles: ['ADMIN'],
      });
      const { token } = await individualKey(s, inviter);
      const inv = await invite(
        s,
        { firstName: '<script>alert(1)</script>', lastName: `O'Hara & "Sons"`, email: `o'hara&sons@example.com`, roles: ['DEVELOPER'] },
        visibleApps(app),
        token,
      );
      const res = await openPage(s.baseUrl, 'GET', inv.path);
      expect(res.status).toBe(200);
      expectPageHeaders(res);
      expect(res.text).not.toContain('<script');
      expect(res.text).not.toContain('<img');
      expect(res.text).toContain('<strong>&lt;script&gt;alert(&quot;key&quot;)&lt;/script&gt; &amp;</strong> invited you');
      expect(res.text).toContain('<strong>&lt;script&gt;alert(1)&lt;/script&gt; O&#39;Hara &amp; &quot;Sons&quot;</strong>');
      expect(res.text).toContain('<dt>Username</dt><dd>o&#39;hara&amp;sons@example.com</dd>');
      expect(res.text).toContain('<li>&lt;img src=x onerror=alert(1)&gt;<span class="id">com.example.xss</span></li>');
    });
  });

  describe('POST /activate/<token>/accept', () => {
    it('refuses a POST without the CSRF cookie and field, or with a wrong one, or from another origin: 403, nothing changed', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const accept = `${inv.path}/accept`;
      const other = 'B'.repeat(43);
      const noCookie = new CookieJar();
      const wrongCookie = new CookieJar();
      wrongCookie.set('asc_csrf', other);

      const attempts: Array<[string, Parameters<typeof openPage>[3]]> = [
        ['no cookie, no field', { headers: SAME_ORIGIN, form: {} }],
        ['no body at all', { jar, headers: SAME_ORIGIN }],
        ['cookie, no field', { jar, headers: SAME_ORIGIN, form: {} }],
        ['field, no cookie', { jar: noCookie, headers: SAME_ORIGIN, form: { csrf } }],
        ['wrong field', { jar, headers: SAME_ORIGIN, form: { csrf: other } }],
        ['wrong cookie', { jar: wrongCookie, headers: SAME_ORIGIN, form: { csrf } }],
        ['field of another length', { jar, headers: SAME_ORIGIN, form: { csrf: `${csrf}x` } }],
        ['foreign Origin', { jar, headers: { origin: 'https://evil.example' }, form: { csrf } }],
        ['our host on another scheme', { jar, headers: { origin: 'http://asc.example.test' }, form: { csrf } }],
        ['cross-site fetch metadata', { jar, headers: { 'sec-fetch-site': 'cross-site' }, form: { csrf } }],
      ];
      const results: Array<[string, PageResponse]> = [];
      for (const [what, options] of attempts) results.push([what, await openPage(s.baseUrl, 'POST', accept, options)]);
      // bodies a form cannot build from a record: the field twice, and JSON
      const raw = async (type: string, body: string): Promise<PageResponse> => {
        const res = await fetch(`${s.baseUrl}${accept}`, {
          method: 'POST',
          headers: { ...SAME_ORIGIN, 'content-type': type, cookie: jar.header()! },
          body,
        });
        return { status: res.status, headers: res.headers, text: await res.text() };
      };
      results.push(['the field twice', await raw('application/x-www-form-urlencoded', `csrf=${csrf}&csrf=${csrf}`)]);
      results.push(['JSON instead of a form', await raw('application/json', JSON.stringify({ csrf }))]);

      for (const [what, res] of results) {
        expect(res.status, what).toBe(403);
        expectPageHeaders(res);
        expect(res.text, what).toContain("We couldn't verify this request");
        expect(res.text, what).toContain(`<a class="btn primary" href="../${inv.path.split('/')[2]}">Back to the invitation</a>`);
      }

      expect(await userCount(s, inv.email)).toBe(0);
      const still = await s.call('GET', `/v1/userInvitations/${inv.id}`);
      expect(still.status).toBe(200);
      expect(still.body.data.id).toBe(inv.id);
      // the page still works after all that
      expect((await openPage(s.baseUrl, 'GET', inv.path, { jar })).status).toBe(200);
    });

    it('creates the user and deletes the invitation, 303 to the result page; the invitation then answers 410 GONE', async () => {
      const app = await s.createApp('Accepted App', 'com.example.accepted');
      const inv = await invite(
        s,
        { firstName: 'Ada', lastName: 'Lovelace', roles: ['APP_MANAGER', 'CREATE_APPS'], provisioningAllowed: false },
        visibleApps(app),
      );
      const { jar, csrf } = await openInvitation(s, inv.path);

      const res = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
      // POST-redirect-GET: a relative Location, to a page that needs no token
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('../result/accepted');
      expect(res.headers.get('cache-control')).toBe('no-store');
      const location = new URL(res.headers.get('location')!, `${s.baseUrl}${inv.path}/accept`);
      expect(location.pathname).toBe('/activate/result/accepted');
      // the result page, and again on reload, after the token is used up
      for (let i = 0; i < 2; i++) {
        const result = await openPage(s.baseUrl, 'GET', location.pathname, { jar });
        expect(result.status).toBe(200);
        expectPageHeaders(result);
        expect(result.text).toContain('<title>You&#39;re now a member of Test Team</title>');
        expect(result.text).toContain('<h1 id="title">You\'re now a member of Test Team</h1>');
        // nothing about the person: the URL is the same for everyone
        expect(result.text).not.toContain('Ada');
        expect(result.text).not.toContain(inv.email);
        expect(result.headers.getSetCookie()).toEqual([]);
      }

      // the user: username = the invitation's email, names, roles, flags, visible apps
      const user = await s.db.kysely.selectFrom('users').selectAll().where('username', '=', inv.email).executeTakeFirstOrThrow();
      expect(user).toMatchObject({
        username: inv.email,
        first_name: 'Ada',
        last_name: 'Lovelace',
        all_apps_visible: 0,
        provisioning_allowed: 0,
        created_at: new Date(START).toISOString(),
      });
      expect(JSON.parse(user.roles)).toEqual(['APP_MANAGER', 'CREATE_APPS']);
      const apps = await s.db.kysely.selectFrom('user_visible_apps').select('app_id').where('user_id', '=', user.id).execute();
      expect(apps.map((a) => a.app_id)).toEqual([app]);

      const gone = await s.call('GET', `/v1/userInvitations/${inv.id}`);
      expect(gone.status).toBe(410);
      expect(gone.body).toEqual(errorBody(goneError(`The invitation '${inv.id}' was accepted`)));
      const list = await s.call('GET', `/v1/userInvitations?filter[email]=${encodeURIComponent(inv.email)}`);
      expect(list.body.data).toEqual([]);
    });

    it('a used token answers exactly as an unknown one: the same 404 page, for GET and for a second accept', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const first = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
      expect(first.status).toBe(303);

      const second = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
      const unknownAccept = await openPage(s.baseUrl, 'POST', `${UNKNOWN_PATH}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
      const reopened = await openPage(s.baseUrl, 'GET', inv.path, { jar });
      for (const res of [unknownPage, second, unknownAccept, reopened]) {
        expect(res.status).toBe(404);
        expectPageHeaders(res);
        expect(res.text).toBe(unknownPage.text);
        expect(res.headers.getSetCookie()).toEqual([]);
      }
      expect(unknownPage.text).toContain("This invitation link isn't valid");
      expect(await userCount(s, inv.email)).toBe(1);
    });

    it('accepts the form a browser sends from our page: Origin null (the page is no-referrer), same-origin fetch metadata', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const res = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, {
        jar,
        form: { csrf },
        headers: { origin: 'null', 'sec-fetch-site': 'same-origin' },
      });
      expect(res.status).toBe(303);
      expect(await userCount(s, inv.email)).toBe(1);
    });

    it('GET of the form address leads back to the invitation page', async () => {
      const inv = await invite(s);
      const token = inv.path.split('/')[2]!;
      for (const action of ['accept', 'decline']) {
        const res = await openPage(s.baseUrl, 'GET', `${inv.path}/${action}`);
        expect(res.status).toBe(303);
        expect(res.headers.get('location')).toBe(`../${token}`);
        expect(new URL(res.headers.get('location')!, `${s.baseUrl}${inv.path}/${action}`).pathname).toBe(inv.path);
      }
      expect((await s.call('GET', `/v1/userInvitations/${inv.id}`)).status).toBe(200);
    });
  });

  describe('POST /activate/<token>/decline', () => {
    it('deletes the invitation: 303 to the result page, then 404 from the API and the 404 page for the link', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const res = await openPage(s.baseUrl, 'POST', `${inv.path}/decline`, { jar, form: { csrf }, headers: SAME_ORIGIN });
      expect(res.status).toBe(303);
      expect(res.headers.get('location')).toBe('../result/declined');
      const location = new URL(res.headers.get('location')!, `${s.baseUrl}${inv.path}/decline`);
      expect(location.pathname).toBe('/activate/result/declined');
      for (let i = 0; i < 2; i++) {
        const result = await openPage(s.baseUrl, 'GET', location.pathname, { jar });
        expect(result.status).toBe(200);
        expectPageHeaders(result);
        expect(result.text).toContain('<h1 id="title">Invitation declined</h1>');
        expect(result.text).toContain("You won't be added to Test Team.");
      }

      const api = await s.call('GET', `/v1/userInvitations/${inv.id}`);
      expect(api.status).toBe(404);
      expect(api.body.errors[0]).toMatchObject({
        status: '404',
        code: 'NOT_FOUND',
        detail: `There is no resource of type 'userInvitations' with id '${inv.id}'`,
      });
      const page = await openPage(s.baseUrl, 'GET', inv.path);
      expect(page.status).toBe(404);
      expect(page.text).toBe(unknownPage.text);
      expect(await userCount(s, inv.email)).toBe(0);
    });

    it('is protected as accept is: without the CSRF value, 403 and the invitation stays', async () => {
      const inv = await invite(s);
      const res = await openPage(s.baseUrl, 'POST', `${inv.path}/decline`, { form: {}, headers: SAME_ORIGIN });
      expect(res.status).toBe(403);
      expect((await s.call('GET', `/v1/userInvitations/${inv.id}`)).status).toBe(200);
    });
  });

  describe('cancelled, unknown and malformed links', () => {
    it('an invitation cancelled through the API: the 404 page, the same as an unknown token', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      expect((await s.call('DELETE', `/v1/userInvitations/${inv.id}`)).status).toBe(204);
      const page = await openPage(s.baseUrl, 'GET', inv.path, { jar });
      expect(page.status).toBe(404);
      expect(page.text).toBe(unknownPage.text);
      const accept = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
      expect(accept.status).toBe(404);
      expect(accept.text).toBe(unknownPage.text);
      expect(await userCount(s, inv.email)).toBe(0);
    });

    it('anything else under /activate is the same HTML 404 page; API paths keep their JSON:API 404', async () => {
      for (const path of [
        '/activate/short',
        '/activate/',
        '/activate',
        '/activate/a/b/c',
        `/activate/${'A'.repeat(44)}`,
        '/activate/%3Cscript%3E',
      ]) {
        const res = await openPage(s.baseUrl, 'GET', path);
        expect(res.status, path).toBe(404);
        expectPageHeaders(res);
        expect(res.text, path).toBe(unknownPage.text);
      }
      const put = await openPage(s.baseUrl, 'PUT', UNKNOWN_PATH);
      expect(put.status).toBe(404);
      expect(put.text).toBe(unknownPage.text);

      const api = await s.call('GET', '/v1/nothing');
      expect(api.status).toBe(404);
      expect(api.body.errors[0]).toMatchObject({ status: '404', code: 'PATH_ERROR' });
    });

    it('every page names its icon inline, and /favicon.ico answers the same SVG', async () => {
      const inv = await invite(s);
      const pages = [
        await openPage(s.baseUrl, 'GET', inv.path),
        unknownPage,
        await openPage(s.baseUrl, 'GET', '/activate/result/declined'),
      ];
      const res = await fetch(`${s.baseUrl}/favicon.ico`);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toBe('image/svg+xml');
      const svg = await res.text();
      expect(svg).toMatch(/^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>.*<\/svg>$/);
      for (const page of pages) {
        const href = /<link rel="icon" href="([^"]+)">/.exec(page.text)?.[1];
        expect(href).toBeDefined();
        // a data: URI (the CSP admits img-src data:), holding the same picture
        expect(decodeURIComponent(href!.replace(/^data:image\/svg\+xml,/, ''))).toBe(svg);
      }
    });

    it('forms are parsed only on the pages: the API still answers 415 to a form body', async () => {
      const res = await s.call('POST', '/v1/userInvitations', {
        rawBody: 'data=1',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
      });
      expect(res.status).toBe(415);
      expect(res.body.errors[0]).toMatchObject({ status: '415' });
    });

    it('a body that cannot be read: an HTML 400, 413 or 415 page, nothing changed', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const post = (type: string, body: string) =>
        fetch(`${s.baseUrl}${inv.path}/accept`, { method: 'POST', headers: { 'content-type': type, cookie: jar.header()! }, body });
      const cases: Array<[string, string, number]> = [
        ['application/json', '{not json', 400],
        ['application/x-www-form-urlencoded', `csrf=${csrf}&pad=${'x'.repeat(5000)}`, 413],
      ];
      for (const [type, body, status] of cases) {
        const res = await post(type, body);
        expect(res.status, type).toBe(status);
        expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
        expect(res.headers.get('cache-control')).toBe('no-store');
        expect(await res.text()).toContain("This request couldn't be processed");
      }
      expect(await userCount(s, inv.email)).toBe(0);
    });

    it('a body that is not a form: an HTML 415 page, nothing changed', async () => {
      const inv = await invite(s);
      const { jar, csrf } = await openInvitation(s, inv.path);
      const res = await fetch(`${s.baseUrl}${inv.path}/accept`, {
        method: 'POST',
        headers: { 'content-type': 'text/plain', cookie: jar.header()! },
        body: `csrf=${csrf}`,
      });
      expect(res.status).toBe(415);
      expect(res.headers.get('content-type')).toBe('text/html; charset=utf-8');
      expect(await res.text()).toContain("This request couldn't be processed");
      expect(await userCount(s, inv.email)).toBe(0);
    });
  });
});

describe('an expired invitation', () => {
  const s = useTestServer({ clock: new ManualClock(START) });

  it('72 hours on: the 410 page; accept and decline are refused with 410 and change nothing', async () => {
    const inv = await invite(s);
    const { jar, csrf } = await openInvitation(s, inv.path);
    s.clock.advance(INVITATION_LIFETIME_MS);
    expect(INVITATION_LIFETIME_MS).toBe(72 * 3_600_000);

    const page = await openPage(s.baseUrl, 'GET', inv.path, { jar });
    expect(page.status).toBe(410);
    expectPageHeaders(page);
    expect(page.text).toContain('<h1 id="title">This invitation has expired</h1>');
    expect(page.text).toContain('Ask an admin of Test Team to send you a new one.');
    expect(page.text).not.toContain('csrf');

    const accept = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
    expect(accept.status).toBe(410);
    expect(accept.text).toBe(page.text);
    const decline = await openPage(s.baseUrl, 'POST', `${inv.path}/decline`, { jar, form: { csrf }, headers: SAME_ORIGIN });
    expect(decline.status).toBe(410);
    expect(await userCount(s, inv.email)).toBe(0);

    // the admin's token has expired with the clock: a fresh key reads the invitation
    const { token } = await s.keyWithRole('ADMIN');
    const api = await s.call('GET', `/v1/userInvitations/${inv.id}`, { token });
    expect(api.status).toBe(410);
    expect(api.body.errors[0]).toMatchObject({ code: 'GONE', detail: `The invitation '${inv.id}' has expired` });
  });

  it('one millisecond before the 72 hours it still works', async () => {
    const inv = await invite(s, {}, undefined, (await s.keyWithRole('ADMIN')).token);
    const { jar, csrf } = await openInvitation(s, inv.path);
    s.clock.advance(INVITATION_LIFETIME_MS - 1);
    const page = await openPage(s.baseUrl, 'GET', inv.path, { jar });
    expect(page.status).toBe(200);
    expect(page.text).toContain('Expires in less than an hour');
    const accept = await openPage(s.baseUrl, 'POST', `${inv.path}/accept`, { jar, form: { csrf }, headers: SAME_ORIGIN });
    expect(accept.status).toBe(303);
    expect(await userCount(s, inv.email)).toBe(1);
  });
});

describe('a public URL with a path prefix and plain http', () => {
  it('scopes the CSRF cookie to the prefix and drops Secure', async () => {
    const s = await startTestServer({ config: { publicUrl: 'http://intranet.example/asc' } });
    try {
      const inv = await invite(s);
      expect(inv.path).toMatch(/^\/activate\//);
      const res = await openPage(s.baseUrl, 'GET', inv.path);
      expect(res.headers.getSetCookie()).toEqual([`asc_csrf=${csrfField(res.text)}; Path=/asc/activate; HttpOnly; SameSite=Strict`]);
      expect(res.headers.get('cross-origin-opener-policy')).toBeNull();
    } finally {
      await s.close();
    }
  });
});
