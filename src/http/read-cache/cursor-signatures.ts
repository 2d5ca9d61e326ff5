/**
 * Cursors' signatures, computed once per payload. Every list page with a next page signs its cursor
 * (an HMAC, whose set-up with the key costs more than the rest of the cursor), and a client walking
 * a list sends each one back to be checked: the same payloads are signed again and again. A
 * signature depends on the payload and the team's secret only, so one kept is always right; what
 * the cursor points at is read anew by the request that uses it.
 */
import { CursorCodec } from '../../jsonapi/cursor.js';

/** Payloads remembered; all are dropped when it is reached. */
const CAPACITY = 1_000;
/** Longer payloads (a cursor is at most 4 KB) are signed each time, not kept. */
const MAX_PAYLOAD = 512;

export class MemoCursorCodec extends CursorCodec {
  private readonly signatures = new Map<string, string>();

  protected override mac(payload: string): string {
    let signature = this.signatures.get(payload);
    if (signature === undefined) {
      signature = super.mac(payload);
      if (payload.length <= MAX_PAYLOAD) {
        if (this.signatures.size >= CAPACITY) this.signatures.clear();
        this.signatures.set(payload, signature);
      }
    }
    return signature;
  }
}
