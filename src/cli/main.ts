#!/usr/bin/env node
/**
 * asc-access: the operator CLI. `serve` runs the service; the other commands work on the same
 * database directly (they need no running server). With --json a command prints one JSON object.
 */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { closeSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServices, type Services } from '../container.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { AppInputError } from '../resources/apps/service.js';
import { KeyError } from '../keys/service.js';
import { UserInputError, type User } from '../resources/users/service.js';
import { keyIdFromFileName, mintToken } from '../keys/token.js';
import type { OutboxRow } from '../mail/outbox-repository.js';
import { renderOutboxMail } from '../mail/templates.js';
import { startServer } from '../server.js';

const USAGE = `Usage: asc-access <command> [options]

Commands:
  serve                                   run the API server (also: npm start)
  keys create --name NAME --role ROLE --out FILE.p8 [--json]
                                          create a team API key; writes its private key once
  keys create --individual-for USER_ID --name NAME --out FILE.p8 [--json]
                                          create an individual API key: it acts with the user's
                                          roles and is revoked when the user is removed
  keys list [--json]                      list API keys
  keys revoke KEY_ID [--json]             revoke a key; it stops working at once
  apps create --name NAME --bundle-id ID --sku SKU [--primary-locale en-US] [--json]
                                          add an app (apps are read-only through the API)
  apps list [--json]                      list apps
  users create-account-holder --email EMAIL --first-name NAME --last-name NAME [--json]
                                          create the team's Account Holder (once per team)
  users list [--json]                     list the team's users (ids for --individual-for)
  token --key-file FILE.p8 [--key-id ID] [--lifetime SECONDS] [--json]
                                          mint a bearer token for a key
  mail list [--limit N] [--json]          the mail log, newest first (recipient, subject, status,
                                          attempts, activation link)
  mail show ID [--json]                   one message of the mail log, with its text

Configuration comes from the environment (ASC_DATA_DIR, HOST, PORT, ASC_PUBLIC_URL, ...); see README.md.`;

class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that cannot do what was asked (exit 1, no usage text). */
class CommandError extends Error {
  override name = 'CommandError';
}

type Out = (human: string, json: Record<string, unknown>) => void;

function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

async function withServices<T>(config: Config, fn: (s: Services) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await fn(createServices(db, systemClock, config));
  } finally {
    await db.close();
  }
}

/**
 * Creates a key whose private half goes to `file`. The file is claimed first (and never
 * overwritten), so no key is ever stored whose private half could not be saved.
 */
async function withKeyFile<T extends { privateKeyPem: string }>(file: string, create: () => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists already (a private key is never overwritten)' : (err as Error).message;
    throw new CommandError(`cannot write the key file ${file}: ${reason}`);
  }
  try {
    const created = await create();
    writeSync(fd, created.privateKeyPem);
    return created;
  } catch (err) {
    rmSync(file, { force: true });
    throw err;
  } finally {
    closeSync(fd);
  }
}

async function keysCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      role: { type: 'string' },
      'individual-for': { type: 'string' },
      out: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  });
  await withServices(config, async (s) => {
    const userId = values['individual-for'];
    if (sub === 'create' && userId !== undefined) {
      if (values.role !== undefined) throw new UsageError("--role and --individual-for exclude each other: an individual key acts with its user's roles");
      const file = path.resolve(required(values, 'out'));
      const name = required(values, 'name');
      if (!(await s.users.find(userId))) throw new CommandError(`there is no user with id '${userId}' (see users list)`);
      const created = await withKeyFile(file, () => s.keys.createIndividual({ name, userId }));
      out(`key id:    ${created.key.id}\nkey file:  ${file}\nuser id:   ${userId} (tokens carry sub "user" and no issuer id)`, {
        keyId: created.key.id,
        name: created.key.name,
        userId,
        file,
      });
    } else if (sub === 'create') {
      const file = path.resolve(required(values, 'out'));
      const name = required(values, 'name');
      const role = required(values, 'role');
      const created = await withKeyFile(file, () => s.keys.create({ name, role }));
      out(`issuer id: ${created.issuerId}\nkey id:    ${created.key.id}\nkey file:  ${file}`, {
        issuerId: created.issuerId,
        keyId: created.key.id,
        name: created.key.name,
        role: created.key.role,
        file,
      });
    } else if (sub === 'list') {
      const team = await s.keys.team();
      const keys = (await s.keys.list()).map((k) => ({
        keyId: k.id,
        name: k.name,
        role: k.role,
        createdAt: k.createdAt,
        revokedAt: k.revokedAt,
        // individual keys: no role of their own, and the user they act for
        ...(k.userId ? { userId: k.userId } : {}),
      }));
      const lines = keys.map(
        (k) => `${k.keyId}  ${(k.role ?? 'INDIVIDUAL').padEnd(16)} ${k.revokedAt ? 'REVOKED ' : 'active  '} ${k.name}${k.userId ? ` (user ${k.userId})` : ''}`,
      );
      out([`issuer id: ${team.issuerId}`, ...lines].join('\n'), { issuerId: team.issuerId, keys });
    } else if (sub === 'revoke') {
      const id = positionals[0];
      if (!id) throw new UsageError('keys revoke needs a KEY_ID');
      await s.keys.revoke(id);
      out(`revoked ${id}`, { keyId: id, revoked: true });
    } else {
      throw new UsageError(`unknown keys command '${sub ?? ''}'`);
    }
  });
}

async function appsCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: {
      name: { type: 'string' },
      'bundle-id': { type: 'string' },
      sku: { type: 'string' },
      'primary-locale': { type: 'string' },
      json: { type: 'boolean' },
    },
  });
  await withServices(config, async (s) => {
    if (sub === 'create') {
      const app = await s.apps.create({
        name: required(values, 'name'),
        bundleId: required(values, 'bundle-id'),
        sku: required(values, 'sku'),
        ...(values['primary-locale'] ? { primaryLocale: values['primary-locale'] } : {}),
      });
      out(`app id: ${app.id}`, { ...app });
    } else if (sub === 'list') {
      const apps = await s.apps.list();
      out(apps.map((a) => `${a.id}  ${a.bundleId}  ${a.sku}  ${a.name}`).join('\n'), { apps });
    } else {
      throw new UsageError(`unknown apps command '${sub ?? ''}'`);
    }
  });
}

/** The mail log's view of an outbox row (the text and HTML bodies only with `full`). */
function mailView(m: OutboxRow, full: boolean): Record<string, unknown> {
  const view: Record<string, unknown> = {
    id: m.id,
    invitationId: m.invitation_id,
    recipient: m.recipient,
    subject: m.subject,
    status: m.status,
    attempts: m.attempts,
    activationLink: m.activation_link,
    createdAt: m.created_at,
    sentAt: m.sent_at,
    nextAttemptAt: m.status === 'pending' ? m.next_attempt_at : null,
    lastError: m.last_error,
  };
  if (full) {
    const mail = renderOutboxMail(m);
    Object.assign(view, { textBody: mail.text, htmlBody: mail.html });
  }
  return view;
}

async function mailCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { limit: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  await withServices(config, async (s) => {
    if (sub === 'list') {
      const limit = values.limit === undefined ? 100 : Number(values.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100_000) throw new UsageError('--limit must be 1 to 100000');
      const messages = (await s.outbox.list(limit)).map((m) => mailView(m, false));
      const lines = messages.map((m) =>
        [m.id, String(m.status).padEnd(9), `attempts=${String(m.attempts)}`, m.recipient, JSON.stringify(m.subject), m.activationLink ?? '-'].join('  '),
      );
      out(lines.length > 0 ? lines.join('\n') : 'the mail log is empty', { messages });
    } else if (sub === 'show') {
      const id = positionals[0];
      if (!id) throw new UsageError('mail show needs an ID (see mail list)');
      const m = await s.outbox.find(id);
      if (!m) throw new CommandError(`there is no message with id '${id}' in the mail log`);
      const view = mailView(m, true);
      const head = ['id', 'invitationId', 'recipient', 'subject', 'status', 'attempts', 'activationLink', 'createdAt', 'sentAt', 'nextAttemptAt', 'lastError']
        .filter((k) => view[k] !== null && view[k] !== undefined)
        .map((k) => `${`${k}:`.padEnd(16)}${String(view[k])}`);
      out([...head, '', String(view.textBody)].join('\n'), view);
    } else {
      throw new UsageError(`unknown mail command '${sub ?? ''}'`);
    }
  });
}

/** The PEM of a .p8 file; a clear KeyError when it cannot be read or is not an EC P-256 private key. */
function readKeyFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    throw new KeyError(`cannot read the key file: ${err instanceof Error ? err.message : String(err)}`);
  }
  let key: KeyObject | undefined;
  try {
    key = createPrivateKey(pem);
  } catch {
    key = undefined;
  }
  if (key?.asymmetricKeyType !== 'ec' || key.asymmetricKeyDetails?.namedCurve !== 'prime256v1') {
    throw new KeyError(`${file} is not an App Store Connect private key (a PKCS#8 PEM of an EC P-256 key)`);
  }
  return pem;
}

function userLine(u: User): string {
  return `${u.id}  ${u.username}  ${u.firstName} ${u.lastName}  ${u.roles.join(',')}`;
}

async function usersCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values } = parseArgs({
    args: rest,
    options: { email: { type: 'string' }, 'first-name': { type: 'string' }, 'last-name': { type: 'string' }, json: { type: 'boolean' } },
  });
  await withServices(config, async (s) => {
    if (sub === 'create-account-holder') {
      const input = { email: required(values, 'email'), firstName: required(values, 'first-name'), lastName: required(values, 'last-name') };
      // the server's sweeper may not have run: an expired invitation must not keep the email
      await s.invitations.sweepExpired();
      const user = await s.users.createAccountHolder(input);
      out(`Account Holder created\nuser id:   ${user.id}\nusername:  ${user.username}`, { ...user });
    } else if (sub === 'list') {
      const users = await s.users.list();
      out(users.length > 0 ? users.map(userLine).join('\n') : 'the team has no users', { users });
    } else {
      throw new UsageError(`unknown users command '${sub ?? ''}'`);
    }
  });
}

async function tokenCommand(config: Config, args: string[], out: Out): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { 'key-file': { type: 'string' }, 'key-id': { type: 'string' }, lifetime: { type: 'string' }, json: { type: 'boolean' } },
  });
  const file = required(values, 'key-file');
  const keyId = values['key-id'] ?? keyIdFromFileName(file);
  if (!keyId) throw new UsageError('--key-id is required when the file is not named AuthKey_<KEY_ID>.p8');
  const lifetime = values.lifetime === undefined ? 1200 : Number(values.lifetime);
  if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 1200) throw new UsageError('--lifetime must be 1 to 1200 seconds');
  const privateKeyPem = readKeyFile(file);
  // an individual key's token has no issuer but `sub: "user"` (B1.3)
  const issuerId = await withServices(config, async (s) => ((await s.keys.find(keyId))?.userId ? undefined : (await s.keys.team()).issuerId));
  const token = await mintToken({ privateKeyPem, keyId, issuerId, lifetimeSeconds: lifetime });
  out(token, { token, keyId, issuerId: issuerId ?? null, expiresIn: lifetime });
}

export async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  const out: Out = (human, obj) => process.stdout.write(`${json ? JSON.stringify(obj) : human}\n`);
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    const config = loadConfig();
    switch (command) {
      case 'serve': {
        const server = await startServer(config);
        const stop = (signal: string) => {
          server.app.log.info({ signal }, 'shutting down');
          server.close().then(
            () => process.exit(0),
            (err: unknown) => {
              server.app.log.error({ err }, 'shutdown failed');
              process.exit(1);
            },
          );
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
        return -1; // keep running
      }
      case 'keys':
        await keysCommand(config, rest, out);
        return 0;
      case 'apps':
        await appsCommand(config, rest, out);
        return 0;
      case 'token':
        await tokenCommand(config, rest, out);
        return 0;
      case 'mail':
        await mailCommand(config, rest, out);
        return 0;
      case 'users':
        await usersCommand(config, rest, out);
        return 0;
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (caught) {
    // node:util parseArgs refuses unknown or malformed options: a usage error like our own
    const code = (caught as { code?: unknown } | null)?.code;
    const err = typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS_') ? new UsageError((caught as Error).message) : caught;
    const known = [UsageError, CommandError, ConfigError, KeyError, AppInputError, UserInputError].some((type) => err instanceof type);
    const message = err instanceof Error ? err.message : String(err);
    if (json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    process.stderr.write(`asc-access: ${message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
    if (!known && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
