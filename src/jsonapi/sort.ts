/** `sort=email,-lastName`: a leading `-` means descending (B4.1). */
import { errors } from '../errors/catalogue.js';
import type { SortColumn } from '../db/keyset.js';

export interface ParsedSort {
  columns: SortColumn[];
  /** Canonical form, bound into cursors so a cursor only continues the order it came from. */
  signature: string;
}

export function parseSort(values: readonly string[] | undefined, columns: Readonly<Record<string, string>>): ParsedSort {
  if (!values || values.length === 0) return { columns: [], signature: '' };
  const seen = new Set<string>();
  const out: SortColumn[] = [];
  for (const v of values) {
    const desc = v.startsWith('-');
    const field = desc ? v.slice(1) : v;
    const column = columns[field];
    if (column === undefined) throw errors.parameterInvalid('sort', `'${v}' is not a valid sort expression`);
    if (seen.has(field)) throw errors.parameterInvalid('sort', `The sort field '${field}' is given more than once`);
    seen.add(field);
    out.push({ column, desc });
  }
  return { columns: out, signature: values.join(',') };
}
