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
import {
  checkAcknowledged,
  createsUntilKilled,
  killReport,
  type FoundRow,
  type KillCheck,
  type KillLoad,
  type KillReport,
} from './kill.js';
import { autocannonScenario, combineRuns, type LoadOptions, type LoadResult } from './load.js';
import { expectStatus, interleavedLatency, walkToDepth, type Captured, type RequestSpec } from './probe.js';
import { summarizeProfile } from './profile.js';
import { mean, writeReport, type BenchReport, type DepthPoint, type InstancesReport, type ScenarioReport } from './report.js';
import { parseOptions, UsageError, type Options } from './options.js';
import { buildScenarios, INCLUDE_PATH, LIST_PATH, deepPath, postBody, postEmail, requestHeaders, type Scenario } from './scenarios.js';
import {
  benchPgUrl,
  createBenchDatabase,
  postgresReader,
  postgresServer,
  likePrefix,
  type BenchDatabase,
  type SideReader,
} from './postgres.js';
import { seedDatabase, type SeedResult } from './seed.js';
import { seedPostgres } from './seed-postgres.js';
import { createAdminKey, logSummary, ROOT, run, startAscAccess, stopAll, Tokens, type RunningProcess } from './server.js';
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

/** Where a server's data lives: the SQLite file in its data directory, or a PostgreSQL database. */
interface Store {
  dataDir: string;
  /** PostgreSQL: the bench database's URL */
  databaseUrl?: string;
}

async function seed(store: Store, size: number, seedValue: number): Promise<SeedResult> {
  let lastLog = 0;
  const seedFn =
    store.databaseUrl === undefined
      ? seedDatabase
      : (o: Parameters<typeof seedDatabase>[0]) => seedPostgres({ ...o, databaseUrl: store.databaseUrl! });
  const result = await seedFn({
    dataDir: store.dataDir,
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

/** What reads the database from the side (mail waiting, POSTs persisted), opened for each use. */
function sideReader(store: Store, seeded: SeedResult): Promise<SideReader> {
  return store.databaseUrl === undefined ? Promise.resolve(sqliteReader(seeded.file!)) : postgresReader(store.databaseUrl);
}

function summary(r: { requestsPerSecond: number; p50Ms: number; p99Ms: number; unexpected: number; errors: number }): string {
  return `${fmt(r.requestsPerSecond)} req/s, p50 ${r.p50Ms.toFixed(1)} ms, p99 ${r.p99Ms.toFixed(1)} ms${r.unexpected || r.errors ? `, ${r.unexpected} other status, ${r.errors} errors` : ''}`;
}

/** wrk threads: one per core, at most two (the server needs the rest). */
function wrkThreads(): number {
  return Math.max(1, Math.min(2, os.cpus().length));
}

/** Checks the scenario answers as expected, then loads it with autocannon (and wrk). */
/** A scenario's report as autocannon measured it (wrk's run is added by the caller). */
function scenarioReport(scenario: Scenario, warmup: LoadResult, measured: LoadResult): ScenarioReport {
  return {
    id: scenario.id,
    title: scenario.title,
    method: scenario.method,
    path: scenario.paths[0]!,
    targets: scenario.paths.length,
    expect: scenario.expect,
    warmup,
    autocannon: measured,
  };
}

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
  const report = scenarioReport(scenario, warmup, measured);
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

/** The SQLite file read from the side, read-only. */
function sqliteReader(file: string): SideReader {
  const db = new SQLite(file, { readonly: true });
  const waiting = db.prepare(`SELECT count(*) AS n FROM mail_outbox WHERE status = 'pending'`);
  return {
    pendingMail: () => Promise.resolve((waiting.get() as { n: number }).n),
    persisted(emailStem) {
      const like = likePrefix(emailStem);
      const invitations = db.prepare(`SELECT count(*) AS n FROM user_invitations WHERE email_key LIKE ? ESCAPE '\\'`).get(like) as {
        n: number;
      };
      const mail = db
        .prepare(
          `SELECT count(*) AS n FROM mail_outbox m JOIN user_invitations i ON i.id = m.invitation_id WHERE i.email_key LIKE ? ESCAPE '\\'`,
        )
        .get(like) as { n: number };
      return Promise.resolve({ invitations: invitations.n, mail: mail.n });
    },
    lookup(emailKeys) {
      const rows: FoundRow[] = [];
      const chunk = 500;
      for (let i = 0; i < emailKeys.length; i += chunk) {
        const keys = emailKeys.slice(i, i + chunk);
        const found = db
          .prepare(
            `SELECT i.email_key AS emailKey, i.id AS id, (SELECT count(*) FROM mail_outbox m WHERE m.invitation_id = i.id) AS mail
               FROM user_invitations i WHERE i.email_key IN (${keys.map(() => '?').join(', ')})`,
          )
          .all(...keys) as FoundRow[];
        rows.push(...found);
      }
      return Promise.resolve(rows);
    },
    close: () => {
      db.close();
      return Promise.resolve();
    },
  };
}

/** Counts, with the servers stopped, the POSTed invitations (and their mail) the database holds. */
async function persistedPosts(store: Store, seeded: SeedResult, emailStem: string): Promise<{ invitations: number; mail: number }> {
  const reader = await sideReader(store, seeded);
  try {
    return await reader.persisted(emailStem);
  } finally {
    await reader.close();
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
  kill?: KillReport;
  mailDrain?: NonNullable<BenchReport['mailDrain']>;
  serverLog?: BenchReport['serverLog'];
  /** the server-signed cursor 90% deep, when the walk ran */
  deepCursor?: string;
}

/** Longest wait for the mail worker to deliver what the creates queued. */
const MAIL_DRAIN_LIMIT_S = 120;

/**
 * Waits, polling the database from the side, until the server's mail worker has delivered every
 * message the creates queued (or MAIL_DRAIN_LIMIT_S passed): how long a create burst's email lags.
 */
async function waitForMail(store: Store, seeded: SeedResult): Promise<NonNullable<BenchReport['mailDrain']>> {
  const reader = await sideReader(store, seeded);
  try {
    const started = performance.now();
    const pending = await reader.pendingMail();
    let left = pending;
    while (left > 0 && performance.now() - started < MAIL_DRAIN_LIMIT_S * 1000) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      left = await reader.pendingMail();
    }
    return { pending, seconds: (performance.now() - started) / 1000, left };
  } finally {
    await reader.close();
  }
}

/** Longest the kill -9 phase loads before the kill (shorter runs: their --duration). */
const KILL_AFTER_MAX_S = 5;

/**
 * Starts servers one after another; if one fails to start, stops those already started and
 * rethrows.
 */
async function startServers(starts: readonly (() => Promise<RunningProcess>)[]): Promise<RunningProcess[]> {
  const servers: RunningProcess[] = [];
  try {
    for (const start of starts) servers.push(await start());
    return servers;
  } catch (err) {
    for (const server of servers) await server.stop();
    throw err;
  }
}

/**
 * The kill -9 phase (bench/kill.ts) on servers of its own, started for it: creates from
 * `options.connections` connections with the `create` scenario's bodies and unique emails under
 * `emailStem`, SIGKILL to every server while requests are in flight, every create answered 201
 * looked up from the side with the servers dead, then the servers started again on the killed
 * database (as the same instances: `start` gives each its ASC_INSTANCE_ID), kept until their mail
 * worker has delivered the killed creates' mail, and stopped.
 */
async function killPhase(
  store: Store,
  seeded: SeedResult,
  tokens: Tokens,
  create: Scenario,
  emailStem: string,
  options: Options,
  start: () => Promise<RunningProcess[]>,
): Promise<KillReport> {
  const post = { ...create.post!, emailStem };
  const killAfterS = Math.min(KILL_AFTER_MAX_S, options.durationS);
  const servers = await start();
  let load: KillLoad;
  try {
    const token = await tokens.current();
    load = await createsUntilKilled({
      urls: servers.map((s) => s.url),
      path: create.paths[0]!,
      post,
      token,
      connections: options.connections,
      killAfterS,
      kill: () => Promise.all(servers.map((s) => s.kill())),
    });
  } finally {
    // also when the load failed before its kill: nothing of the phase stays running
    for (const server of servers) await server.kill();
  }
  const where = servers.length > 1 ? `${servers.length} instances` : 'the server';
  log(
    `  ${fmt(load.sent)} creates sent in ${load.seconds.toFixed(1)} s, SIGKILL to ${where} with ${fmt(load.inFlightAtKill)} in flight (${fmt(load.unanswered)} never answered)`,
  );
  let check: KillCheck;
  const reader = await sideReader(store, seeded);
  try {
    check = checkAcknowledged(load.acknowledged, await reader.lookup(load.acknowledged.map((a) => a.email.toLowerCase())));
  } finally {
    await reader.close();
  }
  log(
    `  ${fmt(check.acknowledged)} acknowledged with 201, ${fmt(check.found)} in the database (${fmt(check.withMail)} with mail), ${fmt(check.lost)} lost${check.lost > 0 ? `, e.g. ${check.lostSample.join(', ')}` : ''}`,
  );
  let restarted = false;
  let mailAfterRestart: KillReport['mailAfterRestart'];
  try {
    const again = await start();
    restarted = true;
    try {
      mailAfterRestart = await waitForMail(store, seeded);
      log(
        `  started again on the killed database; ${fmt(mailAfterRestart.pending)} messages waiting, delivered in ${mailAfterRestart.seconds.toFixed(1)} s${mailAfterRestart.left > 0 ? `, ${fmt(mailAfterRestart.left)} still waiting` : ''}`,
      );
    } finally {
      for (const server of again) await server.stop();
    }
  } catch (err) {
    log(`  could not start again on the killed database: ${err instanceof Error ? err.message : String(err)}`);
  }
  return killReport({
    instances: servers.length,
    connections: options.connections,
    load,
    check,
    restarted,
    ...(mailAfterRestart ? { mailAfterRestart } : {}),
  });
}

/** The server on the seeded database: deep cursor, every scenario, first vs deep, memory, durability. */
async function runMainServer(
  seeded: SeedResult,
  store: Store,
  tokens: Tokens,
  options: Options,
  ctx: { phases: Phases; runTag: string; wrk: boolean; profileDir?: string },
): Promise<MainRun> {
  const { dataDir } = store;
  const wanted = new Set(options.scenarios);
  const server = await startAscAccess(dataDir, {
    name: 'asc-access',
    ...(ctx.profileDir ? { profileDir: ctx.profileDir } : {}),
    ...(store.databaseUrl === undefined ? {} : { databaseUrl: store.databaseUrl }),
  });
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
      result.deepCursor = deep.cursor;
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
      result.mailDrain = await ctx.phases.time('mail', () => waitForMail(store, seeded));
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
    const found = await persistedPosts(store, seeded, create.post.emailStem);
    result.durability = {
      acknowledged: posts.n,
      persisted: found.invitations,
      mailRows: found.mail,
      ok: found.invitations >= posts.n && found.mail === found.invitations,
    };
    log(
      `durability: ${fmt(posts.n)} acknowledged, ${fmt(found.invitations)} in the database (${fmt(found.mail)} with mail), e.g. ${postEmail(create.post, 'ac', 0)}`,
    );
    log(`kill -9: creates on ${options.connections} connections, the server killed with SIGKILL while they are in flight`);
    result.kill = await ctx.phases.time('kill', () =>
      killPhase(store, seeded, tokens, create, `kill.${ctx.runTag}.`, options, async () => [
        await startAscAccess(dataDir, {
          name: 'asc-access (kill -9)',
          // the same instance when started again, so that it releases the mail its killed run had claimed
          instanceId: 'bench-kill',
          ...(store.databaseUrl === undefined ? {} : { databaseUrl: store.databaseUrl }),
        }),
      ]),
    );
  }
  return result;
}

/** First vs deep page on a second, small database: unloaded latency, then both pages under load. */
async function runSmallServer(store: Store, options: Options, runTag: string): Promise<DepthPoint> {
  const { dataDir, databaseUrl } = store;
  const small = await seed(store, SMALL_ROWS, 2);
  const tokens = new Tokens(dataDir, await createAdminKey(dataDir, databaseUrl), databaseUrl);
  const server = await startAscAccess(dataDir, { name: 'asc-access (small)', ...(databaseUrl === undefined ? {} : { databaseUrl }) });
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

/**
 * One scenario on several instances at once: autocannon with every instance's URL (it gives the
 * connections to them in turn), then one wrk per instance side by side, each with its share of the
 * connections and one thread, summed (combineRuns). POST emails differ per instance and tool.
 */
async function loadScenarioOnAll(
  servers: readonly RunningProcess[],
  dataDirs: readonly string[],
  tokens: Tokens,
  scenario: Scenario,
  options: Options,
  useWrk: boolean,
  postsAcknowledged: { n: number },
): Promise<ScenarioReport> {
  const token = await tokens.current();
  const headers = requestHeaders(token, scenario.method, scenario.fresh);
  for (const [i, server] of servers.entries()) {
    const probe: RequestSpec = { method: scenario.method, path: scenario.paths[0]!, headers };
    if (scenario.post) probe.body = postBody(scenario.post, `probe${i + 1}`, 0);
    await expectStatus(server.url, probe, scenario.expect);
    if (scenario.post) postsAcknowledged.n++;
  }
  const urls = servers.map((s) => s.url);
  const load: LoadOptions = { connections: options.connections, durationS: options.durationS, token };
  const { warmup, measured } = await autocannonScenario(urls, scenario, { ...load, warmupS: options.warmupS });
  log(`  ${scenario.title}: autocannon ${summary(measured)} (${servers.length} instances)`);
  const report = scenarioReport(scenario, warmup, measured);
  if (useWrk) {
    const each = options.connections / servers.length;
    const runs = await Promise.all(
      servers.map((server, i) => {
        const own: Scenario = scenario.post
          ? { ...scenario, post: { ...scenario.post, emailStem: `${scenario.post.emailStem}i${i + 1}.` } }
          : scenario;
        return wrkScenario(server.url, own, { ...load, connections: each, threads: 1, scriptDir: dataDirs[i]! });
      }),
    );
    report.wrk = combineRuns(runs);
    log(`  ${scenario.title}: wrk        ${summary(report.wrk)} (${servers.length} × ${each} connections)`);
  }
  if (scenario.post) postsAcknowledged.n += warmup.ok + measured.ok + (report.wrk?.ok ?? 0);
  return report;
}

/**
 * `--instances N`: N asc-access processes on the seeded PostgreSQL database (each its own
 * ASC_INSTANCE_ID, port and log), every chosen scenario loaded on all of them at once, reads first,
 * then creates (and the wait for their mail), then the durability count of those creates.
 */
async function runInstances(
  seeded: SeedResult,
  store: Store,
  tokens: Tokens,
  deepCursor: string | undefined,
  options: Options,
  ctx: { phases: Phases; runTag: string; wrk: boolean },
): Promise<InstancesReport> {
  const count = options.instances;
  const dataDirs = Array.from({ length: count }, (_, i) => path.join(store.dataDir, `instance-${i + 1}`));
  for (const dir of dataDirs) mkdirSync(dir, { recursive: true });
  const servers: RunningProcess[] = [];
  const runTag = `${ctx.runTag}n${count}`;
  const scenarios = buildScenarios({
    sample: seeded.sample,
    apps: seeded.apps,
    runTag,
    ...(deepCursor === undefined ? {} : { deepCursor }),
  });
  const chosen = scenarios.filter((s) => options.scenarios.includes(s.id));
  const result: InstancesReport = { count, scenarios: [], serverLogs: [] };
  const posts = { n: 0 };
  const startInstance = (dir: string, i: number) =>
    startAscAccess(dir, { name: `asc-access ${i + 1} of ${count}`, databaseUrl: store.databaseUrl!, instanceId: `bench-${i + 1}` });
  try {
    for (const [i, dir] of dataDirs.entries()) servers.push(await startInstance(dir, i));
    log(`load: ${count} instances at ${servers.map((s) => s.url).join(', ')}`);
    for (const scenario of [...chosen.filter((s) => s.method === 'GET'), ...chosen.filter((s) => s.method === 'POST')]) {
      result.scenarios.push(
        await ctx.phases.time('instances', () => loadScenarioOnAll(servers, dataDirs, tokens, scenario, options, ctx.wrk, posts)),
      );
      if (scenario.post) {
        result.mailDrain = await ctx.phases.time('instances', () => waitForMail(store, seeded));
        log(
          `mail: ${fmt(result.mailDrain.pending)} messages waiting after the creates on ${count} instances, delivered in ${result.mailDrain.seconds.toFixed(1)} s${result.mailDrain.left > 0 ? `, ${fmt(result.mailDrain.left)} still waiting` : ''}`,
        );
      }
    }
    result.memory = servers.map((s) => s.memory()).filter((m) => m !== undefined);
  } finally {
    for (const server of servers) await server.stop();
  }
  result.serverLogs = servers.map((s) => ({ name: s.name, ...logSummary(s.logFile) }));
  for (const l of result.serverLogs) if (l.lines > 0) log(`${l.name} log: ${l.lines} lines, first: ${l.first[0]}`);
  const create = chosen.find((s) => s.id === 'create');
  if (create?.post) {
    const found = await persistedPosts(store, seeded, create.post.emailStem);
    result.durability = {
      acknowledged: posts.n,
      persisted: found.invitations,
      mailRows: found.mail,
      ok: found.invitations >= posts.n && found.mail === found.invitations,
    };
    log(
      `durability (${count} instances): ${fmt(posts.n)} acknowledged, ${fmt(found.invitations)} in the database (${fmt(found.mail)} with mail)`,
    );
    log(`kill -9 (${count} instances): creates on ${options.connections} connections, every instance killed with SIGKILL`);
    result.kill = await ctx.phases.time('kill', () =>
      killPhase(store, seeded, tokens, create, `kill.${runTag}.`, options, () =>
        startServers(dataDirs.map((dir, i) => () => startInstance(dir, i))),
      ),
    );
  }
  return result;
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

/** The signal that interrupted the run: what fails after it (servers gone) is not reported. */
let interruptedBy: NodeJS.Signals | undefined;

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

  // PostgreSQL: a fresh database for each server's data, dropped at the end, also when the run
  // fails or is interrupted (unless --keep-data)
  const databases: BenchDatabase[] = [];
  const dropDatabases = async () => {
    if (options.keepData) {
      for (const d of databases) log(`kept: PostgreSQL ${d.kind} ${d.name} (${d.url.replace(/\/\/[^@/]*@/, '//')})`);
      return;
    }
    for (const d of databases.splice(0)) {
      try {
        await d.drop();
      } catch (err) {
        log(`could not drop the PostgreSQL ${d.kind} ${d.name}: ${err instanceof Error ? err.message : String(err)}`);
      }
    }
  };
  const interrupted = (signal: NodeJS.Signals) => {
    interruptedBy = signal;
    log(`${signal}: stopping the servers${databases.length > 0 && !options.keepData ? ' and dropping the bench databases' : ''}`);
    void stopAll()
      .then(dropDatabases)
      .finally(() => process.exit(signal === 'SIGINT' ? 130 : 143));
  };
  if (options.database === 'postgres') {
    process.once('SIGINT', interrupted);
    process.once('SIGTERM', interrupted);
  }
  try {
    await measure();
  } finally {
    await dropDatabases();
  }

  async function measure(): Promise<void> {
    let mainStore: Store = { dataDir: mainDir };
    let smallStore: Store = { dataDir: smallDir };
    let postgres: BenchReport['database'] = { kind: 'sqlite' };
    if (options.database === 'postgres') {
      const base = benchPgUrl();
      const main = await createBenchDatabase(base, `${runTag}_main`);
      databases.push(main);
      mainStore = { dataDir: mainDir, databaseUrl: main.url };
      if (options.scenarios.includes('list') || options.scenarios.includes('list-fresh')) {
        const small = await createBenchDatabase(base, `${runTag}_small`);
        databases.push(small);
        smallStore = { dataDir: smallDir, databaseUrl: small.url };
      }
      const server = await postgresServer(main.url);
      postgres = { kind: 'postgres', where: main.kind, ...server };
      log(
        `database: PostgreSQL ${server.version}, ${main.kind} ${main.name}; synchronous_commit ${server.settings.synchronous_commit}, fsync ${server.settings.fsync}${server.durable ? '' : ' (NOT DURABLE: acknowledged writes may be lost)'}`,
      );
    }

    log('build: npm run build');
    await phases.time('build', () => run('npm', ['run', 'build']));
    log(`seed: ${fmt(options.size)} invitations`);
    const seeded = await phases.time('seed', () => seed(mainStore, options.size, 1));

    const tokens = new Tokens(mainDir, await createAdminKey(mainDir, mainStore.databaseUrl), mainStore.databaseUrl);
    const mainRun = await runMainServer(seeded, mainStore, tokens, options, {
      phases,
      runTag,
      wrk: version !== undefined,
      ...(options.cpuProf ? { profileDir } : {}),
    });
    const depth: DepthPoint[] = [];
    if (mainRun.depth) {
      log(`depth: a second database of ${fmt(SMALL_ROWS)} invitations`);
      depth.push(await phases.time('depth', () => runSmallServer(smallStore, options, runTag)), mainRun.depth);
    }
    let instances: InstancesReport | undefined;
    if (options.instances > 1) {
      log(`instances: ${options.instances} asc-access processes on the one database`);
      instances = await runInstances(seeded, mainStore, tokens, mainRun.deepCursor, options, {
        phases,
        runTag,
        wrk: version !== undefined,
      });
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
      database: postgres,
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
      ...(mainRun.kill ? { kill: mainRun.kill } : {}),
      ...(mainRun.mailDrain ? { mailDrain: mainRun.mailDrain } : {}),
      serverLog: mainRun.serverLog ?? { lines: 0, first: [] },
      ...(instances ? { instances } : {}),
      ...(profile ? { profile } : {}),
    };
    const { markdown, files } = writeReport(RESULTS_DIR, HISTORY_DIR, report);
    process.stdout.write(`\n${markdown}\n`);
    log(`wrote ${files.map((f) => path.relative(ROOT, f)).join(', ')}`);
    if (mainRun.durability && !mainRun.durability.ok) process.exitCode = 1;
    if (instances?.durability && !instances.durability.ok) process.exitCode = 1;
    if (mainRun.kill && !mainRun.kill.ok) process.exitCode = 1;
    if (instances?.kill && !instances.kill.ok) process.exitCode = 1;
  }
}

main().catch((err: unknown) => {
  if (interruptedBy) return;
  log(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
  process.exitCode = 1;
});
