/**
 * The apps an include page shows, on PostgreSQL (src/http/read-cache/app-snapshot.ts, migration
 * 012): kept while the apps' version stands, read again as soon as any statement changed the apps,
 * whoever ran it (here: plain SQL on a connection of its own, as another instance, the CLI or an
 * operator would). With the read caches off (ASC_TEST_READ_CACHE=off) every page reads its apps,
 * and the answers are the same.
 */
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppsRepository } from '../../src/resources/apps/repository.js';
import { invitationBody, useTestServer, visibleApps } from '../helpers/harness.js';

const PAGE = '/v1/userInvitations?include=visibleApps&limit=50';

describe("an include page's apps on PostgreSQL", () => {
  const s = useTestServer();
  let other: pg.Client;
  const apps: string[] = [];

  beforeAll(async () => {
    other = new pg.Client({ connectionString: s.config.databaseUrl });
    await other.connect();
    apps.push(await s.createApp('Alpha'), await s.createApp('Beta'));
    const res = await s.call('POST', '/v1/userInvitations', {
      body: invitationBody({ email: 'dev@example.com', roles: ['DEVELOPER'], allAppsVisible: false }, visibleApps(...apps)),
    });
    expect(res.status, res.text).toBe(201);
  });
  afterAll(async () => {
    await other?.end();
  });

  /** The names of the included apps, by id. */
  async function shown(): Promise<Record<string, string>> {
    const res = await s.call('GET', PAGE);
    expect(res.status, res.text).toBe(200);
    return Object.fromEntries(
      (res.body.included ?? []).map((a: { id: string; attributes: { name: string } }) => [a.id, a.attributes.name]),
    );
  }

  it('reads the apps again once another connection changed them, and not while they stand', async () => {
    const reads = vi.spyOn(AppsRepository.prototype, 'listAll');
    const byId = vi.spyOn(AppsRepository.prototype, 'findByIds');
    expect(await shown()).toEqual({ [apps[0]!]: 'Alpha', [apps[1]!]: 'Beta' });
    expect(await shown()).toEqual({ [apps[0]!]: 'Alpha', [apps[1]!]: 'Beta' });
    const loads = reads.mock.calls.length;
    // kept: the second page read no apps (with the caches off, each page reads its own by id)
    if (s.cache) expect(loads).toBeLessThanOrEqual(1);
    else expect(byId.mock.calls.length).toBeGreaterThanOrEqual(2);

    await other.query(`update apps set name = 'Alpha renamed' where id = $1`, [apps[0]]);
    expect(await shown()).toEqual({ [apps[0]!]: 'Alpha renamed', [apps[1]!]: 'Beta' });

    // a deletion and an insert: the invitation's link to the deleted app goes with it
    await other.query('begin');
    await other.query('delete from user_invitation_visible_apps where app_id = $1', [apps[1]]);
    await other.query('delete from apps where id = $1', [apps[1]]);
    await other.query('commit');
    expect(await shown()).toEqual({ [apps[0]!]: 'Alpha renamed' });
    if (s.cache) expect(reads.mock.calls.length).toBe(loads + 2);
  });

  it('moves the version from a session whose search path names another schema', async () => {
    const schema = (await other.query<{ s: string }>('select current_schema() as s')).rows[0]!.s;
    const before = (await other.query<{ n: string }>('select n from apps_version')).rows[0]!.n;
    await other.query('set search_path to public');
    await other.query(`update ${schema}.apps set name = 'Alpha again' where id = $1`, [apps[0]]);
    await other.query(`set search_path to ${schema}`);
    expect(Number((await other.query<{ n: string }>('select n from apps_version')).rows[0]!.n)).toBe(Number(before) + 1);
    expect((await shown())[apps[0]!]).toBe('Alpha again');
  });

  it('reads the apps themselves when their version cannot be read', async () => {
    await other.query('delete from apps_version');
    await other.query(`update apps set name = 'Alpha unversioned' where id = $1`, [apps[0]]);
    expect((await shown())[apps[0]!]).toBe('Alpha unversioned');
    await other.query(`update apps set name = 'Alpha once more' where id = $1`, [apps[0]]);
    expect((await shown())[apps[0]!]).toBe('Alpha once more');
  });
});
