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

async function once(url: string, scenario: Scenario, options: LoadOptions, counter: { n: number }): Promise<LoadResult> {
  const result = await autocannon({
    url,
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
  url: string,
  scenario: Scenario,
  options: LoadOptions & { warmupS: number },
  counter = { n: 0 },
): Promise<AutocannonRun> {
  const warmup = await once(url, scenario, { ...options, durationS: options.warmupS }, counter);
  await settle(url);
  const measured = await once(url, scenario, options, counter);
  await settle(url);
  return { warmup, measured };
}
