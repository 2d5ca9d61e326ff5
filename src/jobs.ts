/**
 * The server's background work, started when the app is ready and stopped before it closes: the
 * mail worker (delivers the outbox) and the expiry sweeper (turns expired invitations into
 * tombstones, and prunes the shared quota's old windows on PostgreSQL).
 */
import type { FastifyInstance } from 'fastify';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import type { Services } from './container.js';
import type { StorageIncidents } from './db/storage-errors.js';
import { LogTransport, SmtpTransport, type MailTransport } from './mail/transport.js';
import { MailWorker, type MailWorkerOptions } from './mail/worker.js';

export interface JobOptions {
  config: Pick<Config, 'smtpUrl' | 'mailFrom' | 'instanceId'>;
  services: Services;
  clock: Clock;
  /** run with each sweep (the shared rate limiter's pruning), if any */
  alsoOnSweep?: () => Promise<unknown>;
  mailWorker?: MailWorkerOptions;
  /** how often expired invitations are turned into tombstones (default one minute) */
  sweepIntervalMs?: number;
  /** told of each sweep's count of invitations turned into tombstones (GET /metrics) */
  onSwept?: (swept: number) => void;
  /** the app's storage incidents: background work failing on storage is reported there, not logged each time */
  incidents: StorageIncidents;
  /** wraps the transport the config names (the emulator's mail capture, src/emulator/) */
  mailTransport?: (configured: MailTransport) => MailTransport;
}

/** Adds the jobs to `app`'s life cycle; returns the mail worker (tests drain it). */
export function backgroundJobs(app: FastifyInstance, options: JobOptions): MailWorker {
  const { config, services, clock } = options;
  const configured = config.smtpUrl ? new SmtpTransport(config.smtpUrl, config.mailFrom) : new LogTransport(app.log);
  const transport = options.mailTransport ? options.mailTransport(configured) : configured;
  const worker = new MailWorker(services.outbox, transport, clock, app.log, {
    instanceId: config.instanceId,
    incidents: options.incidents,
    ...options.mailWorker,
  });
  const sweepIntervalMs = options.sweepIntervalMs ?? 60_000;
  let sweeper: NodeJS.Timeout | undefined;
  const sweep = () =>
    void Promise.all([services.invitations.sweepExpired().then((n) => options.onSwept?.(n)), options.alsoOnSweep?.()]).catch(
      (err: unknown) => {
        options.incidents.backgroundFailed(err, app.log, 'expiry sweep failed');
      },
    );
  app.addHook('onReady', async () => {
    app.log.info({ mail: transport.description }, 'invitation emails go to %s', transport.description);
    worker.start();
    sweeper = setInterval(sweep, sweepIntervalMs);
    sweeper.unref();
  });
  app.addHook('preClose', async () => {
    clearInterval(sweeper);
    await worker.stop();
  });
  return worker;
}
