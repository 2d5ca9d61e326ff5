/**
 * Key reads that arrive together share a statement (src/keys/shared-key-reads.ts). The statement is
 * played by a function whose answers the test releases by hand, so each case can say exactly which
 * reads were out when a read arrived: none may be answered from a statement sent before it.
 */
import { describe, expect, it } from 'vitest';
import type { ApiKey } from '../../../src/keys/service.js';
import { SharedKeyReads } from '../../../src/keys/shared-key-reads.js';

function key(id: string, revokedAt: string | null = null): ApiKey {
  return { id, name: id, role: 'ADMIN', publicKeyPem: `PEM-${id}`, createdAt: '2026-01-01T00:00:00.000Z', revokedAt, userId: null };
}

/** A table of keys read by statements that wait until released; the table may change meanwhile. */
function database(rows: ApiKey[]) {
  const table = new Map(rows.map((k) => [k.id, k]));
  const statements: Array<{ ids: readonly string[]; release: () => void; fail: (err: Error) => void }> = [];
  const readMany = (ids: readonly string[]) =>
    new Promise<ApiKey[]>((resolve, reject) => {
      // the snapshot is taken when the statement is sent
      const found = ids.flatMap((id) => (table.has(id) ? [table.get(id)!] : []));
      statements.push({ ids, release: () => resolve(found), fail: reject });
    });
  return { table, statements, readMany };
}

/** Lets the reads asked for in this turn go out (they leave at the end of the turn). */
const endOfTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('SharedKeyReads', () => {
  it('reads the keys asked for in one turn with one statement, each id once', async () => {
    const db = database([key('A'), key('B')]);
    const reads = new SharedKeyReads(db.readMany);
    const asked = [reads.find('A'), reads.find('B'), reads.find('A'), reads.find('NOPE')];
    await endOfTurn();
    expect(db.statements.map((s) => [...s.ids].sort())).toEqual([['A', 'B', 'NOPE']]);
    db.statements[0]!.release();
    const [a, b, again, none] = await Promise.all(asked);
    expect([a?.id, b?.id, again?.id, none]).toEqual(['A', 'B', 'A', undefined]);
  });

  it('never answers a read from a statement sent before it arrived', async () => {
    const db = database([key('A')]);
    const reads = new SharedKeyReads(db.readMany);
    const before = reads.find('A');
    await endOfTurn();
    expect(db.statements).toHaveLength(1);
    // revoked after the first statement went out, before the second read arrived
    db.table.set('A', key('A', '2026-01-02T00:00:00.000Z'));
    const after = reads.find('A');
    db.statements[0]!.release();
    expect((await before)?.revokedAt).toBeNull();
    await endOfTurn();
    expect(db.statements).toHaveLength(2);
    db.statements[1]!.release();
    expect((await after)?.revokedAt).toBe('2026-01-02T00:00:00.000Z');
  });

  it('keeps at most its limit of statements out; reads that arrive meanwhile share the next', async () => {
    const db = database([key('A'), key('B'), key('C')]);
    const reads = new SharedKeyReads(db.readMany, 2);
    const first = reads.find('A');
    await endOfTurn();
    const second = reads.find('B');
    await endOfTurn();
    const waiting = [reads.find('C'), reads.find('A')];
    await endOfTurn();
    await endOfTurn();
    expect(db.statements).toHaveLength(2);
    db.statements[0]!.release();
    expect((await first)?.id).toBe('A');
    // the first came back: the reads that waited go out together, at once
    expect(db.statements).toHaveLength(3);
    expect([...db.statements[2]!.ids].sort()).toEqual(['A', 'C']);
    db.statements[1]!.release();
    db.statements[2]!.release();
    expect((await second)?.id).toBe('B');
    expect((await Promise.all(waiting)).map((k) => k?.id)).toEqual(['C', 'A']);
    // nothing is left waiting: a later read goes out on its own
    const later = reads.find('B');
    await endOfTurn();
    expect(db.statements).toHaveLength(4);
    db.statements[3]!.release();
    expect((await later)?.id).toBe('B');
  });

  it('answers a key id holding a NUL with no key, without a statement', async () => {
    const db = database([key('A')]);
    const reads = new SharedKeyReads(db.readMany);
    const [nul, a] = [reads.find('A\u0000'), reads.find('A')];
    await endOfTurn();
    expect(db.statements.map((s) => s.ids)).toEqual([['A']]);
    db.statements[0]!.release();
    expect(await nul).toBeUndefined();
    expect((await a)?.id).toBe('A');
    expect(reads.reading).toBe(0);
  });

  it('fails the reads of a statement that throws instead of failing', async () => {
    const reads = new SharedKeyReads(() => {
      throw new Error('no connection');
    });
    const failing = [reads.find('A'), reads.find('B')];
    for (const r of failing) await expect(r).rejects.toThrow('no connection');
    expect(reads.reading).toBe(0);
  });

  it('fails every read of a statement that fails, and reads on afterwards', async () => {
    const db = database([key('A')]);
    const reads = new SharedKeyReads(db.readMany);
    const failing = [reads.find('A'), reads.find('B')];
    await endOfTurn();
    db.statements[0]!.fail(new Error('connection lost'));
    for (const r of failing) await expect(r).rejects.toThrow('connection lost');
    const next = reads.find('A');
    await endOfTurn();
    expect(db.statements).toHaveLength(2);
    db.statements[1]!.release();
    expect((await next)?.id).toBe('A');
  });
});
