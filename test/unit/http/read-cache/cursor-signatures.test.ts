/** Cursors with kept signatures are the cursors of the plain codec, and checked as strictly. */
import { describe, expect, it } from 'vitest';
import { MemoCursorCodec } from '../../../../src/http/read-cache/cursor-signatures.js';
import { CursorCodec, type CursorPosition } from '../../../../src/jsonapi/cursor.js';

describe('MemoCursorCodec', () => {
  const secret = Buffer.alloc(32, 7);
  const pos: CursorPosition = { sort: 'userInvitations:', keys: [], id: '6ed39e7e-4c71-4da3-9996-dbde8fb663e0' };

  it('makes and reads the cursors the plain codec makes, again and again', () => {
    const plain = new CursorCodec(secret);
    const memo = new MemoCursorCodec(secret);
    for (let i = 0; i < 3; i++) {
      expect(memo.encode(pos)).toBe(plain.encode(pos));
      expect(memo.decode(plain.encode(pos), pos.sort, 0)).toEqual(pos);
    }
  });

  it('rejects a cursor signed with another secret or altered, also once its payload is known', () => {
    const memo = new MemoCursorCodec(secret);
    const good = memo.encode(pos);
    const foreign = new CursorCodec(Buffer.alloc(32, 8)).encode(pos);
    expect(() => memo.decode(foreign, pos.sort, 0)).toThrow();
    const [payload, mac] = good.split('.') as [string, string];
    const altered = `${payload}.${mac.slice(0, -1)}${mac.endsWith('A') ? 'B' : 'A'}`;
    expect(() => memo.decode(altered, pos.sort, 0)).toThrow();
    expect(memo.decode(good, pos.sort, 0)).toEqual(pos);
  });
});
