import { sql, type Expression } from 'kysely';
import type { Dialect } from '../database.js';

/**
 * Text columns compare and sort byte-wise on both dialects (SQLite's default BINARY; PostgreSQL's
 * "C" collation), so paging order and keyset comparisons are the same whichever database runs.
 */
export function textType(dialect: Dialect): 'text' | Expression<unknown> {
  return dialect === 'postgres' ? sql`text collate "C"` : 'text';
}
