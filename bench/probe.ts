/**
 * Single requests against a running server: checking a scenario answers what it should before it
 * is loaded, capturing a response for the ceiling, walking the list for a deep cursor, and timing
 * requests one at a time (latency without queueing, at microsecond resolution).
 */
import http from 'node:http';

export interface Captured {
  status: number;
  headers: Record<string, string>;
  body: Buffer;
}

export interface RequestSpec {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });

/** One request over a kept-alive connection; the whole response. */
export function request(base: string, spec: RequestSpec): Promise<Captured> {
  const url = new URL(spec.path, base);
  return new Promise((resolve, reject) => {
    const req = http.request(
      { agent, hostname: url.hostname, port: url.port, method: spec.method, path: `${url.pathname}${url.search}`, headers: spec.headers },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const headers: Record<string, string> = {};
          for (const [k, v] of Object.entries(res.headers)) if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(', ') : v;
          resolve({ status: res.statusCode ?? 0, headers, body: Buffer.concat(chunks) });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end(spec.body);
  });
}

/** The request, which must answer `expected`; its response. */
export async function expectStatus(base: string, spec: RequestSpec, expected: number): Promise<Captured> {
  const res = await request(base, spec);
  if (res.status !== expected) {
    throw new Error(`${spec.method} ${spec.path} answered ${res.status}, expected ${expected}: ${res.body.toString('utf8').slice(0, 500)}`);
  }
  return res;
}

interface ListDocument {
  data: unknown[];
  links: { next?: string };
  meta?: { paging?: { total?: number } };
}

export interface DeepCursor {
  cursor: string;
  /** rows before the cursor's position */
  skipped: number;
  total: number;
  requests: number;
  seconds: number;
}

/**
 * Walks GET /v1/userInvitations (only emails, to keep the walk light) following `links.next` until
 * exactly `fraction` of the list lies behind, and returns the server-signed cursor there. Pages have
 * 200 rows (the most the API allows) except the first, which learns the total, and the last step.
 */
export async function walkToDepth(base: string, headers: () => Promise<Record<string, string>>, fraction: number): Promise<DeepCursor> {
  const started = performance.now();
  let skipped = 0;
  let total = 0;
  let requests = 0;
  let cursor: string | undefined;
  let target = 1;
  while (skipped < target) {
    const limit = requests === 0 ? 1 : Math.min(200, target - skipped);
    const query = `limit=${limit}&fields%5BuserInvitations%5D=email${cursor === undefined ? '' : `&cursor=${encodeURIComponent(cursor)}`}`;
    const res = await expectStatus(base, { method: 'GET', path: `/v1/userInvitations?${query}`, headers: await headers() }, 200);
    requests++;
    const doc = JSON.parse(res.body.toString('utf8')) as ListDocument;
    skipped += doc.data.length;
    if (requests === 1) {
      total = doc.meta?.paging?.total ?? 0;
      target = Math.max(1, Math.ceil(fraction * total));
    }
    const next = doc.links.next;
    if (next === undefined) throw new Error(`the list ended after ${skipped} of ${total} rows, before ${fraction * 100}% deep`);
    const nextCursor = new URL(next).searchParams.get('cursor');
    if (nextCursor === null) throw new Error(`links.next carries no cursor: ${next}`);
    cursor = nextCursor;
  }
  return { cursor: cursor!, skipped, total, requests, seconds: (performance.now() - started) / 1000 };
}

export interface SequentialLatency {
  requests: number;
  p50Ms: number;
  p99Ms: number;
  meanMs: number;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/**
 * Requests one at a time on one connection, alternating between the specs (so that drift in a
 * noisy machine's speed affects each alike): `warmup` untimed rounds, then `count` timed ones.
 */
export async function interleavedLatency(
  base: string,
  specs: readonly RequestSpec[],
  expected: number,
  count: number,
  warmup: number,
): Promise<SequentialLatency[]> {
  const times: number[][] = specs.map(() => []);
  for (let round = 0; round < warmup + count; round++) {
    for (const [i, spec] of specs.entries()) {
      const t = performance.now();
      await expectStatus(base, spec, expected);
      if (round >= warmup) times[i]!.push(performance.now() - t);
    }
  }
  return times.map((list) => {
    const sorted = [...list].sort((a, b) => a - b);
    return {
      requests: sorted.length,
      p50Ms: percentile(sorted, 50),
      p99Ms: percentile(sorted, 99),
      meanMs: sorted.reduce((a, b) => a + b, 0) / sorted.length,
    };
  });
}

/**
 * Waits until the server has worked off what a load run left behind: a load generator that stops
 * abandons its in-flight requests, but the server still answers them, and a slow scenario would
 * otherwise eat into the next run. /healthz queries the database behind that backlog; once it
 * answers quickly twice in a row, the server is idle again.
 */
export async function settle(base: string, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let quick = 0;
  while (quick < 2) {
    if (Date.now() > deadline) {
      process.stderr.write(`  (${base} still answers /healthz slowly after ${timeoutMs / 1000} s; going on)\n`);
      return;
    }
    const t = performance.now();
    await expectStatus(base, { method: 'GET', path: '/healthz', headers: {} }, 200);
    quick = performance.now() - t < 25 ? quick + 1 : 0;
  }
}
