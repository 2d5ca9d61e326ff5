/**
 * Seeds a fresh database for the benchmark: 200 apps and N pending invitations, each with what the
 * service itself writes (roles JSON and role rows, visible apps, the email claim, a mail-log row),
 * so the server cannot tell them from invitations it made. Migrations run through the project's
 * openDatabase(); the rows go in through prepared statements on a second, raw better-sqlite3
 * connection, in transactions of `batch` invitations. The same rows go into PostgreSQL through its
 * bulk path (./seed-postgres.ts): both take them from SeedGenerator, in the same order.
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
  /** the SQLite file (not on PostgreSQL) */
  file?: string;
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
  /** database file size after a WAL checkpoint; on PostgreSQL the seeded tables with their indexes and TOAST */
  bytes: number;
  apps: FakeApp[];
  sample: SeedSample;
}

const SAMPLE_SIZE = 1000;
const TEAM_NAME = 'My Team';
const INVITERS = ['Initial admin key', 'CI provisioning key', 'Jane Appleseed', 'Team Admin'];
export const SEEDED_TABLES = [
  'apps',
  'user_invitations',
  'user_invitation_roles',
  'user_invitation_visible_apps',
  'email_claims',
  'mail_outbox',
];
const SEED_WINDOW_MS = 48 * 60 * 60 * 1000;

export function sqlInsert(table: string, columns: readonly string[]): string {
  return `INSERT INTO ${table} (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`;
}

export const APP_COLUMNS = ['id', 'name', 'bundle_id', 'sku', 'primary_locale', 'created_at'] as const;
export const INVITATION_COLUMNS = [
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
] as const;
export const ROLE_COLUMNS = ['invitation_id', 'role'] as const;
export const VISIBLE_APP_COLUMNS = ['invitation_id', 'app_id'] as const;
export const CLAIM_COLUMNS = ['email_key', 'owner_type', 'owner_id'] as const;
export const MAIL_COLUMNS = [
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
] as const;

export type Cell = string | number | null;

/** The rows of one invitation, each a list of cells in the order of its table's *_COLUMNS. */
export interface InvitationRows {
  invitation: Cell[];
  roles: Cell[][];
  visibleApps: Cell[][];
  claim: Cell[];
  mail: Cell[];
}

/**
 * Makes the seed's rows: the apps, then invitation after invitation, each with what the service
 * writes alongside it. The same seed and calls in the same order give the same rows (up to the
 * clock and the random activation tokens), whichever database they go into.
 */
export class SeedGenerator {
  readonly apps: FakeApp[];
  readonly counts: Record<string, number> = {
    apps: 0,
    user_invitations: 0,
    user_invitation_roles: 0,
    user_invitation_visible_apps: 0,
    email_claims: 0,
    mail_outbox: 0,
  };
  readonly sample: SeedSample = { idsWithApps: [], emails: [] };
  private readonly rng: Random;
  private readonly sampleEvery: number;
  private now = 0;

  constructor(private readonly options: Pick<SeedOptions, 'size' | 'apps' | 'batch' | 'publicUrl' | 'seed'>) {
    this.rng = new Random(options.seed);
    this.apps = fakeApps(this.rng, options.apps);
    this.sampleEvery = Math.max(1, Math.floor(options.size / SAMPLE_SIZE));
  }

  /** The apps' rows; call once, before the first invitation (it also fixes the invitations' clock). */
  appRows(): Cell[][] {
    const appsCreatedAt = new Date(Date.now() - 90 * 24 * 60 * 60 * 1000).toISOString();
    const rows = this.apps.map((a) => [a.id, a.name, a.bundleId, a.sku, a.primaryLocale, appsCreatedAt]);
    this.counts.apps = this.apps.length;
    this.now = Date.now();
    return rows;
  }

  /**
   * Invitation `n` with everything the service writes alongside it. `tokenBytes` holds 32 random
   * bytes for each invitation of the batch (its activation token comes from there).
   */
  invitation(n: number, tokenBytes: Buffer): InvitationRows {
    const { rng, apps, options } = this;
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

    const createdAt = new Date(this.now - Math.floor(rng.next() * SEED_WINDOW_MS));
    // ids as the service makes them: UUID version 7 of the creation time
    const id = uuidv7({ msecs: createdAt.getTime() });
    const expiresAt = new Date(createdAt.getTime() + INVITATION_LIFETIME_MS);
    // an activation token as the service makes them (256 random bits, base64url), from a pooled buffer
    const token = tokenBytes.subarray((n % options.batch) * 32, (n % options.batch) * 32 + 32).toString('base64url');
    const invitedBy = rng.pick(INVITERS);
    const emailKey = email.toLowerCase();
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
    const rows: InvitationRows = {
      invitation: [
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
      ],
      roles: access.roles.map((role) => [id, role]),
      visibleApps: access.visibleAppIds.map((appId) => [id, appId]),
      claim: [emailKey, 'invitation', id],
      // already delivered to the mail log: the server's mail worker finds nothing to do
      mail: [
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
      ],
    };
    const counts = this.counts;
    counts.user_invitations!++;
    counts.user_invitation_roles! += access.roles.length;
    counts.user_invitation_visible_apps! += access.visibleAppIds.length;
    counts.email_claims!++;
    counts.mail_outbox!++;
    if (n % this.sampleEvery === 0) {
      if (this.sample.emails.length < SAMPLE_SIZE) this.sample.emails.push(email);
      if (access.visibleAppIds.length > 0 && this.sample.idsWithApps.length < SAMPLE_SIZE) this.sample.idsWithApps.push(id);
    }
    return rows;
  }
}

export async function seedDatabase(options: SeedOptions): Promise<SeedResult> {
  const file = sqliteFile({ dataDir: options.dataDir });
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
  const migrated = await openDatabase({ dataDir: options.dataDir, databaseUrl: undefined });
  await migrated.close();

  const generator = new SeedGenerator(options);
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
  const insertApp = raw.prepare(sqlInsert('apps', APP_COLUMNS));
  const appRows = generator.appRows();
  raw.transaction(() => {
    for (const row of appRows) insertApp.run(...row);
  })();

  const insertInvitation = raw.prepare(sqlInsert('user_invitations', INVITATION_COLUMNS));
  const insertRole = raw.prepare(sqlInsert('user_invitation_roles', ROLE_COLUMNS));
  const insertVisibleApp = raw.prepare(sqlInsert('user_invitation_visible_apps', VISIBLE_APP_COLUMNS));
  const insertClaim = raw.prepare(sqlInsert('email_claims', CLAIM_COLUMNS));
  const insertMail = raw.prepare(sqlInsert('mail_outbox', MAIL_COLUMNS));

  let tokenBytes = Buffer.alloc(0);
  const insertBatch = raw.transaction((from: number, to: number) => {
    tokenBytes = randomBytes(32 * options.batch);
    for (let n = from; n < to; n++) {
      const rows = generator.invitation(n, tokenBytes);
      insertInvitation.run(...rows.invitation);
      for (const role of rows.roles) insertRole.run(...role);
      for (const app of rows.visibleApps) insertVisibleApp.run(...app);
      insertClaim.run(...rows.claim);
      insertMail.run(...rows.mail);
    }
  });
  for (let from = 0; from < options.size; from += options.batch) {
    insertBatch(from, Math.min(options.size, from + options.batch));
    options.onProgress?.(Math.min(options.size, from + options.batch), options.size);
  }
  // rows inserted here bypass the repository, which keeps the row counter (src/db/row-counts.ts)
  raw.prepare(ROW_COUNT_UPDATE).run(options.size);
  const indexStarted = performance.now();
  for (const index of indexes) raw.exec(index.sql);
  const indexSeconds = (performance.now() - indexStarted) / 1000;
  const seconds = (performance.now() - started) / 1000;

  raw.pragma('journal_mode = WAL');
  raw.close();
  return seedResult(generator, options.size, { file, seconds, indexSeconds, bytes: statSync(file).size });
}

/** The seeded rows bypass the repository, which keeps the row counter (src/db/row-counts.ts). */
export const ROW_COUNT_UPDATE = `UPDATE row_counts SET n = n + ? WHERE table_name = 'user_invitations' AND shard = 0`;

export function seedResult(
  generator: SeedGenerator,
  size: number,
  measured: { file?: string; seconds: number; indexSeconds: number; bytes: number },
): SeedResult {
  const rows = Object.values(generator.counts).reduce((a, b) => a + b, 0);
  return {
    ...(measured.file === undefined ? {} : { file: measured.file }),
    invitations: size,
    rows,
    rowsByTable: generator.counts,
    seconds: measured.seconds,
    indexSeconds: measured.indexSeconds,
    invitationsPerSecond: size / measured.seconds,
    rowsPerSecond: rows / measured.seconds,
    bytes: measured.bytes,
    apps: generator.apps,
    sample: generator.sample,
  };
}
