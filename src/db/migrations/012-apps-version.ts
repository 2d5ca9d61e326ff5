import { sql, type Kysely } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Version 12, PostgreSQL only: a version of the apps, one number that every statement changing the
 * apps table increments (a statement trigger, so the CLI, the emulator, another instance or an
 * operator's own SQL all count). A page that includes apps reads it instead of the apps themselves
 * and reads them again only when it moved (src/http/read-cache/app-snapshot.ts). SQLite needs none:
 * its database version already moves with every write, from any process.
 *
 * The trigger's function keeps the search path it was made with, so that it finds the table from a
 * session whose search path names another schema.
 */
export async function up(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`create table apps_version (id integer primary key check (id = 1), n bigint not null)`.execute(db);
  await sql`insert into apps_version (id, n) values (1, 0)`.execute(db);
  await sql`create function asc_apps_changed() returns trigger language plpgsql set search_path from current as $$
    begin
      update apps_version set n = n + 1 where id = 1;
      return null;
    end
  $$`.execute(db);
  await sql`create trigger apps_changed after insert or update or delete or truncate on apps
    for each statement execute function asc_apps_changed()`.execute(db);
}

export async function down(db: Kysely<unknown>, dialect: Dialect): Promise<void> {
  if (dialect !== 'postgres') return;
  await sql`drop trigger apps_changed on apps`.execute(db);
  await sql`drop function asc_apps_changed()`.execute(db);
  await sql`drop table apps_version`.execute(db);
}
