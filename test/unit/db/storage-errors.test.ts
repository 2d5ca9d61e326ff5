/**
 * Which errors say the database is unavailable for now (src/db/storage-errors.ts), on real error
 * objects: SQLite's from better-sqlite3, Node's from a refused socket, pg's from a server that
 * drops the connection; and the incident log: one line when it starts, one when it ends.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import SQLite from 'better-sqlite3';
import pg from 'pg';
import pino from 'pino';
import { afterAll, describe, expect, it } from 'vitest';
import { isStorageUnavailable, storageCause, StorageIncidents } from '../../../src/db/storage-errors.js';

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  throw new Error('expected a throw');
}

async function rejected(promise: Promise<unknown>): Promise<unknown> {
  return promise.then(
    () => {
      throw new Error('expected a rejection');
    },
    (err: unknown) => err,
  );
}

describe('isStorageUnavailable', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'asc-storage-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('SQLite: a full database (SQLITE_FULL) and a file that cannot be opened (SQLITE_CANTOPEN) are', () => {
    const db = new SQLite(path.join(dir, 'full.sqlite'));
    db.exec('create table t (v text)');
    const pages = db.pragma('page_count', { simple: true }) as number;
    db.pragma(`max_page_count = ${pages}`);
    const full = caught(() => {
      for (let i = 0; i < 1000; i++) db.prepare('insert into t values (?)').run('x'.repeat(2000));
    });
    expect(full).toMatchObject({ code: 'SQLITE_FULL' });
    expect(isStorageUnavailable(full)).toBe(true);
    expect(storageCause(full)).toBe('database or disk is full');
    db.close();

    // a directory where the database file should be
    const cannotOpen = caught(() => new SQLite(dir));
    expect(cannotOpen).toMatchObject({ code: 'SQLITE_CANTOPEN' });
    expect(isStorageUnavailable(cannotOpen)).toBe(true);
  });

  it('SQLite: a constraint or a syntax error is not', () => {
    const db = new SQLite(':memory:');
    db.exec('create table t (v text primary key)');
    db.prepare('insert into t values (?)').run('a');
    const unique = caught(() => db.prepare('insert into t values (?)').run('a'));
    expect(unique).toMatchObject({ code: 'SQLITE_CONSTRAINT_PRIMARYKEY' });
    expect(isStorageUnavailable(unique)).toBe(false);
    expect(isStorageUnavailable(caught(() => db.prepare('selec 1')))).toBe(false);
    db.close();
  });

  it('a storage error found as the cause of another is; plain errors and non-errors are not', () => {
    const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
    const wrapped = new Error('Database migration failed at 001', { cause: full });
    expect(isStorageUnavailable(wrapped)).toBe(true);
    expect(storageCause(wrapped)).toBe('database or disk is full');
    expect(isStorageUnavailable(new Error('boom'))).toBe(false);
    expect(isStorageUnavailable(new TypeError('x is undefined'))).toBe(false);
    expect(isStorageUnavailable('SQLITE_FULL')).toBe(false);
    expect(isStorageUnavailable(undefined)).toBe(false);
  });

  it('PostgreSQL: disk full (53100), shut down (57P01), connection exceptions (08xxx) are; a unique violation (23505) is not', () => {
    const pgError = (code: string) => Object.assign(new pg.DatabaseError('message', 0, 'error'), { code });
    for (const code of ['53100', '53200', '53300', '57P01', '57P02', '57P03', '08006', '08001', '58030']) {
      expect(isStorageUnavailable(pgError(code)), code).toBe(true);
    }
    for (const code of ['23505', '40001', '40P01', '42P01', '22P02']) expect(isStorageUnavailable(pgError(code)), code).toBe(false);
  });

  it('a refused connection (ECONNREFUSED) is, with its code as its cause when it has no message', async () => {
    const server = net.createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const client = new pg.Client({ host: '127.0.0.1', port, user: 'x', database: 'x' });
    const refused = await rejected(client.connect());
    expect(refused).toMatchObject({ code: 'ECONNREFUSED' });
    expect(isStorageUnavailable(refused)).toBe(true);
    expect(storageCause(Object.assign(new Error(''), { code: 'ECONNREFUSED' }))).toBe('ECONNREFUSED');
  });

  it("a connection the server drops (pg's 'Connection terminated unexpectedly') is", async () => {
    const server = net.createServer((socket) => socket.destroy());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const client = new pg.Client({ host: '127.0.0.1', port: (server.address() as net.AddressInfo).port, user: 'x', database: 'x' });
    const dropped = await rejected(client.connect());
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(isStorageUnavailable(dropped), String(dropped)).toBe(true);
  });
});

describe('StorageIncidents', () => {
  function capture() {
    const lines: { level: number; msg: string; failedRequests?: number }[] = [];
    const log = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line) as (typeof lines)[number]) });
    return { lines, log };
  }
  const full = Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });

  it('logs the first failure of an incident with its cause, counts the others, logs the end with the count', () => {
    const { lines, log } = capture();
    const incidents = new StorageIncidents();
    incidents.succeeded(log);
    expect(lines).toEqual([]);
    for (let i = 0; i < 1000; i++) incidents.failed(full, log);
    incidents.failed(full, log, false);
    expect(incidents.active).toBe(true);
    incidents.succeeded(log);
    incidents.succeeded(log);
    expect(incidents.active).toBe(false);
    expect(lines.map((l) => [l.level, l.msg])).toEqual([
      [50, 'database unavailable: database or disk is full'],
      [30, 'database available again after 1000 failed requests'],
    ]);
    // a second incident is logged again
    incidents.failed(full, log);
    expect(lines).toHaveLength(3);
  });

  it('keeps no state between instances', () => {
    const { lines, log } = capture();
    new StorageIncidents().failed(full, log);
    new StorageIncidents().failed(full, log);
    expect(lines.filter((l) => l.level === 50)).toHaveLength(2);
  });
});
