/**
 * The same scenarios under wrk, when it is installed (a C load generator: it leaves more of the two
 * cores to the server than autocannon does). Every run has a generated Lua script: it holds each
 * connection's first request until all connections are open (see HOLD_MS); several targets or POST
 * bodies with unique emails also make it count the expected statuses.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { LoadOptions, LoadResult } from './load.js';
import { settle } from './probe.js';
import { requestHeaders, type Scenario } from './scenarios.js';
import { run } from './server.js';

/** wrk's version (e.g. `wrk 4.1.0`), or undefined when `wrk` is not on the PATH. */
export function wrkVersion(): string | undefined {
  try {
    execFileSync('sh', ['-c', 'command -v wrk'], { stdio: 'pipe' });
  } catch {
    return undefined;
  }
  let out: string;
  try {
    out = execFileSync('wrk', ['--version'], { stdio: 'pipe' }).toString();
  } catch (err) {
    // wrk prints its version with the usage text and exits non-zero
    out = (err as { stdout?: Buffer }).stdout?.toString() ?? '';
  }
  const version = /^wrk\s+(?:\w+\/)?(\S+)/.exec(out)?.[1];
  return version ? `wrk ${version}` : 'wrk';
}

/**
 * How long each connection's first request waits, so that the run measures 50 open connections.
 * wrk opens its connections when the run starts; Node (libuv 1.45 and later) accepts one
 * connection per turn of its event loop, and once the first connections are served a turn takes
 * as long as their requests do, so without the hold the last of 50 connections waits for its first
 * response 50 turns: 0.3 s on the list page, 0.6 s with includes, while the server is not slower
 * at all. wrk then corrects for coordinated omission by adding, for each such wait, one sample per
 * request the connection could have sent meanwhile: 50 first requests become thousands of samples,
 * and p99 measures the ramp-up. With the hold, the server accepts all connections while idle (a
 * few ms), then every connection sends at once. The hold is taken off the run's duration.
 * `holdMs: 0` runs as before; the bench makes one such run of the include page (wrkCold in run.ts).
 */
export const HOLD_MS = 100;

/** A Lua long string, which needs no escaping. */
function lua(s: string): string {
  if (s.includes(']==]')) throw new Error('cannot quote for Lua');
  return `[==[${s}]==]`;
}

/**
 * The script: requests in turn (per thread, from a thread-specific start), POST bodies with
 * `<stem>wrk<thread>.<n>@<domain>` emails, and a count of expected statuses printed at the end.
 */
function luaScript(scenario: Scenario, holdMs: number, perThread: number): string {
  const hold = [
    // delay() runs before every request of the thread; its first `perThread` calls are the first
    // requests of the thread's connections
    'local started = 0',
    'function delay()',
    '  started = started + 1',
    `  if started <= ${perThread} then return ${holdMs} end`,
    '  return 0',
    'end',
  ];
  if (!countsStatuses(scenario)) return `${holdMs > 0 ? hold.join('\n') : ''}\n`;
  const post = scenario.post;
  const lines = [
    ...(holdMs > 0 ? hold : []),
    `local paths = { ${scenario.paths.map(lua).join(', ')} }`,
    `local method = ${lua(scenario.method)}`,
    `local expected = ${scenario.expect}`,
    post ? `local prefixes = { ${post.prefixes.map(lua).join(', ')} }` : 'local prefixes = nil',
    post ? `local suffixes = { ${post.suffixes.map(lua).join(', ')} }` : 'local suffixes = nil',
    post ? `local stem = ${lua(post.emailStem)}` : 'local stem = nil',
    post ? `local domain = ${lua(post.emailDomain)}` : 'local domain = nil',
    'local threads = {}',
    'function setup(thread)',
    '  thread:set("tid", #threads + 1)',
    '  table.insert(threads, thread)',
    'end',
    'local n = 0',
    'ok = 0',
    'function init(args)',
    '  n = tid * 7919',
    'end',
    'function request()',
    '  n = n + 1',
    '  local p = paths[(n % #paths) + 1]',
    '  if prefixes then',
    '    local i = (n % #prefixes) + 1',
    '    local email = stem .. "wrk" .. tid .. "." .. n .. "@" .. domain',
    '    return wrk.format(method, p, nil, prefixes[i] .. email .. suffixes[i])',
    '  end',
    '  return wrk.format(method, p)',
    'end',
    'function response(status, headers, body)',
    '  if status == expected then ok = ok + 1 end',
    'end',
    'function done(summary, latency, requests)',
    '  local total = 0',
    '  for _, t in ipairs(threads) do total = total + t:get("ok") end',
    '  io.write(string.format("BENCH_OK %d\\n", total))',
    'end',
  ];
  return `${lines.join('\n')}\n`;
}

/** A fixed GET needs no request() or response() in Lua (they cost wrk time on every request). */
function countsStatuses(scenario: Scenario): boolean {
  return scenario.paths.length > 1 || scenario.method !== 'GET';
}

function ms(value: string, unit: string): number {
  const v = Number(value);
  switch (unit) {
    case 'us':
      return v / 1000;
    case 'ms':
      return v;
    case 's':
      return v * 1000;
    case 'm':
      return v * 60_000;
    default:
      return NaN;
  }
}

/** Reads wrk's report (with --latency). */
export function parseWrk(out: string, expectedStatusScript: boolean): Omit<LoadResult, 'tool'> {
  const num = (re: RegExp) => Number(re.exec(out)?.[1] ?? NaN);
  const latency = (pct: string) => {
    const m = new RegExp(`^\\s*${pct}%\\s+([\\d.]+)(us|ms|s|m)\\s*$`, 'm').exec(out);
    return m ? ms(m[1]!, m[2]!) : NaN;
  };
  const done = /(\d+) requests in ([\d.]+)(us|ms|s|m)/.exec(out);
  const responses = done ? Number(done[1]) : NaN;
  const durationS = done ? ms(done[2]!, done[3]!) / 1000 : NaN;
  const socket = /Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/.exec(out);
  const non2xx = num(/Non-2xx or 3xx responses: (\d+)/) || 0;
  const ok = expectedStatusScript ? num(/BENCH_OK (\d+)/) : responses - non2xx;
  const errors = socket ? Number(socket[1]) + Number(socket[2]) + Number(socket[3]) + Number(socket[4]) : 0;
  return {
    durationS,
    responses,
    ok,
    requestsPerSecond: ok / durationS,
    p50Ms: latency('50'),
    p99Ms: latency('99'),
    unexpected: responses - ok,
    non2xx,
    errors,
    timeouts: socket ? Number(socket[4]) : 0,
    statusCounts: {},
  };
}

/**
 * One measured wrk run of the scenario (the autocannon run before it was the warm-up), with each
 * connection's first request held for `holdMs` (default HOLD_MS): requests/s count the time after
 * the hold.
 */
export async function wrkScenario(
  url: string,
  scenario: Scenario,
  options: LoadOptions & { threads: number; scriptDir: string; holdMs?: number },
): Promise<LoadResult> {
  const holdMs = options.holdMs ?? HOLD_MS;
  const threads = Math.min(options.threads, options.connections);
  const args = [
    '-t',
    String(threads),
    '-c',
    String(options.connections),
    '-d',
    `${Math.round(options.durationS)}s`,
    '--latency',
    '--timeout',
    '30s',
  ];
  for (const [name, value] of Object.entries(requestHeaders(options.token, scenario.method, scenario.fresh)))
    args.push('-H', `${name}: ${value}`);
  const counted = countsStatuses(scenario);
  if (counted || holdMs > 0) {
    const file = path.join(options.scriptDir, `wrk-${scenario.id}${holdMs > 0 ? '' : '-nohold'}.lua`);
    // wrk gives each thread connections / threads connections
    writeFileSync(file, luaScript(scenario, holdMs, Math.floor(options.connections / threads)));
    args.push('-s', file);
  }
  args.push(`${url}${scenario.paths[0]}`);
  const out = await run('wrk', args);
  await settle(url);
  const result = parseWrk(out, counted);
  const durationS = result.durationS - holdMs / 1000;
  return { tool: 'wrk', ...result, durationS, requestsPerSecond: result.ok / durationS, holdMs };
}
