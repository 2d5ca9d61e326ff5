/**
 * Group commit (src/db/group-commit.ts): on SQLite, concurrent write units share one transaction,
 * each in its own savepoint, and no promise settles before COMMIT. What is committed is read back
 * from a second, separate better-sqlite3 connection to the same file, so it is really in the file
 * and not only visible to the writer. Then the same through HTTP (a burst of good and bad creates),
 * and a server process killed with SIGKILL in the middle of a burst: nothing it acknowledged is lost.
 * No sleeps and no timings: every wait is on a promise, an exit or a line of output.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { sql, type Transaction } from 'kysely';
import { afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createServices } from '../../src/app.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, sqliteFile, type Db } from '../../src/db/database.js';
import { GroupCommit } from '../../src/db/group-commit.js';
import type { Database } from '../../src/db/schema.js';
import { mintToken } from '../../src/keys/token.js';
import { startCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, schemaFor, TEST_DIALECT, testConfig, useTestServer, visibleApps } from '../helpers/harness.js';
import { freePort } from '../helpers/smtp-sink.js';

const ON_SQLITE = TEST_DIALECT === 'sqlite';

/** A row a unit writes: the email_claims table is the simplest one (a primary key and no references). */
function put(trx: Transaction<Database>, key: string) {
  return trx.insertInto('email_claims').values({ email_key: key, owner_type: 'user', owner_id: key }).execute();
}

let config: ReturnType<typeof testConfig>;
let db: Db;

async function dropDatabase(): Promise<void> {
  if (config.databaseUrl) {
    await sql`drop schema if exists ${sql.id(schemaFor(config.dataDir))} cascade`.execute(db.kysely);
  }
  await db.close();
  rmSync(config.dataDir, { recursive: true, force: true });
}

describe.skipIf(!ON_SQLITE)('group commit on SQLite', () => {
  /** a second connection to the same file, read-only: it sees only what was committed */
  let reader: SQLite.Database;
  let writes: GroupCommit;

  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
    reader = new SQLite(sqliteFile(config), { readonly: true, fileMustExist: true });
    writes = new GroupCommit(db);
  });

  afterEach(async () => {
    reader.close();
    await dropDatabase();
  });

  /** The keys with this prefix that are committed (as the second connection reads them). */
  function onDisk(prefix: string): string[] {
    const rows = reader.prepare('select email_key from email_claims where email_key like ? order by email_key').all(`${prefix}%`) as {
      email_key: string;
    }[];
    return rows.map((r) => r.email_key);
  }

  const key = (prefix: string, i: number) => `${prefix}${String(i).padStart(3, '0')}`;

  it('runs concurrent units in one transaction: each sees the ones before it, none is committed until all ran, each gets its own value', async () => {
    const units = Array.from({ length: 100 }, (_, i) =>
      writes.run(async (trx) => {
        await put(trx, key('a-', i));
        const inTransaction = await trx.selectFrom('email_claims').select('email_key').where('email_key', 'like', 'a-%').execute();
        return { i, seenInTransaction: inTransaction.length, seenOnDisk: onDisk('a-').length };
      }),
    );
    const values = await Promise.all(units);
    expect(values.map((v) => v.i)).toEqual(values.map((_, i) => i));
    // the same transaction: unit i sees its own row and the i rows written before it
    expect(values.map((v) => v.seenInTransaction)).toEqual(values.map((_, i) => i + 1));
    // one commit for all: while any unit ran, nothing of the batch was in the file
    expect(values.every((v) => v.seenOnDisk === 0)).toBe(true);
    expect(onDisk('a-')).toHaveLength(100);
  });

  it('takes at most maxBatch units per transaction; units queued during a flush go into the next one', async () => {
    const small = new GroupCommit(db, { maxBatch: 10 });
    const seen = await Promise.all(Array.from({ length: 25 }, (_, i) => small.run(async (trx) => (await put(trx, key('b-', i)), onDisk('b-').length))));
    // three transactions of 10, 10 and 5 units: each saw the earlier ones committed
    expect(seen).toEqual([...Array(10).fill(0), ...Array(10).fill(10), ...Array(5).fill(20)]);

    // a unit queued while a flush runs (not awaited inside it: that would wait for itself) waits for the next flush
    let late: Promise<number> | undefined;
    await writes.run(async (trx) => {
      await put(trx, 'c-first');
      late = writes.run(async () => onDisk('c-').length);
    });
    expect(await late).toBe(1);
  });

  it('a unit that throws is undone alone and only its promise rejects (with its own error); the others commit', async () => {
    await writes.run((trx) => put(trx, 'd-taken'));
    const refused = new Error('refused by the unit');
    const results = await Promise.allSettled([
      writes.run(async (trx) => (await put(trx, 'd-ok-1'), 1)),
      // a statement fails (primary key) after the unit wrote a row: that row goes too
      writes.run(async (trx) => {
        await put(trx, 'd-partial-1');
        await put(trx, 'd-taken');
        return 2;
      }),
      writes.run(async (trx) => (await put(trx, 'd-ok-3'), 3)),
      // the unit itself throws after writing
      writes.run(async (trx) => {
        await put(trx, 'd-partial-2');
        throw refused;
      }),
      writes.run(async (trx) => (await put(trx, 'd-ok-5'), 5)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'rejected', 'fulfilled']);
    expect(results.filter((r) => r.status === 'fulfilled').map((r) => r.value)).toEqual([1, 3, 5]);
    expect((results[1] as PromiseRejectedResult).reason).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect((results[3] as PromiseRejectedResult).reason).toBe(refused);
    expect(onDisk('d-')).toEqual(['d-ok-1', 'd-ok-3', 'd-ok-5', 'd-taken']);
  });

  it('settles no promise before COMMIT: at the moment a unit resolves, its row is in the file', async () => {
    const visibleAtResolution: boolean[] = [];
    await Promise.all(
      Array.from({ length: 50 }, (_, i) =>
        writes.run((trx) => put(trx, key('e-', i))).then(() => {
          visibleAtResolution.push(onDisk(key('e-', i)).length === 1);
        }),
      ),
    );
    expect(visibleAtResolution).toHaveLength(50);
    expect(visibleAtResolution.every(Boolean)).toBe(true);
  });

  it('when COMMIT fails, every unit of the batch rejects and nothing of it is in the file; the next batch commits', async () => {
    // SQLite checks deferred foreign keys at COMMIT: a unit that defers them and leaves a dangling
    // reference makes the COMMIT itself fail, after every unit succeeded
    const results = await Promise.allSettled([
      writes.run((trx) => put(trx, 'f-innocent-1')),
      writes.run(async (trx) => {
        await sql`pragma defer_foreign_keys = on`.execute(trx);
        await trx.insertInto('user_invitation_roles').values({ invitation_id: 'no-such-invitation', role: 'DEVELOPER' }).execute();
      }),
      writes.run((trx) => put(trx, 'f-innocent-2')),
    ]);
    expect(results.map((r) => r.status)).toEqual(['rejected', 'rejected', 'rejected']);
    const reasons = results.map((r) => (r as PromiseRejectedResult).reason);
    expect(reasons[0]).toMatchObject({ code: 'SQLITE_CONSTRAINT_FOREIGNKEY' });
    expect(new Set(reasons).size).toBe(1);
    expect(onDisk('f-')).toEqual([]);
    expect(reader.prepare('select count(*) as n from user_invitation_roles').get()).toEqual({ n: 0 });

    await writes.run((trx) => put(trx, 'f-after'));
    expect(onDisk('f-')).toEqual(['f-after']);
  });
});

describe.skipIf(ON_SQLITE)('group commit on PostgreSQL', () => {
  beforeEach(async () => {
    config = testConfig();
    db = await openDatabase(config);
  });
  afterEach(dropDatabase);

  it('is a transaction per unit: one that throws is undone alone, the others commit', async () => {
    const writes = new GroupCommit(db);
    const results = await Promise.allSettled([
      writes.run(async (trx) => (await put(trx, 'pg-ok-1'), 1)),
      writes.run(async (trx) => {
        await put(trx, 'pg-partial');
        throw new Error('refused');
      }),
      writes.run(async (trx) => (await put(trx, 'pg-ok-3'), 3)),
    ]);
    expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled']);
    const keys = await db.kysely.selectFrom('email_claims').select('email_key').where('email_key', 'like', 'pg-%').orderBy('email_key').execute();
    expect(keys.map((k) => k.email_key)).toEqual(['pg-ok-1', 'pg-ok-3']);
  });
});

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
    for (let i = 0; i < 5; i++) attempts.push({ email: `not an address ${i}`, body: invitationBody({ email: `not an address ${i}` }), expect: 'refused' });
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
      for (const e of alone) expect(claims.some((c) => c.email_key === e), e).toBe(false);
      expect(outbox.some((r) => alone.includes(r.recipient.toLowerCase()))).toBe(false);
    } finally {
      await check.close();
    }
  });
});

// every server process starts node with tsx: seconds on a busy machine
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
    await dropDatabase();
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
