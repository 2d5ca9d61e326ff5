/**
 * Opaque keyset cursors: the last row's sort values and id, bound to the sort they were made
 * for and signed with the team's secret, so a forged or altered cursor is rejected (400).
 */
import { createHmac, timingSafeEqual } from 'node:crypto';
import { errors } from '../errors/catalogue.js';

export type SortValue = string | number;

export interface CursorPosition {
  /** The sort expression the cursor belongs to, e.g. "-lastName" or "" for the default order. */
  sort: string;
  /** The last row's sort-key values, in sort order. */
  keys: readonly SortValue[];
  /** The last row's id (the final tie-breaker). */
  id: string;
}

export class CursorCodec {
  constructor(private readonly secret: Buffer) {}

  /** The payload's signature (the read cache keeps them: ../http/read-cache/cursor-signatures.ts). */
  protected mac(payload: string): string {
    return createHmac('sha256', this.secret).update(payload).digest('base64url').slice(0, 16);
  }

  encode(pos: CursorPosition): string {
    const payload = Buffer.from(JSON.stringify([pos.sort, pos.keys, pos.id])).toString('base64url');
    return `${payload}.${this.mac(payload)}`;
  }

  /** Decodes a cursor made for `sort` with `keyCount` sort values; throws 400 otherwise. */
  decode(cursor: string, sort: string, keyCount: number): CursorPosition {
    const invalid = () => errors.parameterInvalid('cursor', `The cursor '${cursor.slice(0, 100)}' is not valid for this request`);
    const dot = cursor.indexOf('.');
    if (dot <= 0 || cursor.length > 4096) throw invalid();
    const payload = cursor.slice(0, dot);
    const given = Buffer.from(cursor.slice(dot + 1));
    const expected = Buffer.from(this.mac(payload));
    if (given.length !== expected.length || !timingSafeEqual(given, expected)) throw invalid();
    let parsed: unknown;
    try {
      parsed = JSON.parse(Buffer.from(payload, 'base64url').toString('utf8'));
    } catch {
      throw invalid();
    }
    if (!Array.isArray(parsed) || parsed.length !== 3) throw invalid();
    const [s, keys, id] = parsed as unknown[];
    if (s !== sort || typeof id !== 'string' || !Array.isArray(keys) || keys.length !== keyCount) throw invalid();
    if (!keys.every((k) => typeof k === 'string' || typeof k === 'number')) throw invalid();
    return { sort: s, keys: keys, id };
  }
}
