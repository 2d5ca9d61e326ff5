/**
 * Starting and stopping the service: config -> database (migrated) -> app -> listen, with a
 * first-start admin key and a graceful shutdown (in-flight requests finish, the database closes).
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import { buildApp, type Services } from './app.js';
import type { Clock } from './clock.js';
import type { Config } from './config.js';
import { openDatabase, type Db } from './db/database.js';
import { keyFileName, mintToken } from './keys/token.js';

export interface RunningServer {
  app: FastifyInstance;
  services: Services;
  db: Db;
  /** the address the server listens on, e.g. http://127.0.0.1:8080 */
  address: string;
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
  mkdirSync(config.dataDir, { recursive: true });
  const created = await services.keys.create({ name: 'Initial admin key', role: 'ADMIN' });
  const file = path.join(config.dataDir, keyFileName(created.key.id));
  writeFileSync(file, created.privateKeyPem, { mode: 0o600 });
  const token = await mintToken({ privateKeyPem: created.privateKeyPem, keyId: created.key.id, issuerId: created.issuerId });
  return { issuerId: created.issuerId, keyId: created.key.id, file, token };
}

export function firstStartMessage(k: FirstStartKey, config: Config): string {
  return [
    '',
    'asc-access: first start. An ADMIN API key was created for you:',
    `  issuer id : ${k.issuerId}`,
    `  key id    : ${k.keyId}`,
    `  key file  : ${k.file}`,
    '',
    `Try it (the token is valid for 20 minutes; \`npm run -s asc-access -- token --key-file ${k.file}\` mints new ones):`,
    `  curl -H 'Authorization: Bearer ${k.token}' ${config.publicUrl}/v1/userInvitations`,
    '',
  ].join('\n');
}

export async function startServer(config: Config, options: { clock?: Clock; print?: (s: string) => void } = {}): Promise<RunningServer> {
  let app: FastifyInstance | undefined;
  const db = await openDatabase(config, (err) => {
    if (app) app.log.error({ err }, 'an idle PostgreSQL connection failed');
    else process.stderr.write(`asc-access: an idle PostgreSQL connection failed: ${err.message}\n`);
  });
  try {
    const built = await buildApp({ config, db, ...(options.clock ? { clock: options.clock } : {}) });
    app = built.app;
    const first = await bootstrapFirstKey(built.services, config);
    const address = await app.listen({ host: config.host, port: config.port });
    if (first) (options.print ?? ((s) => process.stdout.write(`${s}\n`)))(firstStartMessage(first, config));
    let closing: Promise<void> | undefined;
    const close = () => {
      closing ??= (async () => {
        await app!.close();
        await db.close();
      })();
      return closing;
    };
    return { app, services: built.services, db, address, close };
  } catch (err) {
    await app?.close();
    await db.close();
    throw err;
  }
}
