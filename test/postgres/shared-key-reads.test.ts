/**
 * Key reads that arrive together share a statement (src/keys/shared-key-reads.ts), through the
 * server: while another transaction holds the keys' table, the first key statements wait for it and
 * every request that arrives meanwhile joins the next one. Each request still gets its own key's
 * answer: a live key its page, a revoked key and an unknown key 401. With
 * ASC_TEST_SHARED_KEY_READS=off each request reads its key alone, and the answers are the same.
 */
import pg from 'pg';
import { describe, expect, it, vi } from 'vitest';
import { PG_POOL_SIZE } from '../../src/db/database.js';
import { MAX_IN_FLIGHT, SharedKeyReads } from '../../src/keys/shared-key-reads.js';
import { useTestServer } from '../helpers/harness.js';

const LIST = '/v1/userInvitations?limit=1';

describe('key reads on PostgreSQL', () => {
  const s = useTestServer();

  it('share statements while the keys cannot be read, and each request gets its own answer', async () => {
    const live = await s.keyWithRole('ADMIN');
    const revoked = await s.keyWithRole('DEVELOPER');
    await s.services.keys.revoke(revoked.keyId);
    const unknown = await s.token({ privateKeyPem: live.privateKeyPem, keyId: 'NOSUCHKEY1' });
    const tokens = Array.from({ length: 24 }, (_, i) => [live.token, revoked.token, unknown][i % 3]!);
    const statements = vi.spyOn(s.services.keys, 'findMany');

    // the lock and the polling on connections of their own, not the server's pool
    const holder = new pg.Client({ connectionString: s.config.databaseUrl });
    const watcher = new pg.Client({ connectionString: s.config.databaseUrl });
    await holder.connect();
    await watcher.connect();
    await holder.query('begin');
    await holder.query('lock table api_keys in access exclusive mode');
    const answers = tokens.map((token) => s.call('GET', LIST, { token }));
    const shared = s.services.keyLookup instanceof SharedKeyReads ? s.services.keyLookup : undefined;
    // every request is waiting for its key (a condition, polled): with shared reads, behind the
    // statements that wait for the lock
    await expect
      .poll(async () => {
        const waiting = await watcher.query<{ n: number }>(
          `select count(*)::integer as n from pg_stat_activity where wait_event_type = 'Lock' and query like '%from "api_keys"%'`,
        );
        return shared ? [waiting.rows[0]!.n, shared.reading] : [waiting.rows[0]!.n];
      })
      .toEqual(shared ? [MAX_IN_FLIGHT, tokens.length] : [Math.min(tokens.length, PG_POOL_SIZE)]);
    await holder.query('commit');
    await holder.end();
    await watcher.end();

    const statuses = (await Promise.all(answers)).map((r) => r.status);
    expect(statuses).toEqual(tokens.map((t) => (t === live.token ? 200 : 401)));
    if (shared) {
      // the two that waited, and one for everyone who arrived while they did
      expect(statements.mock.calls.length).toBe(MAX_IN_FLIGHT + 1);
      expect(shared.reading).toBe(0);
    } else {
      expect(statements).not.toHaveBeenCalled();
    }
  });

  it('answers a token whose key id holds a NUL with 401, and the requests beside it as usual', async () => {
    const live = await s.keyWithRole('ADMIN');
    const nul = await s.token({ privateKeyPem: live.privateKeyPem, keyId: 'BAD\u0000KEY' });
    const answers = await Promise.all([live.token, nul, live.token, nul].map((token) => s.call('GET', LIST, { token })));
    expect(answers.map((r) => r.status)).toEqual([200, 401, 200, 401]);
  });

  it('refuses a key at once after its revocation commits', async () => {
    const key = await s.keyWithRole('ADMIN');
    const reads = await Promise.all(Array.from({ length: 8 }, () => s.call('GET', LIST, { token: key.token })));
    expect(reads.map((r) => r.status)).toEqual(Array(8).fill(200));
    await s.services.keys.revoke(key.keyId);
    const after = await Promise.all(Array.from({ length: 8 }, () => s.call('GET', LIST, { token: key.token })));
    expect(after.map((r) => r.status)).toEqual(Array(8).fill(401));
  });
});
