/**
 * The delivery worker inside the server: claims due messages from the outbox, hands them to the
 * transport, marks them delivered, and retries with exponential backoff while delivery fails.
 * Nothing is lost across restarts: a message stays pending until a delivery succeeded.
 */
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { OutboxRepository } from './outbox-repository.js';
import type { MailTransport } from './transport.js';

export interface MailWorkerOptions {
  /** how long a claim lasts; a crashed worker's messages are taken over after it */
  claimMs?: number;
  /** first retry delay, doubled per attempt up to maxBackoffMs */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** how often to look for due messages when nothing wakes the worker */
  pollMs?: number;
  batch?: number;
}

export class MailWorker {
  private readonly claimMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly pollMs: number;
  private readonly batch: number;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private stopped = true;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly transport: MailTransport,
    private readonly clock: Clock,
    private readonly log: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>,
    options: MailWorkerOptions = {},
  ) {
    this.claimMs = options.claimMs ?? 60_000;
    this.backoffMs = options.backoffMs ?? 1_000;
    this.maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.batch = options.batch ?? 20;
  }

  start(): void {
    this.stopped = false;
    this.wake();
  }

  /** Run a pass now (after a commit that queued mail). */
  wake(): void {
    if (this.stopped) return;
    if (this.running) {
      this.again = true;
      return;
    }
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.running = this.drain()
      .then(() => undefined)
      .catch((err: unknown) => this.log.error({ err }, 'mail worker pass failed'))
      .finally(() => {
        this.running = undefined;
        if (this.stopped) return;
        if (this.again) {
          this.again = false;
          this.wake();
        } else {
          this.timer = setTimeout(() => this.wake(), this.pollMs);
          this.timer.unref();
        }
      });
  }

  /** Delivers everything that is due now; resolves when the pass is over. */
  async drain(): Promise<number> {
    let delivered = 0;
    for (;;) {
      const now = this.clock.now();
      const claimed = await this.outbox.claimDue(now.toISOString(), new Date(now.getTime() + this.claimMs).toISOString(), this.batch);
      if (claimed.length === 0) return delivered;
      for (const [i, m] of claimed.entries()) {
        if (this.stopped) {
          // shutting down: hand the rest back at once instead of letting their claims run out
          await this.outbox.release(claimed.slice(i).map((c) => c.id));
          return delivered;
        }
        const attempts = m.attempts + 1;
        try {
          await this.transport.deliver(m);
          await this.outbox.markDelivered(m.id, this.transport.kind, this.clock.now().toISOString(), attempts);
          delivered++;
        } catch (err) {
          const delay = Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(attempts - 1, 20));
          const next = new Date(this.clock.now().getTime() + delay).toISOString();
          await this.outbox.markFailed(m.id, attempts, next, err instanceof Error ? err.message : String(err));
          this.log.warn({ mailId: m.id, attempts, retryAt: next, err }, 'mail delivery failed; will retry');
        }
      }
    }
  }

  /** Stops polling and waits for the pass under way (an in-flight delivery finishes). */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
    this.transport.close();
  }
}
