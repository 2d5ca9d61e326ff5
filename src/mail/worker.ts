/**
 * The delivery worker inside the server: claims due messages from the outbox, hands them to the
 * transport, marks them delivered, and retries with exponential backoff while delivery fails.
 * Nothing is lost across restarts: a message stays pending until a delivery succeeded.
 *
 * Passes never overlap within one worker (wake, poll and drain() are queued one after another),
 * and a claim in the database keeps other workers off a message while it is being sent. A message
 * is sent twice only if the process dies after the mail server accepted it and before it was
 * marked sent (docs/parity.md); every outbox row has its own Message-ID, so a receiver can tell.
 */
import { randomUUID } from 'node:crypto';
import type { FastifyBaseLogger } from 'fastify';
import type { Clock } from '../clock.js';
import type { StorageIncidents } from '../db/storage-errors.js';
import type { ClaimOwner, OutboxRepository, OutboxRow } from './outbox-repository.js';
import type { MailTransport } from './transport.js';

export interface MailWorkerOptions {
  /**
   * How long a claim lasts; a crashed worker's messages are taken over after it. Longer than a
   * delivery can take (the SMTP transport gives up within about two minutes).
   */
  claimMs?: number;
  /** first retry delay, doubled per attempt up to maxBackoffMs */
  backoffMs?: number;
  maxBackoffMs?: number;
  /** how often to look for due messages when nothing wakes the worker */
  pollMs?: number;
  batch?: number;
  /**
   * The instance this worker runs in (Config.instanceId), stable across restarts: its claims name
   * it, and start() releases the claims of its earlier boots (OutboxRepository.releaseEarlierBoots).
   */
  instanceId?: string;
  /** where a pass that fails on storage (disk full, database unreachable) is reported instead of the log */
  incidents?: StorageIncidents;
  /** told of every attempt's outcome (GET /metrics counts them) */
  observer?: DeliveryObserver;
}

/** What happens to each delivery attempt. */
export interface DeliveryObserver {
  delivered(kind: 'sent' | 'logged'): void;
  failed(err: unknown): void;
}

type State = 'idle' | 'started' | 'stopping' | 'stopped';

export class MailWorker {
  private readonly claimMs: number;
  private readonly backoffMs: number;
  private readonly maxBackoffMs: number;
  private readonly pollMs: number;
  private readonly batch: number;
  /** this worker's claims: its instance, and a boot id of its own */
  readonly owner: ClaimOwner;
  private readonly incidents: StorageIncidents | undefined;
  private readonly observer: DeliveryObserver | undefined;
  private state: State = 'idle';
  private timer: NodeJS.Timeout | undefined;
  /** the tail of the queue of passes; every pass starts after the one before has ended */
  private tail: Promise<unknown> = Promise.resolve();
  /** a pass asked for by wake() that has not started yet: more wakes need no further pass */
  private wakeQueued = false;

  constructor(
    private readonly outbox: OutboxRepository,
    private readonly transport: MailTransport,
    private readonly clock: Clock,
    private readonly log: Pick<FastifyBaseLogger, 'warn' | 'error' | 'info'>,
    options: MailWorkerOptions = {},
  ) {
    this.claimMs = options.claimMs ?? 10 * 60_000;
    // at least 1 ms: a failed message is never due again within the same pass
    this.backoffMs = Math.max(1, options.backoffMs ?? 1_000);
    this.maxBackoffMs = options.maxBackoffMs ?? 5 * 60_000;
    this.pollMs = options.pollMs ?? 1_000;
    this.batch = options.batch ?? 20;
    this.owner = { instance: options.instanceId ?? 'local', boot: randomUUID() };
    this.incidents = options.incidents;
    this.observer = options.observer;
  }

  /**
   * Starts delivering in the background: first the claims that earlier boots of this instance left
   * behind (a kill -9 during delivery) are released, then a pass now, then one per poll interval or
   * wake().
   */
  start(): void {
    if (this.state !== 'idle') return;
    this.state = 'started';
    void this.enqueue(async () => {
      const released = await this.outbox.releaseEarlierBoots(this.owner);
      this.log.info(
        { instance: this.owner.instance, boot: this.owner.boot, released },
        'mail worker started; %d messages claimed by an earlier run of this instance go out now',
        released,
      );
    }).catch((err: unknown) => this.log.error({ err }, 'could not release the mail claimed by an earlier run'));
    this.wake();
  }

  /** Runs a pass soon (after a commit that queued mail). Does nothing unless started. */
  wake(): void {
    if (this.state !== 'started' || this.wakeQueued) return;
    this.wakeQueued = true;
    this.clearTimer();
    void this.enqueue(() => {
      this.wakeQueued = false;
      return this.pass();
    })
      .catch((err: unknown) => {
        if (this.incidents) this.incidents.backgroundFailed(err, this.log, 'mail worker pass failed');
        else this.log.error({ err }, 'mail worker pass failed');
      })
      .finally(() => {
        // a wake that came during the pass has queued the next one, which schedules the poll
        if (!this.wakeQueued) this.schedulePoll();
      });
  }

  /**
   * Delivers everything that is due now, after any pass under way; resolves with how many
   * messages were delivered. Works before start() too; after stop() it does nothing.
   */
  drain(): Promise<number> {
    return this.enqueue(() => this.pass());
  }

  /**
   * Stops: no new pass starts, the delivery in flight (if any) finishes and is recorded, the
   * other messages this worker claimed are handed back at once, and the transport is closed.
   */
  async stop(): Promise<void> {
    if (this.state === 'stopping' || this.state === 'stopped') {
      await this.tail;
      return;
    }
    this.state = 'stopping';
    this.clearTimer();
    await this.tail;
    this.state = 'stopped';
    this.transport.close();
  }

  private enqueue<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.tail.then(fn);
    this.tail = run.catch(() => undefined);
    return run;
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
  }

  private schedulePoll(): void {
    if (this.state !== 'started') return;
    this.clearTimer();
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.wake();
    }, this.pollMs);
    this.timer.unref();
  }

  private get closing(): boolean {
    return this.state === 'stopping' || this.state === 'stopped';
  }

  private async pass(): Promise<number> {
    let delivered = 0;
    while (!this.closing) {
      const now = this.clock.now();
      // the claim also drops the due mail of invitations that are no longer pending
      const { claimed, dropped } = await this.outbox.claimDue(
        now.toISOString(),
        new Date(now.getTime() + this.claimMs).toISOString(),
        this.batch,
        this.owner,
      );
      if (dropped > 0) this.log.info({ dropped }, 'mail for invitations that are no longer pending was dropped');
      if (claimed.length === 0) {
        // a batch that was all dropped may have more due messages behind it
        if (dropped > 0) continue;
        break;
      }
      let done = 0;
      // messages kept in the mail log are delivered when logged, and marked together after the batch
      const logged: OutboxRow[] = [];
      try {
        for (const m of claimed) {
          if (this.closing) break;
          if (await this.deliver(m, logged)) delivered++;
          done++;
        }
        // a process that dies before this mark logs them again after a restart, as SMTP would send
        // a message again that it died before marking
        if (logged.length > 0) await this.outbox.markLogged(logged, this.clock.now().toISOString());
      } catch (err) {
        // a database error while recording an attempt: that message keeps its claim (it may have
        // gone out), so it is retried only after the claim ran out
        done++;
        throw err;
      } finally {
        // stopping, or the error above: hand back what this pass claimed and did not get to,
        // instead of leaving it to wait for the claims to run out
        const rest = claimed.slice(done).map((m) => m.id);
        if (rest.length > 0) {
          await this.outbox.release(rest).catch((err: unknown) => this.log.error({ err }, 'could not release claimed mail'));
        }
      }
    }
    return delivered;
  }

  /**
   * One attempt at one claimed message; true when it was delivered. A message sent is marked at
   * once; one kept in the mail log is added to `logged`, for the pass to mark with the others.
   */
  private async deliver(m: OutboxRow, logged: OutboxRow[]): Promise<boolean> {
    const attempts = m.attempts + 1;
    try {
      await this.transport.deliver(m);
    } catch (err) {
      this.observer?.failed(err);
      const next = new Date(this.clock.now().getTime() + this.backoff(attempts)).toISOString();
      await this.outbox.markFailed(m.id, attempts, next, err instanceof Error ? err.message : String(err));
      this.log.warn({ mailId: m.id, attempts, retryAt: next, err }, 'mail delivery failed; will retry');
      return false;
    }
    this.observer?.delivered(this.transport.kind);
    if (this.transport.kind === 'logged') logged.push(m);
    else await this.outbox.markDelivered(m, this.transport.kind, this.clock.now().toISOString(), attempts);
    return true;
  }

  /** The wait after the n-th failed attempt: backoffMs, doubled each time, at most maxBackoffMs. */
  backoff(attempts: number): number {
    return Math.min(this.maxBackoffMs, this.backoffMs * 2 ** Math.min(Math.max(attempts - 1, 0), 30));
  }
}
