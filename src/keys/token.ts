/** Minting App Store Connect tokens (what a client does), for the CLI and the first-start hint. */
import { createPrivateKey } from 'node:crypto';
import { SignJWT } from 'jose';
import { AUDIENCE, MAX_LIFETIME_SECONDS } from '../http/auth.js';

export interface TokenInput {
  privateKeyPem: string;
  keyId: string;
  /** team keys: the issuer id; individual keys: omit (the token gets `sub: "user"`) */
  issuerId?: string;
  lifetimeSeconds?: number;
  scope?: string[];
  now?: Date;
}

export async function mintToken(input: TokenInput): Promise<string> {
  const now = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const claims: Record<string, unknown> = { aud: AUDIENCE };
  if (input.scope) claims.scope = input.scope;
  const jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'ES256', kid: input.keyId, typ: 'JWT' })
    .setIssuedAt(now)
    .setExpirationTime(now + (input.lifetimeSeconds ?? MAX_LIFETIME_SECONDS));
  if (input.issuerId) jwt.setIssuer(input.issuerId);
  else jwt.setSubject('user');
  return jwt.sign(createPrivateKey(input.privateKeyPem));
}

/** Apple names downloaded keys AuthKey_<KEY_ID>.p8. */
export function keyFileName(keyId: string): string {
  return `AuthKey_${keyId}.p8`;
}

export function keyIdFromFileName(file: string): string | undefined {
  return /AuthKey_([A-Z0-9]{10})\.p8$/.exec(file)?.[1];
}
