/**
 * The emulator's controls under /_emulator/v1 (registered only when the emulator is on; off, the
 * prefix answers what any unknown path answers). JSON in and out; every refusal is Apple's
 * ErrorResponse, with `source` naming the body member (pointer) or query parameter at fault.
 *
 * Guard: with ASC_EMULATOR_TOKEN set, `Authorization: Bearer <token>` (compared in constant time)
 * from any peer; without it, only peers on a loopback address talking directly (no
 * X-Forwarded-For or Forwarded header).
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { formatAppleDate } from '../clock.js';
import type { Config } from '../config.js';
import { ApiError, ApiErrors } from '../errors/api-error.js';
import { errors } from '../errors/catalogue.js';
import { sendJson, splitTarget } from '../http/responses.js';
import { parseDuration } from './duration.js';
import { FaultRuleError } from './faults.js';
import { DEFAULT_TEAM, TeamConflict, type EmulatorHost } from './host.js';
import { journalQuery, type JournalQuery } from './journal.js';
import { StateDocumentError, type ResetKeep } from './state.js';
import type { EmulatorTeam } from './team.js';

export const EMULATOR_PREFIX = '/_emulator/v1';
/** State documents and seeds may be larger than an API request */
const STATE_BODY_LIMIT = 64 * 1024 * 1024;

const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

const LOOPBACK = /^(127\.\d+\.\d+\.\d+|::1|::ffff:127\.\d+\.\d+\.\d+)$/;

/** Registers the controls' routes of the emulator's mail and invitees (src/emulator/mail.ts, invitees.ts). */
export type TeamControls = (scope: FastifyInstance, teamOf: (request: FastifyRequest) => EmulatorTeam) => void;

export interface EmulatorRoutesOptions {
  host: EmulatorHost;
  config: Pick<Config, 'emulatorToken'>;
  /** more routes under /_emulator/v1/teams/:team */
  teamControls?: readonly TeamControls[];
}

const unprocessable = (detail: string, pointer: string) => errors.entityUnprocessable(detail, pointer);

const conflict = (detail: string, pointer?: string) =>
  new ApiError({
    status: 409,
    code: 'ENTITY_ERROR',
    title: 'The provided entity includes an error',
    detail,
    ...(pointer !== undefined ? { source: { pointer } } : {}),
  });

const unauthorized = () =>
  new ApiError({
    status: 401,
    code: 'NOT_AUTHORIZED',
    title: 'Authentication credentials are missing or invalid.',
    detail: 'The emulator controls need the header Authorization: Bearer <ASC_EMULATOR_TOKEN>.',
  });

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** The body as an object (absent: `{}`), refusing members other than `allowed`. */
function bodyObject(body: unknown, allowed: readonly string[]): Record<string, unknown> {
  if (body === undefined || body === null) return {};
  if (!isObject(body)) throw unprocessable('The request body must be a JSON object', '');
  const unknown = Object.keys(body).filter((k) => !allowed.includes(k));
  if (unknown.length > 0) {
    throw new ApiErrors(
      unknown.map((k) => unprocessable(`'${k}' is not a member of this request`, `/${k.replace(/~/g, '~0').replace(/\//g, '~1')}`)),
    );
  }
  return body;
}

function sameToken(given: string, expected: string): boolean {
  // digests of equal length, so the comparison takes the same time whatever was sent
  const a = createHash('sha256').update(given).digest();
  const b = createHash('sha256').update(expected).digest();
  return timingSafeEqual(a, b);
}

/** The clock stays before the year 9000, so that every date it makes (expiry included) has four digits. */
const LATEST = Date.parse('9000-01-01T00:00:00Z');
const tooLate = (pointer: string) => conflict('The emulated clock can not go past 9000-01-01T00:00:00Z', pointer);

function clockOf(team: EmulatorTeam) {
  return { now: formatAppleDate(team.clock.now()), offsetMs: team.clock.offsetMs };
}

/** After the clock moved: invitations that ended are buried at once, so they answer 410 now. */
async function clockMoved(team: EmulatorTeam): Promise<void> {
  await team.built.services.invitations.sweepExpired();
}

const stateError = (err: unknown, prefix = ''): unknown =>
  err instanceof StateDocumentError ? unprocessable(err.message, `${prefix}${err.pointer}`) : err;

const hostError = (err: unknown): unknown => (err instanceof TeamConflict ? conflict(err.message, err.pointer) : err);

/** A whole number query parameter in [min, max], or undefined when absent. */
function wholeParameter(query: Record<string, unknown>, name: string, min: number, max: number): number | undefined {
  const raw = query[name];
  if (raw === undefined) return undefined;
  if (typeof raw !== 'string' || !/^\d+$/.test(raw) || Number(raw) < min || Number(raw) > max) {
    throw errors.parameterInvalid(name, `'${name}' must be a whole number from ${min} to ${max}`);
  }
  return Number(raw);
}

function journalQueryOf(query: Record<string, unknown>): JournalQuery {
  const known = ['method', 'path', 'status', 'keyId', 'limit'];
  for (const [name, value] of Object.entries(query)) {
    if (!known.includes(name)) throw errors.parameterIllegal(name);
    if (typeof value !== 'string') throw errors.parameterInvalid(name, `'${name}' may be given once`);
  }
  const out: JournalQuery = {};
  if (typeof query.method === 'string') out.method = query.method;
  if (typeof query.path === 'string') out.path = query.path;
  if (typeof query.keyId === 'string') out.keyId = query.keyId;
  const status = wholeParameter(query, 'status', 0, 599);
  if (status !== undefined) out.status = status;
  const limit = wholeParameter(query, 'limit', 0, 1_000_000);
  if (limit !== undefined) out.limit = limit;
  return out;
}

export async function registerEmulatorRoutes(app: FastifyInstance, options: EmulatorRoutesOptions): Promise<void> {
  const { host, config } = options;
  const teams = new WeakMap<FastifyRequest, EmulatorTeam>();
  const teamOf = (request: FastifyRequest): EmulatorTeam => {
    const team = teams.get(request);
    if (!team) throw new Error('teamOf called outside /_emulator/v1/teams/:team');
    return team;
  };

  const controls = async (root: FastifyInstance) => {
    root.addHook('onRequest', async (request: FastifyRequest) => {
      if (config.emulatorToken !== undefined) {
        const token = /^Bearer\s+(\S+)\s*$/i.exec(request.headers.authorization ?? '')?.[1];
        if (token === undefined || !sameToken(token, config.emulatorToken)) throw unauthorized();
        return;
      }
      const peer = request.socket.remoteAddress ?? '';
      const direct = request.headers['x-forwarded-for'] === undefined && request.headers.forwarded === undefined;
      if (!(LOOPBACK.test(peer) && direct)) {
        throw errors.forbidden('The emulator controls answer only clients on this host unless ASC_EMULATOR_TOKEN is set.');
      }
    });

    root.get('/', async (_request, reply) => sendJson(reply, 200, { emulator: true, version: VERSION, teams: host.list().length }));

    const teamJson = (t: EmulatorTeam) => ({ id: t.id, issuerId: t.issuerId, createdAt: formatAppleDate(host.createdAt(t)) });
    root.get('/teams', async (_request, reply) => sendJson(reply, 200, { data: host.list().map(teamJson) }));

    root.post('/teams', { bodyLimit: STATE_BODY_LIMIT }, async (request, reply) => {
      const body = bodyObject(request.body, ['seed']);
      try {
        const created = await host.create(body.seed);
        return sendJson(reply, 201, {
          id: created.team.id,
          issuerId: created.team.issuerId,
          keyId: created.keyId,
          privateKey: created.privateKey,
        });
      } catch (err) {
        throw hostError(stateError(err, '/seed'));
      }
    });

    await root.register(
      async (scope: FastifyInstance) => {
        scope.addHook('onRequest', async (request: FastifyRequest) => {
          const id = (request.params as { team?: string }).team ?? '';
          const team = host.get(id);
          if (!team) throw errors.notFound('teams', id);
          teams.set(request, team);
        });

        scope.delete('/', async (request, reply) => {
          const team = teamOf(request);
          if (team.id === DEFAULT_TEAM) throw conflict('The default team can not be deleted');
          try {
            await host.delete(team.id);
          } catch (err) {
            throw hostError(err);
          }
          return reply.code(204).send();
        });

        // clock
        scope.get('/clock', async (request, reply) => sendJson(reply, 200, clockOf(teamOf(request))));
        scope.post('/clock/advance', async (request, reply) => {
          const team = teamOf(request);
          const body = bodyObject(request.body, ['by']);
          if (body.by === undefined)
            throw unprocessable('\'by\' is required: a duration such as "72h", "1d2h", "PT72H" or a number of milliseconds', '/by');
          const ms = parseDuration(body.by);
          if (ms === undefined) {
            throw unprocessable(
              '\'by\' must be a duration such as "72h", "1d2h", "30m", "PT72H" or a number of milliseconds, not negative, at most 100 years',
              '/by',
            );
          }
          if (team.clock.now().getTime() + ms > LATEST) throw tooLate('/by');
          team.clock.advance(ms);
          await clockMoved(team);
          return sendJson(reply, 200, clockOf(team));
        });
        scope.put('/clock', async (request, reply) => {
          const team = teamOf(request);
          const body = bodyObject(request.body, ['now']);
          const at =
            typeof body.now === 'string' && /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d+)?)?(Z|[+-]\d\d:\d\d)$/i.test(body.now)
              ? new Date(body.now)
              : undefined;
          if (!at || Number.isNaN(at.getTime())) {
            throw unprocessable("'now' must be an ISO 8601 date-time with a time zone, e.g. 2026-05-04T08:00:00Z", '/now');
          }
          const now = team.clock.now();
          if (at < now) {
            throw conflict(`The clock only moves forward: ${formatAppleDate(at)} is before its time, ${formatAppleDate(now)}`, '/now');
          }
          if (at.getTime() > LATEST) throw tooLate('/now');
          team.clock.set(at);
          await clockMoved(team);
          return sendJson(reply, 200, clockOf(team));
        });

        // state
        scope.get('/state', async (request, reply) => sendJson(reply, 200, await teamOf(request).state.export()));
        scope.put('/state', { bodyLimit: STATE_BODY_LIMIT }, async (request, reply) => {
          if (request.body === undefined) throw unprocessable('The request body must be a state document', '');
          try {
            await host.importState(teamOf(request), request.body);
          } catch (err) {
            throw hostError(stateError(err));
          }
          return reply.code(204).send();
        });
        scope.post('/reset', async (request, reply) => {
          const team = teamOf(request);
          const body = bodyObject(request.body, ['keep']);
          try {
            await team.state.reset((body.keep ?? []) as ResetKeep[]);
          } catch (err) {
            throw stateError(err);
          }
          team.mail.clear();
          team.journal.clear();
          team.faults.clear();
          return reply.code(204).send();
        });

        // faults
        scope.get('/faults', async (request, reply) => sendJson(reply, 200, { data: teamOf(request).faults.list() }));
        scope.post('/faults', async (request, reply) => {
          try {
            return sendJson(reply, 201, teamOf(request).faults.add(request.body));
          } catch (err) {
            if (err instanceof FaultRuleError) throw new ApiErrors(err.problems.map((p) => unprocessable(p.message, p.pointer)));
            throw err;
          }
        });
        scope.delete('/faults', async (request, reply) => {
          teamOf(request).faults.clear();
          return reply.code(204).send();
        });
        scope.delete('/faults/:id', async (request, reply) => {
          const { id } = request.params as { id: string };
          if (!teamOf(request).faults.remove(id)) throw errors.notFound('faults', id);
          return reply.code(204).send();
        });

        // journal
        scope.get('/journal', async (request, reply) => {
          // the app's query parser leaves request.query empty (src/http/pipeline/options.ts)
          const query = journalQueryOf(journalQuery(splitTarget(request.raw.url).query));
          return sendJson(reply, 200, { data: teamOf(request).journal.list(query) });
        });
        scope.delete('/journal', async (request, reply) => {
          teamOf(request).journal.clear();
          return reply.code(204).send();
        });

        for (const register of options.teamControls ?? []) register(scope, teamOf);
      },
      { prefix: '/teams/:team' },
    );
  };
  await app.register(controls, { prefix: EMULATOR_PREFIX });
}
