/**
 * What the read path remembers between requests must never show through: pre-rendered apps, the
 * quick count of pending invitations and verified tokens. Each test makes the remembered thing out
 * of date and checks that the next answer is the database's (or the clock's) truth.
 */
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AUDIENCE } from '../../src/http/auth.js';
import SQLite from 'better-sqlite3';
import { sqliteFile } from '../../src/db/database.js';
import { jsonOutput, runCliProcess } from '../helpers/cli.js';
import {
  databaseEnv,
  invitationBody,
  PUBLIC_URL,
  startTestServer,
  TEST_DIALECT,
  useTestServer,
  visibleApps,
  type TestServer,
} from '../helpers/harness.js';
import { appResource, type AppInfo } from '../helpers/resources.js';

const HOUR = 60 * 60 * 1000;

describe('pre-rendered apps', () => {
  const s = useTestServer();
  let app: AppInfo;
  let invitation = '';

  beforeAll(async () => {
    const id = await s.createApp('Cached App', 'com.example.cached');
    app = { id, name: 'Cached App', bundleId: 'com.example.cached', sku: (await s.services.apps.get(id)).sku };
    const r = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'cache@example.com', roles: ['DEVELOPER'] }, visibleApps(id)),
    });
    expect(r.status, r.text).toBe(201);
    invitation = r.body.data.id as string;
  });

  /**
   * Changes the app's row behind the server's back, as another process (the CLI) or instance
   * could: on SQLite through a connection of its own to the file, on PostgreSQL through the pool.
   */
  async function changeRow(name: string, primaryLocale: string): Promise<void> {
    if (TEST_DIALECT === 'sqlite') {
      const other = new SQLite(sqliteFile(s.config));
      try {
        other.prepare('update apps set name = ?, primary_locale = ? where id = ?').run(name, primaryLocale, app.id);
      } finally {
        other.close();
      }
    } else {
      await s.db.kysely.updateTable('apps').set({ name, primary_locale: primaryLocale }).where('id', '=', app.id).execute();
    }
  }

  /** Every answer that renders the app, as the server gives it now. */
  async function renderings() {
    const list = await s.call('GET', '/v1/userInvitations?include=visibleApps');
    const one = await s.call('GET', `/v1/userInvitations/${invitation}?include=visibleApps`);
    const related = await s.call('GET', `/v1/userInvitations/${invitation}/visibleApps`);
    const apps = await s.call('GET', `/v1/apps?filter[id]=${app.id}`);
    for (const r of [list, one, related, apps]) expect(r.status, r.text).toBe(200);
    return [list.body.included, one.body.included, related.body.data, apps.body.data];
  }

  it('an app changed in the database is rendered anew on the next request, and back again', async () => {
    for (const rendered of await renderings()) expect(rendered).toEqual([appResource(app)]);

    await changeRow('Renamed App', 'de-DE');
    const renamed = { ...app, name: 'Renamed App', primaryLocale: 'de-DE' };
    for (const rendered of await renderings()) expect(rendered).toEqual([appResource(renamed)]);

    await changeRow(app.name, 'en-US');
    for (const rendered of await renderings()) expect(rendered).toEqual([appResource(app)]);
  });

  it('an app created by this process after the apps were read is found and included at once', async () => {
    await renderings();
    const id = await s.createApp('Made Here', 'com.example.madehere');
    const r = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'made-here@example.com', roles: ['DEVELOPER'] }, visibleApps(id)),
    });
    expect(r.status, r.text).toBe(201);
    const one = await s.call('GET', `/v1/userInvitations/${r.body.data.id}?include=visibleApps`);
    expect(one.body.included).toEqual([
      appResource({ id, name: 'Made Here', bundleId: 'com.example.madehere', sku: (await s.services.apps.get(id)).sku }),
    ]);
  });

  it('an app created by the CLI in another process is found and included at once', async () => {
    await renderings(); // the apps as they are now have been read and rendered
    const run = await runCliProcess(
      ['apps', 'create', '--name', 'From The CLI', '--bundle-id', 'com.example.cli', '--sku', 'CLI-1', '--json'],
      databaseEnv(s.config),
    );
    expect(run.code, run.stderr).toBe(0);
    const created = jsonOutput(run) as { id: string; sku: string };
    const r = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'cli-app@example.com', roles: ['DEVELOPER'] }, visibleApps(created.id)),
    });
    expect(r.status, r.text).toBe(201);
    const one = await s.call('GET', `/v1/userInvitations/${r.body.data.id}?include=visibleApps`);
    expect(one.body.included).toEqual([
      appResource({ id: created.id, name: 'From The CLI', bundleId: 'com.example.cli', sku: created.sku }),
    ]);
  }, 60_000);

  it('a sparse fieldset or an include of the app is rendered for the request, not taken from the cache', async () => {
    await renderings(); // the default rendering is cached now
    const sparse = await s.call('GET', `/v1/userInvitations/${invitation}?include=visibleApps&fields[apps]=name`);
    expect(sparse.body.included).toEqual([
      { type: 'apps', id: app.id, attributes: { name: app.name }, links: { self: `${PUBLIC_URL}/v1/apps/${app.id}` } },
    ]);
    const included = await s.call('GET', `/v1/apps?filter[id]=${app.id}&include=betaGroups&limit[betaGroups]=5`);
    expect(included.status, included.text).toBe(200);
    expect(included.body.data).toEqual([appResource(app, { betaGroups: 5 })]);
  });
});

describe('meta.paging.total of pending invitations', () => {
  const s = useTestServer();
  /** the clock moves by days here, beyond any token's lifetime: a token minted now */
  const token = async () => (await s.keyWithRole('ADMIN')).token;

  async function total(query = ''): Promise<number> {
    const r = await s.call('GET', `/v1/userInvitations?limit=1${query}`, { token: await token() });
    expect(r.status, r.text).toBe(200);
    return r.body.meta.paging.total as number;
  }

  async function create(email: string): Promise<string> {
    const r = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email, roles: ['DEVELOPER'] }), token: await token() });
    expect(r.status, r.text).toBe(201);
    return r.body.data.id as string;
  }

  it('follows creates, cancels and expiry before any sweep, with and without filters', async () => {
    const early = [await create('early1@example.com'), await create('early2@example.com')];
    s.clock.advance(24 * HOUR);
    const late = [await create('late1@example.com'), await create('late2@example.com'), await create('late3@example.com')];
    expect(await total()).toBe(5);
    expect(await total('&filter[roles]=DEVELOPER')).toBe(5);

    expect((await s.call('DELETE', `/v1/userInvitations/${late[0]}`, { token: await token() })).status).toBe(204);
    expect(await total()).toBe(4);

    // the early ones expire; nothing has swept them (the sweeper runs once a minute of real time)
    s.clock.advance(48 * HOUR + 1);
    expect(await total()).toBe(2);
    expect(await total('&filter[roles]=DEVELOPER')).toBe(2);
    expect(await total('&filter[email]=early1@example.com')).toBe(0);
    const listed = await s.call('GET', '/v1/userInvitations?limit=200', { token: await token() });
    expect(listed.body.data.map((d: { id: string }) => d.id).sort()).toEqual([late[1], late[2]].sort());
    expect(early).toHaveLength(2);

    s.clock.advance(24 * HOUR);
    expect(await total()).toBe(0);
  });

  /** The activation token of an invitation, from its email's link. */
  async function tokenOf(id: string): Promise<string> {
    const mail = await s.db.kysely
      .selectFrom('mail_outbox')
      .select('activation_link')
      .where('invitation_id', '=', id)
      .executeTakeFirstOrThrow();
    return mail.activation_link!.split('/').pop()!;
  }

  it('follows accepts, declines and sweeps; the row counter always equals the rows', async () => {
    const counter = async () =>
      Number(
        (
          await s.db.kysely
            .selectFrom('row_counts')
            .select((eb) => eb.fn.sum<number | string>('n').as('n'))
            .where('table_name', '=', 'user_invitations')
            .executeTakeFirstOrThrow()
        ).n,
      );
    const rows = async () =>
      Number(
        (
          await s.db.kysely
            .selectFrom('user_invitations')
            .select((eb) => eb.fn.countAll<number | string>().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      );

    const ids = [];
    for (let i = 0; i < 6; i++) ids.push(await create(`flow${i}@example.com`));
    const start = await total();
    expect(await counter()).toBe(await rows());

    expect((await s.services.activation.accept(await tokenOf(ids[0]!))).state).toBe('accepted');
    expect(await s.services.activation.decline(await tokenOf(ids[1]!))).toBe('declined');
    expect(await total()).toBe(start - 2);
    expect(await counter()).toBe(await rows());

    s.clock.advance(72 * HOUR + 1);
    expect(await total()).toBe(0);
    expect(await s.services.invitations.sweepExpired()).toBeGreaterThanOrEqual(4);
    expect(await total()).toBe(0);
    expect(await counter()).toBe(await rows());
    expect(await rows()).toBe(0);
  });
});

describe('verified tokens', () => {
  const s = useTestServer();
  const list = (token: string) => s.call('GET', '/v1/userInvitations', { token });

  it('a token that verified once is refused once the clock passes its expiry', async () => {
    const key = await s.keyWithRole('ADMIN');
    const token = await s.token({ privateKeyPem: key.privateKeyPem, keyId: key.keyId, issuerId: s.issuerId, lifetimeSeconds: 600 });
    expect((await list(token)).status).toBe(200);
    expect((await list(token)).status).toBe(200);
    s.clock.advance(600 * 1000);
    expect((await list(token)).status).toBe(401);
  });

  it('a token that verified once is refused before its nbf when the clock is set back', async () => {
    const key = await s.keyWithRole('ADMIN');
    const now = Math.floor(s.clock.now().getTime() / 1000);
    const token = await new SignJWT({ aud: AUDIENCE })
      .setProtectedHeader({ alg: 'ES256', kid: key.keyId, typ: 'JWT' })
      .setIssuer(s.issuerId)
      .setIssuedAt(now - 10)
      .setNotBefore(now - 5)
      .setExpirationTime(now + 600)
      .sign(createPrivateKey(key.privateKeyPem));
    expect((await list(token)).status).toBe(200);
    s.clock.advance(-60 * 1000);
    expect((await list(token)).status).toBe(401);
    s.clock.advance(60 * 1000);
    expect((await list(token)).status).toBe(200);
  });

  it('a verified token of a key revoked since is refused at once', async () => {
    const key = await s.keyWithRole('ADMIN');
    expect((await list(key.token)).status).toBe(200);
    await s.services.keys.revoke(key.keyId);
    expect((await list(key.token)).status).toBe(401);
  });

  it('the same claims with another signature are not taken for the verified token', async () => {
    const key = await s.keyWithRole('ADMIN');
    expect((await list(key.token)).status).toBe(200);
    const [header, payload, signature] = key.token.split('.') as [string, string, string];
    const flipped = `${signature.slice(0, 10)}${signature[10] === 'A' ? 'B' : 'A'}${signature.slice(11)}`;
    expect((await list(`${header}.${payload}.${flipped}`)).status).toBe(401);
    expect((await list(key.token)).status).toBe(200);
  });
});

describe('rendered invitations', () => {
  const s = useTestServer();
  const apps: string[] = [];
  const ids: string[] = [];

  beforeAll(async () => {
    for (let i = 0; i < 3; i++) apps.push(await s.createApp(`Member App ${i}`, `com.example.member${i}`));
    apps.sort();
    for (const [i, email] of ['m1@example.com', 'm2@example.com', 'm3@example.com'].entries()) {
      const r = await s.call('POST', '/v1/userInvitations', {
        body: invitationBody({ email, roles: ['DEVELOPER'] }, visibleApps(...apps.slice(0, i + 1))),
      });
      expect(r.status, r.text).toBe(201);
      ids.push(r.body.data.id as string);
    }
  });

  const list = async (query: string) => {
    const r = await s.call('GET', `/v1/userInvitations?sort=email${query}`);
    expect(r.status, r.text).toBe(200);
    return r.body;
  };

  it('a listed and rendered invitation that is cancelled is gone from the next page and its id answers 404', async () => {
    const before = await list('&include=visibleApps');
    expect(before.data.map((d: { id: string }) => d.id)).toEqual(ids);
    expect((await s.call('DELETE', `/v1/userInvitations/${ids[0]}`)).status).toBe(204);
    const after = await list('&include=visibleApps');
    expect(after.data).toEqual(before.data.slice(1));
    expect(after.meta.paging.total).toBe(2);
    expect((await s.call('GET', `/v1/userInvitations/${ids[0]}?include=visibleApps`)).status).toBe(404);
  });

  it('each limit[visibleApps] and fieldset gets its own rendering, however often the default was served', async () => {
    const third = ids[2]!;
    for (let round = 0; round < 2; round++) {
      const one = await list('&include=visibleApps&limit[visibleApps]=1');
      const two = await list('&include=visibleApps&limit[visibleApps]=2');
      const none = await list('');
      const sparse = await list('&fields[userInvitations]=email');
      const pick = (body: { data: Array<{ id: string }> }) => body.data.find((d) => d.id === third) as Record<string, any>;
      expect(pick(one).relationships.visibleApps.data).toEqual([{ type: 'apps', id: apps[0] }]);
      expect(pick(one).relationships.visibleApps.meta).toEqual({ paging: { total: 3, limit: 1 } });
      expect(pick(two).relationships.visibleApps.data).toEqual(apps.slice(0, 2).map((id) => ({ type: 'apps', id })));
      expect(one.included.map((a: { id: string }) => a.id)).toEqual([apps[0]]);
      expect(two.included.map((a: { id: string }) => a.id)).toEqual(apps.slice(0, 2));
      expect(pick(none).relationships.visibleApps).toEqual({
        links: {
          self: `${PUBLIC_URL}/v1/userInvitations/${third}/relationships/visibleApps`,
          related: `${PUBLIC_URL}/v1/userInvitations/${third}/visibleApps`,
        },
      });
      expect(none.included).toBeUndefined();
      expect(pick(sparse)).toEqual({
        type: 'userInvitations',
        id: third,
        attributes: { email: 'm3@example.com' },
        links: { self: `${PUBLIC_URL}/v1/userInvitations/${third}` },
      });
    }
  });

  it('an invitation served from the cache still expires with the clock', async () => {
    expect((await list('')).data).toHaveLength(2);
    s.clock.advance(72 * HOUR);
    const key = await s.keyWithRole('ADMIN');
    const r = await s.call('GET', '/v1/userInvitations?include=visibleApps', { token: key.token });
    expect(r.body.data).toEqual([]);
    expect(r.body.meta.paging.total).toBe(0);
    expect((await s.call('GET', `/v1/userInvitations/${ids[1]}`, { token: key.token })).status).toBe(410);
  });
});

/**
 * Whole responses (src/http/read-cache/response-cache.ts): server `cached` keeps them, server `plain`
 * on the same database has every read cache off. After every write, by either server, and every move of the clock, each
 * read must answer on `cached` exactly as on `plain`; `cached` has just answered every one of them
 * before the step, so a body kept from before the step would show. On PostgreSQL nothing is kept
 * (there is no version to check against), nor with ASC_TEST_READ_CACHE=off: the same steps check
 * two instances agree.
 */
describe('whole responses', () => {
  const cached = useTestServer();
  let plain: TestServer;
  let admin: { keyId: string; privateKeyPem: string };
  const ids: string[] = [];
  const apps: string[] = [];
  let emails = 0;

  beforeAll(async () => {
    plain = await startTestServer({ config: { dataDir: cached.config.dataDir, readCache: false }, clock: cached.clock, keepDataDir: true });
    admin = await cached.keyWithRole('ADMIN');
    for (let i = 0; i < 3; i++) apps.push(await cached.createApp(`Whole App ${i}`, `com.example.whole${i}`));
  });
  afterAll(async () => plain?.close());

  /** a token minted at the shared clock's now (the clock moves by days here) */
  const token = () => cached.token({ privateKeyPem: admin.privateKeyPem, keyId: admin.keyId, issuerId: cached.issuerId });
  const server = (which: 'cached' | 'plain') => (which === 'cached' ? cached : plain);
  /** whole responses kept by `cached`: on SQLite with the read caches on */
  const keeps = () => TEST_DIALECT === 'sqlite' && cached.config.readCache;
  const hitCount = () => cached.cache!.responses!.stats().hits;

  function targets(): string[] {
    return [
      '/v1/userInvitations?limit=5',
      '/v1/userInvitations?include=visibleApps&sort=email',
      '/v1/userInvitations?filter[roles]=DEVELOPER&limit=3&include=visibleApps&limit[visibleApps]=1',
      ...ids.slice(-3).map((id) => `/v1/userInvitations/${id}?include=visibleApps`),
      '/v1/users?include=visibleApps',
      '/v1/apps?limit=10',
    ];
  }

  async function answers(which: 'cached' | 'plain'): Promise<Array<[string, number, unknown]>> {
    const t = await token();
    const out: Array<[string, number, unknown]> = [];
    for (const target of targets()) {
      const r = await server(which).call('GET', target, { token: t });
      // every error has an id of its own
      const body = r.status >= 400 ? { errors: r.body.errors.map(({ id: _id, ...rest }: { id: string }) => rest) } : r.body;
      out.push([target, r.status, body]);
    }
    return out;
  }

  type Step =
    | { kind: 'create'; on: 'cached' | 'plain'; apps: number[]; developer: boolean }
    | { kind: 'cancel'; on: 'cached' | 'plain'; pick: number }
    | { kind: 'accept'; on: 'cached' | 'plain'; pick: number }
    | { kind: 'app'; on: 'cached' | 'plain' }
    | { kind: 'clock'; hours: number }
    | { kind: 'sweep'; on: 'cached' | 'plain' };

  const on = fc.constantFrom<'cached' | 'plain'>('cached', 'plain');
  const step: fc.Arbitrary<Step> = fc.oneof(
    fc.record({ kind: fc.constant('create' as const), on, apps: fc.subarray([0, 1, 2]), developer: fc.boolean() }),
    fc.record({ kind: fc.constant('cancel' as const), on, pick: fc.nat() }),
    fc.record({ kind: fc.constant('accept' as const), on, pick: fc.nat() }),
    fc.record({ kind: fc.constant('app' as const), on }),
    fc.record({ kind: fc.constant('clock' as const), hours: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('sweep' as const), on }),
  );

  async function apply(s: Step): Promise<void> {
    const t = await token();
    switch (s.kind) {
      case 'create': {
        const roles = s.developer ? ['DEVELOPER'] : ['MARKETING'];
        const relationships = s.apps.length > 0 ? visibleApps(...s.apps.map((i) => apps[i]!)) : undefined;
        const body = invitationBody(
          { email: `whole${emails++}@example.com`, roles, ...(s.apps.length > 0 ? {} : { allAppsVisible: true }) },
          relationships,
        );
        const r = await server(s.on).call('POST', '/v1/userInvitations', { body, token: t });
        expect(r.status, r.text).toBe(201);
        ids.push(r.body.data.id as string);
        return;
      }
      case 'cancel': {
        if (ids.length === 0) return;
        const r = await server(s.on).call('DELETE', `/v1/userInvitations/${ids[s.pick % ids.length]}`, { token: t });
        expect([204, 404, 410], r.text).toContain(r.status);
        return;
      }
      case 'accept': {
        if (ids.length === 0) return;
        const id = ids[s.pick % ids.length]!;
        const mail = await cached.db.kysely
          .selectFrom('mail_outbox')
          .select('activation_link')
          .where('invitation_id', '=', id)
          .executeTakeFirst();
        if (mail?.activation_link) await server(s.on).services.activation.accept(mail.activation_link.split('/').pop()!);
        return;
      }
      case 'app':
        apps.push(await server(s.on).createApp(`Whole App ${apps.length}`, `com.example.whole${apps.length}`));
        return;
      case 'clock':
        cached.clock.advance(s.hours * HOUR);
        return;
      case 'sweep':
        await server(s.on).services.invitations.sweepExpired();
        return;
    }
  }

  it('answer after every write and every move of the clock as a server that keeps none', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(step, { minLength: 1, maxLength: 8 }), async (steps) => {
        for (const s of steps) {
          await answers('cached'); // now kept, where they can be
          await apply(s);
          expect(await answers('cached')).toEqual(await answers('plain'));
        }
      }),
      { numRuns: 12 },
    );
    // the property held with bodies actually answered from the cache, not only made anew
    if (keeps()) expect(hitCount()).toBeGreaterThan(50);
    else expect(cached.cache?.responses).toBeUndefined();
  }, 120_000);

  it('a repeated read is answered from the cache, and a write by another process shows at once', async () => {
    const t = await token();
    const list = () => cached.call('GET', '/v1/apps?limit=200', { token: t });
    const before = await list();
    const hits = keeps() ? hitCount() : 0;
    expect((await list()).body).toEqual(before.body);
    if (keeps()) expect(hitCount()).toBe(hits + 1);
    else expect(cached.cache?.responses).toBeUndefined();
    // Cache-Control: no-cache has it read anew
    const fresh = await cached.call('GET', '/v1/apps?limit=200', { token: t, headers: { 'cache-control': 'max-age=0, No-Cache' } });
    expect(fresh.body).toEqual(before.body);
    if (keeps()) expect(hitCount()).toBe(hits + 1);
    expect((await list()).body).toEqual(before.body);
    if (keeps()) expect(hitCount()).toBe(hits + 2);
    const run = await runCliProcess(
      ['apps', 'create', '--name', 'Whole CLI', '--bundle-id', 'com.example.wholecli', '--sku', 'WHOLE-CLI', '--json'],
      databaseEnv(cached.config),
    );
    expect(run.code, run.stderr).toBe(0);
    const after = await list();
    expect(after.body.data.map((a: { id: string }) => a.id)).toContain((jsonOutput(run) as { id: string }).id);
    expect(after.body.meta.paging.total).toBe(before.body.meta.paging.total + 1);
  }, 60_000);
});
