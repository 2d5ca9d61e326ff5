/** `asc-access keys`: create (team or individual), list and revoke API keys. */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import type { Config } from '../../config.js';
import { CommandError, required, UsageError, withServices, type Out } from '../command.js';

/**
 * Creates a key whose private half goes to `file`. The file is claimed first (and never
 * overwritten), so no key is ever stored whose private half could not be saved.
 */
async function withKeyFile<T extends { privateKeyPem: string }>(file: string, create: () => Promise<T>): Promise<T> {
  let fd: number;
  try {
    fd = openSync(file, 'wx', 0o600);
  } catch (err) {
    const reason =
      (err as NodeJS.ErrnoException).code === 'EEXIST' ? 'it exists already (a private key is never overwritten)' : (err as Error).message;
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

export async function keysCommand(config: Config, args: string[], out: Out): Promise<void> {
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
      if (values.role !== undefined)
        throw new UsageError("--role and --individual-for exclude each other: an individual key acts with its user's roles");
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
        (k) =>
          `${k.keyId}  ${(k.role ?? 'INDIVIDUAL').padEnd(16)} ${k.revokedAt ? 'REVOKED ' : 'active  '} ${k.name}${k.userId ? ` (user ${k.userId})` : ''}`,
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
