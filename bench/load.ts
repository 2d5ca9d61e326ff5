/**
 * Loading a server with autocannon (from its npm package, in this process): a warm-up whose
 * numbers are dropped, then the measured run. Only responses with the scenario's status count as
 * requests served; every other status, error and timeout is reported next to them.
 */
import autocannon from 'autocannon';
import { settle } from './probe.js';
import { postBody, requestHeaders, type Scenario } from './scenarios.js';

export type Tool = 'autocannon' | 'wrk';

export interface LoadResult {
  tool: Tool;
  durationS: number;
  /** responses of any status */
  responses: number;
  /** responses with the expected status */
  ok: number;
  /** ok / duration */
  requestsPerSecond: number;
  /** latency of successful responses (NaN, null in JSON, without any); autocannon's resolution is 1 ms, wrk's 1 µs */
  p50Ms: number;
  p99Ms: number;
  /** responses with another status (for a POST, any but 201) */
  unexpected: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  /** wrk: how long each connection's first request was held (wrk.ts, HOLD_MS) */
  holdMs?: number;
  statusCounts: Record<string, number>;
}

export interface LoadOptions {
  connections: number;
  durationS: number;
  token: string;
}

/** Requests of a scenario for autocannon: paths in turn, POST bodies with a unique email each. */
function requests(scenario: Scenario, counter: { n: number }): autocannon.Request[] {
  const paths = scenario.paths;
  const post = scenario.post;
  return [
    {
      method: scenario.method,
      path: paths[0]!,
      setupRequest: (req) => {
        const n = counter.n++;
        const next = { ...req, path: paths[n % paths.length]! };
        if (post) next.body = postBody(post, 'ac', n);
        return next;
      },
    },
  ];
}

/**
 * Several URLs (instances of the server) share the connections: autocannon gives them to the URLs
 * in turn, so each instance gets connections / URLs of them (options.ts keeps that whole).
 */
async function once(
  url: string | readonly string[],
  scenario: Scenario,
  options: LoadOptions,
  counter: { n: number },
): Promise<LoadResult> {
  const result = await autocannon({
    // autocannon takes a list of URLs (its README, `url`); its type declarations know only one
    url: (typeof url === 'string' ? url : [...url]) as string,
    connections: options.connections,
    duration: options.durationS,
    headers: requestHeaders(options.token, scenario.method, scenario.fresh),
    requests: requests(scenario, counter),
    excludeErrorStats: true,
    timeout: 30,
  });
  const statusCounts: Record<string, number> = {};
  for (const [status, stat] of Object.entries(result.statusCodeStats ?? {})) statusCounts[status] = stat.count ?? 0;
  const responses = Object.values(statusCounts).reduce((a, b) => a + b, 0);
  const ok = statusCounts[String(scenario.expect)] ?? 0;
  return {
    tool: 'autocannon',
    durationS: result.duration,
    responses,
    ok,
    requestsPerSecond: ok / result.duration,
    // no successful response, no latency (rather than autocannon's zeros)
    p50Ms: ok > 0 ? result.latency.p50 : NaN,
    p99Ms: ok > 0 ? result.latency.p99 : NaN,
    unexpected: responses - ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    statusCounts,
  };
}

export interface AutocannonRun {
  warmup: LoadResult;
  measured: LoadResult;
}

/**
 * A warm-up of `warmupS` seconds, then the measured run, each followed by waiting for the server to
 * finish the requests autocannon abandoned. `counter` numbers POST emails across both.
 */
export async function autocannonScenario(
  url: string | readonly string[],
  scenario: Scenario,
  options: LoadOptions & { warmupS: number },
  counter = { n: 0 },
): Promise<AutocannonRun> {
  const settleAll = async () => {
    for (const u of typeof url === 'string' ? [url] : url) await settle(u);
  };
  const warmup = await once(url, scenario, { ...options, durationS: options.warmupS }, counter);
  await settleAll();
  const measured = await once(url, scenario, options, counter);
  await settleAll();
  return { warmup, measured };
}

/**
 * Runs made side by side (one wrk per instance) as one: requests and statuses summed, req/s the
 * sum of each run's, the duration the longest. Latency percentiles cannot be merged from
 * percentiles: p50 and p99 are the highest of the runs' (an upper bound of the whole's).
 */
export function combineRuns(runs: readonly LoadResult[]): LoadResult {
  if (runs.length === 0) throw new Error('no runs to combine');
  const sum = (pick: (r: LoadResult) => number) => runs.reduce((a, r) => a + pick(r), 0);
  const statusCounts: Record<string, number> = {};
  for (const r of runs) for (const [status, n] of Object.entries(r.statusCounts)) statusCounts[status] = (statusCounts[status] ?? 0) + n;
  const first = runs[0]!;
  return {
    tool: first.tool,
    durationS: Math.max(...runs.map((r) => r.durationS)),
    responses: sum((r) => r.responses),
    ok: sum((r) => r.ok),
    requestsPerSecond: sum((r) => r.requestsPerSecond),
    p50Ms: Math.max(...runs.map((r) => r.p50Ms)),
    p99Ms: Math.max(...runs.map((r) => r.p99Ms)),
    unexpected: sum((r) => r.unexpected),
    non2xx: sum((r) => r.non2xx),
    errors: sum((r) => r.errors),
    timeouts: sum((r) => r.timeouts),
    ...(first.holdMs === undefined ? {} : { holdMs: first.holdMs }),
    statusCounts,
  };
}
