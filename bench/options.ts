/** The command line of `npm run bench`. */
import { parseArgs } from 'node:util';
import { DEFAULT_PG_URL } from './postgres.js';
import { SCENARIO_IDS, type ScenarioId } from './scenarios.js';

const USAGE = `Usage: npm run bench -- [options]
  --size N          invitations to seed (default 100000)
  --duration S      seconds per measured run (default 10)
  --warmup S        seconds of warm-up before each scenario (default 3)
  --connections C   concurrent connections (default 50)
  --quick           smoke run: 2,000 invitations, 2 s runs, 1 s warm-up
  --scenarios LIST  comma-separated subset of ${SCENARIO_IDS.join(',')}
  --no-wrk          skip wrk even when it is installed
  --cpu-prof        profile the server (node --cpu-prof) and report its top functions
  --keep-data       keep the databases afterwards (SQLite: under bench/.data/; PostgreSQL: the bench_* database)
  --database DB     sqlite (default) or postgres (ASC_TEST_PG_URL, else ${DEFAULT_PG_URL}; a fresh
                    database per run, dropped afterwards)
  --instances N     also load N asc-access processes on the one PostgreSQL database, the load split
                    between them, beside one instance (default 1; more needs --database postgres)`;

/** A bad command line: reported with the usage text, without a stack. */
export class UsageError extends Error {
  override name = 'UsageError';
  constructor(message: string) {
    super(`${message}\n\n${USAGE}`);
  }
}

export interface Options {
  size: number;
  durationS: number;
  warmupS: number;
  connections: number;
  quick: boolean;
  scenarios: ScenarioId[];
  wrk: boolean;
  cpuProf: boolean;
  keepData: boolean;
  database: DatabaseKind;
  /** asc-access processes in the multi-instance runs (1: none) */
  instances: number;
}

export type DatabaseKind = 'sqlite' | 'postgres';
const DATABASES: readonly DatabaseKind[] = ['sqlite', 'postgres'];
/** More processes than this would only share the two cores' time more thinly. */
export const MAX_INSTANCES = 8;

function positive(raw: string | undefined, name: string, fallback: number): number {
  if (raw === undefined) return fallback;
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new UsageError(`--${name} must be a positive whole number, got '${raw}'`);
  return n;
}

const SPEC = {
  size: { type: 'string' },
  duration: { type: 'string' },
  warmup: { type: 'string' },
  connections: { type: 'string' },
  quick: { type: 'boolean', default: false },
  scenarios: { type: 'string' },
  'no-wrk': { type: 'boolean', default: false },
  'cpu-prof': { type: 'boolean', default: false },
  'keep-data': { type: 'boolean', default: false },
  database: { type: 'string' },
  instances: { type: 'string' },
  help: { type: 'boolean', default: false },
} as const;

export function parseOptions(argv: string[]): Options {
  const parse = () => {
    try {
      return parseArgs({ args: argv, options: SPEC });
    } catch (err) {
      throw new UsageError(err instanceof Error ? err.message : String(err));
    }
  };
  const { values } = parse();
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick;
  const scenarios = values.scenarios === undefined ? [...SCENARIO_IDS] : (values.scenarios.split(',').map((s) => s.trim()) as ScenarioId[]);
  for (const s of scenarios)
    if (!SCENARIO_IDS.includes(s)) throw new UsageError(`unknown scenario '${s}' (known: ${SCENARIO_IDS.join(', ')})`);
  const database = (values.database?.trim().toLowerCase() ?? 'sqlite') as DatabaseKind;
  if (!DATABASES.includes(database)) throw new UsageError(`--database must be sqlite or postgres, got '${values.database}'`);
  const instances = positive(values.instances, 'instances', 1);
  if (instances > MAX_INSTANCES) throw new UsageError(`--instances must be at most ${MAX_INSTANCES}, got ${instances}`);
  if (instances > 1 && database !== 'postgres')
    throw new UsageError('--instances needs --database postgres: instances of asc-access share a PostgreSQL database, not a SQLite file');
  const connections = positive(values.connections, 'connections', 50);
  if (connections % instances !== 0)
    throw new UsageError(`--connections (${connections}) must be a multiple of --instances (${instances}): each instance gets as many`);
  return {
    size: positive(values.size, 'size', quick ? 2000 : 100_000),
    durationS: positive(values.duration, 'duration', quick ? 2 : 10),
    warmupS: positive(values.warmup, 'warmup', quick ? 1 : 3),
    connections,
    quick,
    scenarios,
    wrk: !values['no-wrk'],
    cpuProf: values['cpu-prof'],
    keepData: values['keep-data'],
    database,
    instances,
  };
}
