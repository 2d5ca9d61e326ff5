import type { Kysely, Migration, MigrationProvider } from 'kysely';
import type { Dialect } from '../database.js';
import * as m001 from './001-initial.js';
import * as m002 from './002-users-mail.js';
import * as m003 from './003-account-holder.js';
import * as m004 from './004-rate-limits.js';
import * as m005 from './005-row-counts.js';
import * as m006 from './006-covering-list-indexes.js';
import * as m007 from './007-mail-by-invitation.js';
import * as m008 from './008-mail-template-data.js';
import * as m009 from './009-mail-claim-owner.js';
import * as m010 from './010-sandbox-testers.js';
import * as m011 from './011-mail-due-order.js';
import * as m012 from './012-apps-version.js';

type DialectMigration = {
  up(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
  down(db: Kysely<unknown>, dialect: Dialect): Promise<void>;
};

/** Versioned migrations, applied in name order at start-up. Never edit one that has shipped. */
const migrations: Record<string, DialectMigration> = {
  '001-initial': m001,
  '002-users-mail': m002,
  '003-account-holder': m003,
  '004-rate-limits': m004,
  '005-row-counts': m005,
  '006-covering-list-indexes': m006,
  '007-mail-by-invitation': m007,
  '008-mail-template-data': m008,
  '009-mail-claim-owner': m009,
  '010-sandbox-testers': m010,
  '011-mail-due-order': m011,
  '012-apps-version': m012,
};

export function migrationProvider(dialect: Dialect): MigrationProvider {
  const bound: Record<string, Migration> = {};
  for (const [name, m] of Object.entries(migrations)) {
    bound[name] = { up: (db) => m.up(db, dialect), down: (db) => m.down(db, dialect) };
  }
  return { getMigrations: async () => bound };
}
