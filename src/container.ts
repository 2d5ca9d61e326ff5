/**
 * createServices: every service on one database, wired once. The server (src/app.ts) and the
 * operator CLI (src/cli/) share it; only the server passes the read caches, which then wrap what
 * reads go through (src/http/read-cache/).
 */
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Db } from './db/database.js';
import { GroupCommit } from './db/group-commit.js';
import type { ListOptions } from './db/list-query.js';
import { NO_CREATE_SHORTCUT, OneStatementCreate } from './resources/user-invitations/one-statement-create.js';
import { stderrRetryLog, type RetryLog } from './db/retry.js';
import type { ReadCache } from './http/read-cache/index.js';
import { KeysRepository } from './keys/repository.js';
import { KeysService, type KeyLookup } from './keys/service.js';
import { SharedKeyReads } from './keys/shared-key-reads.js';
import { OutboxRepository } from './mail/outbox-repository.js';
import { AppsRepository } from './resources/apps/repository.js';
import { appRenderer, type AppRenderer } from './resources/apps/serializer.js';
import { AppsService } from './resources/apps/service.js';
import { memberRenderer, type MemberRenderer } from './jsonapi/include.js';
import { ActivationService } from './resources/user-invitations/activation.js';
import { InvitationsRepository } from './resources/user-invitations/repository.js';
import { serializeInvitation } from './resources/user-invitations/serializer.js';
import { InvitationsService, type Invitation } from './resources/user-invitations/service.js';
import { SandboxTestersRepository } from './resources/sandbox-testers/repository.js';
import { SandboxTestersService } from './resources/sandbox-testers/service.js';
import { UsersRepository } from './resources/users/repository.js';
import { serializeUser } from './resources/users/serializer.js';
import { UsersService, type User } from './resources/users/service.js';

export interface Services {
  keys: KeysService;
  apps: AppsService;
  invitations: InvitationsService;
  activation: ActivationService;
  users: UsersService;
  sandboxTesters: SandboxTestersService;
  outbox: OutboxRepository;
  /** how authentication finds keys */
  keyLookup: KeyLookup;
  /** whether a create checks its request's key in its own statement (src/keys/key-check.ts) */
  createChecksKey: boolean;
  /** how reads render resources */
  views: Views;
}

export interface Views {
  apps: AppRenderer;
  users: MemberRenderer<User>;
  invitations: MemberRenderer<Invitation>;
}

/**
 * Every service on one database. `onMailQueued` is called after a commit that queued email (the
 * server wakes its mail worker with it; the CLI needs nothing). `log` hears of transactions run
 * again after a PostgreSQL deadlock or serialization failure (src/db/retry.ts).
 */
export function createServices(
  db: Db,
  clock: Clock,
  config: Pick<Config, 'teamName' | 'publicUrl'> &
    Partial<Pick<Config, 'oneStatementCreate' | 'sharedKeyReads' | 'oneStatementList' | 'sharedListReads'>>,
  onMailQueued: () => void = () => {},
  /** the read caches (src/http/read-cache/), when they are on: they wrap what reads go through */
  cache?: ReadCache,
  log: RetryLog = stderrRetryLog,
): Services {
  // creates and the mail worker's marks share commits on SQLite (src/db/group-commit.ts)
  const writes = new GroupCommit(db, { log });
  // PostgreSQL: a list's page and total in one statement (a shortcut; on SQLite two are quicker)
  // PostgreSQL: reads of the same page that arrive together share a statement (a shortcut)
  const lists: ListOptions = {
    countInPage: db.dialect === 'postgres' && config.oneStatementList !== false,
    sharedReads: db.dialect === 'postgres' && config.sharedListReads !== false,
  };
  const appsRepo = new AppsRepository(db.kysely, log, lists);
  const appReads = cache ? cache.apps(appsRepo) : appsRepo;
  const invitationsRepo = new InvitationsRepository(db.kysely, writes, log, lists);
  const usersRepo = new UsersRepository(db.kysely, log, lists);
  const keysRepo = new KeysRepository(db.kysely);
  const outbox = new OutboxRepository(db.kysely, writes);
  const keys = new KeysService(keysRepo, clock);
  // PostgreSQL: key reads that arrive together share a statement (a shortcut)
  const keyReads: KeyLookup =
    db.dialect === 'postgres' && config.sharedKeyReads !== false ? new SharedKeyReads((ids) => keys.findMany(ids)) : keys;
  // PostgreSQL: a create in one round trip where it can (a shortcut; SQLite's group commit needs none)
  const createShortcut =
    db.dialect === 'postgres' && config.oneStatementCreate !== false ? new OneStatementCreate(db.kysely, log) : NO_CREATE_SHORTCUT;
  const invitations = new InvitationsService(invitationsRepo, appsRepo, outbox, clock, config, onMailQueued, appReads, createShortcut);
  const users = new UsersService(usersRepo, appsRepo, keysRepo, clock, appReads);
  const base = config.publicUrl;
  const apps = appRenderer(base);
  const invitationViews = memberRenderer(serializeInvitation, (ids, n) => invitations.reads.visibleAppSlices(ids, n), base);
  return {
    keys,
    apps: new AppsService(appsRepo, clock),
    invitations,
    activation: new ActivationService(invitationsRepo, usersRepo, appReads, outbox, clock),
    users,
    sandboxTesters: new SandboxTestersService(new SandboxTestersRepository(db.kysely, log, lists), clock),
    outbox,
    keyLookup: cache ? cache.keys(keyReads) : keyReads,
    createChecksKey: createShortcut !== NO_CREATE_SHORTCUT,
    views: {
      apps: cache ? cache.appJson(apps) : apps,
      users: memberRenderer(serializeUser, (ids, n) => users.reads.visibleAppSlices(ids, n), base),
      // an invitation never changes once written
      invitations: cache ? cache.immutableMembers(invitationViews) : invitationViews,
    },
  };
}
