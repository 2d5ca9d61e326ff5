/**
 * The bench's command line for PostgreSQL and several instances (bench/options.ts), and the
 * helpers that need no database: URLs of the bench database, the bulk INSERT, the sum of runs made
 * side by side, and the durability verdict the report gives.
 */
import { describe, expect, it } from 'vitest';
import { combineRuns, type LoadResult } from '../../../bench/load.js';
import { parseOptions, UsageError } from '../../../bench/options.js';
import { benchName, benchPgUrl, DEFAULT_PG_URL, isDurable, likePrefix, urlForDatabase, urlForSchema } from '../../../bench/postgres.js';
import { toColumns, unnestInsert } from '../../../bench/seed-postgres.js';

describe('bench options: --database and --instances', () => {
  it('defaults to SQLite and one instance', () => {
    const o = parseOptions([]);
    expect(o.database).toBe('sqlite');
    expect(o.instances).toBe(1);
    expect(o.connections).toBe(50);
  });

  it('takes postgres, in any case, and several instances on it', () => {
    const o = parseOptions(['--database', 'PostgreS', '--instances', '2', '--quick']);
    expect(o).toMatchObject({ database: 'postgres', instances: 2, quick: true, size: 2000 });
  });

  it.each([
    [['--database', 'mysql'], /--database must be sqlite or postgres, got 'mysql'/],
    [['--instances', '2'], /--instances needs --database postgres/],
    [['--database', 'postgres', '--instances', '0'], /--instances must be a positive whole number/],
    [['--database', 'postgres', '--instances', '1.5'], /--instances must be a positive whole number/],
    [['--database', 'postgres', '--instances', '9'], /--instances must be at most 8/],
    [['--database', 'postgres', '--instances', '3'], /--connections \(50\) must be a multiple of --instances \(3\)/],
  ])('refuses %j', (argv, message) => {
    expect(() => parseOptions(argv)).toThrow(UsageError);
    expect(() => parseOptions(argv)).toThrow(message);
  });

  it('accepts connections that split evenly', () => {
    expect(parseOptions(['--database', 'postgres', '--instances', '3', '--connections', '60']).connections).toBe(60);
  });
});

describe('bench PostgreSQL URLs', () => {
  it('uses ASC_TEST_PG_URL, else the local test database', () => {
    expect(benchPgUrl({})).toBe(DEFAULT_PG_URL);
    expect(benchPgUrl({ ASC_TEST_PG_URL: ' postgres://u@db:6543/x ' })).toBe('postgres://u@db:6543/x');
  });

  it('points a URL at another database, keeping user, host and options', () => {
    const url = new URL(urlForDatabase('postgres://u:p@db:6543/test?options=-c%20statement_timeout%3D0', 'bench_x_1'));
    expect(url.pathname).toBe('/bench_x_1');
    expect([url.username, url.password, url.host]).toEqual(['u', 'p', 'db:6543']);
    expect(url.searchParams.get('options')).toBe('-c statement_timeout=0');
  });

  it('puts a schema first on the search path, keeping the options there were', () => {
    expect(new URL(urlForSchema('postgres://u@db/test', 's1')).searchParams.get('options')).toBe('-c search_path=s1');
    expect(new URL(urlForSchema('postgres://u@db/test?options=-c%20synchronous_commit%3Doff', 's1')).searchParams.get('options')).toBe(
      '-c synchronous_commit=off -c search_path=s1',
    );
  });

  it('names each run apart, as a plain identifier', () => {
    const a = benchName('Mx9-Run_main');
    expect(a).toMatch(/^bench_mx9_run_main_[0-9a-f]{8}$/);
    expect(benchName('Mx9-Run_main')).not.toBe(a);
  });

  it('calls a commit durable unless synchronous_commit is off or fsync is', () => {
    expect(isDurable({ synchronous_commit: 'on', fsync: 'on' })).toBe(true);
    expect(isDurable({ synchronous_commit: 'local', fsync: 'on' })).toBe(true);
    expect(isDurable({ synchronous_commit: 'off', fsync: 'on' })).toBe(false);
    expect(isDurable({ synchronous_commit: 'on', fsync: 'off' })).toBe(false);
  });

  it('escapes LIKE wildcards in an email stem', () => {
    expect(likePrefix('load.a_b%c\\.')).toBe('load.a\\_b\\%c\\\\.%');
  });
});

describe('bench PostgreSQL bulk insert', () => {
  it('inserts one array per column, cast to the column type', () => {
    expect(unnestInsert('t', ['id', 'n'], { id: 'text', n: 'int4', other: 'text' })).toBe(
      'INSERT INTO t (id, n) SELECT * FROM unnest($1::text[], $2::int4[])',
    );
    expect(() => unnestInsert('t', ['id', 'missing'], { id: 'text' })).toThrow('t.missing: no such column');
  });

  it('turns rows into columns, nulls kept', () => {
    expect(
      toColumns(
        [
          ['a', 1, null],
          ['b', 2, 'x'],
        ],
        3,
      ),
    ).toEqual([
      ['a', 'b'],
      [1, 2],
      [null, 'x'],
    ]);
  });
});

describe('bench runs side by side', () => {
  const run = (over: Partial<LoadResult>): LoadResult => ({
    tool: 'wrk',
    durationS: 2,
    responses: 100,
    ok: 100,
    requestsPerSecond: 50,
    p50Ms: 1,
    p99Ms: 5,
    unexpected: 0,
    non2xx: 0,
    errors: 0,
    timeouts: 0,
    holdMs: 100,
    statusCounts: { '200': 100 },
    ...over,
  });

  it('sums requests and req/s, and takes the higher percentiles', () => {
    const sum = combineRuns([
      run({}),
      run({
        durationS: 2.1,
        responses: 90,
        ok: 80,
        requestsPerSecond: 40,
        p50Ms: 2,
        p99Ms: 4,
        unexpected: 10,
        errors: 1,
        statusCounts: { '200': 80, '503': 10 },
      }),
    ]);
    expect(sum).toEqual(
      run({
        durationS: 2.1,
        responses: 190,
        ok: 180,
        requestsPerSecond: 90,
        p50Ms: 2,
        p99Ms: 5,
        unexpected: 10,
        errors: 1,
        statusCounts: { '200': 180, '503': 10 },
      }),
    );
  });

  it('refuses nothing to combine', () => {
    expect(() => combineRuns([])).toThrow('no runs');
  });
});
