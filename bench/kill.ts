/**
 * The kill -9 phase: creates from many kept-alive connections at once, the server killed with
 * SIGKILL while they are in flight, then every create that was answered 201 looked up in the
 * database from the side. What it shows: an acknowledged invitation survives the death of the
 * process that acknowledged it (its commit, with its mail row, was done before the 201 was sent).
 * A kill does not lose what the operating system already holds, so it is not a power cut: that the
 * commit is also on the disk is SQLite's `synchronous = FULL` and PostgreSQL's `synchronous_commit`
 * and `fsync`, which the report's header gives.
 */
import http from 'node:http';
import { postBody, postEmail, requestHeaders, type PostBodies } from './scenarios.js';

/** A create answered 201: the email sent, and the id of the invitation when the whole body arrived. */
export interface Acknowledged {
  email: string;
  id?: string;
}

export interface KillLoad {
  /** seconds of load before the kill */
  seconds: number;
  /** requests sent (before the kill; none after it) */
  sent: number;
  acknowledged: Acknowledged[];
  /** of those, answered after the SIGKILL was sent (already on their way: written before the process died) */
  acknowledgedAfterKill: number;
  /** responses with a status other than 201, by status */
  otherStatus: Record<string, number>;
  /** socket errors and timeouts before the kill (after it, every request still open fails) */
  errorsBeforeKill: number;
  /** requests sent and not yet answered when the SIGKILL was sent */
  inFlightAtKill: number;
  /** of those, how many never got an answer */
  unanswered: number;
}

/** What one request came to: a status (with the body, if it all arrived), or a socket error. */
interface Outcome {
  status?: number;
  body?: string;
  /** when the status arrived (or the error), relative to the kill */
  afterKill: boolean;
}

/** The invitation id in a 201's body, if it is the JSON:API document the server sends. */
export function invitationId(body: string | undefined): string | undefined {
  if (body === undefined) return undefined;
  try {
    const doc = JSON.parse(body) as { data?: { type?: unknown; id?: unknown } };
    return doc.data?.type === 'userInvitations' && typeof doc.data.id === 'string' ? doc.data.id : undefined;
  } catch {
    return undefined;
  }
}

/**
 * POSTs `post`'s bodies (a unique email each) from `connections` kept-alive connections, each
 * sending its next request when the last is answered, the connections given to `urls` in turn.
 * After `killAfterS` it counts the requests in flight, calls `kill` (which must send SIGKILL before
 * it returns a promise), sends nothing more and waits until every open request is answered or has
 * failed.
 */
export async function createsUntilKilled(options: {
  urls: readonly string[];
  path: string;
  post: PostBodies;
  token: string;
  connections: number;
  killAfterS: number;
  kill: () => Promise<unknown>;
  /** how long one request may take before it counts as failed */
  timeoutMs?: number;
}): Promise<KillLoad> {
  const headers = requestHeaders(options.token, 'POST');
  const timeoutMs = options.timeoutMs ?? 30_000;
  const result: KillLoad = {
    seconds: 0,
    sent: 0,
    acknowledged: [],
    acknowledgedAfterKill: 0,
    otherStatus: {},
    errorsBeforeKill: 0,
    inFlightAtKill: 0,
    unanswered: 0,
  };
  let killed = false;
  let inFlight = 0;
  let next = 0;

  const send = (agent: http.Agent, base: string, n: number): Promise<Outcome> => {
    const url = new URL(options.path, base);
    const body = postBody(options.post, 'kill', n);
    return new Promise((resolve) => {
      let status: number | undefined;
      let statusAfterKill = false;
      const settle = (outcome: Omit<Outcome, 'afterKill'>) =>
        resolve({ ...outcome, afterKill: status === undefined ? killed : statusAfterKill });
      const req = http.request(
        {
          agent,
          hostname: url.hostname,
          port: url.port,
          method: 'POST',
          path: url.pathname,
          headers: { ...headers, 'content-length': String(Buffer.byteLength(body)) },
        },
        (res) => {
          status = res.statusCode ?? 0;
          statusAfterKill = killed;
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          // a body cut short by the kill still came with its status: the 201 was seen
          res.on('close', () => settle({ status, ...(res.complete ? { body: Buffer.concat(chunks).toString('utf8') } : {}) }));
          res.on('error', () => undefined);
        },
      );
      req.setTimeout(timeoutMs, () => req.destroy(new Error('timeout')));
      req.on('error', () => {
        if (status === undefined) settle({});
      });
      req.end(body);
    });
  };

  const connection = async (base: string): Promise<void> => {
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      while (!killed) {
        const n = next++;
        result.sent++;
        inFlight++;
        const outcome = await send(agent, base, n);
        inFlight--;
        if (outcome.status === 201) {
          const id = invitationId(outcome.body);
          result.acknowledged.push({ email: postEmail(options.post, 'kill', n), ...(id === undefined ? {} : { id }) });
          if (outcome.afterKill) result.acknowledgedAfterKill++;
        } else if (outcome.status !== undefined) {
          result.otherStatus[outcome.status] = (result.otherStatus[outcome.status] ?? 0) + 1;
        } else if (!outcome.afterKill) {
          result.errorsBeforeKill++;
        }
        if (outcome.afterKill && outcome.status === undefined) result.unanswered++;
      }
    } finally {
      agent.destroy();
    }
  };

  const started = performance.now();
  const connections = Array.from({ length: options.connections }, (_, i) => connection(options.urls[i % options.urls.length]!));
  let killing: Promise<unknown> = Promise.resolve();
  await new Promise<void>((resolve) =>
    setTimeout(() => {
      // counted, signalled and stopped in one turn of the event loop: no response is seen in between
      result.inFlightAtKill = inFlight;
      result.seconds = (performance.now() - started) / 1000;
      killing = options.kill();
      killed = true;
      resolve();
    }, options.killAfterS * 1000),
  );
  await Promise.all([killing, ...connections]);
  return result;
}

/** What the database holds for one acknowledged email (email_key, as the server stores it). */
export interface FoundRow {
  emailKey: string;
  id: string;
  /** mail rows of the invitation */
  mail: number;
}

export interface KillCheck {
  acknowledged: number;
  /** acknowledged invitations in the database (same email and, where the body gave it, same id) */
  found: number;
  /** of those, with their mail row */
  withMail: number;
  /** acknowledged, and not in the database with its mail */
  lost: number;
  /** a few of the lost emails, for the log */
  lostSample: string[];
}

/** Each acknowledged create against the rows the database holds for those emails. */
export function checkAcknowledged(acknowledged: readonly Acknowledged[], rows: readonly FoundRow[], sample = 5): KillCheck {
  const byKey = new Map(rows.map((r) => [r.emailKey, r]));
  let found = 0;
  let withMail = 0;
  const lost: string[] = [];
  for (const a of acknowledged) {
    const row = byKey.get(a.email.toLowerCase());
    const present = row !== undefined && (a.id === undefined || row.id === a.id);
    if (present) found++;
    if (present && row.mail > 0) withMail++;
    else lost.push(a.email);
  }
  return { acknowledged: acknowledged.length, found, withMail, lost: lost.length, lostSample: lost.slice(0, sample) };
}

/** The phase as the report gives it (bench/report.ts). */
export interface KillReport {
  /** servers killed at once (--instances) */
  instances: number;
  connections: number;
  /** seconds of load before the kill */
  seconds: number;
  sent: number;
  /** creates answered 201 */
  acknowledged: number;
  /** of those, answered after the SIGKILL was sent */
  acknowledgedAfterKill: number;
  found: number;
  withMail: number;
  lost: number;
  inFlightAtKill: number;
  /** requests in flight at the kill that never got an answer */
  unanswered: number;
  otherStatus: Record<string, number>;
  errorsBeforeKill: number;
  /** the server (each of them) started again on the killed database and answered /healthz */
  restarted: boolean;
  /** the restarted servers' mail worker on the killed creates' mail: messages waiting, seconds until none was, still waiting at the limit */
  mailAfterRestart?: { pending: number; seconds: number; left: number };
  /** nothing acknowledged lost, something acknowledged, and the server started again */
  ok: boolean;
}

export function killReport(input: {
  instances: number;
  connections: number;
  load: KillLoad;
  check: KillCheck;
  restarted: boolean;
  mailAfterRestart?: KillReport['mailAfterRestart'];
}): KillReport {
  const { load, check } = input;
  return {
    instances: input.instances,
    connections: input.connections,
    seconds: load.seconds,
    sent: load.sent,
    acknowledged: check.acknowledged,
    acknowledgedAfterKill: load.acknowledgedAfterKill,
    found: check.found,
    withMail: check.withMail,
    lost: check.lost,
    inFlightAtKill: load.inFlightAtKill,
    unanswered: load.unanswered,
    otherStatus: load.otherStatus,
    errorsBeforeKill: load.errorsBeforeKill,
    restarted: input.restarted,
    ...(input.mailAfterRestart ? { mailAfterRestart: input.mailAfterRestart } : {}),
    ok: check.lost === 0 && check.acknowledged > 0 && input.restarted,
  };
}
