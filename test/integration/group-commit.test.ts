/**
 * Group commit (src/db/group-commit.ts) through HTTP, on each dialect: a burst of good and bad
 * creates, and a server process killed with SIGKILL in the middle of a burst: nothing it
 * acknowledged is lost. The units themselves: test/sqlite and test/postgres group-commit tests.
 * No sleeps and no timings: every wait is on a promise, an exit or a line of output.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { createServices } from '../../src/container.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { mintToken } from '../../src/keys/token.js';
import { startCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, testConfig, useTestServer, visibleApps } from '../helpers/harness.js';
import { dropDatabase } from '../helpers/scratch-db.js';
import { freePort } from '../helpers/smtp-sink.js';

let config: ReturnType<typeof testConfig>;
let db: Db;

describe('a burst of creates over HTTP', () => {
  const s = useTestServer({ config: { rateLimitPerHour: 1_000_000 } });
  let app: string;
  beforeAll(async () => {
    app = await s.createApp('Burst');
  });

  it('every 201 is in the database with its roles, apps, claim and email; every refusal left nothing behind', async () => {
    type Attempt = { email: string; body: unknown; expect: 'created' | 'refused' | 'either' };
    const attempts: Attempt[] = [];
    for (let i = 0; i < 100; i++) {
      const email = `burst${String(i).padStart(3, '0')}@example.org`;
      attempts.push({ email, body: invitationBody({ email }, i % 10 === 0 ? visibleApps(app) : undefined), expect: 'either' });
    }
    // refused before the write: an invalid address (the trial claim rolls back)
    for (let i = 0; i < 5; i++)
      attempts.push({ email: `not an address ${i}`, body: invitationBody({ email: `not an address ${i}` }), expect: 'refused' });
    // refused inside the shared transaction: an unknown app, found after the unit began
    for (let i = 0; i < 5; i++) {
      const email = `unknown.app${i}@example.org`;
      attempts.push({ email, body: invitationBody({ email }, visibleApps(app, `${900_000_000 + i}`)), expect: 'refused' });
    }
    // the same address as one of the 100 in another case: one of each pair wins, in the same batch
    for (let i = 0; i < 5; i++) {
      const email = `BURST${String(i * 7).padStart(3, '0')}@EXAMPLE.ORG`;
      attempts.push({ email, body: invitationBody({ email }), expect: 'either' });
    }
    // interleave them, so that the refusals sit between the successes of one batch
    const order = attempts.map((_, i) => (i * 37) % attempts.length);
    expect(new Set(order).size).toBe(attempts.length);
    const sent = order.map((i) => attempts[i]!);
    const responses = await Promise.all(sent.map((a) => s.call('POST', '/v1/userInvitations', { body: a.body })));

    // read back over a connection of its own (a second SQLite connection, or a second pool)
    const check = await openDatabase(s.config);
    try {
      const created = new Map<string, string>();
      const refusedKeys: string[] = [];
      responses.forEach((res, n) => {
        const a = sent[n]!;
        if (a.expect === 'created') expect(res.status, a.email).toBe(201);
        if (a.expect === 'refused') expect(res.status, a.email).toBe(409);
        expect([201, 409], `${a.email}: ${res.text}`).toContain(res.status);
        if (res.status === 201) created.set(res.body.data.id, a.email);
        else refusedKeys.push(a.email.toLowerCase());
      });
      // 100 distinct addresses and 5 case variants of five of them: exactly one of each pair
      expect(created.size).toBe(100);
      const pairs = [0, 7, 14, 21, 28].map((i) => `burst${String(i).padStart(3, '0')}@example.org`);
      for (const p of pairs) expect([...created.values()].filter((e) => e.toLowerCase() === p)).toHaveLength(1);

      const ids = [...created.keys()];
      const k = check.kysely;
      const invitations = await k.selectFrom('user_invitations').select(['id', 'email', 'email_key']).execute();
      expect(invitations.map((r) => r.id).sort()).toEqual([...ids].sort());
      for (const r of invitations) expect(r.email).toBe(created.get(r.id));
      const outbox = await k.selectFrom('mail_outbox').select(['invitation_id', 'recipient']).execute();
      expect(outbox.map((r) => r.invitation_id).sort()).toEqual([...ids].sort());
      for (const r of outbox) expect(r.recipient).toBe(created.get(r.invitation_id!));
      const claims = await k.selectFrom('email_claims').select(['email_key', 'owner_id']).execute();
      expect(claims.map((c) => c.owner_id).sort()).toEqual([...ids].sort());
      const roles = await k.selectFrom('user_invitation_roles').select('invitation_id').execute();
      expect(roles.map((r) => r.invitation_id).sort()).toEqual([...ids].sort());
      const withApp = invitations.filter((r) => /^burst\d\d0@/.test(r.email)).map((r) => r.id);
      expect(withApp).toHaveLength(10);
      const apps = await k.selectFrom('user_invitation_visible_apps').select(['invitation_id', 'app_id']).execute();
      expect(apps.map((r) => r.invitation_id).sort()).toEqual([...withApp].sort());
      expect(apps.every((r) => r.app_id === app)).toBe(true);

      // a refusal of an address nobody else asked for left no trace of it
      const taken = new Set(invitations.map((r) => r.email_key));
      const alone = refusedKeys.filter((e) => !taken.has(e));
      expect(alone).toHaveLength(10);
      for (const e of alone)
        expect(
          claims.some((c) => c.email_key === e),
          e,
        ).toBe(false);
      expect(outbox.some((r) => alone.includes(r.recipient.toLowerCase()))).toBe(false);
    } finally {
      await check.close();
    }
  });
});

// a server process takes seconds to start on a busy machine
const SLOW = { timeout: 120_000 };

function exited(child: ChildProcessWithoutNullStreams): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve({ code: child.exitCode, signal: child.signalCode });
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
}

describe('a server killed with SIGKILL in the middle of a burst of creates', SLOW, () => {
  let child: ChildProcessWithoutNullStreams | undefined;
  afterEach(async () => {
    if (child && child.exitCode === null && child.signalCode === null) {
      child.kill('SIGKILL');
      await exited(child);
    }
    await dropDatabase(config, db);
  });

  it('loses none of the invitations it acknowledged, nor their email', async () => {
    config = testConfig();
    // an ADMIN key made beforehand, so that the test holds its private key
    db = await openDatabase(config);
    const admin = await createServices(db, systemClock, config).keys.create({ name: 'kill test', role: 'ADMIN' });
    const token = await mintToken({ privateKeyPem: admin.privateKeyPem, keyId: admin.key.id, issuerId: admin.issuerId });

    const port = await freePort();
    child = startCli(['serve'], { ...databaseEnv(config), PORT: String(port), ASC_RATE_LIMIT_PER_HOUR: '1000000', LOG_LEVEL: 'info' });
    const exit = exited(child);
    let output = '';
    child.stderr.setEncoding('utf8').on('data', (d: string) => (output += d));
    await new Promise<void>((resolve, reject) => {
      child!.stdout.setEncoding('utf8').on('data', (d: string) => {
        output += d;
        if (output.includes('Server listening at')) resolve();
      });
      void exit.then((e) => reject(new Error(`the server exited (${JSON.stringify(e)}) before listening:\n${output}`)));
    });

    // 50 clients create invitations one after another; after the 300th 201 the server is killed,
    // with the other clients' requests on their way in or out
    const acknowledged = new Map<string, string>();
    const KILL_AFTER = 300;
    let n = 0;
    const client = async (): Promise<void> => {
      for (;;) {
        const email = `killed${n++}@example.org`;
        let res: Response;
        try {
          res = await fetch(`http://127.0.0.1:${port}/v1/userInvitations`, {
            method: 'POST',
            headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
            body: JSON.stringify(invitationBody({ email })),
          });
        } catch {
          return; // the server is gone
        }
        if (res.status !== 201) throw new Error(`${email}: ${res.status} ${await res.text()}`);
        const body = (await res.json()) as { data: { id: string } };
        acknowledged.set(body.data.id, email);
        if (acknowledged.size === KILL_AFTER) child!.kill('SIGKILL');
      }
    };
    await Promise.all(Array.from({ length: 50 }, client));
    expect(await exit).toEqual({ code: null, signal: 'SIGKILL' });
    expect(acknowledged.size).toBeGreaterThanOrEqual(KILL_AFTER);

    // the database as the killed process left it (on SQLite, recovered from its WAL)
    await db.close();
    db = await openDatabase(config);
    const ids = [...acknowledged.keys()];
    const stored = await db.kysely.selectFrom('user_invitations').select(['id', 'email']).where('id', 'in', ids).execute();
    expect(stored).toHaveLength(ids.length);
    for (const r of stored) expect(r.email).toBe(acknowledged.get(r.id));
    const mail = await db.kysely.selectFrom('mail_outbox').select('invitation_id').where('invitation_id', 'in', ids).execute();
    expect(new Set(mail.map((m) => m.invitation_id)).size).toBe(ids.length);
  });
});
