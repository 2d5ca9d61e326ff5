/** One team of the emulator: its whole app on its own database, with its own clock, faults, journal and mail. */
import type { BuiltApp } from '../app.js';
import type { Db } from '../db/database.js';
import type { EmulatedClock } from './clock.js';
import type { FaultRules } from './faults.js';
import type { Journal } from './journal.js';
import type { MailCapture } from './mail.js';
import type { TeamState } from './state.js';

export interface EmulatorTeam {
  /** 'default' for the server's own team, else a generated id */
  readonly id: string;
  readonly issuerId: string;
  readonly built: BuiltApp;
  readonly db: Db;
  readonly clock: EmulatedClock;
  readonly faults: FaultRules;
  readonly journal: Journal;
  readonly mail: MailCapture;
  readonly state: TeamState;
}
