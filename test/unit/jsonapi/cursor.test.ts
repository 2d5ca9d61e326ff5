import { describe, expect, it } from 'vitest';
import { ApiError } from '../../../src/errors/api-error.js';
import { CursorCodec, type CursorPosition } from '../../../src/jsonapi/cursor.js';

const codec = new CursorCodec(Buffer.alloc(32, 7));

function rejection(fn: () => unknown) {
  try {
    fn();
  } catch (err) {
    if (!(err instanceof ApiError)) throw err;
    return { status: err.status, code: err.code, detail: err.detail, source: err.source };
  }
  throw new Error('the cursor was accepted');
}

const invalidCursor = (cursor: string) => ({
  status: 400,
  code: 'PARAMETER_ERROR.INVALID',
  detail: `The cursor '${cursor.slice(0, 100)}' is not valid for this request`,
  source: { parameter: 'cursor' },
});

describe('CursorCodec', () => {
  const pos: CursorPosition = { sort: '-lastName', keys: ['appleseed'], id: '6ed39e7e-4c71-4da3-9996-dbde8fb663e0' };

  it('round-trips a position', () => {
    const cursor = codec.encode(pos);
    expect(codec.decode(cursor, '-lastName', 1)).toEqual(pos);
    const numeric: CursorPosition = { sort: '', keys: [42, 'x'], id: '1000000001' };
    expect(codec.decode(codec.encode(numeric), '', 2)).toEqual(numeric);
  });

  it('is URL-safe: base64url payload, a dot, a 16-character mac', () => {
    const cursor = codec.encode({ sort: 'email', keys: ['a+b/c?d=e&f@g.h'], id: 'x' });
    expect(cursor).toMatch(/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{16}$/);
    expect(encodeURIComponent(cursor)).toBe(cursor);
  });

  it('detects a changed payload', () => {
    const cursor = codec.encode(pos);
    const [payload, mac] = cursor.split('.') as [string, string];
    const forgedPayload = Buffer.from(JSON.stringify(['-lastName', ['zzz'], pos.id])).toString('base64url');
    const forged = `${forgedPayload}.${mac}`;
    expect(rejection(() => codec.decode(forged, '-lastName', 1))).toEqual(invalidCursor(forged));
    const flipped = `${payload.slice(0, -1)}${payload.endsWith('A') ? 'B' : 'A'}.${mac}`;
    expect(rejection(() => codec.decode(flipped, '-lastName', 1))).toEqual(invalidCursor(flipped));
  });

  it('detects a changed mac', () => {
    const cursor = codec.encode(pos);
    const tampered = `${cursor.slice(0, -1)}${cursor.endsWith('A') ? 'B' : 'A'}`;
    expect(rejection(() => codec.decode(tampered, '-lastName', 1))).toEqual(invalidCursor(tampered));
    const truncated = cursor.slice(0, -1);
    expect(rejection(() => codec.decode(truncated, '-lastName', 1))).toEqual(invalidCursor(truncated));
  });

  it("rejects another team's cursor", () => {
    const foreign = new CursorCodec(Buffer.alloc(32, 8)).encode(pos);
    expect(rejection(() => codec.decode(foreign, '-lastName', 1))).toEqual(invalidCursor(foreign));
  });

  it('rejects a cursor made for another sort or another number of sort keys', () => {
    const cursor = codec.encode(pos);
    expect(rejection(() => codec.decode(cursor, 'lastName', 1))).toEqual(invalidCursor(cursor));
    expect(rejection(() => codec.decode(cursor, '', 0))).toEqual(invalidCursor(cursor));
    expect(rejection(() => codec.decode(cursor, '-lastName', 2))).toEqual(invalidCursor(cursor));
  });

  it('rejects malformed cursors, including the older offset format', () => {
    for (const bad of ['', 'abc', '.abc', 'eyJvZmZzZXQiOiIyMCJ9', `${'a'.repeat(4100)}.b`]) {
      expect(rejection(() => codec.decode(bad, '', 0))).toEqual(invalidCursor(bad));
    }
  });
});
