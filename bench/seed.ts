/**
 * Seeds a fresh database for the benchmark: 200 apps and N pending invitations, each with what the
 * service itself writes (roles JSON and role rows, visible apps, the email claim, a mail-log row),
 * so the server cannot tell them from invitations it made. Migrations run through the project's
 * openDatabase(); the rows go in through prepared statements on a second, raw better-sqlite3
 * connection, in transactions of `batch` invitations.
 */
import { randomBytes } from 'node:crypto';
import { v7 as uuidv7 } from 'uuid';
import { rmSync, statSync } from 'node:fs';
import SQLite from 'better-sqlite3';
import { openDatabase, sqliteFile } from '../src/db/database.js';
import { resolveAccess } from '../src/domain/access.js';
import { ALL_APPS_ROLES } from '../src/domain/roles.js';
import type { ApiError } from '../src/errors/api-error.js';
import { storedMail, type InvitationMailInput } from '../src/mail/templates.js';
import { hashToken, INVITATION_LIFETIME_MS } from '../src/resources/user-invitations/service.js';
import { emailFor, fakeApps, FIRST_NAMES, LAST_NAMES, Random, ROLE_SETS, type FakeApp } from './fixtures.js';

export interface SeedOptions {
  dataDir: string;
  /** pending invitations to create */
  size: number;
  apps: number;
  /** invitations per transaction */
  batch: number;
  /** base of the activation links in the mail log */
  publicUrl: string;
  /** the generator's seed; the same seed gives the same people */
  seed: number;
  /** progress, e.g. every few batches */
  onProgress?: (done: number, total: number) => void;
}

/** Invitations to use as request targets, spread over the whole table. */
export interface SeedSample {
  /** ids of invitations that have visible apps (GET by id with include) */
  idsWithApps: string[];
  /** emails as written, mixed case included (filter[email]) */
  emails: string[];
}

export interface SeedResult {
  file: string;
  invitations: number;
  /** rows in all tables together (invitations, roles, visible apps, claims, mail log) */
  rows: number;
  rowsByTable: Record<string, number>;
  /** total time, indexes included */
  seconds: number;
  /** of which rebuilding the secondary indexes */
  indexSeconds: number;
  invitationsPerSecond: number;
  rowsPerSecond: number;
  /** database file size after a WAL checkpoint */
  bytes: number;
  apps: FakeApp[];
  sample: SeedSample;
}

const SAMPLE_SIZE = 1000;
const TEAM_NAME = 'My Team';
const INVITERS = ['Initial admin key', 'CI provisioning key', 'Jane Appleseed', 'Team Admin'];
const SEEDED_TABLES = ['apps', 'user_invitations', 'user_invitation_roles', 'user_invitation_visible_apps', 'email_claims', 'mail_outbox'];
const SEED_WINDOW_MS = 48 * 60 * 60 * 1000;

function sqlInsert(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

export async function seedDatabase(options: SeedOptions): Promise<SeedResult> {
  const file = sqliteFile({ dataDir: options.dataDir });
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const migrated = await openDatabase({ dataDir: options.dataDir, databaseUrl: undefined });
  await migrated.close();

  const rng = new Random(options.seed);
  const raw = new SQLite(file);
  // Seeding is set-up, not the measured write path: no journal and no fsync (a seed that dies is
  // simply run again). The file goes back to WAL at the end, as the server uses it.
  raw.pragma('journal_mode = OFF');
  raw.pragma('locking_mode = EXCLUSIVE');
  raw.pragma('synchronous = OFF');
  raw.pragma('foreign_keys = ON');
  raw.pragma('cache_size = -1048576'); // 1 GiB: random-order UUID keys touch index pages all over
  raw.pragma('temp_store = MEMORY');

  // Secondary indexes are dropped and then rebuilt from their own CREATE INDEX statements (as the
  // migrations wrote them): building an index once is far cheaper than growing it row by row.
  const indexes = raw
    .prepare(
      `SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${SEEDED_TABLES.map(() => '?').join(', ')})`,
    )
    .all(...SEEDED_TABLES) as { name: string; sql: string }[];

  const started = performance.now();
  for (const index of indexes) raw.exec(`DROP INDEX "${index.name}"`);
  const counts: Record<string, number> = {
    apps: 0,
    user_invitations: 0,
    user_invitation_roles: 0,
    user_invitation_visible_apps: 0,
    email_claims: 0,
    mail_outbox: 0,
  };
  const apps = fakeApps(rng, options.apps);
  const insertApp = raw.prepare(sqlInsert('apps', ['id', 'name', 'bundle_id', 'sku', 'primary_locale', 'created_at']));
  const appsCreatedAt = new Date(Date.now() - 90 * 24 * 60 * 60 * 1000).toISOString();
  raw.transaction(() => {
    for (const a of apps) insertApp.run(a.id, a.name, a.bundleId, a.sku, a.primaryLocale, appsCreatedAt);
  })();
  counts.apps = apps.length;

  const insertInvitation = raw.prepare(
    sqlInsert('user_invitations', [
      'id',
      'email',
      'email_key',
      'first_name',
      'last_name',
      'last_name_key',
      'roles',
      'all_apps_visible',
      'provisioning_allowed',
      'created_at',
      'expires_at',
      'token_hash',
      'invited_by',
    ]),
  );
  const insertRole = raw.prepare(sqlInsert('user_invitation_roles', ['invitation_id', 'role']));
  const insertVisibleApp = raw.prepare(sqlInsert('user_invitation_visible_apps', ['invitation_id', 'app_id']));
  const insertClaim = raw.prepare(sqlInsert('email_claims', ['email_key', 'owner_type', 'owner_id']));
  const insertMail = raw.prepare(
    sqlInsert('mail_outbox', [
      'id',
      'invitation_id',
      'recipient',
      'subject',
      'text_body',
      'html_body',
      'template_data',
      'activation_link',
      'status',
      'attempts',
      'next_attempt_at',
      'claimed_until',
      'last_error',
      'created_at',
      'sent_at',
    ]),
  );

  const sampleEvery = Math.max(1, Math.floor(options.size / SAMPLE_SIZE));
  const sample: SeedSample = { idsWithApps: [], emails: [] };
  const now = Date.now();

  /** One invitation with everything the service writes alongside it. */
  const insertOne = (n: number): void => {
    const firstName = rng.pick(FIRST_NAMES);
    const lastName = rng.pick(LAST_NAMES);
    const email = emailFor(rng, firstName, lastName, n);
    const roles = rng.weighted(ROLE_SETS);
    const provisioning = roles.some((r) => r.startsWith('CLOUD_MANAGED_')) ? true : undefined;
    const seesAll = provisioning === true || roles.some((r) => ALL_APPS_ROLES.includes(r));
    const appCount = seesAll ? 0 : rng.int(0, 5);
    const chosen = appCount > 0 ? rng.sample(apps, appCount) : [];
    // a limited member with no apps yet, now and then; otherwise the default (all apps)
    const allAppsGiven = appCount === 0 && !seesAll && rng.next() < 0.25 ? false : undefined;
    const problems: ApiError[] = [];
    const access = resolveAccess(
      { roles: [...roles], allAppsVisible: allAppsGiven, provisioningAllowed: provisioning, visibleAppIds: chosen.map((a) => a.id) },
      problems,
    );
    if (!access)
      throw new Error(`fixture role set ${roles.join(',')} breaks the access rules: ${problems.map((p) => p.detail).join('; ')}`);

    const createdAt = new Date(now - Math.floor(rng.next() * SEED_WINDOW_MS));
    // ids as the service makes them: UUID version 7 of the creation time
    const id = uuidv7({ msecs: createdAt.getTime() });
    const expiresAt = new Date(createdAt.getTime() + INVITATION_LIFETIME_MS);
    // an activation token as the service makes them (256 random bits, base64url), from a pooled buffer
    const token = tokenBytes.subarray((n % options.batch) * 32, (n % options.batch) * 32 + 32).toString('base64url');
    const invitedBy = rng.pick(INVITERS);
    const emailKey = email.toLowerCase();
    insertInvitation.run(
      id,
      email,
      emailKey,
      firstName,
      lastName,
      lastName.toLowerCase(),
      JSON.stringify(access.roles),
      access.allAppsVisible ? 1 : 0,
      access.provisioningAllowed ? 1 : 0,
      createdAt.toISOString(),
      expiresAt.toISOString(),
      hashToken(token),
      invitedBy,
    );
    for (const role of access.roles) insertRole.run(id, role);
    for (const appId of access.visibleAppIds) insertVisibleApp.run(id, appId);
    insertClaim.run(emailKey, 'invitation', id);
    const link = `${options.publicUrl}/activate/${token}`;
    // as the service writes it: the data the message is rendered from (migration 008)
    const mail: InvitationMailInput = {
      teamName: TEAM_NAME,
      invitedBy,
      firstName,
      lastName,
      email,
      roles: access.roles,
      apps: access.allAppsVisible ? null : chosen.map((a) => a.name),
      expiresAt,
      link,
    };
    const stored = storedMail(mail);
    // already delivered to the mail log: the server's mail worker finds nothing to do
    insertMail.run(
      uuidv7({ msecs: createdAt.getTime() }),
      id,
      email,
      stored.subject,
      stored.text_body,
      stored.html_body,
      stored.template_data,
      link,
      'logged',
      1,
      createdAt.toISOString(),
      null,
      null,
      createdAt.toISOString(),
      createdAt.toISOString(),
    );
    counts.user_invitations!++;
    counts.user_invitation_roles! += access.roles.length;
    counts.user_invitation_visible_apps! += access.visibleAppIds.length;
    counts.email_claims!++;
    counts.mail_outbox!++;
    if (n % sampleEvery === 0) {
      if (sample.emails.length < SAMPLE_SIZE) sample.emails.push(email);
      if (access.visibleAppIds.length > 0 && sample.idsWithApps.length < SAMPLE_SIZE) sample.idsWithApps.push(id);
    }
  };

  let tokenBytes = Buffer.alloc(0);
  const insertBatch = raw.transaction((from: number, to: number) => {
    tokenBytes = randomBytes(32 * options.batch);
    for (let n = from; n < to; n++) insertOne(n);
  });
  for (let from = 0; from < options.size; from += options.batch) {
    insertBatch(from, Math.min(options.size, from + options.batch));
    options.onProgress?.(Math.min(options.size, from + options.batch), options.size);
  }
  // rows inserted here bypass the repository, which keeps the row counter (src/db/row-counts.ts)
  raw.prepare(`UPDATE row_counts SET n = n + ? WHERE table_name = 'user_invitations' AND shard = 0`).run(options.size);
  const indexStarted = performance.now();
  for (const index of indexes) raw.exec(index.sql);
  const indexSeconds = (performance.now() - indexStarted) / 1000;
  const seconds = (performance.now() - started) / 1000;

  raw.pragma('journal_mode = WAL');
  raw.close();
  const rows = Object.values(counts).reduce((a, b) => a + b, 0);
  return {
    file,
    invitations: options.size,
    rows,
    rowsByTable: counts,
    seconds,
    indexSeconds,
    invitationsPerSecond: options.size / seconds,
    rowsPerSecond: rows / seconds,
    bytes: statSync(file).size,
    apps,
    sample,
  };
}
