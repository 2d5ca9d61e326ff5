/** `asc-access token`: mints a bearer token from a key's .p8 file. */
import { createPrivateKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import type { Config } from '../../config.js';
import { KeyError } from '../../keys/service.js';
import { keyIdFromFileName, mintToken } from '../../keys/token.js';
import { required, UsageError, withServices, type Out } from '../command.js';

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

export async function tokenCommand(config: Config, args: string[], out: Out): Promise<void> {
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
  const issuerId = await withServices(config, async (s) =>
    (await s.keys.find(keyId))?.userId ? undefined : (await s.keys.team()).issuerId,
  );
  const token = await mintToken({ privateKeyPem, keyId, issuerId, lifetimeSeconds: lifetime });
  out(token, { token, keyId, issuerId: issuerId ?? null, expiresIn: lifetime });
}
