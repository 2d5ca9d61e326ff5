/**
 * startEmulator (asc-access/testing) on the suite's dialect: SQLite in the helper's own temporary
 * directory, or under ASC_TEST_DIALECT=postgres a schema of its own on ASC_TEST_PG_URL, dropped
 * when the emulator stops.
 */
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { startEmulator, type Emulator, type StartEmulatorOptions } from '../../src/testing/index.js';
import { TEST_DIALECT, TEST_PG_URL, pgUrlFor } from './harness.js';

export async function startTestEmulator(options: Omit<StartEmulatorOptions, 'dialect' | 'databaseUrl'> = {}): Promise<Emulator> {
  if (TEST_DIALECT !== 'postgres') return startEmulator(options);
  const schema = `t_emu_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const emulator = await startEmulator({ ...options, dialect: 'postgres', databaseUrl: pgUrlFor(schema) });
  const stop = emulator.stop;
  let stopping: Promise<void> | undefined;
  const dropSchema = async () => {
    const client = new pg.Client({ connectionString: TEST_PG_URL });
    await client.connect();
    try {
      await client.query(`drop schema if exists ${schema} cascade`);
    } finally {
      await client.end();
    }
  };
  return Object.assign(emulator, {
    stop: () => (stopping ??= stop().then(dropSchema)),
  });
}
