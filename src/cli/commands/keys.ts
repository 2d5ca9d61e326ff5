/** `asc-access keys`: create (team or individual), list and revoke API keys. */
import { closeSync, openSync, rmSync, writeSync } from 'node:fs';
import path from 'node:path';
import { Command } from 'commander';
import { CommandError, UsageError, withServices, type CommandContext } from '../command.js';

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

/** Team roles are Apple's upper-case names; the CLI takes them in any case (`--role admin`). */
const upper = (v: string) => v.toUpperCase();

export function keysCommand(ctx: CommandContext): Command {
  const keys = new Command('keys').description('create, list and revoke API keys');
  keys
    .command('create')
    .description("create a team key (--role), or an individual key acting with a user's roles (--individual-for)")
    .requiredOption('--name <name>', "the key's name")
    .option('--role <role>', "a team key's role: ADMIN, FINANCE, APP_MANAGER, DEVELOPER, MARKETING, SALES, CUSTOMER_SUPPORT", upper)
    .option('--individual-for <userId>', 'an individual key for this user (see users list); revoked when the user is removed')
    .requiredOption('--out <file>', 'where the private key (.p8) is written, once; an existing file is never overwritten')
    .option('--json', 'print one JSON object')
    .action(async (o: { name: string; role?: string; individualFor?: string; out: string }) => {
      const file = path.resolve(o.out);
      const userId = o.individualFor;
      if (userId !== undefined && o.role !== undefined)
        throw new UsageError("--role and --individual-for exclude each other: an individual key acts with its user's roles");
      if (userId === undefined && o.role === undefined) throw new UsageError('--role is required (or --individual-for USER_ID)');
      await withServices(ctx.config(), async (s) => {
        if (userId !== undefined) {
          if (!(await s.users.find(userId))) throw new CommandError(`there is no user with id '${userId}' (see users list)`);
          const created = await withKeyFile(file, () => s.keys.createIndividual({ name: o.name, userId }));
          ctx.out(`key id:    ${created.key.id}\nkey file:  ${file}\nuser id:   ${userId} (tokens carry sub "user" and no issuer id)`, {
            keyId: created.key.id,
            name: created.key.name,
            userId,
            file,
          });
        } else {
          const created = await withKeyFile(file, () => s.keys.create({ name: o.name, role: o.role! }));
          ctx.out(`issuer id: ${created.issuerId}\nkey id:    ${created.key.id}\nkey file:  ${file}`, {
            issuerId: created.issuerId,
            keyId: created.key.id,
            name: created.key.name,
            role: created.key.role,
            file,
          });
        }
      });
    });
  keys
    .command('list')
    .description('list the API keys, revoked ones too')
    .option('--json', 'print one JSON object')
    .action(() =>
      withServices(ctx.config(), async (s) => {
        const team = await s.keys.team();
        const list = (await s.keys.list()).map((k) => ({
          keyId: k.id,
          name: k.name,
          role: k.role,
          createdAt: k.createdAt,
          revokedAt: k.revokedAt,
          // individual keys: no role of their own, and the user they act for
          ...(k.userId ? { userId: k.userId } : {}),
        }));
        const lines = list.map(
          (k) =>
            `${k.keyId}  ${(k.role ?? 'INDIVIDUAL').padEnd(16)} ${k.revokedAt ? 'REVOKED ' : 'active  '} ${k.name}${k.userId ? ` (user ${k.userId})` : ''}`,
        );
        ctx.out([`issuer id: ${team.issuerId}`, ...lines].join('\n'), { issuerId: team.issuerId, keys: list });
      }),
    );
  keys
    .command('revoke')
    .description('revoke a key; it stops working at once')
    .argument('<KEY_ID>', 'the key to revoke (see keys list)')
    .option('--json', 'print one JSON object')
    .action((id: string) =>
      withServices(ctx.config(), async (s) => {
        await s.keys.revoke(id);
        ctx.out(`revoked ${id}`, { keyId: id, revoked: true });
      }),
    );
  return keys;
}
