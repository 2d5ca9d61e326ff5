/**
 * buildApp(config, db): the whole HTTP application, ready to listen. It never listens itself
 * (src/server.ts does), so tests can boot it on a real database and talk to it.
 */
import Fastify, { type FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { systemClock, type Clock } from './clock.js';
import type { Config } from './config.js';
import { createServices, type Services } from './container.js';
import type { Db } from './db/database.js';
import type { StorageIncidents } from './db/storage-errors.js';
import { Authenticator } from './http/auth.js';
import { AuthFailureLimiter } from './http/auth-failures.js';
import { healthRoutes } from './http/health.js';
import { Metrics } from './http/metrics.js';
import { Admission } from './http/pipeline/admission.js';
import { apiNotFound, registerOperations } from './http/pipeline/dispatch.js';
import { apiBasics } from './http/pipeline/errors.js';
import { fastifyOptions } from './http/pipeline/options.js';
import { DatabaseRateLimiter, InMemoryRateLimiter, type RateLimiter } from './http/rate-limit.js';
import { SqlRateLimitRepository } from './http/rate-limit-repository.js';
import { SyncedRateLimiter } from './http/quota-sync.js';
import { ReadCache } from './http/read-cache/index.js';
import { backgroundJobs } from './jobs.js';
import { CursorCodec } from './jsonapi/cursor.js';
import type { MailTransport } from './mail/transport.js';
import type { MailWorker, MailWorkerOptions } from './mail/worker.js';
import { appRoutes } from './resources/apps/routes.js';
import { sandboxTesterRoutes } from './resources/sandbox-testers/routes.js';
import { invitationRoutes } from './resources/user-invitations/routes.js';
import { userRoutes } from './resources/users/routes.js';
import { loadOperations } from './spec/openapi.js';
import { activationPages } from './web/activation-routes.js';
import { faviconRoute } from './web/favicon.js';

export type { Services } from './container.js';

export interface BuildOptions {
  config: Config;
  db: Db;
  clock?: Clock;
  /**
   * The clock tokens are checked against (default `clock`): the emulator keeps it on the wall clock
   * while `clock` is moved, so a freshly minted token stays valid whatever the emulated time.
   */
  tokenClock?: Clock;
  /** wraps the mail transport the config names (the emulator's mail capture, src/emulator/) */
  mailTransport?: (configured: MailTransport) => MailTransport;
  /** defaults to an in-memory limiter with config.rateLimitPerHour */
  rateLimiter?: RateLimiter;
  mailWorker?: MailWorkerOptions;
  /** how often expired invitations are turned into tombstones (default one minute) */
  sweepIntervalMs?: number;
  /** where the server's log goes (default stdout) */
  logStream?: DestinationStream;
  /**
   * Called once the app has its basics (request id, JSON parser, error handler) and before any
   * other hook, page or operation is added: its onRequest hooks run before the read cache's and
   * before authentication (the emulator's request journal and faults, src/emulator/).
   */
  beforeRoutes?: (app: FastifyInstance) => void | Promise<void>;
}

export interface BuiltApp {
  app: FastifyInstance;
  services: Services;
  mailWorker: MailWorker;
  /** the read caches, when they are on (Config.readCache) */
  cache: ReadCache | undefined;
  /** the storage incidents of this app: errors of the database seen outside any request go there too */
  incidents: StorageIncidents;
  /** what GET /metrics shows (src/http/metrics.ts) */
  metrics: Metrics;
}

export async function buildApp(options: BuildOptions): Promise<BuiltApp> {
  const { config, db } = options;
  const clock = options.clock ?? systemClock;
  const cache = config.readCache ? new ReadCache({ version: db.version, clock, responseCacheMb: config.responseCacheMb }) : undefined;
  let worker: MailWorker | undefined;
  const app = Fastify(fastifyOptions(config, options.logStream));
  const services = createServices(db, clock, config, () => worker?.wake(), cache, app.log);

  // individual keys act with their user's roles as they are now, and stop when the user is gone (A2)
  const authenticator = new Authenticator(
    services.keyLookup,
    () => services.keys.team(),
    options.tokenClock ?? clock,
    (userId) => services.users.individualRoles(userId),
    services.createChecksKey,
  );
  // One SQLite file serves one instance: its quota lives in memory. On PostgreSQL any number of
  // instances share the database, so they share the quota through it.
  // Counted in memory and reconciled every ASC_RATE_LIMIT_SYNC_MS (src/http/quota-sync.ts), or with
  // a write per request when that is 0.
  const quotaRepo = db.dialect === 'postgres' ? new SqlRateLimitRepository(db.kysely) : undefined;
  const syncedLimiter =
    quotaRepo && config.rateLimitSyncMs > 0
      ? new SyncedRateLimiter(quotaRepo, config.rateLimitPerHour, {
          syncMs: config.rateLimitSyncMs,
          now: () => clock.now().getTime(),
          onSyncError: (err) => incidents.backgroundFailed(err, app.log, 'rate-limit sync failed'),
        })
      : undefined;
  const sharedLimiter = syncedLimiter ?? (quotaRepo ? new DatabaseRateLimiter(quotaRepo, config.rateLimitPerHour) : undefined);
  const admission = new Admission(
    authenticator,
    options.rateLimiter ?? sharedLimiter ?? new InMemoryRateLimiter(config.rateLimitPerHour),
    clock,
    // per instance, in memory: an address flooding bad tokens is refused by the instance it floods
    new AuthFailureLimiter({ limit: config.authFailureLimit }),
  );

  const incidents = apiBasics(app);
  await options.beforeRoutes?.(app);
  const metrics = new Metrics(services.outbox, clock);
  metrics.install(app, incidents, config.metrics);
  healthRoutes(app, db, incidents);
  if (cache) await app.register(cache.plugin());

  const secret = (await services.keys.team()).cursorSecret;
  const deps = {
    base: config.publicUrl,
    cursors: cache ? cache.cursors(secret) : new CursorCodec(secret),
    operations: loadOperations(),
  };
  const operations = [
    ...appRoutes(services.apps, deps, services.views.apps),
    ...invitationRoutes(services.invitations, deps, services.views),
    ...userRoutes(services.users, deps, services.views),
    ...sandboxTesterRoutes(services.sandboxTesters, deps),
  ];
  const served = registerOperations(app, operations, deps.operations, admission);
  app.setNotFoundHandler(apiNotFound(served, admission));

  // HTML pages for people (not API operations): their own plugin, form parser and 404 page
  app.get('/favicon.ico', faviconRoute);
  await app.register(activationPages, {
    prefix: '/activate',
    activation: services.activation,
    teamName: config.teamName,
    publicUrl: config.publicUrl,
    clock,
    incidents,
  });

  worker = backgroundJobs(app, {
    config,
    services,
    clock,
    incidents,
    onSwept: (n) => metrics.sweepDone(n),
    ...(quotaRepo ? { alsoOnSweep: () => quotaRepo.deleteBefore(Math.floor(clock.now().getTime() / 1000) - 3600) } : {}),
    mailWorker: { ...options.mailWorker, observer: metrics.deliveries },
    ...(options.mailTransport ? { mailTransport: options.mailTransport } : {}),
    ...(options.sweepIntervalMs ? { sweepIntervalMs: options.sweepIntervalMs } : {}),
  });
  if (syncedLimiter) {
    app.addHook('onReady', () => syncedLimiter.start());
    // the counts taken since the last sync are written before the database closes
    app.addHook('onClose', () => syncedLimiter.stop());
  }
  return { app, services, mailWorker: worker, cache, incidents, metrics };
}
