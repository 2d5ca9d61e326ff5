import type { Migration, MigrationProvider } from 'kysely';
import * as m001 from './001-initial.js';
import * as m002 from './002-users-mail.js';
import * as m003 from './003-account-holder.js';

/** Versioned migrations, applied in name order at start-up. Never edit one that has shipped. */
const migrations: Record<string, Migration> = {
  '001-initial': m001,
  '002-users-mail': m002,
  '003-account-holder': m003,
};

export const migrationProvider: MigrationProvider = {
  getMigrations: async () => migrations,
};
