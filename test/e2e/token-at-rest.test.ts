/**
 * Activation tokens at rest (docs/security.md): after a whole round — an invitation created
 * through the API, its email delivered over real SMTP, the invitation accepted through the
 * activation pages — the token is nowhere in the database in clear. On SQLite the raw bytes of the
 * database file and of its WAL are searched (freed space included); on PostgreSQL every row of
 * every table of the test schema, as text. Without SMTP the mail log is the mailbox: a message
 * 'logged' keeps its link, and `asc-access mail show` prints it.
 */
import { existsSync, readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { sqliteFile } from '../../src/db/database.js';
import { runCli } from '../helpers/cli.js';
import { databaseEnv, invitationBody, PUBLIC_URL, startTestServer, type TestServer } from '../helpers/harness.js';
import { activationPath, CookieJar, csrfField, openPage } from '../helpers/pages.js';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.js';

const TOKEN = /\/activate\/([A-Za-z0-9_-]{43})\b/;

let server: TestServer | undefined;
let sink: SmtpSink | undefined;
afterEach(async () => {
  await server?.close();
  await sink?.close();
  server = undefined;
  sink = undefined;
});

/** Where the token appears in the database, as a list of places (empty: nowhere). */
async function placesHolding(s: TestServer, token: string): Promise<string[]> {
  if (s.db.dialect === 'sqlite') {
    const file = sqliteFile(s.config);
    const found: string[] = [];
    // both files, whatever the checkpoint has left in the WAL
    for (const f of [file, `${file}-wal`]) if (existsSync(f) && readFileSync(f).includes(token)) found.push(f);
    return found;
  }
  const tables = await sql<{ table_name: string }>`
    select table_name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE'`.execute(
    s.db.kysely,
  );
  expect(tables.rows.map((t) => t.table_name)).toEqual(expect.arrayContaining(['user_invitations', 'mail_outbox', 'users']));
  const found: string[] = [];
  for (const { table_name } of tables.rows) {
    const hits = await sql<{ n: string }>`select count(*) as n from ${sql.table(table_name)} t where t::text like ${`%${token}%`}`.execute(
      s.db.kysely,
    );
    if (Number(hits.rows[0]!.n) > 0) found.push(table_name);
  }
  return found;
}

describe('activation tokens at rest', () => {
  it('are nowhere in the database in clear after invite → delivery over SMTP → accept', async () => {
    sink = await startSmtpSink();
    server = await startTestServer({ config: { smtpUrl: sink.url } });
    const s = server;
    // a few, so that rows share pages and what an update frees sits beside what stays
    const emails = ['ada@example.com', 'grace@example.com', 'alan@example.com', 'edsger@example.com'];
    for (const email of emails) {
      const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email }) });
      expect(created.status, created.text).toBe(201);
    }
    await s.mailWorker.drain();
    await sink.waitFor(emails.length);
    const tokens = sink.messages.map((m) => {
      const token = TOKEN.exec(m.parsed.text ?? '')?.[1];
      expect(token, m.parsed.text).toBeDefined();
      return token!;
    });
    expect(new Set(tokens).size).toBe(emails.length);

    // the messages went out: the outbox no longer keeps their links
    const rows = await s.db.kysely.selectFrom('mail_outbox').selectAll().execute();
    expect(rows).toHaveLength(emails.length);
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'sent', activation_link: null });
      expect(JSON.parse(row.template_data!)).not.toHaveProperty('link');
    }

    for (const token of tokens) {
      const path = activationPath(`${PUBLIC_URL}/activate/${token}`);
      const jar = new CookieJar();
      const page = await openPage(s.baseUrl, 'GET', path, { jar });
      expect(page.status).toBe(200);
      const accepted = await openPage(s.baseUrl, 'POST', `${path}/accept`, {
        jar,
        form: { csrf: csrfField(page.text) },
        headers: { origin: PUBLIC_URL },
      });
      expect(accepted.status, accepted.text).toBe(303);
    }
    const users = await s.call('GET', '/v1/users?limit=200');
    expect(users.body.data.map((u: { attributes: { username: string } }) => u.attributes.username)).toEqual(expect.arrayContaining(emails));

    // Until a checkpoint the database file keeps the pages the WAL has newer versions of (the server
    // checkpoints every 100 ms): what is at rest is the state after one. A checkpoint that finds the
    // server's own checkpointer or a reader busy reports so (busy = 1) and leaves the WAL as it was:
    // it is asked again until one has gone through.
    if (s.db.dialect === 'sqlite') {
      const checkpoint = async () => (await sql<{ busy: number }>`pragma wal_checkpoint(TRUNCATE)`.execute(s.db.kysely)).rows[0]!.busy;
      await expect.poll(checkpoint, { timeout: 10_000 }).toBe(0);
    }
    for (const token of tokens) expect(await placesHolding(s, token), token).toEqual([]);

    // the mail log says the links were not kept
    const shown = await runCli(['mail', 'show', rows[0]!.id], databaseEnv(s.config));
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain('activationLink: (not kept after delivery)\n');
    expect(shown.stdout).toContain('\n(not kept after delivery)\n');
    const listed = await runCli(['mail', 'list'], databaseEnv(s.config));
    expect(listed.stdout.split('\n').filter((l) => l.endsWith('(not kept after delivery)'))).toHaveLength(emails.length);
    for (const token of tokens) expect(shown.stdout + listed.stdout).not.toContain(token);
  });

  it('stay in the mail log when there is no SMTP: the logged message keeps its link', async () => {
    server = await startTestServer();
    const s = server;
    const created = await s.call('POST', '/v1/userInvitations', { body: invitationBody({ email: 'bob@example.com' }) });
    expect(created.status, created.text).toBe(201);
    await s.mailWorker.drain();
    const row = await s.db.kysely.selectFrom('mail_outbox').selectAll().executeTakeFirstOrThrow();
    expect(row.status).toBe('logged');
    const link = row.activation_link!;
    expect(link).toMatch(TOKEN);
    expect(JSON.parse(row.template_data!)).toMatchObject({ link });

    const shown = await runCli(['mail', 'show', row.id], databaseEnv(s.config));
    expect(shown.code, shown.stderr).toBe(0);
    expect(shown.stdout).toContain(`activationLink: ${link}\n`);
    expect(shown.stdout).toContain(`\n${link}\n`);
    const listed = await runCli(['mail', 'list'], databaseEnv(s.config));
    expect(listed.stdout).toContain(link);
  });
});
