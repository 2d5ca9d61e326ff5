/**
 * buildApp(config, db): the whole HTTP application, ready to listen. It never listens itself
 * (main/server does), so tests can boot it on a real database and talk to it.
 */
import { randomUUID } from 'node:crypto';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import Negotiator from 'negotiator';
import type { Config } from './config.js';
import { systemClock, type Clock } from './clock.js';
import type { Db } from './db/database.js';
import { GroupCommit } from './db/group-commit.js';
import { ApiError, ApiErrors } from './errors/api-error.js';
import { errors } from './errors/catalogue.js';
import { Authenticator, mayWrite, type Principal } from './http/auth.js';
import type { Operation } from './http/operation.js';
import { BODY_LIMIT_BYTES, clientErrorHandler, decorateJsonReplies, fromFastifyError, sendErrors, sendJson, splitTarget } from './http/responses.js';
import { ReadCache } from './http/read-cache/index.js';
import { DatabaseRateLimiter, InMemoryRateLimiter, rateLimitHeader, type RateLimiter } from './http/rate-limit.js';
import { SqlRateLimitRepository } from './http/rate-limit-repository.js';
import { CursorCodec } from './jsonapi/cursor.js';
import { parseQuery } from './jsonapi/query.js';
import { KeysRepository } from './keys/repository.js';
import { KeysService, type KeyLookup } from './keys/service.js';
import { AppsRepository } from './resources/apps/repository.js';
import { appRoutes } from './resources/apps/routes.js';
import { AppsService } from './resources/apps/service.js';
import { InvitationsRepository } from './resources/user-invitations/repository.js';
import { invitationRoutes } from './resources/user-invitations/routes.js';
import { InvitationsService, type Invitation } from './resources/user-invitations/service.js';
import { ActivationService } from './resources/user-invitations/activation.js';
import { UsersRepository } from './resources/users/repository.js';
import { userRoutes } from './resources/users/routes.js';
import { UsersService, type User } from './resources/users/service.js';
import { OutboxRepository } from './mail/outbox-repository.js';
import { LogTransport, SmtpTransport } from './mail/transport.js';
import { MailWorker, type MailWorkerOptions } from './mail/worker.js';
import { loadOperations, type OperationSpec } from './spec/openapi.js';
import { activationPages } from './web/activation-routes.js';
import { appRenderer, type AppRenderer } from './resources/apps/serializer.js';
import { memberRenderer, type MemberRenderer } from './resources/members/render.js';
import { serializeUser } from './resources/users/serializer.js';
import { serializeInvitation } from './resources/user-invitations/serializer.js';

/**
 * What a request's Accept must admit (A5). Negotiator refuses a range whose parameters the offered
 * type lacks, so `application/json; charset=utf-8` (which we do send) is offered explicitly.
 */
const ACCEPTABLE_TYPES = ['application/json', 'application/json; charset=utf-8'];
/** Accept headers that clients send most and that need no negotiation to be accepted. */
const ACCEPTED_AS_SENT = new Set([...ACCEPTABLE_TYPES, '*/*']);

export interface Services {
  keys: KeysService;
  apps: AppsService;
  invitations: InvitationsService;
  activation: ActivationService;
  users: UsersService;
  outbox: OutboxRepository;
  /** how authentication finds keys */
  keyLookup: KeyLookup;
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
 * server wakes its mail worker with it; the CLI needs nothing).
 */
export function createServices(
  db: Db,
  clock: Clock,
  config: Pick<Config, 'teamName' | 'publicUrl'>,
  onMailQueued: () => void = () => {},
  /** the read caches (src/http/read-cache/), when they are on: they wrap what reads go through */
  cache?: ReadCache,
): Services {
  // creates and the mail worker's marks share commits on SQLite (src/db/group-commit.ts)
  const writes = new GroupCommit(db);
  const appsRepo = new AppsRepository(db.kysely);
  const appReads = cache ? cache.apps(appsRepo) : appsRepo;
  const invitationsRepo = new InvitationsRepository(db.kysely, writes);
  const usersRepo = new UsersRepository(db.kysely);
  const keysRepo = new KeysRepository(db.kysely);
  const outbox = new OutboxRepository(db.kysely, writes);
  const keys = new KeysService(keysRepo, clock);
  const invitations = new InvitationsService(invitationsRepo, appsRepo, outbox, clock, config, onMailQueued, appReads);
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
    outbox,
    keyLookup: cache ? cache.keys(keys) : keys,
    views: {
      apps: cache ? cache.appJson(apps) : apps,
      users: memberRenderer(serializeUser, (ids, n) => users.reads.visibleAppSlices(ids, n), base),
      // an invitation never changes once written
      invitations: cache ? cache.immutableMembers(invitationViews) : invitationViews,
    },
  };
}

export interface BuildOptions {
  config: Config;
  db: Db;
  clock?: Clock;
  /** defaults to an in-memory limiter with config.rateLimitPerHour */
  rateLimiter?: RateLimiter;
  mailWorker?: MailWorkerOptions;
  /** how often expired invitations are turned into tombstones (default one minute) */
  sweepIntervalMs?: number;
}

declare module 'fastify' {
  interface FastifyRequest {
    principal?: Principal;
  }
}

function pathTemplateRegex(template: string): RegExp {
  const pattern = template.replace(/\{[^}]+\}/g, '[^/]+');
  return new RegExp(`^${pattern}$`);
}

export interface BuiltApp {
  app: FastifyInstance;
  services: Services;
  mailWorker: MailWorker;
  /** the read caches, when they are on (Config.readCache) */
  cache: ReadCache | undefined;
}

export async function buildApp(options: BuildOptions): Promise<BuiltApp> {
  const { config, db } = options;
  const clock = options.clock ?? systemClock;
  let worker: MailWorker | undefined;
  const cache = config.readCache ? new ReadCache({ version: db.version, clock, responseCacheMb: config.responseCacheMb }) : undefined;
  const services = createServices(db, clock, config, () => worker?.wake(), cache);
  const team = await services.keys.team();
  const cursors = new CursorCodec(team.cursorSecret);
  // individual keys act with their user's roles as they are now, and stop when the user is gone (A2)
  const authenticator = new Authenticator(services.keyLookup, () => services.keys.team(), clock, (userId) =>
    services.users.individualRoles(userId),
  );
  // One SQLite file serves one instance: its quota lives in memory. On PostgreSQL any number of
  // instances share the database, so they share the quota through it.
  const sharedLimiter =
    db.dialect === 'postgres' ? new DatabaseRateLimiter(new SqlRateLimitRepository(db.kysely), config.rateLimitPerHour) : undefined;
  const limiter = options.rateLimiter ?? sharedLimiter ?? new InMemoryRateLimiter(config.rateLimitPerHour);
  const specOps = loadOperations();
  const deps = { base: config.publicUrl, cursors, operations: specOps };

  const app = Fastify({
    logger: { level: config.logLevel },
    genReqId: () => randomUUID(),
    bodyLimit: BODY_LIMIT_BYTES,
    routerOptions: {
      maxParamLength: 1000,
      // our own parser reads the raw query (spec-driven, order-preserving)
      querystringParser: () => ({}),
    },
    return503OnClosing: true,
    clientErrorHandler,
    // URLs the router cannot even match (a malformed percent-encoding in the path, an id over
    // maxParamLength) would get Fastify's own body, without X-Request-ID: they are unknown paths (A5).
    frameworkErrors: (err, request, reply) => {
      reply.header('x-request-id', request.id);
      const unroutable = err.code === 'FST_ERR_BAD_URL' || err.code === 'FST_ERR_MAX_PARAM_LENGTH';
      if (!unroutable) request.log.error({ err }, 'unexpected router error');
      return sendErrors(reply, [unroutable ? errors.pathError(splitTarget(request.raw.url).path) : errors.unexpected()]);
    },
  });

  decorateJsonReplies(app);
  app.removeAllContentTypeParsers();
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_req, raw, done) => {
    const text = typeof raw === 'string' ? raw : raw.toString('utf8');
    if (text.trim() === '') {
      done(errors.entityInvalid('The request body is empty; it must be a JSON document'), undefined);
      return;
    }
    try {
      done(null, JSON.parse(text));
    } catch {
      done(errors.entityInvalid('The request body is not valid JSON'), undefined);
    }
  });

  app.addHook('onRequest', (request, reply, done) => {
    reply.header('x-request-id', request.id);
    done();
  });
  if (cache) await app.register(cache.plugin());

  app.setErrorHandler((err: unknown, request, reply) => {
    if (err instanceof ApiErrors) return sendErrors(reply, err.errors);
    if (err instanceof ApiError) return sendErrors(reply, [err]);
    const mapped = err instanceof Error && 'code' in err ? fromFastifyError(err as FastifyError, request.headers['content-type']) : undefined;
    if (mapped) return sendErrors(reply, [mapped]);
    request.log.error({ err }, 'unexpected error');
    return sendErrors(reply, [errors.unexpected()]);
  });

  const routes: Operation[] = [
    ...appRoutes(services.apps, deps, services.views.apps),
    ...invitationRoutes(services.invitations, deps, services.views),
    ...userRoutes(services.users, deps, services.views),
  ];
  const templates: RegExp[] = [];

  /**
   * Authenticates the request and counts it against its key's hourly quota, setting X-Rate-Limit
   * (every response to a request with a valid key carries it, A18). Throws 401 or 429.
   */
  async function admit(request: FastifyRequest, reply: FastifyReply): Promise<Principal> {
    const principal = await authenticator.authenticate(request.headers.authorization, { method: request.method, ...splitTarget(request.raw.url) });
    const decision = await limiter.hit(principal.keyId, clock.now().getTime());
    reply.header('x-rate-limit', rateLimitHeader(decision));
    if (!decision.allowed) throw errors.rateLimitExceeded();
    return principal;
  }

  for (const op of routes) {
    const spec: OperationSpec | undefined = specOps.get(op.key);
    if (!spec) throw new Error(`operation ${op.key} is not in the vendored spec`);
    templates.push(pathTemplateRegex(spec.path));

    const guard = async (request: FastifyRequest, reply: FastifyReply) => {
      const params = request.params as Record<string, string>;
      if (Object.values(params).some((v) => v === '')) throw errors.pathError(splitTarget(request.raw.url).path);
      // No id of ours contains a NUL (PostgreSQL text cannot even hold one): such an id is unknown.
      if (params.id?.includes('\u0000')) throw errors.notFound(spec.path.split('/')[2] ?? '', params.id);
      const principal = await admit(request, reply);
      const accept = request.headers.accept;
      if (accept !== undefined && !ACCEPTED_AS_SENT.has(accept) && accept.trim() !== '' && !new Negotiator(request).mediaType(ACCEPTABLE_TYPES)) {
        return reply
          .code(406)
          .type('text/plain')
          .send(`The provided Accept header is not supported for this request.\n\nRequested: ${accept}\n\nAllowed: application/json`);
      }
      if (op.write && !mayWrite(principal)) throw errors.forbidden();
      request.principal = principal;
      return undefined;
    };

    app.route({
      method: spec.method as 'GET' | 'POST' | 'PATCH' | 'DELETE',
      url: spec.path.replace(/\{(\w+)\}/g, ':$1'),
      onRequest: guard,
      config: op.reuse ? { reuse: op.reuse } : {},
      handler: async (request, reply) => {
        const target = splitTarget(request.raw.url);
        const query = parseQuery(target.query, spec);
        // A request sent with no body (and so no Content-Type) is as empty as `{}`-less JSON: 400 (A3).
        if (op.body && request.body === undefined) throw errors.entityInvalid('The request body is empty; it must be a JSON document');
        const result = await op.handle({
          principal: request.principal!,
          query,
          params: request.params as Record<string, string>,
          body: op.body ? request.body : undefined,
          path: target.path,
        });
        if (result.headers) reply.headers(result.headers);
        if (result.body === undefined) return reply.code(result.status).send();
        return sendJson(reply, result.status, result.body);
      },
    });
  }

  app.get('/healthz', async (_request, reply) => {
    await services.keys.count();
    return sendJson(reply, 200, { status: 'ok' });
  });

  // HTML pages for people (not API operations): their own plugin, form parser and 404 page
  await app.register(activationPages, {
    prefix: '/activate',
    activation: services.activation,
    teamName: config.teamName,
    publicUrl: config.publicUrl,
    clock,
  });

  app.setNotFoundHandler(async (request, reply) => {
    const { path } = splitTarget(request.raw.url);
    // A valid key is counted and told its quota here too; without one, the path error still wins.
    if (request.headers.authorization !== undefined) {
      try {
        await admit(request, reply);
      } catch (err) {
        if (err instanceof ApiError && err.status === 429) throw err;
      }
    }
    const known = templates.some((t) => t.test(path));
    return sendErrors(reply, [known ? errors.methodNotAllowed() : errors.pathError(path)]);
  });

  const transport = config.smtpUrl ? new SmtpTransport(config.smtpUrl, config.mailFrom) : new LogTransport(app.log);
  worker = new MailWorker(
    services.outbox,
    transport,
    clock,
    app.log,
    options.mailWorker,
  );
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () =>
    Promise.all([services.invitations.sweepExpired(), sharedLimiter?.prune(clock.now().getTime())]).catch((err: unknown) =>
      app.log.error({ err }, 'expiry sweep failed'),
    );
  app.addHook('onReady', async () => {
    app.log.info({ mail: transport.description }, 'invitation emails go to %s', transport.description);
    worker!.start();
    sweeper = setInterval(sweep, sweepIntervalMs);
    sweeper.unref();
  });
  app.addHook('preClose', async () => {
    clearInterval(sweeper);
    await worker!.stop();
  });

  return { app, services, mailWorker: worker, cache };
}
