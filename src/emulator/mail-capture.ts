/** Placeholder until the mail capture of src/emulator/mail.ts lands: captures nothing. */
import type { Clock } from '../clock.js';
import type { MailCapture } from './mail.js';

export function mailCapture(_clock: Clock, _size = 1000): MailCapture {
  return { wrap: (t) => t, list: () => [], get: () => undefined, clear: () => undefined };
}
