#!/usr/bin/env node
/**
 * asc-access: the operator CLI. `serve` runs the service; the other commands work on the same
 * database directly (they need no running server). With --json a command prints one JSON object.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { createServices, type Services } from '../app.js';
import { systemClock } from '../clock.js';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { openDatabase } from '../db/database.js';
import { AppInputError } from '../resources/apps/service.js';
import { KeyError } from '../keys/service.js';
import { keyIdFromFileName, mintToken } from '../keys/token.js';
import { startServer } from '../server.js';

const USAGE = `Usage: asc-access <command> [options]

Commands:
  serve                                   run the API server (also: npm start)
  keys create --name NAME --role ROLE --out FILE.p8 [--json]
                                          create a team API key; writes its private key once
  keys list [--json]                      list API keys
  keys revoke KEY_ID [--json]             revoke a key; it stops working at once
  apps create --name NAME --bundle-id ID --sku SKU [--primary-locale en-US] [--json]
                                          add an app (apps are read-only through the API)
  apps list [--json]                      list apps
  token --key-file FILE.p8 [--key-id ID] [--lifetime SECONDS] [--json]
                                          mint a bearer token for a key

Configuration comes from the environment (ASC_DATA_DIR, HOST, PORT, ASC_PUBLIC_URL, ...); see README.md.`;

class UsageError extends Error {
  override name = 'UsageError';
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

async function keysCommand(config: Config, args: string[], out: Out): Promise<void> {
  const [sub, ...rest] = args;
  const { values, positionals } = parseArgs({
    args: rest,
    options: { name: { type: 'string' }, role: { type: 'string' }, out: { type: 'string' }, json: { type: 'boolean' } },
    allowPositionals: true,
  });
  await withServices(config, async (s) => {
    if (sub === 'create') {
      const file = path.resolve(required(values, 'out'));
      const created = await s.keys.create({ name: required(values, 'name'), role: required(values, 'role') });
      writeFileSync(file, created.privateKeyPem, { mode: 0o600 });
      out(`issuer id: ${created.issuerId}\nkey id:    ${created.key.id}\nkey file:  ${file}`, {
        issuerId: created.issuerId,
        keyId: created.key.id,
        name: created.key.name,
        role: created.key.role,
        file,
      });
    } else if (sub === 'list') {
      const team = await s.keys.team();
      const keys = (await s.keys.list()).map((k) => ({ keyId: k.id, name: k.name, role: k.role, createdAt: k.createdAt, revokedAt: k.revokedAt }));
      const lines = keys.map((k) => `${k.keyId}  ${k.role.padEnd(16)} ${k.revokedAt ? 'REVOKED ' : 'active  '} ${k.name}`);
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
  const issuerId = await withServices(config, async (s) => (await s.keys.team()).issuerId);
  const token = await mintToken({ privateKeyPem: readFileSync(file, 'utf8'), keyId, issuerId, lifetimeSeconds: lifetime });
  out(token, { token, keyId, issuerId, expiresIn: lifetime });
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
      default:
        throw new UsageError(`unknown command '${command}'`);
    }
  } catch (err) {
    const known = err instanceof UsageError || err instanceof ConfigError || err instanceof KeyError || err instanceof AppInputError;
    const message = err instanceof Error ? err.message : String(err);
    if (json) process.stdout.write(`${JSON.stringify({ error: message })}\n`);
    process.stderr.write(`asc-access: ${message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
    if (!known && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}

const code = await main(process.argv.slice(2));
if (code >= 0) process.exitCode = code;
