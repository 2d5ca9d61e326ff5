/**
 * A typed HTTP client for the emulator's controls (`/_emulator/v1`, spec/emulator.openapi.json):
 * what `asc-access emulator ...` (src/cli/commands/emulator.ts) and the `asc-access/testing` helper
 * (./index.ts) both talk through. It only speaks HTTP, with the global fetch, so it works against
 * any running emulator, in this process or elsewhere.
 *
 * A control answering 4xx or 5xx throws EmulatorControlError carrying the ErrorResponse's errors;
 * an answer that is not the emulator's (no JSON, or a server without the emulator) throws one too.
 */
import type { ErrorObject } from '../errors/api-error.js';
import type { CapturedMail } from '../emulator/mail.js';
import type { FaultAction, FaultRule, FaultRuleInput } from '../emulator/faults.js';
import type { JournalEntry, JournalQuery } from '../emulator/journal.js';
import type { ResetKeep, StateDocument } from '../emulator/state.js';

export type { CapturedMail, ErrorObject, FaultAction, FaultRule, FaultRuleInput, JournalEntry, JournalQuery, ResetKeep, StateDocument };

/** The prefix of every control. */
export const CONTROL_PREFIX = '/_emulator/v1';

/** `GET /_emulator/v1`: the probe. */
export interface EmulatorInfo {
  emulator: true;
  version: string;
  /** how many teams there are, the default one included */
  teams: number;
}

/** One team of the emulator. */
export interface Team {
  /** `default`, or the id the emulator gave it */
  id: string;
  issuerId: string;
  createdAt: string;
}

/** A team just created: its ids and the key to call the API with (null when its seed held keys without private halves). */
export interface CreatedTeam {
  id: string;
  issuerId: string;
  keyId: string | null;
  privateKey: string | null;
}

/** The emulated time of a team. */
export interface ClockState {
  /** ISO 8601 */
  now: string;
  /** how far ahead of the wall clock, in milliseconds */
  offsetMs: number;
}

/** A captured invitation email. */
export type Message = CapturedMail;

/** What accepting an invitation made. */
export interface Accepted {
  userId: string;
  invitationId: string;
}

/** A 4xx or 5xx from a control, or an answer that is not the emulator's. */
export class EmulatorControlError extends Error {
  override name = 'EmulatorControlError';
  constructor(
    message: string,
    /** the HTTP status (0: no answer) */
    readonly status: number,
    /** the ErrorResponse's errors, when the answer was one */
    readonly errors: readonly ErrorObject[] = [],
  ) {
    super(message);
  }
}

export interface ControlsOptions {
  /** the emulator's base URL, e.g. http://127.0.0.1:8080 */
  baseUrl: string;
  /** the team the team-scoped controls act on (default `default`) */
  team?: string;
  /** ASC_EMULATOR_TOKEN, when the emulator was started with one */
  token?: string;
}

type Query = Record<string, string | number | undefined>;

/** The controls of one running emulator, scoped to one team (`forTeam` gives another's). */
export class EmulatorControls {
  readonly baseUrl: string;
  readonly team: string;
  private readonly token: string | undefined;

  constructor(options: ControlsOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, '');
    this.team = options.team ?? 'default';
    this.token = options.token;
  }

  /** The same emulator's controls for team `id`. */
  forTeam(id: string): EmulatorControls {
    return new EmulatorControls({ baseUrl: this.baseUrl, team: id, ...(this.token !== undefined ? { token: this.token } : {}) });
  }

  /**
   * One control call: JSON in, JSON (or nothing, 204) out. Throws EmulatorControlError for a 4xx or
   * 5xx, with the ErrorResponse's first detail as its message.
   */
  async call<T>(method: string, path: string, options: { body?: unknown; query?: Query } = {}): Promise<T> {
    const url = new URL(`${this.baseUrl}${CONTROL_PREFIX}${path}`);
    for (const [name, value] of Object.entries(options.query ?? {})) {
      if (value !== undefined) url.searchParams.set(name, String(value));
    }
    const headers: Record<string, string> = { accept: 'application/json' };
    if (this.token !== undefined) headers.authorization = `Bearer ${this.token}`;
    if (options.body !== undefined) headers['content-type'] = 'application/json';
    let res: Response;
    try {
      res = await fetch(url, { method, headers, ...(options.body !== undefined ? { body: JSON.stringify(options.body) } : {}) });
    } catch (err) {
      const cause =
        err instanceof Error && err.cause instanceof Error ? err.cause.message : err instanceof Error ? err.message : String(err);
      throw new EmulatorControlError(`cannot reach the emulator at ${this.baseUrl}: ${cause}`, 0);
    }
    const text = await res.text();
    let body: unknown;
    try {
      body = text === '' ? undefined : JSON.parse(text);
    } catch {
      throw new EmulatorControlError(`${method} ${url.pathname} answered ${res.status} with a body that is not JSON`, res.status);
    }
    if (res.status >= 400) {
      const errors = errorObjects(body);
      const first = errors[0];
      const reason = first ? (first.detail ?? first.title) : `HTTP ${res.status}`;
      // a server without the emulator answers every control path as an unknown path
      const hint = res.status === 404 && first?.code === 'PATH_ERROR' ? ' (is the emulator on? ASC_EMULATOR=1 or serve --emulator)' : '';
      throw new EmulatorControlError(`${reason}${hint}`, res.status, errors);
    }
    return body as T;
  }

  private scoped(path: string): string {
    return `/teams/${encodeURIComponent(this.team)}${path}`;
  }

  /** `GET /_emulator/v1`: whether the emulator is on, its version and how many teams it has. */
  info(): Promise<EmulatorInfo> {
    return this.call('GET', '');
  }

  // ---- teams (not scoped) ----

  async listTeams(): Promise<Team[]> {
    return (await this.call<{ data: Team[] }>('GET', '/teams')).data;
  }

  /** A new team, empty but for a fresh ADMIN key, or made from `seed` (a state document or seed). */
  createTeam(seed?: unknown): Promise<CreatedTeam> {
    return this.call('POST', '/teams', { body: seed === undefined ? {} : { seed } });
  }

  async deleteTeam(id: string): Promise<void> {
    await this.call('DELETE', `/teams/${encodeURIComponent(id)}`);
  }

  // ---- clock ----

  clock(): Promise<ClockState> {
    return this.call('GET', this.scoped('/clock'));
  }

  /** `by`: "72h", "1d2h", "PT72H" or milliseconds. */
  advanceClock(by: string | number): Promise<ClockState> {
    return this.call('POST', this.scoped('/clock/advance'), { body: { by } });
  }

  /** Sets the clock to `at` (not earlier than its now). */
  setClock(at: Date | string): Promise<ClockState> {
    return this.call('PUT', this.scoped('/clock'), { body: { now: typeof at === 'string' ? at : at.toISOString() } });
  }

  // ---- mail ----

  async listMail(filter: { to?: string } = {}): Promise<Message[]> {
    return (await this.call<{ data: Message[] }>('GET', this.scoped('/mail'), { query: { to: filter.to } })).data;
  }

  getMail(id: string): Promise<Message> {
    return this.call('GET', this.scoped(`/mail/${encodeURIComponent(id)}`));
  }

  async clearMail(): Promise<void> {
    await this.call('DELETE', this.scoped('/mail'));
  }

  // ---- invitees ----

  /** Accepts the pending invitation with this id, or to this email (anything with `@`). */
  accept(idOrEmail: string): Promise<Accepted> {
    return this.call('POST', this.scoped(`/invitations/${encodeURIComponent(idOrEmail)}/accept`));
  }

  async decline(idOrEmail: string): Promise<void> {
    await this.call('POST', this.scoped(`/invitations/${encodeURIComponent(idOrEmail)}/decline`));
  }

  // ---- state ----

  async reset(keep: readonly ResetKeep[] = []): Promise<void> {
    await this.call('POST', this.scoped('/reset'), { body: keep.length > 0 ? { keep } : {} });
  }

  exportState(): Promise<StateDocument> {
    return this.call('GET', this.scoped('/state'));
  }

  /** Replaces the team's whole state with `document` (a state document or seed). */
  async importState(document: unknown): Promise<void> {
    await this.call('PUT', this.scoped('/state'), { body: document });
  }

  // ---- faults ----

  async listFaults(): Promise<FaultRule[]> {
    return (await this.call<{ data: FaultRule[] }>('GET', this.scoped('/faults'))).data;
  }

  addFault(rule: FaultRuleInput): Promise<FaultRule> {
    return this.call('POST', this.scoped('/faults'), { body: rule });
  }

  async clearFaults(): Promise<void> {
    await this.call('DELETE', this.scoped('/faults'));
  }

  async removeFault(id: string): Promise<void> {
    await this.call('DELETE', this.scoped(`/faults/${encodeURIComponent(id)}`));
  }

  // ---- journal ----

  async journal(query: JournalQuery = {}): Promise<JournalEntry[]> {
    const { method, path, status, keyId, limit } = query;
    return (await this.call<{ data: JournalEntry[] }>('GET', this.scoped('/journal'), { query: { method, path, status, keyId, limit } }))
      .data;
  }

  async clearJournal(): Promise<void> {
    await this.call('DELETE', this.scoped('/journal'));
  }
}

/** The errors of an ErrorResponse, or none when `body` is not one. */
function errorObjects(body: unknown): ErrorObject[] {
  if (typeof body !== 'object' || body === null || !Array.isArray((body as { errors?: unknown }).errors)) return [];
  return (body as { errors: unknown[] }).errors.filter(
    (e): e is ErrorObject => typeof e === 'object' && e !== null && typeof (e as ErrorObject).code === 'string',
  );
}
