/**
 * `asc-access/testing`: an emulator for a test suite. `startEmulator()` starts asc-access with the
 * emulator on, in this process, on a free port of 127.0.0.1 with a database in a temporary
 * directory (SQLite, or a PostgreSQL URL given), optionally seeded from a state document, and
 * returns its base URL, an API key to call it with, and typed methods for every control
 * (docs/testing-your-client.md). `stop()` closes it and deletes the directory.
 *
 * Nothing here imports a test framework: it works in vitest, jest, node:test or a script. The
 * controls go over HTTP (./controls.ts), as they would to an emulator started elsewhere.
 */
import { createPrivateKey, createPublicKey } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { loadConfig } from '../config.js';
import { mintToken } from '../keys/token.js';
import { startServer, type RunningServer } from '../server.js';
import { freePort } from './free-port.js';
import {
  EmulatorControls,
  type Accepted,
  type ClockState,
  type CreatedTeam,
  type FaultRule,
  type FaultRuleInput,
  type JournalEntry,
  type JournalQuery,
  type Message,
  type ResetKeep,
  type StateDocument,
  type Team,
} from './controls.js';

export { EmulatorControlError, EmulatorControls, CONTROL_PREFIX } from './controls.js';
export type * from './controls.js';

export interface StartEmulatorOptions {
  /**
   * The default team's state at start: a state document or seed (an object), or the path of a JSON
   * file holding one (ASC_SEED_FILE). API keys given with their `privateKey` become the key the
   * emulator hands out.
   */
  seed?: object | string;
  /** `sqlite` (the default: a file in the temporary directory) or `postgres` (then `databaseUrl`) */
  dialect?: 'sqlite' | 'postgres';
  /** PostgreSQL: the database (a fresh schema of it is best, e.g. `?options=-c search_path=...`) */
  databaseUrl?: string;
  /**
   * More settings, as environment variables (README, "Configuration"): ASC_SMTP_URL,
   * ASC_EMULATOR_TOKEN, ASC_PUBLIC_URL, LOG_LEVEL (default `error`), ... The process's own
   * environment is not read.
   */
  env?: Record<string, string>;
}

/** The controls of one team (the default one, or one made with `teams.create`). */
export interface TeamControls {
  /** `default`, or the team's id */
  readonly id: string;
  readonly clock: {
    /** the emulated time */
    now(): Promise<Date>;
    get(): Promise<ClockState>;
    /** `by`: "72h", "1d2h", "PT72H" or milliseconds */
    advance(by: string | number): Promise<ClockState>;
    /** not earlier than now */
    set(at: Date | string): Promise<ClockState>;
  };
  readonly mail: {
    /** oldest first; `to` any case */
    list(filter?: { to?: string }): Promise<Message[]>;
    get(id: string): Promise<Message>;
    clear(): Promise<void>;
  };
  readonly invitations: {
    /** by the invitation's id, or its email (anything with `@`) */
    accept(idOrEmail: string): Promise<Accepted>;
    decline(idOrEmail: string): Promise<void>;
  };
  readonly state: {
    export(): Promise<StateDocument>;
    import(document: object): Promise<void>;
    /** keeps the issuer id and clock, and what `keep` names; clears mail, journal and faults too */
    reset(keep?: readonly ResetKeep[]): Promise<void>;
  };
  readonly faults: {
    list(): Promise<FaultRule[]>;
    add(rule: FaultRuleInput): Promise<FaultRule>;
    clear(): Promise<void>;
    remove(id: string): Promise<void>;
  };
  readonly journal: {
    /** oldest first */
    list(query?: JournalQuery): Promise<JournalEntry[]>;
    clear(): Promise<void>;
  };
  /** the same controls over HTTP, for anything not wrapped here */
  readonly controls: EmulatorControls;
}

/** An API key of a team: what a client is configured with. */
export interface TeamKey {
  readonly issuerId: string;
  readonly keyId: string;
  /** PEM (PKCS #8), the .p8 file's contents */
  readonly privateKey: string;
  /** a fresh token for the key (ES256, 20 minutes), as a client would mint it */
  token(options?: { lifetimeSeconds?: number; scope?: string[] }): Promise<string>;
}

/** A team made with `teams.create`: its controls, and its key when it has one it can hand out. */
export type CreatedTeamHandle = TeamControls & Omit<CreatedTeam, 'id'> & { key: TeamKey | null };

export interface Emulator extends TeamControls, TeamKey {
  /** e.g. http://127.0.0.1:43117: the API is at `${baseUrl}/v1/...`, the controls at `${baseUrl}/_emulator/v1` */
  readonly baseUrl: string;
  readonly teams: {
    list(): Promise<Team[]>;
    create(options?: { seed?: object | string }): Promise<CreatedTeamHandle>;
    delete(id: string): Promise<void>;
  };
  /** the controls of another team, by id */
  team(id: string): TeamControls;
  /** closes the server and deletes its temporary directory */
  stop(): Promise<void>;
}

function teamControls(controls: EmulatorControls): TeamControls {
  return {
    id: controls.team,
    controls,
    clock: {
      now: async () => new Date((await controls.clock()).now),
      get: () => controls.clock(),
      advance: (by) => controls.advanceClock(by),
      set: (at) => controls.setClock(at),
    },
    mail: { list: (filter) => controls.listMail(filter), get: (id) => controls.getMail(id), clear: () => controls.clearMail() },
    invitations: { accept: (who) => controls.accept(who), decline: (who) => controls.decline(who) },
    state: { export: () => controls.exportState(), import: (doc) => controls.importState(doc), reset: (keep) => controls.reset(keep) },
    faults: {
      list: () => controls.listFaults(),
      add: (rule) => controls.addFault(rule),
      clear: () => controls.clearFaults(),
      remove: (id) => controls.removeFault(id),
    },
    journal: { list: (query) => controls.journal(query), clear: () => controls.clearJournal() },
  };
}

function teamKey(issuerId: string, keyId: string, privateKey: string): TeamKey {
  return {
    issuerId,
    keyId,
    privateKey,
    token: (options = {}) => mintToken({ privateKeyPem: privateKey, keyId, issuerId, ...options }),
  };
}

function readSeed(seed: object | string): object {
  if (typeof seed !== 'string') return seed;
  return JSON.parse(readFileSync(seed, 'utf8')) as object;
}

/** The first API key of a seed given with its private half. */
function seedKey(seed: object): { id: string | undefined; privateKey: string } | undefined {
  const keys = (seed as { apiKeys?: unknown }).apiKeys;
  if (!Array.isArray(keys)) return undefined;
  for (const k of keys as { id?: unknown; privateKey?: unknown }[]) {
    if (typeof k?.privateKey === 'string') return { id: typeof k.id === 'string' ? k.id : undefined, privateKey: k.privateKey };
  }
  return undefined;
}

/** The id of the key whose public half matches `privateKey`, in the team's exported state. */
async function keyIdOf(controls: EmulatorControls, privateKey: string): Promise<string | undefined> {
  const der = (pem: string) => createPublicKey(pem).export({ type: 'spki', format: 'der' }).toString('base64');
  const wanted = createPublicKey(createPrivateKey(privateKey)).export({ type: 'spki', format: 'der' }).toString('base64');
  const state = await controls.exportState();
  return state.apiKeys.find((k) => der(k.publicKey) === wanted)?.id;
}

/**
 * Starts an emulator in this process: asc-access with `ASC_EMULATOR=1` on a free port of
 * 127.0.0.1, its database in a new temporary directory (or on `databaseUrl`), seeded from `seed`.
 * The key it returns is the seed's first key with a private half, else the ADMIN key made at first
 * start (when the seed holds keys without private halves, a new ADMIN key is added to the team).
 */
export async function startEmulator(options: StartEmulatorOptions = {}): Promise<Emulator> {
  if (options.dialect === 'postgres' && !options.databaseUrl) throw new TypeError("dialect 'postgres' needs a databaseUrl");
  const dataDir = mkdtempSync(path.join(tmpdir(), 'asc-emulator-'));
  try {
    const seed = options.seed === undefined ? undefined : readSeed(options.seed);
    let seedFile: string | undefined;
    if (typeof options.seed === 'string') seedFile = path.resolve(options.seed);
    else if (seed !== undefined) writeFileSync((seedFile = path.join(dataDir, 'seed.json')), JSON.stringify(seed), { mode: 0o600 });
    const configFor = (port: number) =>
      loadConfig({
        ASC_DATA_DIR: dataDir,
        HOST: '127.0.0.1',
        PORT: String(port),
        ASC_EMULATOR: '1',
        ASC_METRICS: 'off',
        LOG_LEVEL: 'error',
        ...(seedFile !== undefined ? { ASC_SEED_FILE: seedFile } : {}),
        ...(options.databaseUrl !== undefined ? { ASC_DATABASE_URL: options.databaseUrl } : {}),
        ...options.env,
      });
    // the port is chosen before the start, as the links the server writes name it; another process
    // may take it in between, and then another port is tried
    let server: RunningServer | undefined;
    for (let attempt = 1; !server; attempt++) {
      try {
        // the first-start message is for a person at a terminal; the key it names is read below
        server = await startServer(configFor(await freePort()), { print: () => undefined });
      } catch (err) {
        if (attempt >= 3 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
      }
    }
    const baseUrl = server.address;
    const token = options.env?.ASC_EMULATOR_TOKEN;
    const controls = new EmulatorControls({ baseUrl, ...(token !== undefined ? { token } : {}) });
    try {
      const issuerId = (await controls.listTeams()).find((t) => t.id === 'default')?.issuerId;
      if (issuerId === undefined) throw new Error('the emulator lists no default team');
      let key: { keyId: string; privateKey: string } | undefined;
      const fromSeed = seed === undefined ? undefined : seedKey(seed);
      if (fromSeed) {
        const keyId = fromSeed.id ?? (await keyIdOf(controls, fromSeed.privateKey));
        if (keyId !== undefined) key = { keyId, privateKey: fromSeed.privateKey };
      }
      if (!key && server.firstKey) key = { keyId: server.firstKey.keyId, privateKey: readFileSync(server.firstKey.file, 'utf8') };
      if (!key) {
        const created = await server.services.keys.create({ name: 'asc-access/testing', role: 'ADMIN' });
        key = { keyId: created.key.id, privateKey: created.privateKeyPem };
      }
      let stopping: Promise<void> | undefined;
      return {
        ...teamControls(controls),
        ...teamKey(issuerId, key.keyId, key.privateKey),
        baseUrl,
        team: (id) => teamControls(controls.forTeam(id)),
        teams: {
          list: () => controls.listTeams(),
          async create(teamOptions = {}) {
            const created = await controls.createTeam(teamOptions.seed === undefined ? undefined : readSeed(teamOptions.seed));
            return {
              ...teamControls(controls.forTeam(created.id)),
              issuerId: created.issuerId,
              keyId: created.keyId,
              privateKey: created.privateKey,
              key:
                created.keyId !== null && created.privateKey !== null ? teamKey(created.issuerId, created.keyId, created.privateKey) : null,
            };
          },
          delete: (id) => controls.deleteTeam(id),
        },
        stop() {
          stopping ??= (async () => {
            try {
              await server.close();
            } finally {
              rmSync(dataDir, { recursive: true, force: true });
            }
          })();
          return stopping;
        },
      };
    } catch (err) {
      await server.close();
      throw err;
    }
  } catch (err) {
    rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
}
