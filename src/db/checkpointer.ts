/**
 * WAL checkpoints off the request path. SQLite's own automatic checkpoint runs inside the commit
 * that crosses the threshold: that commit, on the only thread that serves requests, then copies
 * thousands of pages into the database file and waits for its fsync. Under a stream of writes
 * that is most of the time a create takes. Here a worker thread with its own connection runs a
 * PASSIVE checkpoint (it never blocks readers or writers) every interval instead, and the server's
 * connection checkpoints itself only if the WAL grows far past that (the worker died or cannot keep
 * up).
 *
 * Durability does not depend on this: with synchronous=FULL a commit is on disk in the WAL before
 * it is acknowledged; a checkpoint only moves it into the main file.
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';

/** The WAL size, in pages, at which the server's own connection checkpoints (SQLite's default is 1,000). */
export const FALLBACK_AUTOCHECKPOINT_PAGES = 20_000;

const DEFAULT_INTERVAL_MS = 100;

/** Plain JavaScript run in the worker (eval: the worker needs no build step of its own). */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const Database = require(workerData.driver);
const db = new Database(workerData.file);
db.pragma('busy_timeout = 5000');
let failures = 0;
const timer = setInterval(() => {
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
    failures = 0;
  } catch (err) {
    // SQLITE_BUSY and the like: the next round tries again; report only a lasting problem
    if (++failures === 10) parentPort.postMessage({ error: String(err && err.message || err) });
  }
}, workerData.intervalMs);
parentPort.on('message', (message) => {
  if (message !== 'stop') return;
  clearInterval(timer);
  db.close();
  parentPort.close();
});
`;

export class Checkpointer {
  private readonly worker: Worker;
  private readonly exited: Promise<void>;

  constructor(file: string, onError: (message: string) => void = () => {}, intervalMs = DEFAULT_INTERVAL_MS) {
    const driver = createRequire(import.meta.url).resolve('better-sqlite3');
    this.worker = new Worker(WORKER_SOURCE, { eval: true, workerData: { file, driver, intervalMs } });
    this.worker.on('message', (m: { error?: string }) => {
      if (m.error) onError(m.error);
    });
    this.worker.on('error', (err) => onError(err.message));
    this.exited = new Promise((resolve) => this.worker.once('exit', () => resolve()));
    // a process that only runs a CLI command must not be kept alive by it
    this.worker.unref();
  }

  /** Stops the worker after the checkpoint it may be running; its connection is closed. */
  async stop(): Promise<void> {
    // referenced again while it winds down, or a process with nothing else to do would exit first
    this.worker.ref();
    this.worker.postMessage('stop');
    await this.exited;
  }
}
