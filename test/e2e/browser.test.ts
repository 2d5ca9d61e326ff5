/**
 * The activation pages in a real browser: Debian's headless Chromium driven by playwright-core (no
 * browser download). Opens the activation link from the invitation's email, accepts with
 * JavaScript turned off, follows the redirect to the result page (which a reload shows again), and
 * checks through the API that the invitation is gone (410). Every state of the pages (pending,
 * accepted, declined, expired, unknown or used link, CSRF refusal) is saved as a screenshot at
 * phone and desktop widths under test/artifacts/ (not committed), for review by eye.
 *
 * The server's public URL is http://asc.example.test, and Chromium resolves that host to the test
 * server's port (--host-resolver-rules): the browser sees the origin the links, the CSRF cookie and
 * the Origin check are made for, as in production behind a proxy.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type BrowserContext, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { INVITATION_LIFETIME_MS } from '../../src/resources/user-invitations/service.js';
import { invitationBody, startTestServer, visibleApps, type TestServer } from '../helpers/harness.js';

const CHROMIUM = '/usr/bin/chromium';
const PUBLIC_HOST = 'asc.example.test';
const ARTIFACTS = path.resolve('test/artifacts');
const PHONE = { width: 390, height: 844 };
const DESKTOP = { width: 1280, height: 800 };

describe('activation in headless Chromium', () => {
  let s: TestServer;
  let browser: Browser;
  const contexts: BrowserContext[] = [];
  /** console errors and failed requests of every page (CSP violations show up here) */
  const problems: string[] = [];

  beforeAll(async () => {
    mkdirSync(ARTIFACTS, { recursive: true });
    s = await startTestServer({ config: { publicUrl: `http://${PUBLIC_HOST}`, teamName: 'Northwind Apps' } });
    const port = new URL(s.baseUrl).port;
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        `--host-resolver-rules=MAP ${PUBLIC_HOST} 127.0.0.1:${port}`,
      ],
    });
  }, 60_000);

  afterAll(async () => {
    for (const c of contexts) await c.close();
    await browser?.close();
    await s?.close();
  });

  async function invite(attributes: Record<string, unknown>, relationships?: Record<string, unknown>) {
    const res = await s.call('POST', '/v1/userInvitations', { body: invitationBody(attributes, relationships) });
    expect(res.status, res.text).toBe(201);
    const id: string = res.body.data.id;
    const [mail] = await s.services.outbox.forInvitation(id);
    const link = mail!.activation_link!;
    expect(link.startsWith(`http://${PUBLIC_HOST}/activate/`)).toBe(true);
    return { id, link };
  }

  async function open(
    viewport: { width: number; height: number },
    options: { javaScriptEnabled?: boolean; deviceScaleFactor?: number } = {},
  ): Promise<Page> {
    const context = await browser.newContext({ viewport, ...options });
    contexts.push(context);
    const page = await context.newPage();
    page.on('console', (m) => {
      if (m.type() === 'error') problems.push(`console: ${m.text()}`);
    });
    page.on('requestfailed', (r) => problems.push(`request failed: ${r.url()}`));
    return page;
  }

  /** Screenshots of the page as it is, at phone and at desktop width: test/artifacts/activation-<state>-<width>.png */
  async function shoot(page: Page, state: string): Promise<void> {
    const before = page.viewportSize();
    for (const [name, size] of [
      ['phone', PHONE],
      ['desktop', DESKTOP],
    ] as const) {
      await page.setViewportSize(size);
      await page.screenshot({ path: path.join(ARTIFACTS, `activation-${state}-${name}.png`), fullPage: true });
    }
    if (before) await page.setViewportSize(before);
  }

  it('shows the invitation at phone and desktop widths, accepts without JavaScript, and the invitation is then 410', async () => {
    const maps = await s.createApp('Northwind Maps', 'com.northwind.maps');
    const notes = await s.createApp('Northwind Notes', 'com.northwind.notes');
    const inv = await invite(
      { firstName: 'Jane', lastName: 'Appleseed', email: 'jane@example.com', roles: ['DEVELOPER', 'CREATE_APPS'] },
      visibleApps(maps, notes),
    );

    // phone: 390 px wide, nothing wider than the screen
    const phone = await open(PHONE, { deviceScaleFactor: 2 });
    const onPhone = await phone.goto(inv.link);
    expect(onPhone?.status()).toBe(200);
    await expect.poll(() => phone.locator('h1').textContent()).toBe('Join Northwind Apps');
    expect(await phone.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(PHONE.width);
    const phoneButtons = await phone.getByRole('button').all();
    expect(await Promise.all(phoneButtons.map((b) => b.textContent()))).toEqual(['Accept invitation', 'Decline']);
    // the buttons are full width on a phone: thumb-sized targets
    for (const b of phoneButtons) expect((await b.boundingBox())!.height).toBeGreaterThanOrEqual(44);
    await shoot(phone, 'pending');

    // desktop, with JavaScript off: the pages need none
    const desktop = await open(DESKTOP, { javaScriptEnabled: false });
    const onDesktop = await desktop.goto(inv.link);
    expect(onDesktop?.status()).toBe(200);
    await expect.poll(() => desktop.locator('h1').textContent()).toBe('Join Northwind Apps');
    expect(await desktop.getByRole('listitem').filter({ hasText: 'Northwind Maps' }).textContent()).toBe(
      'Northwind Mapscom.northwind.maps',
    );
    expect(await desktop.getByRole('listitem').filter({ hasText: 'Developer' }).isVisible()).toBe(true);

    // Accept: the POST answers 303 and the browser lands on the result page
    const [response] = await Promise.all([desktop.waitForNavigation(), desktop.getByRole('button', { name: 'Accept invitation' }).click()]);
    expect(response?.status()).toBe(200);
    expect(response!.request().redirectedFrom()?.method()).toBe('POST');
    expect(new URL(response!.url()).pathname).toBe('/activate/result/accepted');
    await expect.poll(() => desktop.locator('h1').textContent()).toBe("You're now a member of Northwind Apps");
    // a reload shows the result again, not "isn't valid", and sends no form again
    const reloaded = await desktop.reload();
    expect(reloaded?.status()).toBe(200);
    expect(reloaded?.request().method()).toBe('GET');
    await expect.poll(() => desktop.locator('h1').textContent()).toBe("You're now a member of Northwind Apps");
    await shoot(desktop, 'accepted');

    const gone = await s.call('GET', `/v1/userInvitations/${inv.id}`);
    expect(gone.status).toBe(410);
    expect(gone.body.errors[0]).toMatchObject({ status: '410', code: 'GONE', detail: `The invitation '${inv.id}' was accepted` });
    const users = await s.call('GET', `/v1/users?filter[username]=${encodeURIComponent('jane@example.com')}`);
    expect(users.status).toBe(200);
    expect(users.body.data.map((u: { attributes: unknown }) => u.attributes)).toEqual([
      {
        username: 'jane@example.com',
        firstName: 'Jane',
        lastName: 'Appleseed',
        roles: ['DEVELOPER', 'CREATE_APPS'],
        allAppsVisible: false,
        provisioningAllowed: false,
      },
    ]);

    // the phone's page is now stale: its Accept finds the link used
    const [stale] = await Promise.all([phone.waitForNavigation(), phone.getByRole('button', { name: 'Accept invitation' }).click()]);
    expect(stale?.status()).toBe(404);
    await expect.poll(() => phone.locator('h1').textContent()).toBe("This invitation link isn't valid");
    await shoot(phone, 'used');

    // the CSP admitted the stylesheet (it is applied) and nothing failed or was blocked
    expect(await phone.evaluate(() => getComputedStyle(document.body).display)).toBe('flex');
    expect(problems.filter((p) => !p.includes('404 (Not Found)'))).toEqual([]);
  });

  it('declines on a phone: the decline page, and the invitation is gone (404)', async () => {
    const inv = await invite({ firstName: 'John', lastName: 'Doe', email: 'john@example.com', roles: ['ADMIN'] });
    const phone = await open(PHONE, { javaScriptEnabled: false, deviceScaleFactor: 2 });
    expect((await phone.goto(inv.link))?.status()).toBe(200);
    await expect.poll(() => phone.getByText('All apps', { exact: true }).isVisible()).toBe(true);
    const [response] = await Promise.all([phone.waitForNavigation(), phone.getByRole('button', { name: 'Decline' }).click()]);
    expect(response?.status()).toBe(200);
    expect(new URL(response!.url()).pathname).toBe('/activate/result/declined');
    await expect.poll(() => phone.locator('h1').textContent()).toBe('Invitation declined');
    expect((await phone.reload())?.status()).toBe(200);
    await expect.poll(() => phone.locator('h1').textContent()).toBe('Invitation declined');
    await shoot(phone, 'declined');
    expect((await s.call('GET', `/v1/userInvitations/${inv.id}`)).status).toBe(404);
  });

  it('refuses a form whose CSRF cookie is gone: the 403 page, with the way back to the invitation', async () => {
    const inv = await invite({ firstName: 'Mia', lastName: 'Wong', email: 'mia@example.com', roles: ['SALES'] });
    const phone = await open(PHONE, { javaScriptEnabled: false, deviceScaleFactor: 2 });
    expect((await phone.goto(inv.link))?.status()).toBe(200);
    await phone.context().clearCookies();
    const [response] = await Promise.all([phone.waitForNavigation(), phone.getByRole('button', { name: 'Accept invitation' }).click()]);
    expect(response?.status()).toBe(403);
    await expect.poll(() => phone.locator('h1').textContent()).toBe("We couldn't verify this request");
    await shoot(phone, 'csrf-refused');
    // its link leads back to a page that works
    const [back] = await Promise.all([phone.waitForNavigation(), phone.getByRole('link', { name: 'Back to the invitation' }).click()]);
    expect(back?.status()).toBe(200);
    expect((await s.call('GET', `/v1/userInvitations/${inv.id}`)).status).toBe(200);
  });

  it('an expired invitation: the 410 page', async () => {
    const inv = await invite({ firstName: 'Old', lastName: 'Link', email: 'old@example.com', roles: ['FINANCE'] });
    s.clock.advance(INVITATION_LIFETIME_MS);
    const phone = await open(PHONE, { javaScriptEnabled: false, deviceScaleFactor: 2 });
    expect((await phone.goto(inv.link))?.status()).toBe(410);
    await expect.poll(() => phone.locator('h1').textContent()).toBe('This invitation has expired');
    await shoot(phone, 'expired');
    // the icon is there for the browser: inline, and at /favicon.ico
    expect(await phone.locator('link[rel=icon]').getAttribute('href')).toMatch(/^data:image\/svg\+xml,/);
    const icon = await phone.goto(`http://${PUBLIC_HOST}/favicon.ico`);
    expect(icon?.status()).toBe(200);
    expect(icon?.headers()['content-type']).toBe('image/svg+xml');
  });
});
