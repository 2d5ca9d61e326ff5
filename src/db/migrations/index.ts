import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';

/** Versioned migrations, applied in name order at start-up. Never edit one that has shipped. */
const migrations: Record<string, Migration> = {
  '001-initial': m001,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
