/**
 * GET /metrics in Prometheus's text format (prom-client), one registry per app (nothing at module
 * level: several apps may run in one process). Counted as things happen:
 * - asc_http_requests_total{operation,status} and asc_http_request_duration_seconds{operation}: every
 *   answer; `operation` is the spec's key (`GET /v1/userInvitations`), the route's pattern for the
 *   other routes (`GET /activate/{token}`, `GET /healthz`), `not_found` for paths nothing serves;
 * - asc_mail_delivered_total{transport} and asc_mail_delivery_failures_total{reason}: each delivery
 *   attempt (reason: a class, never the message: connection, timeout, tls, auth, rejected_temporary,
 *   rejected_permanent, other);
 * - asc_expiry_sweeps_total and asc_invitations_expired_total: the expiry sweeper's runs and what
 *   they turned into tombstones;
 * - asc_database_errors_total{kind,source}: kind `unavailable` for each failure the storage incidents
 *   are told of (src/db/storage-errors.ts), `other` for a database error that reached the error
 *   handler otherwise (a bug: the client got a 500); source `request` or `background`.
 * Read at scrape time, from the database (one query on the outbox's status index):
 * asc_mail_outbox_pending and asc_mail_outbox_oldest_pending_seconds (0 when none is pending; NaN
 * when the database does not answer).
 * And prom-client's default process metrics (process_*, nodejs_*).
 *
 * Who may read it: Config.metrics (ASC_METRICS). `local` (default): clients connected from a
 * loopback address whose request carries no X-Forwarded-For or Forwarded header, so that a reverse
 * proxy on the same host does not publish it; `on`: any client; `off`: the route does not exist.
 * A client refused gets the 404 of any unknown path. The route is no API operation: no key, no quota.
 */
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { Clock } from '../clock.js';
import type { MetricsAccess } from '../config.js';
import { isDatabaseError, isStorageUnavailable, type StorageIncidents } from '../db/storage-errors.js';
import { errors } from '../errors/catalogue.js';
import type { OutboxRepository } from '../mail/outbox-repository.js';
import type { DeliveryObserver } from '../mail/worker.js';
import { sendErrors, splitTarget } from './responses.js';

/** seconds: from 1 ms to 1 s, and beyond */
const LATENCY_BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1];

const NOT_FOUND_OPERATION = 'not_found';

/** A delivery failure's class, from nodemailer's error code and the SMTP server's reply code. */
function deliveryFailureReason(err: unknown): string {
  const e = (typeof err === 'object' && err !== null ? err : {}) as { code?: unknown; responseCode?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === 'EAUTH' || code === 'ENOAUTH') return 'auth';
  if (code === 'ETLS' || code === 'EREQUIRETLS') return 'tls';
  if (code === 'ETIMEDOUT' || code === 'ETIMEOUT') return 'timeout';
  if (typeof e.responseCode === 'number' && e.responseCode >= 400)
    return e.responseCode < 500 ? 'rejected_temporary' : 'rejected_permanent';
  if (['ECONNECTION', 'ESOCKET', 'EDNS', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND'].includes(code)) {
    return 'connection';
  }
  return 'other';
}

/**
 * `GET /v1/users/{id}` for a route `/v1/users/:id`; not_found when no route matched. Each route's
 * name is made once (`names`, by method and route URL), not at every response.
 */
function operationOf(request: FastifyRequest, names: Map<string, string>): string {
  const url = request.routeOptions.url;
  if (url === undefined || request.is404) return NOT_FOUND_OPERATION;
  const key = `${request.method} ${url}`;
  let name = names.get(key);
  if (name === undefined) names.set(key, (name = `${request.method} ${url.replace(/:(\w+)/g, '{$1}')}`));
  return name;
}

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Whether the client is on this host and talks to us directly (not through a proxy). */
function isLocalClient(request: FastifyRequest): boolean {
  const peer = request.socket.remoteAddress ?? '';
  return LOOPBACK.test(peer) && request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined;
}

export class Metrics {
  readonly registry = new Registry();
  /** route names for the labels, by method and route URL (operationOf) */
  private readonly operationNames = new Map<string, string>();
  private readonly requests = new Counter({
    name: 'asc_http_requests_total',
    help: 'Requests answered, by operation (the spec key, or not_found) and status',
    labelNames: ['operation', 'status'] as const,
    registers: [this.registry],
  });
  private readonly latency = new Histogram({
    name: 'asc_http_request_duration_seconds',
    help: 'Time from the request arriving to its answer sent, by operation',
    labelNames: ['operation'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  private readonly delivered = new Counter({
    name: 'asc_mail_delivered_total',
    help: 'Emails delivered, by transport (sent: SMTP; logged: kept in the mail log, no SMTP server set)',
    labelNames: ['transport'] as const,
    registers: [this.registry],
  });
  private readonly deliveryFailures = new Counter({
    name: 'asc_mail_delivery_failures_total',
    help: 'Failed delivery attempts (each is retried later), by reason class',
    labelNames: ['reason'] as const,
    registers: [this.registry],
  });
  private readonly outboxPending = new Gauge({
    name: 'asc_mail_outbox_pending',
    help: 'Emails waiting for delivery (read from the database at scrape time)',
    registers: [this.registry],
  });
  private readonly outboxOldest = new Gauge({
    name: 'asc_mail_outbox_oldest_pending_seconds',
    help: 'Age of the oldest email waiting for delivery, 0 when none waits (read at scrape time)',
    registers: [this.registry],
  });
  private readonly sweeps = new Counter({
    name: 'asc_expiry_sweeps_total',
    help: 'Runs of the expired-invitation sweeper that completed',
    registers: [this.registry],
  });
  private readonly swept = new Counter({
    name: 'asc_invitations_expired_total',
    help: 'Invitations the sweeper found expired and turned into tombstones',
    registers: [this.registry],
  });
  private readonly databaseErrors = new Counter({
    name: 'asc_database_errors_total',
    help: 'Database errors: unavailable (disk full, unreachable...) or other (answered 500), by source (request or background)',
    labelNames: ['kind', 'source'] as const,
    registers: [this.registry],
  });

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly clock: Clock,
  ) {}

  /** The mail worker's observer of its attempts. */
  readonly deliveries: DeliveryObserver = {
    delivered: (kind) => this.delivered.inc({ transport: kind }),
    failed: (err) => this.deliveryFailures.inc({ reason: deliveryFailureReason(err) }),
  };

  /** One completed run of the expiry sweeper, which buried `swept` invitations. */
  sweepDone(swept: number): void {
    this.sweeps.inc();
    if (swept > 0) this.swept.inc(swept);
  }

  /** Counts the app's storage failures; must run before the routes are registered (hooks). */
  install(app: FastifyInstance, incidents: StorageIncidents, access: MetricsAccess): void {
    incidents.onFailure((request) => this.databaseErrors.inc({ kind: 'unavailable', source: request ? 'request' : 'background' }));
    app.addHook('onError', (_request, _reply, err, done) => {
      // a storage error is counted by the incidents; another of the database's own is a bug
      if (isDatabaseError(err) && !isStorageUnavailable(err)) this.databaseErrors.inc({ kind: 'other', source: 'request' });
      done();
    });
    app.addHook('onResponse', (request, reply, done) => {
      const operation = operationOf(request, this.operationNames);
      this.requests.inc({ operation, status: String(reply.statusCode) });
      this.latency.observe({ operation }, reply.elapsedTime / 1000);
      done();
    });
    if (access === 'off') return;
    // only where they can be read: each registry's set runs an event-loop monitor and a GC observer for good
    collectDefaultMetrics({ register: this.registry });
    app.get('/metrics', { config: { withoutDatabase: true } }, async (request, reply) => {
      if (access === 'local' && !isLocalClient(request)) return sendErrors(reply, [errors.pathError(splitTarget(request.raw.url).path)]);
      await this.readOutbox();
      return reply.type(this.registry.contentType).send(await this.registry.metrics());
    });
  }

  /** The outbox gauges, from the database; NaN when it cannot be read (the scrape still answers). */
  private async readOutbox(): Promise<void> {
    try {
      const { pending, oldestCreatedAt } = await this.outbox.pendingSummary();
      this.outboxPending.set(pending);
      const age = oldestCreatedAt ? (this.clock.now().getTime() - Date.parse(oldestCreatedAt)) / 1000 : 0;
      this.outboxOldest.set(Math.max(0, age));
    } catch {
      // unknown, not zero: Prometheus's NaN
      this.outboxPending.set(Number.NaN);
      this.outboxOldest.set(Number.NaN);
    }
  }
}
