/**
 * Starting and stopping the service: config -> database (migrated) -> app -> listen, with a
 * first-start admin key and a graceful shutdown: no new connections, in-flight requests finish,
 * anything else arriving meanwhile is refused with 503 and `Connection: close`, then the database
 * closes. The HTTP server's own events are handled here too: `Expect: 100-continue`, and the
 * gate in front of the application that the shutdown closes.
 */
import { randomUUID } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import net from 'node:net';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { DestinationStream } from 'pino';
import { buildApp, type Services } from './app.js';
import { systemClock, type Clock } from './clock.js';
import { ConfigError, type Config } from './config.js';
import { ensurePrivateDirectory, openDatabase, reportPoolError, type Db } from './db/database.js';
import type { StorageIncidents } from './db/storage-errors.js';
import { errorResponse } from './errors/api-error.js';
import { errors } from './errors/catalogue.js';
import { EmulatorHost, teamBuildOptions, teamParts } from './emulator/host.js';
import { registerInviteeControls } from './emulator/invitees.js';
import { registerMailControls } from './emulator/mail.js';
import { registerEmulatorRoutes } from './emulator/routes.js';
import { StateDocumentError, teamState } from './emulator/state.js';
import { BODY_LIMIT_BYTES } from './http/responses.js';
import { keyFileName, mintToken } from './keys/token.js';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  db: Db;
  /** the address the server listens on, e.g. http://127.0.0.1:8080 */
  address: string;
  /** the emulator's teams, when it is on (Config.emulator) */
  emulator: EmulatorHost | undefined;
  /** the ADMIN key made at this start, on an empty database without a seed holding keys */
  firstKey: FirstStartKey | undefined;
  close(): Promise<void>;
}

export interface FirstStartKey {
  issuerId: string;
  keyId: string;
  file: string;
  token: string;
}

/** On an empty database: an ADMIN key whose .p8 goes into the data directory. */
export async function bootstrapFirstKey(services: Services, config: Config): Promise<FirstStartKey | undefined> {
  if ((await services.keys.count()) > 0) return undefined;
  // On PostgreSQL nothing else creates the data directory; it must exist before the key is made.
  ensurePrivateDirectory(config.dataDir);
  const created = await services.keys.create({ name: 'Initial admin key', role: 'ADMIN' });
  const file = path.join(config.dataDir, keyFileName(created.key.id));
  writeFileSync(file, created.privateKeyPem, { mode: 0o600 });
  const token = await mintToken({ privateKeyPem: created.privateKeyPem, keyId: created.key.id, issuerId: created.issuerId });
  return { issuerId: created.issuerId, keyId: created.key.id, file, token };
}

/** `word` as one word of a POSIX shell command line. */
function shellWord(word: string): string {
  return /^[\w/.:@%+=-]+$/.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * The command that mints tokens for the first key, with the settings it needs to find this
 * server's database: ASC_DATA_DIR when it is not ./data (as seen from here), and on PostgreSQL the
 * same ASC_DATABASE_URL (not printed: it holds a password).
 */
export function tokenCommandLine(k: Pick<FirstStartKey, 'file'>, config: Pick<Config, 'dataDir' | 'databaseUrl'>): string {
  const settings = config.databaseUrl
    ? 'ASC_DATABASE_URL=<as for the server> '
    : config.dataDir === path.resolve('data')
      ? ''
      : `ASC_DATA_DIR=${shellWord(config.dataDir)} `;
  return `${settings}npm run -s asc-access -- token --key-file ${shellWord(k.file)}`;
}

export function firstStartMessage(k: FirstStartKey, config: Config): string {
  return [
    '',
    'asc-access: first start. An ADMIN API key was created for you:',
    `  issuer id : ${k.issuerId}`,
    `  key id    : ${k.keyId}`,
    `  key file  : ${k.file}`,
    '',
    `Try it (the token is valid for 20 minutes; \`${tokenCommandLine(k, config)}\` mints new ones):`,
    `  curl -H 'Authorization: Bearer ${k.token}' ${config.publicUrl}/v1/userInvitations`,
    '',
  ].join('\n');
}

/** What a client refused during the drain is told to wait before trying again (another instance may take it at once). */
const RETRY_AFTER_SECONDS = 5;

/**
 * The HTTP server's request events, with a gate in front of the application. `drain()` closes the
 * gate and shuts the server down:
 * - the listening socket closes (no new connections). Not through http.Server.close(): that would
 *   also destroy every idle keep-alive socket at once, and a request a client is sending on one at
 *   that moment would meet a reset, with no way to tell "not processed" from "reply lost";
 * - requests in flight finish; those not yet answered are answered with `Connection: close`, so their
 *   clients do not send another request on the socket;
 * - a request arriving meanwhile, on a kept-alive socket, is answered 503 with `Retry-After` and
 *   `Connection: close`: certainly not processed, safe to send again;
 * - once nothing is in flight, idle sockets are closed; when `timeoutMs` has passed, every socket
 *   still open is, a request hanging on it included.
 */
class RequestGate {
  private draining = false;
  private readonly inFlight = new Set<ServerResponse>();
  private nothingInFlight: (() => void) | undefined;
  /** requests refused with 503 during the drain */
  refused = 0;

  constructor(
    private readonly server: Server,
    /** hands a request to the app it belongs to (the emulator's teams), or calls `toDefault` */
    dispatch?: (req: IncomingMessage, res: ServerResponse, toDefault: () => void) => void,
  ) {
    const application = server.listeners('request') as ((req: IncomingMessage, res: ServerResponse) => void)[];
    server.removeAllListeners('request');
    server.on('request', (req: IncomingMessage, res: ServerResponse) => {
      if (this.draining) return this.refuse(res);
      this.inFlight.add(res);
      res.once('close', () => {
        this.inFlight.delete(res);
        if (this.inFlight.size === 0) this.nothingInFlight?.();
      });
      const toDefault = () => {
        for (const listener of application) listener.call(server, req, res);
      };
      if (dispatch) dispatch(req, res, toDefault);
      else toDefault();
    });
    // `Expect: 100-continue`: a body declared over the limit is refused (413, by the application's body
    // parser, which checks the declared length before reading) without inviting it first; a client
    // that sent it anyway must not have its bytes read as the next request, so the connection closes.
    server.on('checkContinue', (req: IncomingMessage, res: ServerResponse) => {
      if (this.draining || Number(req.headers['content-length']) > BODY_LIMIT_BYTES) res.setHeader('connection', 'close');
      else res.writeContinue();
      server.emit('request', req, res);
    });
  }

  private refuse(res: ServerResponse): void {
    this.refused++;
    const body = JSON.stringify(errorResponse([errors.serviceUnavailable('The server is shutting down. Send the request again.')]));
    res.writeHead(503, {
      'content-type': 'application/json',
      'content-length': Buffer.byteLength(body),
      'retry-after': String(RETRY_AFTER_SECONDS),
      'x-request-id': randomUUID(),
      connection: 'close',
    });
    res.end(body);
  }

  async drain(timeoutMs: number): Promise<{ forced: number }> {
    this.draining = true;
    let timer: NodeJS.Timeout | undefined;
    const timeUp = new Promise<void>((resolve) => (timer = setTimeout(resolve, timeoutMs)));
    const allClosed = new Promise<void>((resolve) => net.Server.prototype.close.call(this.server, () => resolve()));
    for (const res of this.inFlight) if (!res.headersSent) res.setHeader('connection', 'close');
    if (this.inFlight.size > 0) await Promise.race([new Promise<void>((resolve) => (this.nothingInFlight = resolve)), timeUp]);
    this.server.closeIdleConnections();
    // sockets closing after a `Connection: close` answer, or still carrying a request
    await Promise.race([allClosed, timeUp]);
    clearTimeout(timer);
    const forced = this.inFlight.size;
    this.server.closeAllConnections();
    return { forced };
  }
}

/**
 * ASC_SEED_FILE: applied to the server's own team when its database holds no keys, apps, users or
 * invitations. A file that can't be read or is refused stops the start with one line naming the
 * place in it (a JSON Pointer).
 */
export async function applySeedFile(file: string, db: Db, clock: Clock): Promise<boolean> {
  let doc: unknown;
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ConfigError([`ASC_SEED_FILE ${file} is not a readable JSON file: ${err instanceof Error ? err.message : String(err)}`]);
  }
  const state = teamState(db, clock);
  if (!(await state.isEmpty())) return false;
  try {
    await state.import(doc);
  } catch (err) {
    if (err instanceof StateDocumentError) throw new ConfigError([`ASC_SEED_FILE ${file} is refused at '${err.pointer}': ${err.message}`]);
    throw err;
  }
  return true;
}

export interface StartServerOptions {
  clock?: Clock;
  /** where the first-start message goes (default stdout) */
  print?: (s: string) => void;
  /** where the log goes (default stdout) */
  logStream?: DestinationStream;
}

export async function startServer(config: Config, options: StartServerOptions = {}): Promise<RunningServer> {
  let app: FastifyInstance | undefined;
  let incidents: StorageIncidents | undefined;
  const db = await openDatabase(config, (err) => {
    // PostgreSQL gone: every idle connection of the pool fails at once; one line for the incident
    if (app && incidents) incidents.backgroundFailed(err, app.log, 'an idle PostgreSQL connection failed');
    else reportPoolError(err);
  });
  let emulator: EmulatorHost | undefined;
  try {
    const parts = config.emulator ? teamParts(config) : undefined;
    // before the app: it reads the team's issuer id once built
    const seeded = config.seedFile ? await applySeedFile(config.seedFile, db, parts?.clock ?? options.clock ?? systemClock) : false;
    const built = await buildApp({
      config,
      db,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.logStream ? { logStream: options.logStream } : {}),
      ...(parts ? teamBuildOptions(parts, config) : {}),
    });
    app = built.app;
    incidents = built.incidents;
    if (seeded) app.log.info({ seedFile: config.seedFile }, 'applied the seed file %s to the empty database', config.seedFile);
    if (parts) {
      emulator = await EmulatorHost.start(config, built, db, parts);
      await registerEmulatorRoutes(app, { host: emulator, config, teamControls: [registerMailControls, registerInviteeControls] });
      app.log.warn(
        { emulator: true, token: config.emulatorToken !== undefined },
        'THE EMULATOR IS ON: anyone who can call /_emulator/v1 (%s) can move its clock, replace its state and inject faults. Never run it like this in production.',
        config.emulatorToken ? 'with ASC_EMULATOR_TOKEN' : 'from this host',
      );
    }
    const host = emulator;
    const gate = new RequestGate(app.server, host ? (req, res, toDefault) => host.dispatch(req, res, toDefault) : undefined);
    const address = await app.listen({ host: config.host, port: config.port });
    // after the listen: a start that cannot listen (port in use) leaves no key whose message nobody saw
    const first = await bootstrapFirstKey(built.services, config);
    if (first) (options.print ?? ((s) => process.stdout.write(`${s}\n`)))(firstStartMessage(first, config));
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        const { forced } = await gate.drain(config.shutdownTimeoutMs);
        if (forced > 0) {
          app!.log.warn(
            { forced, timeoutMs: config.shutdownTimeoutMs },
            'closed %d requests still unanswered at the drain timeout',
            forced,
          );
        }
        if (gate.refused > 0) app!.log.info({ refused: gate.refused }, 'refused %d requests with 503 while draining', gate.refused);
        await emulator?.close();
        await app!.close();
        await db.close();
      })();
      return closing;
    };
    return { app, services: built.services, db, address, emulator, firstKey: first, close };
  } catch (err) {
    await emulator?.close();
    await app?.close();
    await db.close();
    throw err;
  }
}
