/**
 * Queries built once and run many times with new arguments. Kysely builds and compiles a query
 * anew on every call; on the eight small statements of a create that costs about as much as SQLite
 * takes to run them (issue 5's profile: 16% of the server's time under creates, against 34% in
 * SQLite). A PreparedQuery builds its query once per shape and dialect with a marker in each
 * argument's place, notes where the compiled query takes each marker among its parameters, and
 * from then on only puts the arguments in those places. The SQL text is then the same string
 * every time, so the statement cache (./database.ts) finds it without hashing a new string.
 *
 * The query must take every argument as a bound parameter, never inline it into the SQL (no
 * sql.lit, sql.raw or sql.ref of an argument): compiling checks that and throws otherwise.
 */
import type { CompiledQuery, Compilable, DialectAdapter, QueryResult } from 'kysely';
import type { Database, Executor } from './schema.js';

/** A query's argument `index`, as a placeholder that fits any column (it is replaced before the query runs). */
export type Arg = (index: number) => never;

/** Arguments 0 to count - 1, as a list (an IN list of as many values as the shape says). */
export function firstArgs(arg: Arg, count: number): never[] {
  return Array.from({ length: count }, (_, i) => arg(i));
}

const MARK = '\u0000asc-access-argument:';

function marker(index: number): never {
  return `${MARK}${index}\u0000` as never;
}

/** Where each parameter comes from: an argument's index, or a constant the query holds itself. */
type Slot = number | { constant: unknown };

interface Compiled<R> {
  template: CompiledQuery<R>;
  slots: Slot[];
}

function compile<R>(query: Compilable<R>, arity: number): Compiled<R> {
  const template = query.compile();
  if (template.sql.includes(MARK)) throw new Error(`a prepared query inlines an argument into its SQL: ${template.sql}`);
  const seen = new Set<number>();
  const slots = template.parameters.map((value): Slot => {
    if (typeof value !== 'string' || !value.startsWith(MARK)) return { constant: value };
    const index = Number(value.slice(MARK.length, -1));
    seen.add(index);
    return index;
  });
  for (let i = 0; i < arity; i++) {
    if (!seen.has(i)) throw new Error(`a prepared query does not bind its argument ${i}: ${template.sql}`);
  }
  return { template, slots };
}

/**
 * Shapes kept per dialect: a query whose shape is a count (rows, ids) given by a request is kept for
 * the first shapes seen only, so no sequence of requests can make the kept SQL grow without bound.
 * A shape past these is built for each run, as Kysely does anyway.
 */
export const MAX_SHAPES = 64;

export class PreparedQuery<Shape, R = unknown> {
  /** per dialect (the adapter of the Kysely instance), then per shape's key */
  private readonly compiled = new WeakMap<DialectAdapter, Map<unknown, Compiled<R>>>();

  /**
   * `build` makes the query of one shape, taking argument i from `arg(i)`; `arity` says how many
   * arguments a query of that shape takes. A shape that is not a number or a string (say, which
   * filters a list has and how many values each) is told apart by `key`: two shapes with the same
   * key must build the same SQL.
   */
  constructor(
    private readonly build: (db: Executor, arg: Arg, shape: Shape) => Compilable<R>,
    private readonly arity: (shape: Shape) => number,
    private readonly key: (shape: Shape) => unknown = (shape) => shape,
  ) {}

  /** Runs the query of `shape` with `args` on `db` (a Kysely instance or a transaction). */
  async execute(db: Executor, shape: Shape, args: readonly unknown[]): Promise<QueryResult<R>> {
    const arity = this.arity(shape);
    if (args.length !== arity) throw new Error(`a prepared query takes ${arity} arguments, got ${args.length}`);
    const adapter = db.getExecutor().adapter;
    let byShape = this.compiled.get(adapter);
    if (!byShape) this.compiled.set(adapter, (byShape = new Map<unknown, Compiled<R>>()));
    const key = this.key(shape);
    let compiled = byShape.get(key);
    if (!compiled) {
      compiled = compile(this.build(db, marker, shape), arity);
      if (byShape.size < MAX_SHAPES) byShape.set(key, compiled);
    }
    const parameters = compiled.slots.map((slot) => (typeof slot === 'number' ? args[slot] : slot.constant));
    return db.executeQuery<R>({ ...compiled.template, parameters });
  }
}

/**
 * An INSERT of whole rows into `table`: each row gives a value (or null) for every one of
 * `columns`. Built once per number of rows.
 */
export class PreparedInsert<Row> {
  private readonly query: PreparedQuery<number>;

  constructor(
    table: keyof Database,
    private readonly columns: readonly (keyof Row & string)[],
  ) {
    this.query = new PreparedQuery(
      (db, arg, rows) =>
        db
          .insertInto(table)
          .values(
            Array.from({ length: rows }, (_, r) => Object.fromEntries(columns.map((column, c) => [column, arg(r * columns.length + c)]))),
          ),
      (rows) => rows * columns.length,
    );
  }

  execute(db: Executor, rows: readonly Row[]): Promise<QueryResult<unknown>> {
    const args: unknown[] = [];
    for (const row of rows) for (const column of this.columns) args.push(row[column] ?? null);
    return this.query.execute(db, rows.length, args);
  }
}

/**
 * The columns of a row type, from a record that must name every one of them (the compiler
 * checks it), so a column added to the table cannot be left out of a PreparedInsert.
 */
export function everyColumn<Row>(columns: Record<keyof Row & string, true>): (keyof Row & string)[] {
  return Object.keys(columns) as (keyof Row & string)[];
}
