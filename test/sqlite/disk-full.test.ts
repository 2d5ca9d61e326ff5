/**
 * A full disk on SQLite, simulated with `max_page_count` on the server's own connection: the
 * database cannot grow, as on a full file system. Writes are refused with 503, `Retry-After` and an
 * ErrorResponse; the log says so once, with the cause; once there is room again, the next write
 * succeeds without a restart and nothing acknowledged before is lost.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { invitationBody, startTestServer, type ApiResponse, type TestServer } from '../helpers/harness.js';

interface LogLine {
  level: number;
  msg: string;
  err?: { message?: string };
}

const UNLIMITED_PAGES = 1_073_741_823;

describe('a full disk on SQLite', () => {
  const logs: LogLine[] = [];
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer({
      config: { logLevel: 'info', metrics: 'local' },
      logStream: { write: (line) => logs.push(JSON.parse(line) as LogLine) },
    });
  });
  afterAll(() => server.close());

  let counter = 0;
  const create = () =>
    server.call('POST', '/v1/userInvitations', { body: invitationBody({ email: `full-${++counter}@example.com` }), unchecked: true });

  it('refuses writes with 503 and one log line, then recovers by itself with nothing acknowledged lost', async () => {
    const acknowledged: string[] = [];
    for (let i = 0; i < 3; i++) {
      const res = await create();
      expect(res.status).toBe(201);
      acknowledged.push((res.body as { data: { id: string } }).data.id);
    }
    const pages = (await sql<{ page_count: number }>`pragma page_count`.execute(server.db.kysely)).rows[0]!.page_count;
    await sql.raw(`pragma max_page_count = ${pages}`).execute(server.db.kysely);

    // concurrent creates, so that group commit batches them; until well past the point the disk fills
    const refused: ApiResponse[] = [];
    for (let round = 0; round < 100 && refused.length < 40; round++) {
      for (const res of await Promise.all(Array.from({ length: 8 }, create))) {
        if (res.status === 201) acknowledged.push((res.body as { data: { id: string } }).data.id);
        else refused.push(res);
      }
    }
    expect(refused.length).toBeGreaterThanOrEqual(40);
    for (const res of refused) {
      expect(res.status, res.text).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^[1-9][0-9]*$/);
      expect(res.body).toEqual({
        errors: [
          {
            id: expect.any(String),
            status: '503',
            code: 'SERVICE_UNAVAILABLE',
            title: expect.any(String),
            detail: expect.any(String),
          },
        ],
      });
    }
    // GET /metrics counts them, as database errors and as answers
    const metrics = await (await fetch(`${server.baseUrl}/metrics`)).text();
    expect(metrics).toContain(`asc_database_errors_total{kind="unavailable",source="request"} ${refused.length}\n`);
    expect(metrics).toContain(`asc_http_requests_total{operation="POST /v1/userInvitations",status="503"} ${refused.length}\n`);
    // reads still work on a full disk
    expect((await server.call('GET', `/v1/userInvitations/${acknowledged[0]}`)).status).toBe(200);

    const errorLines = logs.filter((l) => l.level >= 50);
    expect(errorLines.map((l) => l.msg)).toEqual(['database unavailable: database or disk is full']);
    expect(logs.filter((l) => JSON.stringify(l).includes('cannot rollback'))).toEqual([]);

    await sql.raw(`pragma max_page_count = ${UNLIMITED_PAGES}`).execute(server.db.kysely);
    const after = await create();
    expect(after.status).toBe(201);
    acknowledged.push((after.body as { data: { id: string } }).data.id);
    expect(logs.filter((l) => l.msg.startsWith('database available again')).map((l) => l.msg)).toEqual([
      `database available again after ${refused.length} failed requests`,
    ]);

    for (const id of acknowledged) expect((await server.call('GET', `/v1/userInvitations/${id}`)).status, id).toBe(200);
  });
});
