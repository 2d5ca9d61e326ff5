/** The command line of `npm run bench`. */
import { parseArgs } from 'node:util';
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
  --keep-data       keep the databases under bench/.data/ afterwards`;

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
}

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
  return {
    size: positive(values.size, 'size', quick ? 2000 : 100_000),
    durationS: positive(values.duration, 'duration', quick ? 2 : 10),
    warmupS: positive(values.warmup, 'warmup', quick ? 1 : 3),
    connections: positive(values.connections, 'connections', 50),
    quick,
    scenarios,
    wrk: !values['no-wrk'],
    cpuProf: values['cpu-prof'],
    keepData: values['keep-data'],
  };
}
