/**
 * The emulator's host: its teams, and which of them a request goes to.
 *
 * The default team is the server's own app on the server's own database. Every other team is a
 * whole app of its own (buildApp) on a SQLite file in a temporary directory, with its own clock,
 * faults, journal, mail and state; it never listens: the server hands it the requests that are its
 * own (`dispatch`), through Fastify's `routing`. API requests go by the bearer token's issuer
 * (read, not verified: the team's app verifies), activation pages by the team that knows the token;
 * everything else, and whatever no team claims, goes to the default team.
 */
import { createPublicKey, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { decodeJwt, decodeProtectedHeader } from 'jose';
import { buildApp, type BuildOptions, type BuiltApp } from '../app.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { openDatabase, type Db } from '../db/database.js';
import type { MailTransport } from '../mail/transport.js';
import { EmulatedClock } from './clock.js';
import { faultRules, installFaults, type FaultRules } from './faults.js';
import { installJournal, requestJournal, type Journal } from './journal.js';
import { mailCapture, type MailCapture } from './mail.js';
import { teamState, type TeamState } from './state.js';
import type { EmulatorTeam } from './team.js';

export const DEFAULT_TEAM = 'default';
/** Teams one emulator holds at most besides the default (each is an app and a database). */
export const MAX_TEAMS = 100;

/** A team's own parts, made before its app: the app is built with them. */
export interface TeamParts {
  clock: EmulatedClock;
  faults: FaultRules;
  journal: Journal;
  mail: MailCapture;
}

export function teamParts(config: Pick<Config, 'emulatorJournalSize'>): TeamParts {
  const clock = new EmulatedClock();
  return {
    clock,
    faults: faultRules(),
    journal: requestJournal(config.emulatorJournalSize),
    mail: mailCapture(clock, config.emulatorJournalSize),
  };
}

/** What buildApp needs to run a team on its parts: its clock, tokens on the wall clock, the journal then the faults, mail captured. */
export function teamBuildOptions(parts: TeamParts, config: Pick<Config, 'rateLimitPerHour'>): Partial<BuildOptions> {
  return {
    clock: parts.clock,
    tokenClock: systemClock,
    beforeRoutes: (app: FastifyInstance) => {
      installJournal(app, parts.journal);
      installFaults(app, parts.faults, { rateLimitPerHour: config.rateLimitPerHour });
    },
    mailTransport: (configured: MailTransport) => parts.mail.wrap(configured),
  };
}

class Team implements EmulatorTeam {
  readonly state: TeamState;
  readonly createdAt = new Date();
  constructor(
    readonly id: string,
    private currentIssuer: string,
    readonly built: BuiltApp,
    readonly db: Db,
    readonly parts: TeamParts,
    /** the temporary directory of its database; none for the default team */
    readonly dir: string | undefined,
  ) {
    this.state = teamState(db, parts.clock);
  }
  get issuerId(): string {
    return this.currentIssuer;
  }
  get clock(): EmulatedClock {
    return this.parts.clock;
  }
  get faults(): FaultRules {
    return this.parts.faults;
  }
  get journal(): Journal {
    return this.parts.journal;
  }
  get mail(): MailCapture {
    return this.parts.mail;
  }
  /** After an import: forgets what the app kept of the old state, reads the issuer id again. */
  async refreshIssuer(): Promise<string> {
    this.built.cache?.forgetMembers();
    this.built.services.keys.forgetTeam();
    this.currentIssuer = (await this.built.services.keys.team()).issuerId;
    return this.currentIssuer;
  }
}

/** A team made by POST /_emulator/v1/teams: its key's id and private key, when it has one to give. */
export interface CreatedTeam {
  team: EmulatorTeam;
  keyId: string | null;
  privateKey: string | null;
}

/** Thrown for a request the host refuses: too many teams, an issuer id another team has. */
export class TeamConflict extends Error {
  constructor(
    message: string,
    /** JSON Pointer into the request body, when the body caused it */
    readonly pointer?: string,
  ) {
    super(message);
    this.name = 'TeamConflict';
  }
}

/** The issuer id a state document names, if any (it is checked in full by the import). */
function documentIssuer(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return undefined;
  const team = (doc as { team?: unknown }).team;
  if (typeof team !== 'object' || team === null) return undefined;
  const issuer = (team as { issuerId?: unknown }).issuerId;
  return typeof issuer === 'string' ? issuer : undefined;
}

/** The private keys a seed gives, in order. */
function seedPrivateKeys(doc: unknown): string[] {
  const keys = typeof doc === 'object' && doc !== null ? (doc as { apiKeys?: unknown }).apiKeys : undefined;
  if (!Array.isArray(keys)) return [];
  return keys.flatMap((k: unknown) => {
    const pk = typeof k === 'object' && k !== null ? (k as { privateKey?: unknown }).privateKey : undefined;
    return typeof pk === 'string' ? [pk] : [];
  });
}

const spkiPem = (privateKeyPem: string) => createPublicKey(privateKeyPem).export({ type: 'spki', format: 'pem' }).toString();

/** `/activate/<token>` and below; not `/activate/result/...` (no team's) */
const ACTIVATION = /^\/activate\/([^/?#]+)/;
const API = /^\/v[12](\/|\?|$)/;

export class EmulatorHost {
  private readonly teams = new Map<string, Team>();
  private closed = false;

  private constructor(
    private readonly config: Config,
    readonly defaultTeam: EmulatorTeam,
  ) {
    this.teams.set(DEFAULT_TEAM, defaultTeam as Team);
  }

  /** The host of a server whose own app and database are the default team's. */
  static async start(config: Config, built: BuiltApp, db: Db, parts: TeamParts): Promise<EmulatorHost> {
    const issuer = (await built.services.keys.team()).issuerId;
    return new EmulatorHost(config, new Team(DEFAULT_TEAM, issuer, built, db, parts, undefined));
  }

  list(): EmulatorTeam[] {
    return [...this.teams.values()];
  }

  get(id: string): EmulatorTeam | undefined {
    return this.teams.get(id);
  }

  createdAt(team: EmulatorTeam): Date {
    return (team as Team).createdAt;
  }

  /** The temporary directory of a team's database (none for the default team). */
  directory(team: EmulatorTeam): string | undefined {
    return (team as Team).dir;
  }

  /** The team other than `except` whose issuer id is `issuerId`. */
  private issuerOwner(issuerId: string, except?: EmulatorTeam): EmulatorTeam | undefined {
    for (const t of this.teams.values()) if (t !== except && t.issuerId === issuerId) return t;
    return undefined;
  }

  /**
   * A new team on a database of its own; `seed` (a state document or seed) is imported first and
   * may throw StateDocumentError. It gets a fresh ADMIN key unless the seed holds keys.
   */
  async create(seed?: unknown): Promise<CreatedTeam> {
    if (this.closed) throw new TeamConflict('The emulator is shutting down');
    if (this.teams.size > MAX_TEAMS)
      throw new TeamConflict(`An emulator holds at most ${MAX_TEAMS} teams besides the default; delete one first`);
    const seedIssuer = seed === undefined ? undefined : documentIssuer(seed);
    if (seedIssuer !== undefined && this.issuerOwner(seedIssuer)) {
      throw new TeamConflict(`Another team has the issuer id ${seedIssuer}`, '/seed/team/issuerId');
    }
    const id = `team-${randomBytes(5).toString('hex')}`;
    const dir = mkdtempSync(path.join(tmpdir(), 'asc-emulator-'));
    const config: Config = Object.freeze({
      ...this.config,
      dataDir: dir,
      databaseUrl: undefined,
      instanceId: `${this.config.instanceId}/${id}`,
    });
    const parts = teamParts(config);
    let db: Db | undefined;
    let built: BuiltApp | undefined;
    try {
      db = await openDatabase(config);
      // the seed before the app: the app reads the team's issuer id once it is built
      if (seed !== undefined) await teamState(db, parts.clock).import(seed);
      built = await buildApp({ config, db, ...teamBuildOptions(parts, config) });
      await built.app.ready();
      const issuer = (await built.services.keys.team()).issuerId;
      const team = new Team(id, issuer, built, db, parts, dir);
      let keyId: string | null = null;
      let privateKey: string | null = null;
      if ((await built.services.keys.count()) === 0) {
        const created = await built.services.keys.create({ name: 'Emulator team key', role: 'ADMIN' });
        keyId = created.key.id;
        privateKey = created.privateKeyPem;
      } else {
        const given = seedPrivateKeys(seed)[0];
        if (given !== undefined) {
          const publicKey = spkiPem(given);
          const doc = await team.state.export();
          const key = doc.apiKeys.find((k) => k.publicKey === publicKey);
          if (key) {
            keyId = key.id;
            privateKey = given;
          }
        }
      }
      // checked again: another team may have been made meanwhile
      if (this.issuerOwner(issuer)) throw new TeamConflict(`Another team has the issuer id ${issuer}`, '/seed/team/issuerId');
      if (this.closed) throw new TeamConflict('The emulator is shutting down');
      this.teams.set(id, team);
      return { team, keyId, privateKey };
    } catch (err) {
      await built?.app.close();
      await db?.close();
      rmSync(dir, { recursive: true, force: true });
      throw err;
    }
  }

  /** Closes a team's app and removes its files; false when there is no such team. The default team can't be deleted. */
  async delete(id: string): Promise<boolean> {
    if (id === DEFAULT_TEAM) throw new TeamConflict('The default team can not be deleted');
    const team = this.teams.get(id);
    if (!team) return false;
    this.teams.delete(id);
    await this.closeTeam(team);
    return true;
  }

  private async closeTeam(team: Team): Promise<void> {
    try {
      await team.built.app.close();
      await team.db.close();
    } finally {
      if (team.dir) rmSync(team.dir, { recursive: true, force: true });
    }
  }

  /**
   * Imports `doc` into `team` (PUT …/state): refused when the document names another team's issuer
   * id. The team's issuer id is read again afterwards.
   */
  async importState(team: EmulatorTeam, doc: unknown): Promise<void> {
    const issuer = documentIssuer(doc);
    if (issuer !== undefined && this.issuerOwner(issuer, team)) {
      throw new TeamConflict(`Another team has the issuer id ${issuer}`, '/team/issuerId');
    }
    await team.state.import(doc);
    await (team as Team).refreshIssuer();
  }

  /**
   * The team an API request's bearer token belongs to, if another than the default: the one whose
   * issuer id the token names; a token without an issuer (an individual key's) goes to the team
   * that holds its key id.
   */
  private async byToken(authorization: string | undefined): Promise<Team | undefined> {
    const token = authorization === undefined ? undefined : /^Bearer\s+(\S+)\s*$/i.exec(authorization)?.[1];
    if (token === undefined) return undefined;
    let iss: unknown;
    let kid: unknown;
    try {
      iss = decodeJwt(token).iss;
      kid = decodeProtectedHeader(token).kid;
    } catch {
      return undefined;
    }
    const others = [...this.teams.values()].filter((t) => t.id !== DEFAULT_TEAM);
    if (typeof iss === 'string') return others.find((t) => t.issuerId === iss);
    if (iss !== undefined || typeof kid !== 'string' || kid === '') return undefined;
    for (const t of others) if (await t.built.services.keyLookup.find(kid)) return t;
    return undefined;
  }

  /** The team whose pending or expired invitation this activation token is, if another than the default. */
  private async byActivationToken(token: string): Promise<Team | undefined> {
    for (const t of this.teams.values()) {
      if (t.id === DEFAULT_TEAM) continue;
      const found = await t.built.services.activation.lookup(token);
      if (found.state !== 'unknown') return t;
    }
    return undefined;
  }

  /** The team a request goes to, if another than the default. */
  private route(req: IncomingMessage): Promise<Team | undefined> | undefined {
    const url = req.url ?? '/';
    if (API.test(url)) return this.byToken(req.headers.authorization);
    const token = ACTIVATION.exec(url)?.[1];
    if (token === undefined || token === 'result') return undefined;
    return this.byActivationToken(decodeURIComponentSafe(token));
  }

  /**
   * Hands the request to the team it belongs to, or calls `toDefault`. Requests of other teams are
   * answered by their apps, which never listen.
   */
  dispatch(req: IncomingMessage, res: ServerResponse, toDefault: () => void): void {
    if (this.teams.size === 1) return toDefault();
    const found = this.route(req);
    if (found === undefined) return toDefault();
    found.then(
      // a team deleted meanwhile: its app is closed
      (team) => (team && this.teams.get(team.id) === team ? team.built.app.routing(req, res) : toDefault()),
      () => toDefault(),
    );
  }

  /** Closes every team but the default (the server closes its own app). */
  async close(): Promise<void> {
    this.closed = true;
    const others = [...this.teams.values()].filter((t) => t.id !== DEFAULT_TEAM);
    for (const t of others) this.teams.delete(t.id);
    await Promise.allSettled(others.map((t) => this.closeTeam(t)));
  }
}

function decodeURIComponentSafe(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s;
  }
}
