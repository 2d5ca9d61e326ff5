/**
 * Reads of the same list page that arrive together share a statement (src/db/shared-list-reads.ts).
 * The statement is played by a function whose answers the test releases by hand, reading a table
 * that the test may change while a statement is out: no read may be answered from a statement sent
 * before it arrived, and reads of different pages never share one.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ListRequest } from '../../../src/db/list-query.js';
import type { Executor } from '../../../src/db/schema.js';
import { SharedListReads, type PageAndCount } from '../../../src/db/shared-list-reads.js';

type Row = { id: string };

interface Statement {
  req: ListRequest;
  limit: number;
  /** the table's version when the statement was sent (its snapshot) */
  version: number;
  release: () => void;
  fail: (err: Error) => void;
}

/** A list whose row names the table's version and the page size, read by statements that wait until released. */
function database() {
  const state = { version: 0 };
  const statements: Statement[] = [];
  const run = (_db: Executor, req: ListRequest, limit: number) =>
    new Promise<PageAndCount<Row>>((resolve, reject) => {
      const version = state.version;
      statements.push({
        req,
        limit,
        version,
        release: () => resolve({ rows: [{ id: `v${version}:${limit}` }], total: version }),
        fail: reject,
      });
    });
  return { state, statements, run };
}

const handle = (isTransaction = false) => ({ isTransaction }) as unknown as Executor;

/** Lets the reads asked for in this turn go out (they leave at the end of the turn). */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

const request = (scope: string, filters: ListRequest['filters'] = [undefined]): ListRequest => ({
  scope,
  filters,
  sort: [{ column: 'id', desc: false }],
});

describe('SharedListReads', () => {
  it('reads the same page asked for in one turn with one statement, with the latest scope', async () => {
    const db = database();
    const reads = new SharedListReads(db.run);
    const h = handle();
    const asked = ['2026-01-01T00:00:00.002Z', '2026-01-01T00:00:00.003Z', '2026-01-01T00:00:00.001Z'].map((t) =>
      reads.read(h, request(t), 50),
    );
    expect([reads.reading, reads.pages]).toEqual([3, 1]);
    await endOfTurn();
    expect(db.statements.map((s) => [s.req.scope, s.limit])).toEqual([['2026-01-01T00:00:00.003Z', 50]]);
    db.statements[0]!.release();
    const answers = await Promise.all(asked);
    expect(answers.map((a) => a.rows)).toEqual([[{ id: 'v0:50' }], [{ id: 'v0:50' }], [{ id: 'v0:50' }]]);
    // each read its own array
    expect(new Set(answers.map((a) => a.rows)).size).toBe(3);
    expect([reads.reading, reads.pages]).toEqual([0, 0]);
  });

  it('never shares a statement between different pages', async () => {
    const db = database();
    const reads = new SharedListReads(db.run);
    const h = handle();
    const t = '2026-01-01T00:00:00.000Z';
    const pages: Array<[ListRequest, number]> = [
      [request(t), 50],
      [request(t), 20],
      [request(t, [['a@example.com']]), 50],
      [request(t, [['b@example.com']]), 50],
      [{ ...request(t), sort: [{ column: 'id', desc: true }] }, 50],
      [{ ...request(t), after: { keys: [], id: 'x' } }, 50],
      [{ ...request(t), after: { keys: [], id: 'y' } }, 50],
      [{ filters: [undefined], sort: [{ column: 'id', desc: false }] }, 50],
    ];
    const asked = pages.map(([req, limit]) => reads.read(h, req, limit));
    await endOfTurn();
    expect(db.statements.map((s) => [s.req, s.limit])).toEqual(pages);
    for (const s of db.statements) s.release();
    await Promise.all(asked);
    // another database handle is another database
    const other = [reads.read(h, request(t), 50), reads.read(handle(), request(t), 50)];
    await endOfTurn();
    expect(db.statements).toHaveLength(pages.length + 2);
    for (const s of db.statements.slice(pages.length)) s.release();
    await Promise.all(other);
    expect([reads.reading, reads.pages]).toEqual([0, 0]);
  });

  it('never answers a read from a statement sent before it arrived', async () => {
    const db = database();
    const reads = new SharedListReads(db.run);
    const h = handle();
    const first = reads.read(h, request('t1'), 50);
    await endOfTurn();
    expect(db.statements).toHaveLength(1);
    // written after the first statement went out, before the next reads arrived
    db.state.version = 1;
    const later = [reads.read(h, request('t2'), 50), reads.read(h, request('t3'), 50)];
    await endOfTurn();
    // one statement of a page out at a time: the later reads wait for the next
    expect(db.statements).toHaveLength(1);
    db.statements[0]!.release();
    expect((await first).rows).toEqual([{ id: 'v0:50' }]);
    expect(db.statements).toHaveLength(2);
    expect(db.statements[1]!.req.scope).toBe('t3');
    db.statements[1]!.release();
    expect((await Promise.all(later)).map((a) => a.total)).toEqual([1, 1]);
    expect([reads.reading, reads.pages]).toEqual([0, 0]);
  });

  it('runs reads inside a transaction at once, each on its own', async () => {
    const db = database();
    const reads = new SharedListReads(db.run);
    const tx = handle(true);
    const asked = [reads.read(tx, request('t'), 50), reads.read(tx, request('t'), 50)];
    // sent before the turn ends
    expect(db.statements).toHaveLength(2);
    for (const s of db.statements) s.release();
    expect((await Promise.all(asked)).map((a) => a.total)).toEqual([0, 0]);
  });

  it('fails the reads of a failed statement only; the next statement still goes', async () => {
    const db = database();
    const reads = new SharedListReads(db.run);
    const h = handle();
    const failed = [reads.read(h, request('t1'), 50), reads.read(h, request('t1'), 50)];
    await endOfTurn();
    const next = reads.read(h, request('t2'), 50);
    await endOfTurn();
    db.statements[0]!.fail(new Error('connection lost'));
    for (const f of failed) await expect(f).rejects.toThrow('connection lost');
    expect(db.statements).toHaveLength(2);
    db.statements[1]!.release();
    expect((await next).rows).toEqual([{ id: 'v0:50' }]);
    expect([reads.reading, reads.pages]).toEqual([0, 0]);
  });

  it('fails the reads of a statement that throws instead of rejecting', async () => {
    const reads = new SharedListReads<Row>(() => {
      throw new Error('no connection');
    });
    const h = handle();
    const asked = [reads.read(h, request('t'), 50), reads.read(h, request('t'), 50)];
    for (const a of asked) await expect(a).rejects.toThrow('no connection');
    expect([reads.reading, reads.pages]).toEqual([0, 0]);
  });

  it('answers every read of any interleaving from a statement of its own page, sent after it arrived', async () => {
    // a step: a read of one of three pages, the end of a turn, a write, or the oldest statement out released
    const step = fc.oneof(
      fc.record({ read: fc.integer({ min: 0, max: 2 }) }),
      fc.constant({ turn: true as const }),
      fc.constant({ write: true as const }),
      fc.constant({ release: true as const }),
    );
    await fc.assert(
      fc.asyncProperty(fc.array(step, { maxLength: 40 }), async (steps) => {
        const db = database();
        const reads = new SharedListReads(db.run);
        const h = handle();
        const limits = [10, 20, 30];
        const asked: Array<{ page: number; version: number; answer: Promise<PageAndCount<Row>> }> = [];
        const released = new Set<Statement>();
        const releaseOldest = () => {
          const s = db.statements.find((x) => !released.has(x));
          if (!s) return;
          released.add(s);
          s.release();
        };
        for (const s of steps) {
          if ('read' in s) asked.push({ page: s.read, version: db.state.version, answer: reads.read(h, request('t'), limits[s.read]!) });
          else if ('turn' in s) await endOfTurn();
          else if ('write' in s) db.state.version++;
          else releaseOldest();
          // never two statements of one page out at once
          const out = db.statements.filter((x) => !released.has(x));
          expect(new Set(out.map((x) => x.limit)).size).toBe(out.length);
        }
        // everything left goes out and comes back
        while (reads.reading > 0) {
          await endOfTurn();
          releaseOldest();
        }
        for (const a of asked) {
          const { rows, total } = await a.answer;
          // a statement of its own page, whose snapshot is no older than the read
          expect(rows[0]!.id.endsWith(`:${limits[a.page]}`)).toBe(true);
          expect(total).toBeGreaterThanOrEqual(a.version);
        }
        expect(db.statements.every((x) => released.has(x))).toBe(true);
        expect(reads.pages).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
