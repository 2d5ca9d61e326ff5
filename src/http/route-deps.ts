/** What every resource's routes need besides their own service. */
import type { CursorCodec } from '../jsonapi/cursor.js';
import type { OperationSpec } from '../spec/openapi.js';

export interface RouteDeps {
  /** public base URL, no trailing slash */
  base: string;
  cursors: CursorCodec;
  /** the spec's operations, keyed `METHOD /path` */
  operations: ReadonlyMap<string, OperationSpec>;
}
