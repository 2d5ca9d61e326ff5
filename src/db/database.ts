/**
 * Opens the database the configuration names: the embedded SQLite file under the data directory,
 * or PostgreSQL when ASC_DATABASE_URL is set. Applies pending migrations before anything else runs.
 */
import { chmodSync, closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  SqliteDriver,
  sql,
  type DatabaseConnection,
  type Driver,
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type SchemaMetadata,
  type SqliteDatabase,
  type SqliteDialectConfig,
  type TableMetadata,
} from 'kysely';
import pg from 'pg';
import type { Config } from '../config.js';
import { Checkpointer, FALLBACK_AUTOCHECKPOINT_PAGES } from './checkpointer.js';
import { isStorageUnavailable, storageCause } from './storage-errors.js';
import { migrationProvider } from './migrations/index.js';
import { namingPool } from './pg-statements.js';
import type { Database } from './schema.js';

export type Dialect = 'sqlite' | 'postgres';

export interface Db {
  readonly kysely: Kysely<Database>;
  readonly dialect: Dialect;
  /**
   * SQLite: a value that changes whenever what the database holds may have changed since it was
   * last read: a commit by any other connection (another process; the checkpointer's connection
   * commits nothing) shows in `data_version`, every row this connection inserts, updates or deletes
   * in `total_changes()`, counted when the statement runs, before its commit. So a value read before a read of the data
   * still equals the current one only if nothing was written since. Undefined on PostgreSQL, where
   * other instances write and no such value is at hand: there nothing is cached by it.
   */
  readonly version?: () => string;
  close(): Promise<void>;
}

/** The server connection's SQLite page cache, in KiB. */
export const PAGE_CACHE_KIB = 4000;

export const SQLITE_FILE_NAME = 'asc-access.sqlite';

export function sqliteFile(config: Pick<Config, 'dataDir'>): string {
  return path.join(config.dataDir, SQLITE_FILE_NAME);
}

/**
 * Creates the data directory, if it does not exist, readable by its owner only (0700, whatever the
 * umask). An existing directory keeps the mode its operator gave it.
 */
export function ensurePrivateDirectory(dir: string): void {
  const created = mkdirSync(dir, { recursive: true, mode: 0o700 });
  if (created !== undefined) chmodSync(dir, 0o700);
}

/** The database's files: they hold every pending invitation's activation link. */
const PRIVATE_FILE_MODE = 0o600;

function openSqlite(file: string): Db {
  ensurePrivateDirectory(path.dirname(file));
  // The database file is created 0600 before SQLite opens it (SQLite would create it 0644 under
  // the usual umask); one left by an older version is made 0600 too.
  closeSync(openSync(file, 'a', PRIVATE_FILE_MODE));
  chmodSync(file, PRIVATE_FILE_MODE);
  const database = new SQLite(file);
  database.pragma('journal_mode = WAL');
  // SQLite creates -wal and -shm with the database file's mode; these may have been left by an
  // older version with a wider one.
  for (const companion of [`${file}-wal`, `${file}-shm`]) if (existsSync(companion)) chmodSync(companion, PRIVATE_FILE_MODE);
  // FULL: a commit is on disk before we acknowledge it, so acknowledged writes survive kill -9
  // and power loss alike.
  database.pragma('synchronous = FULL');
  database.pragma('foreign_keys = ON');
  database.pragma('busy_timeout = 5000');
  // What a write removes is overwritten with zeros, not left in the page's free space or on a free
  // page: a sent message's activation link (OutboxRepository.markDelivered) is gone from the file,
  // not only from the row. It costs a write only where a page is freed (deletes that empty one).
  database.pragma('secure_delete = ON');
  // Savepoints (one per unit of a group commit) and statement journals keep the pages they change in
  // a temporary sub-journal: in memory, not in a temporary file written on every create.
  database.pragma('temp_store = MEMORY');
  // better-sqlite3 builds SQLite with a 16 MB page cache per connection. Past the interior pages
  // of the indexes it holds a sliver of a large database either way: the OS page cache holds the rest,
  // a pread away. 4 MB keeps 12 MB off the resident set at 1,000,000 invitations, with no loss
  // measured in creates or in pages read anew (docs/architecture.md, Memory).
  database.pragma(`cache_size = -${PAGE_CACHE_KIB}`);
  // checkpoints run in a worker thread (./checkpointer.ts); this connection only as a fallback
  database.pragma(`wal_autocheckpoint = ${FALLBACK_AUTOCHECKPOINT_PAGES}`);
  const checkpointer = new Checkpointer(file);
  const kysely = new Kysely<Database>({ dialect: new OwnSqliteDialect({ database: withStatementCache(database) }, database) });
  // run directly, not through Kysely: they need no connection of their own, as they read no table.
  // Two plain statements cost less than one select over the pragma's table-valued function (2.5
  // against 3.8 us unloaded); total_changes() needs no read transaction, data_version does.
  const dataVersion = database.prepare('pragma data_version').pluck();
  const totalChanges = database.prepare('select total_changes()').pluck();
  return {
    kysely,
    dialect: 'sqlite',
    version() {
      return `${dataVersion.get() as number}.${totalChanges.get() as number}`;
    },
    async close() {
      await checkpointer.stop();
      await kysely.destroy();
    },
  };
}

/**
 * On some errors (disk full, I/O error) SQLite rolls the whole transaction back itself; Kysely's
 * rollback that follows would then fail with "cannot rollback - no transaction is active" and be
 * thrown instead of the error that caused it. Here it is skipped when no transaction is open.
 */
class OwnSqliteDriver extends SqliteDriver {
  constructor(
    config: SqliteDialectConfig,
    private readonly database: SQLite.Database,
  ) {
    super(config);
  }

  override async rollbackTransaction(connection: DatabaseConnection): Promise<void> {
    if (this.database.inTransaction) await super.rollbackTransaction(connection);
  }
}

class OwnSqliteDialect extends SqliteDialect {
  constructor(
    private readonly config: SqliteDialectConfig,
    private readonly database: SQLite.Database,
  ) {
    super(config);
  }

  override createDriver(): Driver {
    return new OwnSqliteDriver(this.config, this.database);
  }
}

/** How many prepared statements one SQLite database keeps. */
const STATEMENT_CACHE_SIZE = 500;

/**
 * Kysely prepares every query it runs anew; compiling the SQL costs about as much as running one of
 * our small queries. This keeps the most recently used statements by their SQL text (least recently
 * used out first), so a hot query is compiled once. Safe because better-sqlite3 runs a statement to
 * completion synchronously and Kysely never streams here.
 */
function withStatementCache(database: SQLite.Database): SqliteDatabase {
  const statements = new Map<string, SQLite.Statement>();
  return {
    close: () => database.close(),
    prepare(text: string) {
      let statement = statements.get(text);
      if (statement) {
        statements.delete(text);
      } else {
        statement = database.prepare(text);
        if (statements.size >= STATEMENT_CACHE_SIZE) statements.delete(statements.keys().next().value!);
      }
      statements.set(text, statement);
      return statement;
    },
  };
}

/** Connections per instance; each instance of asc-access holds its own pool. */
export const PG_POOL_SIZE = 10;

/**
 * What Kysely's Migrator asks of an introspector: the schemas, and the tables of the connection's
 * own schema (names only: it looks for its bookkeeping tables). Kysely's own introspector lists the
 * columns of every table of every schema, with functions that resolve each table by name, and so
 * fails when another tenant of the database drops a schema meanwhile (the tests do, all the time).
 */
class OwnSchemaIntrospector implements DatabaseIntrospector {
  constructor(private readonly db: Kysely<unknown>) {}

  async getSchemas(): Promise<SchemaMetadata[]> {
    const rows = await sql<{ name: string }>`select nspname as name from pg_catalog.pg_namespace`.execute(this.db);
    return rows.rows;
  }

  async getTables(): Promise<TableMetadata[]> {
    const rows = await sql<{ name: string; schema: string; isView: boolean }>`
      select c.relname as name, n.nspname as schema, c.relkind in ('v', 'm') as "isView"
      from pg_catalog.pg_class c join pg_catalog.pg_namespace n on n.oid = c.relnamespace
      where n.nspname = current_schema() and c.relkind in ('r', 'p', 'v', 'm')`.execute(this.db);
    return rows.rows.map((r) => ({ ...r, columns: [] }));
  }

  async getMetadata(): Promise<DatabaseMetadata> {
    return { tables: await this.getTables() };
  }
}

class OwnSchemaPostgresDialect extends PostgresDialect {
  override createIntrospector(db: Parameters<PostgresDialect['createIntrospector']>[0]): DatabaseIntrospector {
    return new OwnSchemaIntrospector(db);
  }
}

/**
 * A pool on the URL. Settings such as the schema travel in the URL itself
 * (`?options=-c%20search_path%3Dmyschema`), so every process given the URL agrees.
 */
function openPostgres(url: string, onError: (err: Error) => void, namedStatements: boolean): Db {
  const pool = new pg.Pool({ connectionString: url, max: PG_POOL_SIZE });
  // An idle client that loses its connection must not crash the process; the pool replaces it.
  pool.on('error', onError);
  // Nor may one in use: pg emits 'error' on the client as well as failing its query, and the pool
  // listens only while the client is idle. The query's caller hears of it; the pool drops the client
  // when it is released, as it is no longer queryable.
  pool.on('connect', (client) => client.on('error', () => undefined));
  // texts that come back run as named statements (./pg-statements.ts), unless switched off
  const kysely = new Kysely<Database>({ dialect: new OwnSchemaPostgresDialect({ pool: namedStatements ? namingPool(pool) : pool }) });
  return { kysely, dialect: 'postgres', close: () => kysely.destroy() };
}

/**
 * The connection's schema: the first of its search_path. A URL may name one that does not exist
 * yet (`?options=-c%20search_path%3Dasc`); it is created.
 */
async function ensurePostgresSchema(db: Db): Promise<string> {
  const current = async () => (await sql<{ schema: string | null }>`select current_schema() as schema`.execute(db.kysely)).rows[0]?.schema;
  const existing = await current();
  if (existing) return existing;
  const searchPath = (await sql<{ path: string }>`select current_setting('search_path') as path`.execute(db.kysely)).rows[0]?.path ?? '';
  const wanted = searchPath
    .split(',')
    .map((p) => p.trim().replace(/^"(.*)"$/, '$1'))
    .find((p) => p !== '' && p !== '$user');
  if (!wanted) throw new Error('ASC_DATABASE_URL selects no schema (search_path is empty)');
  await sql`create schema if not exists ${sql.id(wanted)}`.execute(db.kysely);
  const created = await current();
  if (!created) throw new Error(`could not use the schema '${wanted}'`);
  return created;
}

export async function migrateToLatest(db: Db): Promise<void> {
  // On PostgreSQL the bookkeeping tables go into the connection's own schema: Kysely otherwise
  // finds another schema's tables of the same name and takes them for ours.
  const schema = db.dialect === 'postgres' ? await ensurePostgresSchema(db) : undefined;
  const migrator = new Migrator({
    db: db.kysely,
    provider: migrationProvider(db.dialect),
    ...(schema ? { migrationTableSchema: schema } : {}),
  });
  const { error, results } = await migrator.migrateToLatest();
  const failed = results?.find((r) => r.status === 'Error');
  if (error || failed) {
    throw new Error(`Database migration failed${failed ? ` at ${failed.migrationName}` : ''}: ${String(error)}`, { cause: error });
  }
}

/** Where errors of idle PostgreSQL connections go when the caller names no place: stderr. */
export function reportPoolError(err: Error): void {
  process.stderr.write(`asc-access: an idle PostgreSQL connection failed: ${err.message}\n`);
}

/**
 * Opens and migrates the configured database. `onError` hears of errors no query sees (an idle
 * PostgreSQL connection lost); the pool replaces the connection.
 */
export async function openDatabase(
  config: Pick<Config, 'dataDir' | 'databaseUrl'> & Partial<Pick<Config, 'pgNamedStatements'>>,
  onError: (err: Error) => void = reportPoolError,
): Promise<Db> {
  let db: Db;
  try {
    db = config.databaseUrl
      ? openPostgres(config.databaseUrl, onError, config.pgNamedStatements !== false)
      : openSqlite(sqliteFile(config));
  } catch (err) {
    throw unavailable(err, config);
  }
  try {
    await migrateToLatest(db);
  } catch (err) {
    await db.close().catch(() => undefined);
    throw unavailable(err, config);
  }
  return db;
}

/**
 * The database could not be opened: its files cannot be created or written (disk full, a path
 * that is not a directory, no permission) or PostgreSQL cannot be reached. The CLI reports it as
 * one line, without a stack trace: it is the operator's to fix, not a bug.
 */
export class DatabaseUnavailableError extends Error {
  override readonly name = 'DatabaseUnavailableError';
}

/** `err` as a DatabaseUnavailableError when it is one of storage (or of the file system); as is otherwise. */
function unavailable(err: unknown, config: Pick<Config, 'dataDir' | 'databaseUrl'>): unknown {
  const fileSystem = err instanceof Error && typeof (err as { syscall?: unknown }).syscall === 'string' && !config.databaseUrl;
  if (!isStorageUnavailable(err) && !fileSystem) return err;
  const where = config.databaseUrl ? 'the PostgreSQL database of ASC_DATABASE_URL' : `the database in ${config.dataDir}`;
  return new DatabaseUnavailableError(`cannot open ${where}: ${storageCause(err)}`, { cause: err });
}
