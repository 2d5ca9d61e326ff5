/**
 * Several instances on one PostgreSQL database (the postgres project runs this file only): two
 * real server processes share the database, and every rule holds across them.
 */
import type { ChildProcessWithoutNullStreams } from 'node:child_process';
import { rmSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { createServices } from '../../src/container.js';
import { systemClock } from '../../src/clock.js';
import { openDatabase, type Db } from '../../src/db/database.js';
import { mintToken } from '../../src/keys/token.js';
import { runCliProcess, startCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, pgUrlFor, schemaFor, tempDir, testConfig } from '../helpers/harness.js';
import { freePort, startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const LIMIT = 260;
/** how often the instances reconcile the quota's counts */
const SYNC_MS = 100;
const SLOW = { timeout: 180_000 };

interface Instance {
  child: ChildProcessWithoutNullStreams;
  url: string;
  output: string;
}

function startInstance(env: Record<string, string>): Promise<Instance> {
  const child = startCli(['serve'], env);
  const instance: Instance = { child, url: `http://127.0.0.1:${env.PORT}`, output: '' };
  return new Promise((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      instance.output += chunk.toString();
      if (instance.output.includes('Server listening at')) resolve(instance);
    };
    child.stdout.on('data', onData);
    child.stderr.on('data', (c: Buffer) => (instance.output += c.toString()));
    child.once('exit', (code) => reject(new Error(`instance exited with ${code}: ${instance.output}`)));
  });
}

async function stopInstance(i: Instance): Promise<void> {
  if (i.child.exitCode !== null) return;
  const exited = new Promise((r) => i.child.once('exit', r));
  i.child.kill('SIGTERM');
  await exited;
}

describe('two instances on one PostgreSQL database', SLOW, () => {
  const dir = tempDir('asc-multi-');
  const config = testConfig({ dataDir: dir });
  let db: Db;
  let smtp: SmtpSink;
  let a: Instance;
  let b: Instance;
  const keys: Record<string, { keyId: string; pem: string }> = {};
  let issuerId: string;

  const token = (name: string) => mintToken({ privateKeyPem: keys[name]!.pem, keyId: keys[name]!.keyId, issuerId });
  const post = async (i: Instance, email: string, key = 'writer') =>
    fetch(`${i.url}/v1/userInvitations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${await token(key)}`, 'content-type': 'application/json' },
      body: JSON.stringify(invitationBody({ email })),
    });
  const get = async (i: Instance, key: string, path = '/v1/userInvitations?limit=1') =>
    fetch(`${i.url}${path}`, { headers: { authorization: `Bearer ${await token(key)}` } });

  beforeAll(async () => {
    expect(config.databaseUrl).toBe(pgUrlFor(schemaFor(dir)));
    db = await openDatabase(config);
    const services = createServices(db, systemClock, config);
    for (const name of ['writer', 'reader', 'doomed']) {
      const k = await services.keys.create({ name, role: 'ADMIN' });
      keys[name] = { keyId: k.key.id, pem: k.privateKeyPem };
      issuerId = k.issuerId;
    }
    smtp = await startSmtpSink();
    const env = {
      ...databaseEnv(config),
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      ASC_RATE_LIMIT_PER_HOUR: String(LIMIT),
      ASC_RATE_LIMIT_SYNC_MS: String(SYNC_MS),
      ASC_SMTP_URL: smtp.url,
      ASC_PUBLIC_URL: 'https://asc.example.test',
    };
    [a, b] = await Promise.all([
      startInstance({ ...env, PORT: String(await freePort()) }),
      startInstance({ ...env, PORT: String(await freePort()) }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([a && stopInstance(a), b && stopInstance(b)]);
    await smtp?.close();
    if (db) {
      await db.kysely.schema.dropSchema(schemaFor(dir)).ifExists().cascade().execute();
      await db.close();
    }
    rmSync(dir, { recursive: true, force: true });
  });

  it('one email invited through both at once gives exactly one 201', async () => {
    const results = await Promise.all([
      post(a, 'race@example.com'),
      post(b, 'RACE@example.com'),
      post(a, 'Race@Example.com'),
      post(b, 'race@example.com'),
    ]);
    const statuses = results.map((r) => r.status).sort();
    expect(statuses).toEqual([201, 409, 409, 409]);
    const losers = await Promise.all(
      results.filter((r) => r.status === 409).map((r) => r.json() as Promise<{ errors: { code: string }[] }>),
    );
    for (const l of losers) expect(l.errors[0]!.code).toBe('ENTITY_ERROR.ATTRIBUTE.INVALID.DUPLICATE');
  });

  it('200 invitations created across both yield 200 messages, each delivered once', async () => {
    const emails = Array.from({ length: 200 }, (_, n) => `person${n}@multi.example.com`);
    const created = await Promise.all(emails.map((e, n) => post(n % 2 === 0 ? a : b, e)));
    expect(created.map((r) => r.status)).toEqual(emails.map(() => 201));
    // both workers deliver concurrently; wait for every message written (the race winner's too)
    const written = await db.kysely.selectFrom('mail_outbox').select('id').execute();
    expect(written).toHaveLength(201);
    await smtp.waitFor(written.length);
    const mine = smtp.messages.filter((m) => m.rcptTo.some((r) => r.endsWith('@multi.example.com')));
    const recipients = mine.flatMap((m) => m.rcptTo).sort();
    expect(recipients).toEqual([...emails].sort());
    expect(new Set(mine.map((m) => m.parsed.messageId)).size).toBe(200);
    // and nothing more arrives: every outbox row is marked delivered exactly once. A worker marks a
    // row after the mail server has accepted its message, so the last marks may follow the last
    // message by a moment: wait for them, then check that each row was sent once.
    const rows = await vi.waitFor(
      async () => {
        const now = await db.kysely.selectFrom('mail_outbox').select(['status', 'attempts']).execute();
        expect(now.filter((r) => r.status !== 'sent')).toEqual([]);
        return now;
      },
      { timeout: 10_000, interval: 50 },
    );
    expect(rows.every((r) => r.attempts === 1)).toBe(true);
    expect(smtp.messages.length).toBe(rows.length);
  });

  it('a revoked key is refused by every instance at once', async () => {
    expect((await get(a, 'doomed')).status).toBe(200);
    expect((await get(b, 'doomed')).status).toBe(200);
    const revoke = await runCliProcess(['keys', 'revoke', keys.doomed!.keyId], databaseEnv(config));
    expect(revoke.code, revoke.stderr).toBe(0);
    expect((await get(a, 'doomed')).status).toBe(401);
    expect((await get(b, 'doomed')).status).toBe(401);
  });

  it('shares the hourly rate limit across both instances', async () => {
    const rem = (r: Response) => Number(/user-hour-rem:(\d+);/.exec(r.headers.get('x-rate-limit') ?? '')?.[1]);
    const first = await get(a, 'reader');
    expect(first.headers.get('x-rate-limit')).toBe(`user-hour-lim:${LIMIT};user-hour-rem:${LIMIT - 1};`);
    // b learns of a's request at its next sync: from then on it counts both instances' requests
    let sentToB = 0;
    await vi.waitFor(
      async () => {
        const r = await get(b, 'reader');
        sentToB++;
        expect(r.status).toBe(200);
        expect(rem(r)).toBe(LIMIT - 1 - sentToB);
      },
      { timeout: 10_000, interval: SYNC_MS / 4 },
    );
    // both spend the rest together; each refuses once its view is at the limit, and views only grow
    let admitted = 1 + sentToB;
    for (let round = 0; round < LIMIT; round++) {
      const pair = await Promise.all([get(a, 'reader'), get(b, 'reader')]);
      for (const r of pair) expect([200, 429]).toContain(r.status);
      const ok = pair.filter((r) => r.status === 200).length;
      admitted += ok;
      if (ok === 0) break;
    }
    // nothing refused early; past the limit by at most what one instance admitted between two syncs
    expect(admitted).toBeGreaterThanOrEqual(LIMIT);
    // every admitted request is counted in the database, once
    const counted = async () =>
      Number(
        (
          await db.kysely
            .selectFrom('rate_limit_counts')
            .select((eb) => eb.fn.sum<string>('count').as('n'))
            .where('key_id', '=', keys.reader!.keyId)
            .executeTakeFirst()
        )?.n ?? 0,
      );
    await vi.waitFor(async () => expect(await counted()).toBe(admitted), { timeout: 10_000, interval: SYNC_MS });
    const overA = await get(a, 'reader');
    const overB = await get(b, 'reader');
    expect([overA.status, overB.status]).toEqual([429, 429]);
    expect(overB.headers.get('x-rate-limit')).toBe(`user-hour-lim:${LIMIT};user-hour-rem:0;`);
    expect(await overB.json()).toMatchObject({ errors: [{ code: 'RATE_LIMIT_EXCEEDED' }] });
  });
});
