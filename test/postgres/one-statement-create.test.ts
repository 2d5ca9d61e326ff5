/**
 * The one-statement create on PostgreSQL (src/resources/user-invitations/one-statement-create.ts):
 * it writes what the transaction writes, and where it cannot (a taken email, an unknown app, an app
 * that goes while it runs) it writes nothing and leaves the create to the transaction.
 */
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { systemClock } from '../../src/clock.js';
import { createServices, type Services } from '../../src/container.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import type { Database } from '../../src/db/schema.js';
import { stderrRetryLog } from '../../src/db/retry.js';
import { ApiErrors, type ApiError } from '../../src/errors/api-error.js';
import { KeyCheck } from '../../src/keys/key-check.js';
import { OneStatementCreate, type CreatePlan } from '../../src/resources/user-invitations/one-statement-create.js';
import { readInvitationCreate } from '../../src/resources/user-invitations/request.js';
import { invitationBody, testConfig, visibleApps } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';

let config: ReturnType<typeof testConfig>;
let db: Db;

const APPS = [
  { id: '1000000001', name: 'Alpha' },
  { id: '1000000002', name: 'Beta' },
];

async function addApps(): Promise<void> {
  await db.kysely
    .insertInto('apps')
    .values(
      APPS.map((a) => ({
        ...a,
        bundle_id: `com.example.${a.name}`,
        sku: a.name,
        primary_locale: 'en-US',
        created_at: '2026-01-01T00:00:00.000Z',
      })),
    )
    .execute();
}

function servicesWith(oneStatementCreate: boolean): Services {
  return createServices(db, systemClock, { ...config, oneStatementCreate });
}

/** What a create wrote for `email`, without what differs between two creates (ids, instants, token, link). */
async function written(email: string) {
  const k = db.kysely;
  const invitation = await k.selectFrom('user_invitations').selectAll().where('email', '=', email).executeTakeFirstOrThrow();
  const roles = await k
    .selectFrom('user_invitation_roles')
    .select('role')
    .where('invitation_id', '=', invitation.id)
    .orderBy('role')
    .execute();
  const apps = await k
    .selectFrom('user_invitation_visible_apps')
    .select('app_id')
    .where('invitation_id', '=', invitation.id)
    .orderBy('app_id')
    .execute();
  const claim = await k.selectFrom('email_claims').selectAll().where('email_key', '=', email.toLowerCase()).executeTakeFirstOrThrow();
  const mail = await k.selectFrom('mail_outbox').selectAll().where('invitation_id', '=', invitation.id).execute();
  expect(mail).toHaveLength(1);
  const m = mail[0]!;
  expect(claim).toEqual({ email_key: email.toLowerCase(), owner_type: 'invitation', owner_id: invitation.id });
  expect(m.next_attempt_at).toBe(invitation.created_at);
  expect(m.created_at).toBe(invitation.created_at);
  const data = JSON.parse(m.template_data!) as Record<string, unknown>;
  expect(data.link).toBe(m.activation_link);
  return {
    invitation: { ...invitation, id: 'x', email: 'x', email_key: 'x', created_at: 'x', expires_at: 'x', token_hash: 'x' },
    expiresIn: Date.parse(invitation.expires_at) - Date.parse(invitation.created_at),
    roles,
    apps,
    mail: {
      ...m,
      id: 'x',
      invitation_id: 'x',
      recipient: m.recipient === email,
      created_at: 'x',
      next_attempt_at: 'x',
      activation_link: 'x',
      template_data: 'x',
    },
    data: { ...data, email: data.email === email, link: 'x', expiresAt: 'x' } as Record<string, unknown>,
  };
}

async function count(
  table: 'user_invitations' | 'email_claims' | 'mail_outbox' | 'user_invitation_roles' | 'user_invitation_visible_apps',
) {
  const r = await db.kysely
    .selectFrom(table)
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(r.n);
}

async function counts() {
  const tables = ['user_invitations', 'email_claims', 'mail_outbox', 'user_invitation_roles', 'user_invitation_visible_apps'] as const;
  const rowCount = await db.kysely
    .selectFrom('row_counts')
    .select((eb) => eb.fn.sum<string>('n').as('n'))
    .where('table_name', '=', 'user_invitations')
    .executeTakeFirst();
  return { ...Object.fromEntries(await Promise.all(tables.map(async (t) => [t, await count(t)]))), counter: Number(rowCount?.n ?? 0) };
}

/** A plan as the service makes it, for calling the shortcut directly. */
function plan(email: string, appIds: string[]): CreatePlan {
  const id = `01900000-0000-7000-8000-${String(Math.floor(Math.random() * 1e12)).padStart(12, '0')}`;
  const now = new Date().toISOString();
  return {
    row: {
      id,
      email,
      email_key: email.toLowerCase(),
      first_name: 'Ann',
      last_name: 'Lee',
      last_name_key: 'lee',
      roles: JSON.stringify(['DEVELOPER']),
      all_apps_visible: 0,
      provisioning_allowed: 0,
      created_at: now,
      expires_at: now,
      token_hash: `hash-${id}`,
      invited_by: null,
    },
    requestedAppIds: appIds,
    visibleAppIds: appIds,
    message: () => ({
      id: `${id.slice(0, -1)}m`,
      invitation_id: id,
      recipient: email,
      subject: 's',
      text_body: '',
      html_body: '',
      template_data: '{}',
      activation_link: null,
      status: 'pending',
      attempts: 0,
      next_attempt_at: now,
      claimed_until: null,
      last_error: null,
      created_at: now,
      sent_at: null,
    }),
  };
}

describe('the one-statement create on PostgreSQL', () => {
  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
    await addApps();
  });
  afterEach(() => dropDatabase(config, db));

  it('writes the same rows as the transaction: invitation, claim, count, roles, visible apps and message', async () => {
    const body = (email: string) =>
      readInvitationCreate(
        invitationBody({ email, roles: ['DEVELOPER', 'MARKETING'], allAppsVisible: false }, visibleApps('1000000002', '1000000001')),
      );
    const before = await counts();
    await servicesWith(true).invitations.create(body('One@Example.com'), 'Pat Doe');
    await servicesWith(false).invitations.create(body('Two@Example.com'), 'Pat Doe');
    const [one, two] = [await written('One@Example.com'), await written('Two@Example.com')];
    expect(one).toEqual(two);
    expect(one.apps.map((a) => a.app_id)).toEqual(['1000000001', '1000000002']);
    expect(one.data.apps).toEqual(['Alpha', 'Beta']);
    expect(one.data.invitedBy).toBe('Pat Doe');
    const after = await counts();
    expect(after).toEqual({
      user_invitations: before.user_invitations + 2,
      email_claims: before.email_claims + 2,
      mail_outbox: before.mail_outbox + 2,
      user_invitation_roles: before.user_invitation_roles + 4,
      user_invitation_visible_apps: before.user_invitation_visible_apps + 4,
      counter: before.counter + 2,
    });
  });

  it('keeps the message of an invitation for all apps without app names, as the transaction does', async () => {
    const body = (email: string) => readInvitationCreate(invitationBody({ email, roles: ['ADMIN'] }));
    await servicesWith(true).invitations.create(body('three@example.com'));
    await servicesWith(false).invitations.create(body('four@example.com'));
    const [three, four] = [await written('three@example.com'), await written('four@example.com')];
    expect(three).toEqual(four);
    expect(three.data.apps).toBeNull();
    expect(three.apps).toEqual([]);
  });

  it('writes an invitation for all apps, with no visible apps', async () => {
    const shortcut = new OneStatementCreate(db.kysely, stderrRetryLog);
    expect(await shortcut.write(plan('all@example.com', []))).toBe(true);
    const after = await counts();
    expect(after).toMatchObject({
      user_invitations: 1,
      email_claims: 1,
      mail_outbox: 1,
      user_invitation_roles: 1,
      user_invitation_visible_apps: 0,
    });
    expect(after.counter).toBe(1);
  });

  it('writes nothing when the email is taken, and the transaction then answers 409', async () => {
    const services = servicesWith(true);
    await services.invitations.create(readInvitationCreate(invitationBody({ email: 'taken@example.com' })));
    const before = await counts();
    const shortcut = new OneStatementCreate(db.kysely, stderrRetryLog);
    expect(await shortcut.write(plan('TAKEN@example.com', []))).toBe(false);
    expect(await counts()).toEqual(before);
    const refused = await services.invitations
      .create(readInvitationCreate(invitationBody({ email: 'Taken@Example.com' })))
      .catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ApiErrors);
    expect((refused as ApiErrors).errors.map((e) => e.code)).toEqual(['ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE']);
    expect(await counts()).toEqual(before);
  });

  it('writes nothing for an unknown app, and the transaction reports it', async () => {
    const shortcut = new OneStatementCreate(db.kysely, stderrRetryLog);
    expect(await shortcut.write(plan('ghost@example.com', ['1000000001', '9999999999']))).toBe(false);
    expect(await counts()).toMatchObject({ user_invitations: 0, email_claims: 0, mail_outbox: 0 });
    const refused = await servicesWith(true)
      .invitations.create(
        readInvitationCreate(invitationBody({ email: 'ghost@example.com', allAppsVisible: false }, visibleApps('9999999999'))),
      )
      .catch((e: unknown) => e);
    expect((refused as ApiErrors).errors.map((e) => [e.code, e.source])).toEqual([
      ['ENTITY_ERROR.RELATIONSHIP.INVALID', { pointer: '/data/relationships/visibleApps/data/0' }],
    ]);
    expect(await counts()).toMatchObject({ user_invitations: 0, email_claims: 0, mail_outbox: 0 });
  });

  it('writes creates that wait together in one statement, each on its own', async () => {
    // a Kysely that notes what it sends, on the test's database
    const sent: string[] = [];
    const pool = new pg.Pool({ connectionString: config.databaseUrl, max: 2 });
    const noting = new Kysely<Database>({
      dialect: new PostgresDialect({ pool }),
      log: (event) => {
        if (event.level === 'query') sent.push(event.query.sql);
      },
    });
    try {
      // one statement at a time: the first create goes alone, the five behind it wait and go together
      const shortcut = new OneStatementCreate(noting, stderrRetryLog, { maxInFlight: 1, maxBatch: 32 });
      await servicesWith(true).invitations.create(readInvitationCreate(invitationBody({ email: 'held@example.com' })));
      const before = await counts();
      const results = await Promise.all([
        shortcut.write(plan('first@example.com', [])),
        shortcut.write(plan('second@example.com', ['1000000001'])),
        // the same email as the create before it, in the same statement: one of the two has it
        shortcut.write(plan('Second@Example.com', ['1000000001'])),
        // taken before
        shortcut.write(plan('held@example.com', [])),
        // an unknown app
        shortcut.write(plan('ghost@example.com', ['1000000001', '9999999999'])),
        shortcut.write(plan('third@example.com', ['1000000002', '1000000001'])),
      ]);
      expect(sent.filter((q) => q.startsWith('with input as'))).toHaveLength(2);
      expect([results[0], results[1] !== results[2], results[3], results[4], results[5]]).toEqual([true, true, false, false, true]);
      expect(await counts()).toEqual({
        user_invitations: before.user_invitations + 3,
        email_claims: before.email_claims + 3,
        mail_outbox: before.mail_outbox + 3,
        user_invitation_roles: before.user_invitation_roles + 3,
        user_invitation_visible_apps: before.user_invitation_visible_apps + 1 + 2,
        counter: before.counter + 3,
      });
      // each message names its own invitation's apps, in the transaction's order
      const apps = async (email: string) => {
        const m = await db.kysely
          .selectFrom('mail_outbox')
          .select('template_data')
          .where('recipient', '=', email)
          .executeTakeFirstOrThrow();
        return (JSON.parse(m.template_data!) as { apps: string[] }).apps;
      };
      expect(await apps('first@example.com')).toEqual([]);
      expect(await apps(results[1] ? 'second@example.com' : 'Second@Example.com')).toEqual(['Alpha']);
      expect(await apps('third@example.com')).toEqual(['Alpha', 'Beta']);
    } finally {
      await noting.destroy();
    }
  });

  it("checks each create's key in the statement: a key gone fails its own create alone, with nothing written", async () => {
    const services = servicesWith(true);
    const live = await services.keys.create({ name: 'live', role: 'ADMIN' });
    const gone = await services.keys.create({ name: 'gone', role: 'ADMIN' });
    await services.keys.revoke(gone.key.id);
    const asRead = (k: typeof live) =>
      new KeyCheck({ id: k.key.id, publicKeyPem: k.key.publicKeyPem, role: 'ADMIN' }, () =>
        Promise.reject(new Error('read again: the statement was to check the key')),
      );
    const [liveCheck, goneCheck] = [asRead(live), asRead(gone)];
    const shortcut = new OneStatementCreate(db.kysely, stderrRetryLog, { maxInFlight: 1, maxBatch: 32 });
    const results = await Promise.allSettled([
      shortcut.write(plan('alone@example.com', [])),
      shortcut.write({ ...plan('by-live@example.com', []), keyCheck: liveCheck }),
      shortcut.write({ ...plan('by-gone@example.com', ['1000000001']), keyCheck: goneCheck }),
      shortcut.write(plan('after@example.com', [])),
    ]);
    expect(results.map((r) => (r.status === 'fulfilled' ? r.value : (r.reason as ApiError).status))).toEqual([true, true, 401, true]);
    expect(liveCheck.confirmed).toBe(true);
    expect(goneCheck.confirmed).toBe(false);
    const emails = await db.kysely.selectFrom('user_invitations').select('email').orderBy('email').execute();
    expect(emails.map((e) => e.email)).toEqual(['after@example.com', 'alone@example.com', 'by-live@example.com']);
    expect(await counts()).toMatchObject({ email_claims: 3, mail_outbox: 3, user_invitation_visible_apps: 0, counter: 3 });
  });

  it('writes nothing when an app is deleted while the statement runs', async () => {
    // the app is found by the statement, but its deletion commits before the statement's foreign
    // key check can lock it: the check fails, and the statement with it
    const deletion = await db.kysely.startTransaction().execute();
    await deletion.deleteFrom('apps').where('id', '=', '1000000002').execute();
    const shortcut = new OneStatementCreate(db.kysely, stderrRetryLog);
    const written = shortcut.write(plan('late@example.com', ['1000000001', '1000000002']));
    // the statement waits for the deletion's lock (a condition PostgreSQL reports, polled)
    for (;;) {
      const waiting = await sql<{ n: number }>`select count(*)::integer as n from pg_stat_activity
        where wait_event_type = 'Lock' and query like 'with input as%'`.execute(db.kysely);
      if (waiting.rows[0]!.n > 0) break;
      await new Promise((resolve) => setImmediate(resolve));
    }
    await deletion.commit().execute();
    expect(await written).toBe(false);
    expect(await counts()).toEqual({
      user_invitations: 0,
      email_claims: 0,
      mail_outbox: 0,
      user_invitation_roles: 0,
      user_invitation_visible_apps: 0,
      counter: 0,
    });
  });
});
