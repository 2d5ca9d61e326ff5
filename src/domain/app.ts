/** Apps as every part of the server sees them (created by the operator, read through the API). */
import type { AppTable } from '../db/schema.js';

export interface App {
  id: string;
  name: string;
  bundleId: string;
  sku: string;
  primaryLocale: string;
}

export function toApp(row: AppTable): App {
  return { id: row.id, name: row.name, bundleId: row.bundle_id, sku: row.sku, primaryLocale: row.primary_locale };
}
