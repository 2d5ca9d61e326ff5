/** `asc-access token`: mints a bearer token from a key's .p8 file. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import type { Config } from '../../config.js';
import { KeyError } from '../../keys/service.js';
import { keyIdFromFileName, mintToken } from '../../keys/token.js';
import { sqliteFile } from '../../db/database.js';
import { CommandError, databaseWhere, UsageError, withServices, type CommandContext } from '../command.js';

/** Why a file cannot be read, in words, for the errors an operator meets. */
const READ_ERRORS: Record<string, string> = {
  ENOENT: 'no such file',
  EACCES: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a part of the path is not a directory',
};

/** The PEM of a .p8 file; a clear KeyError when it cannot be read or is not an EC P-256 private key. */
function readKeyFile(file: string): string {
  let pem: string;
  try {
    pem = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const reason = code ? (READ_ERRORS[code] ?? code) : String(err);
    throw new KeyError(`cannot read the key file ${path.resolve(file)}: ${reason}`);
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

interface TokenOptions {
  keyFile: string;
  keyId?: string;
  issuerId?: string;
  individual?: boolean;
  lifetime?: string;
}

/**
 * The issuer id to sign with (undefined: an individual key's token, `sub: "user"`, B1.3), checked
 * against the database: the key must be there and not revoked.
 */
async function issuerFromDatabase(config: Config, keyId: string, o: TokenOptions): Promise<string | undefined> {
  return withServices(config, async (s) => {
    const key = await s.keys.find(keyId);
    if (!key) throw new CommandError(`no key ${keyId} in the database at ${databaseWhere(config)}`);
    if (key.revokedAt) throw new CommandError(`key ${keyId} was revoked on ${key.revokedAt}`);
    if (key.userId) {
      if (o.issuerId !== undefined) throw new CommandError(`key ${keyId} is an individual key: its tokens carry no issuer id`);
      return undefined;
    }
    if (o.individual) throw new CommandError(`key ${keyId} is a team key, not an individual one`);
    const { issuerId } = await s.keys.team();
    if (o.issuerId !== undefined && o.issuerId !== issuerId) {
      throw new CommandError(`--issuer-id ${o.issuerId} is not this team's issuer id (${issuerId})`);
    }
    return issuerId;
  });
}

/**
 * Whether `token` looks at a database: when ASC_DATABASE_URL or ASC_DATA_DIR is set, or the default
 * ./data holds one. Otherwise (a machine with only the .p8 and the ids) it mints from --issuer-id or
 * --individual alone.
 */
function databaseVisible(ctx: CommandContext, config: Config): boolean {
  return Boolean(ctx.env.ASC_DATABASE_URL?.trim() || ctx.env.ASC_DATA_DIR?.trim()) || existsSync(sqliteFile(config));
}

export function tokenCommand(ctx: CommandContext): Command {
  return new Command('token')
    .description("mint a bearer token from a key's .p8 file")
    .requiredOption('--key-file <file>', 'the private key, e.g. AuthKey_<KEY_ID>.p8')
    .option('--key-id <id>', 'the key id (default: from the file name AuthKey_<KEY_ID>.p8)')
    .option('--issuer-id <id>', "the team's issuer id; needed only where no database is visible")
    .option('--individual', 'an individual key (sub "user", no issuer id); needed only where no database is visible')
    .option('--lifetime <seconds>', 'how long the token lives, 1 to 1200 (default 1200)')
    .option('--json', 'print one JSON object')
    .action(async (o: TokenOptions) => {
      const fromName = keyIdFromFileName(o.keyFile);
      if (o.keyId !== undefined && fromName !== undefined && o.keyId !== fromName) {
        throw new CommandError(`--key-id ${o.keyId} does not match the key file's name ${path.basename(o.keyFile)} (key id ${fromName})`);
      }
      const keyId = o.keyId ?? fromName;
      if (!keyId) throw new UsageError('--key-id is required when the file is not named AuthKey_<KEY_ID>.p8');
      if (o.issuerId !== undefined && o.individual) throw new UsageError('--issuer-id and --individual exclude each other');
      const lifetime = o.lifetime === undefined ? 1200 : Number(o.lifetime);
      if (!Number.isInteger(lifetime) || lifetime < 1 || lifetime > 1200) throw new UsageError('--lifetime must be 1 to 1200 seconds');
      const privateKeyPem = readKeyFile(o.keyFile);
      const config = ctx.config();
      let issuerId: string | undefined;
      if (databaseVisible(ctx, config)) {
        issuerId = await issuerFromDatabase(config, keyId, o);
      } else if (o.issuerId !== undefined || o.individual) {
        issuerId = o.issuerId;
      } else {
        throw new CommandError(
          `no asc-access database at ${sqliteFile(config)}; set ASC_DATA_DIR or ASC_DATABASE_URL, or give --issuer-id (--individual for an individual key)`,
        );
      }
      const token = await mintToken({ privateKeyPem, keyId, issuerId, lifetimeSeconds: lifetime });
      ctx.out(token, { token, keyId, issuerId: issuerId ?? null, expiresIn: lifetime });
    });
}
