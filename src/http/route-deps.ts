/** What every resource's routes need besides their own service. */
import type { CursorCodec } from '../jsonapi/cursor.js';
import type { AppJsonCache } from '../resources/apps/json-cache.js';
import type { OperationSpec } from '../spec/openapi.js';

export interface RouteDeps {
  /** public base URL, no trailing slash */
  base: string;
  cursors: CursorCodec;
  /** apps rendered once, for `included` and app lists */
  appJson: AppJsonCache;
  /** the spec's operations, keyed `METHOD /path` */
  operations: ReadonlyMap<string, OperationSpec>;
}
