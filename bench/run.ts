/**
 * `npm run bench [-- options]`: builds the server, seeds a fresh database, starts asc-access as its
 * own process and loads it scenario by scenario, then a bare node:http ceiling, and writes the
 * report to bench/results/latest.{md,json} (timestamped copies in bench/results/history/, gitignored).
 * See bench/README.md.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import { startCeiling } from './ceiling.js';
import { autocannonScenario, type LoadOptions, type LoadResult } from './load.js';
import { expectStatus, interleavedLatency, walkToDepth, type Captured, type RequestSpec } from './probe.js';
import { summarizeProfile } from './profile.js';
import { mean, writeReport, type BenchReport, type DepthPoint, type ScenarioReport } from './report.js';
import { parseOptions, UsageError, type Options } from './options.js';
import { buildScenarios, INCLUDE_PATH, LIST_PATH, deepPath, postBody, postEmail, requestHeaders, type Scenario } from './scenarios.js';
import { seedDatabase, type SeedResult } from './seed.js';
import { createAdminKey, logSummary, ROOT, run, startAscAccess, Tokens, type RunningProcess } from './server.js';
import { wrkScenario, wrkVersion } from './wrk.js';

const SMALL_ROWS = 1000;
const DEEP_FRACTION = 0.9;
const SEQUENTIAL_REQUESTS = 200;
const SEQUENTIAL_WARMUP = 50;
const DATA_DIR = path.join(ROOT, 'bench', '.data');
const RESULTS_DIR = path.join(ROOT, 'bench', 'results');
const HISTORY_DIR = path.join(RESULTS_DIR, 'history');

const log = (line: string) => process.stderr.write(`${line}\n`);
const fmt = (n: number) => Math.round(n).toLocaleString('en-US');

/** Times each phase of the run. */
class Phases {
  readonly seconds: Record<string, number> = {};
  async time<T>(name: string, fn: () => Promise<T>): Promise<T> {
    const started = performance.now();
    try {
      return await fn();
    } finally {
      this.seconds[name] = (this.seconds[name] ?? 0) + (performance.now() - started) / 1000;
    }
  }
}

async function seed(dir: string, size: number, seedValue: number): Promise<SeedResult> {
  let lastLog = 0;
  const result = await seedDatabase({
    dataDir: dir,
    size,
    apps: 200,
    batch: 10_000,
    publicUrl: 'http://127.0.0.1:8080',
    seed: seedValue,
    onProgress: (done, total) => {
      if (performance.now() - lastLog > 5000 && done < total) {
        lastLog = performance.now();
        log(`  seeded ${fmt(done)} of ${fmt(total)}`);
      }
    },
  });
  log(
    `  ${fmt(result.invitations)} invitations, ${fmt(result.rows)} rows in ${result.seconds.toFixed(1)} s: ${fmt(result.invitationsPerSecond)} invitations/s, ${fmt(result.rowsPerSecond)} rows/s`,
  );
  return result;
}

interface Target {
  server: RunningProcess;
  /** where the scenario scripts go */
  dataDir: string;
  tokens: Tokens;
}

function summary(r: { requestsPerSecond: number; p50Ms: number; p99Ms: number; unexpected: number; errors: number }): string {
  return `${fmt(r.requestsPerSecond)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms${r.unexpected || r.errors ? `, ${r.unexpected} other status, ${r.errors} errors` : ''}`;
}

/** wrk threads: one per core, at most two (the server needs the rest). */
function wrkThreads(): number {
  return Math.max(1, Math.min(2, os.cpus().length));
}

/** Checks the scenario answers as expected, then loads it with autocannon (and wrk). */
async function loadScenario(
  target: Target,
  scenario: Scenario,
  options: Options,
  useWrk: boolean,
  postsAcknowledged: { n: number },
): Promise<ScenarioReport> {
  const token = await target.tokens.current();
  const headers = requestHeaders(token, scenario.method, scenario.fresh);
  const probe: RequestSpec = { method: scenario.method, path: scenario.paths[0]!, headers };
  if (scenario.post) probe.body = postBody(scenario.post, 'probe', 0);
  await expectStatus(target.server.url, probe, scenario.expect);
  if (scenario.post) postsAcknowledged.n++;

  const load: LoadOptions = { connections: options.connections, durationS: options.durationS, token };
  const { warmup, measured } = await autocannonScenario(target.server.url, scenario, { ...load, warmupS: options.warmupS });
  log(`  ${scenario.title}: autocannon ${summary(measured)}`);
  const report: ScenarioReport = {
    id: scenario.id,
    title: scenario.title,
    method: scenario.method,
    path: scenario.paths[0]!,
    targets: scenario.paths.length,
    expect: scenario.expect,
    warmup,
    autocannon: measured,
  };
  if (useWrk) {
    report.wrk = await wrkScenario(target.server.url, scenario, { ...load, threads: wrkThreads(), scriptDir: target.dataDir });
    log(`  ${scenario.title}: wrk        ${summary(report.wrk)}`);
    if (scenario.id === 'list-include') {
      // the same run without holding first requests: what 50 fresh connections see (wrk.ts, HOLD_MS)
      report.wrkCold = await wrkScenario(target.server.url, scenario, {
        ...load,
        threads: wrkThreads(),
        scriptDir: target.dataDir,
        holdMs: 0,
      });
      log(`  ${scenario.title}: wrk, fresh connections, no hold: ${summary(report.wrkCold)}`);
    }
  }
  if (scenario.post) postsAcknowledged.n += warmup.ok + measured.ok + (report.wrk?.ok ?? 0);
  const memory = target.server.memory();
  if (memory) report.serverMemory = memory;
  return report;
}

/** Unloaded latency of the first and the deep page on one server, measured alternately. */
async function firstVsDeep(target: Target, deepCursor: string, deepOffset: number, rows: number): Promise<DepthPoint> {
  // read anew: what is compared is how the database finds each page, not a kept body
  const headers = requestHeaders(await target.tokens.current(), 'GET', true);
  const specs: RequestSpec[] = [
    { method: 'GET', path: LIST_PATH, headers },
    { method: 'GET', path: deepPath(deepCursor), headers },
  ];
  const [first, deep] = await interleavedLatency(target.server.url, specs, 200, SEQUENTIAL_REQUESTS, SEQUENTIAL_WARMUP);
  log(`  ${fmt(rows)} rows, unloaded p50: first page ${first!.p50Ms.toFixed(2)} ms, 90% deep ${deep!.p50Ms.toFixed(2)} ms`);
  return { rows, deepOffset, first: { sequential: first! }, deep: { sequential: deep! } };
}

/** Alternating runs under load of each page, read anew (ALTERNATING_ROUNDS pairs). */
const ALTERNATING_ROUNDS = 4;
const ALTERNATING_MAX_S = 3;

/**
 * The first and the deep page read anew under load, in alternating short runs (first, deep, first,
 * deep, ...): two 10 s runs minutes apart move with the machine by more than the 20% the target
 * allows (bench/README.md, step 6), while runs side by side see the same machine.
 */
async function alternatingLoad(
  target: Target,
  first: Scenario,
  deep: Scenario,
  options: Options,
  useWrk: boolean,
): Promise<NonNullable<DepthPoint['alternating']>> {
  const durationS = Math.max(1, Math.min(ALTERNATING_MAX_S, options.durationS));
  const load: LoadOptions = { connections: options.connections, durationS, token: await target.tokens.current() };
  const once = async (scenario: Scenario): Promise<number> => {
    const result = useWrk
      ? await wrkScenario(target.server.url, scenario, { ...load, threads: wrkThreads(), scriptDir: target.dataDir })
      : (await autocannonScenario(target.server.url, scenario, { ...load, warmupS: 0 })).measured;
    return result.requestsPerSecond;
  };
  const rps = { first: [] as number[], deep: [] as number[] };
  for (let round = 0; round < ALTERNATING_ROUNDS; round++) {
    rps.first.push(await once(first));
    rps.deep.push(await once(deep));
  }
  const tool = useWrk ? 'wrk' : 'autocannon';
  log(
    `  alternating under load (${tool}, ${ALTERNATING_ROUNDS} × ${durationS} s each): first ${fmt(mean(rps.first))}, deep ${fmt(mean(rps.deep))} req/s`,
  );
  return { tool, durationS, ...rps };
}

/** Counts, with the server stopped, the POSTed invitations (and their mail) the database holds. */
function persistedPosts(file: string, emailStem: string): { invitations: number; mail: number } {
  const db = new SQLite(file, { readonly: true });
  try {
    const like = `${emailStem.replace(/[%_\\]/g, '\\$&')}%`;
    const invitations = db.prepare(`SELECT count(*) AS n FROM user_invitations WHERE email_key LIKE ? ESCAPE '\\'`).get(like) as {
      n: number;
    };
    const mail = db
      .prepare(
        `SELECT count(*) AS n FROM mail_outbox m JOIN user_invitations i ON i.id = m.invitation_id WHERE i.email_key LIKE ? ESCAPE '\\'`,
      )
      .get(like) as { n: number };
    return { invitations: invitations.n, mail: mail.n };
  } finally {
    db.close();
  }
}

function commit(): string | undefined {
  try {
    return execFileSync('git', ['rev-parse', '--short', 'HEAD'], { cwd: ROOT, stdio: 'pipe' }).toString().trim();
  } catch {
    return undefined;
  }
}

interface MainRun {
  /** the include page, for the ceiling */
  captured: Captured;
  walk?: NonNullable<BenchReport['walk']>;
  scenarios: ScenarioReport[];
  depth?: DepthPoint;
  memory: BenchReport['memory'];
  durability?: NonNullable<BenchReport['durability']>;
  mailDrain?: NonNullable<BenchReport['mailDrain']>;
  serverLog?: BenchReport['serverLog'];
}

/** Longest wait for the mail worker to deliver what the creates queued. */
const MAIL_DRAIN_LIMIT_S = 120;

/**
 * Waits, polling the database from the side, until the server's mail worker has delivered every
 * message the creates queued (or MAIL_DRAIN_LIMIT_S passed): how long a create burst's email lags.
 */
async function waitForMail(file: string): Promise<NonNullable<BenchReport['mailDrain']>> {
  const db = new SQLite(file, { readonly: true });
  try {
    const waiting = db.prepare(`SELECT count(*) AS n FROM mail_outbox WHERE status = 'pending'`);
    const count = () => (waiting.get() as { n: number }).n;
    const started = performance.now();
    const pending = count();
    let left = pending;
    while (left > 0 && performance.now() - started < MAIL_DRAIN_LIMIT_S * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = count();
    }
    return { pending, seconds: (performance.now() - started) / 1000, left };
  } finally {
    db.close();
  }
}

/** The server on the seeded database: deep cursor, every scenario, first vs deep, memory, durability. */
async function runMainServer(
  seeded: SeedResult,
  dataDir: string,
  options: Options,
  ctx: { phases: Phases; runTag: string; wrk: boolean; profileDir?: string },
): Promise<MainRun> {
  const wanted = new Set(options.scenarios);
  const tokens = new Tokens(dataDir, await createAdminKey(dataDir));
  const server = await startAscAccess(dataDir, { name: 'asc-access', ...(ctx.profileDir ? { profileDir: ctx.profileDir } : {}) });
  const target: Target = { server, dataDir, tokens };
  const headers = async () => requestHeaders(await tokens.current(), 'GET');
  const result: MainRun = { captured: { status: 0, headers: {}, body: Buffer.alloc(0) }, scenarios: [], memory: {} };
  const atStart = server.memory();
  if (atStart) result.memory.serverAtStart = atStart;
  const posts = { n: 0 };
  let scenarios: Scenario[];
  try {
    result.captured = await expectStatus(server.url, { method: 'GET', path: INCLUDE_PATH, headers: await headers() }, 200);
    let deepCursor: string | undefined;
    if (wanted.has('deep') || wanted.has('deep-fresh')) {
      log(`walk: to ${DEEP_FRACTION * 100}% of the list`);
      const deep = await ctx.phases.time('walk', () => walkToDepth(server.url, headers, DEEP_FRACTION));
      deepCursor = deep.cursor;
      result.walk = { requests: deep.requests, seconds: deep.seconds, deepOffset: deep.skipped, total: deep.total };
      log(`  ${deep.requests} pages in ${deep.seconds.toFixed(1)} s, cursor after row ${fmt(deep.skipped)} of ${fmt(deep.total)}`);
    }
    scenarios = buildScenarios({
      sample: seeded.sample,
      apps: seeded.apps,
      runTag: ctx.runTag,
      ...(deepCursor === undefined ? {} : { deepCursor }),
    });

    log(`load: asc-access at ${server.url}`);
    // reads first, then first vs deep page, then creates: creates leave a mail backlog that the
    // worker delivers afterwards, and reads measured meanwhile would measure that too
    const chosen = scenarios.filter((s) => wanted.has(s.id));
    for (const scenario of chosen.filter((s) => s.method === 'GET')) {
      result.scenarios.push(await ctx.phases.time('load', () => loadScenario(target, scenario, options, ctx.wrk, posts)));
    }
    if ((wanted.has('list') || wanted.has('list-fresh')) && deepCursor !== undefined && result.walk) {
      const point = await ctx.phases.time('depth', () => firstVsDeep(target, deepCursor, result.walk!.deepOffset, seeded.invitations));
      const first = result.scenarios.find((s) => s.id === 'list-fresh')?.autocannon;
      const deep = result.scenarios.find((s) => s.id === 'deep-fresh')?.autocannon;
      if (first) point.first.loaded = first;
      if (deep) point.deep.loaded = deep;
      const firstFresh = chosen.find((s) => s.id === 'list-fresh');
      const deepFresh = chosen.find((s) => s.id === 'deep-fresh');
      if (firstFresh && deepFresh) {
        point.alternating = await ctx.phases.time('depth', () => alternatingLoad(target, firstFresh, deepFresh, options, ctx.wrk));
      }
      result.depth = point;
    }
    const afterReads = server.memory();
    if (afterReads) result.memory.serverAfterReads = afterReads;
    for (const scenario of chosen.filter((s) => s.method === 'POST')) {
      result.scenarios.push(await ctx.phases.time('load', () => loadScenario(target, scenario, options, ctx.wrk, posts)));
      result.mailDrain = await ctx.phases.time('mail', () => waitForMail(seeded.file));
      log(
        `mail: ${fmt(result.mailDrain.pending)} messages waiting after the creates, delivered in ${result.mailDrain.seconds.toFixed(1)} s${result.mailDrain.left > 0 ? `, ${fmt(result.mailDrain.left)} still waiting` : ''}`,
      );
    }
    const after = server.memory();
    if (after) result.memory.serverAfterRuns = after;
  } finally {
    await server.stop();
  }
  result.serverLog = logSummary(server.logFile);
  if (result.serverLog.lines > 0) log(`server log: ${result.serverLog.lines} lines, first: ${result.serverLog.first[0]}`);

  const create = scenarios.find((s) => s.id === 'create');
  if (wanted.has('create') && create?.post) {
    const found = persistedPosts(seeded.file, create.post.emailStem);
    result.durability = {
      acknowledged: posts.n,
      persisted: found.invitations,
      mailRows: found.mail,
      ok: found.invitations >= posts.n && found.mail === found.invitations,
    };
    log(
      `durability: ${fmt(posts.n)} acknowledged, ${fmt(found.invitations)} in the database (${fmt(found.mail)} with mail), e.g. ${postEmail(create.post, 'ac', 0)}`,
    );
  }
  return result;
}

/** First vs deep page on a second, small database: unloaded latency, then both pages under load. */
async function runSmallServer(dataDir: string, options: Options, runTag: string): Promise<DepthPoint> {
  const small = await seed(dataDir, SMALL_ROWS, 2);
  const tokens = new Tokens(dataDir, await createAdminKey(dataDir));
  const server = await startAscAccess(dataDir, { name: 'asc-access (small)' });
  try {
    const target: Target = { server, dataDir, tokens };
    const deep = await walkToDepth(server.url, async () => requestHeaders(await tokens.current(), 'GET'), DEEP_FRACTION);
    const scenarios = buildScenarios({ sample: small.sample, apps: small.apps, runTag, deepCursor: deep.cursor });
    const loaded: LoadResult[] = [];
    for (const id of ['list-fresh', 'deep-fresh'] as const) {
      const scenario = scenarios.find((s) => s.id === id)!;
      const token = await tokens.current();
      const { measured } = await autocannonScenario(server.url, scenario, {
        connections: options.connections,
        durationS: options.durationS,
        warmupS: options.warmupS,
        token,
      });
      log(`  ${fmt(SMALL_ROWS)} rows, ${scenario.title}: autocannon ${summary(measured)}`);
      loaded.push(measured);
    }
    // after the load, as on the main server: both measured on a warm process
    const point = await firstVsDeep(target, deep.cursor, deep.skipped, small.invitations);
    point.first.loaded = loaded[0]!;
    point.deep.loaded = loaded[1]!;
    return point;
  } finally {
    await server.stop();
  }
}

/** The bare node:http server answering the captured include page, under the same load. */
async function runCeiling(captured: Captured, workDir: string, options: Options, useWrk: boolean): Promise<BenchReport['ceiling']> {
  const proc = await startCeiling(captured, workDir);
  try {
    const scenario: Scenario = { id: 'list-include', title: 'ceiling', method: 'GET', paths: [INCLUDE_PATH], expect: 200 };
    const load: LoadOptions = { connections: options.connections, durationS: options.durationS, token: 'ceiling' };
    const { measured } = await autocannonScenario(proc.url, scenario, { ...load, warmupS: options.warmupS });
    log(`  ceiling: autocannon ${summary(measured)}`);
    const ceiling: BenchReport['ceiling'] = { bodyBytes: captured.body.length, path: INCLUDE_PATH, autocannon: measured };
    if (useWrk) {
      ceiling.wrk = await wrkScenario(proc.url, scenario, { ...load, threads: wrkThreads(), scriptDir: workDir });
      log(`  ceiling: wrk        ${summary(ceiling.wrk)}`);
    }
    const memory = proc.memory();
    if (memory) ceiling.memory = memory;
    return ceiling;
  } finally {
    await proc.stop();
  }
}

async function main(): Promise<void> {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const loadAverageAtStart = os.loadavg();
  const phases = new Phases();
  const runTag = Date.now().toString(36);
  const version = options.wrk ? wrkVersion() : undefined;
  log(
    `asc-access bench on Node ${process.version}: ${fmt(options.size)} invitations, ${options.connections} connections, ${options.durationS} s runs (+${options.warmupS} s warm-up), ${version ?? 'wrk: not installed'}`,
  );

  const mainDir = path.join(DATA_DIR, 'main');
  const smallDir = path.join(DATA_DIR, 'small');
  const profileDir = path.join(DATA_DIR, 'profiles');
  for (const dir of [mainDir, smallDir, ...(options.cpuProf ? [profileDir] : [])]) rmSync(dir, { recursive: true, force: true });
  for (const dir of [mainDir, smallDir, HISTORY_DIR]) mkdirSync(dir, { recursive: true });

  log('build: npm run build');
  await phases.time('build', () => run('npm', ['run', 'build']));
  log(`seed: ${fmt(options.size)} invitations`);
  const seeded = await phases.time('seed', () => seed(mainDir, options.size, 1));

  const mainRun = await runMainServer(seeded, mainDir, options, {
    phases,
    runTag,
    wrk: version !== undefined,
    ...(options.cpuProf ? { profileDir } : {}),
  });
  const depth: DepthPoint[] = [];
  if (mainRun.depth) {
    log(`depth: a second database of ${fmt(SMALL_ROWS)} invitations`);
    depth.push(await phases.time('depth', () => runSmallServer(smallDir, options, runTag)), mainRun.depth);
  }
  log('ceiling: node:http with the captured include page');
  const ceiling = await phases.time('ceiling', () => runCeiling(mainRun.captured, mainDir, options, version !== undefined));

  const profile = options.cpuProf ? summarizeProfile(profileDir) : undefined;
  if (!options.keepData) for (const dir of [mainDir, smallDir]) rmSync(dir, { recursive: true, force: true });

  const finishedAt = new Date();
  const sha = commit();
  const report: BenchReport = {
    startedAt: startedAt.toISOString(),
    finishedAt: finishedAt.toISOString(),
    totalSeconds: (finishedAt.getTime() - startedAt.getTime()) / 1000,
    machine: {
      node: process.version,
      platform: `${os.platform()} ${os.release()}`,
      cpus: os.cpus().length,
      cpuModel: os.cpus()[0]?.model.trim() ?? 'unknown',
      memoryGiB: os.totalmem() / 1024 ** 3,
      loadAverageAtStart,
    },
    ...(sha ? { commit: sha } : {}),
    options: {
      size: options.size,
      durationS: options.durationS,
      warmupS: options.warmupS,
      connections: options.connections,
      quick: options.quick,
      scenarios: options.scenarios,
    },
    wrk: version === undefined ? {} : { version },
    timings: phases.seconds,
    seed: {
      invitations: seeded.invitations,
      apps: seeded.apps.length,
      rows: seeded.rows,
      rowsByTable: seeded.rowsByTable,
      seconds: seeded.seconds,
      indexSeconds: seeded.indexSeconds,
      invitationsPerSecond: seeded.invitationsPerSecond,
      rowsPerSecond: seeded.rowsPerSecond,
      databaseBytes: seeded.bytes,
    },
    ...(mainRun.walk ? { walk: mainRun.walk } : {}),
    scenarios: mainRun.scenarios,
    ceiling,
    memory: mainRun.memory,
    depth,
    ...(mainRun.durability ? { durability: mainRun.durability } : {}),
    ...(mainRun.mailDrain ? { mailDrain: mainRun.mailDrain } : {}),
    serverLog: mainRun.serverLog ?? { lines: 0, first: [] },
    ...(profile ? { profile } : {}),
  };
  const { markdown, files } = writeReport(RESULTS_DIR, HISTORY_DIR, report);
  process.stdout.write(`\n${markdown}\n`);
  log(`wrote ${files.map((f) => path.relative(ROOT, f)).join(', ')}`);
  if (mainRun.durability && !mainRun.durability.ok) process.exitCode = 1;
}

main().catch((err: unknown) => {
  log(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
