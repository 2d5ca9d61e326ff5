/**
 * asc-access: the operator CLI. `serve` runs the service; the other commands work on the same
 * database directly (they need no running server). With --json a command prints one JSON object.
 * `run` is the whole CLI; src/cli/main.ts calls it with the process's streams and environment.
 */
import { readFileSync } from 'node:fs';
import { ConfigError, loadConfig } from '../config.js';
import { DatabaseUnavailableError } from '../db/database.js';
import { isStorageUnavailable } from '../db/storage-errors.js';
import { KeyError } from '../keys/service.js';
import { AppInputError } from '../resources/apps/service.js';
import { UserInputError } from '../resources/users/service.js';
import { CommandError, UsageError, type Out, type Output } from './command.js';
import { appsCommand } from './commands/apps.js';
import { keysCommand } from './commands/keys.js';
import { mailCommand } from './commands/mail.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { usersCommand } from './commands/users.js';

const USAGE = `Usage: asc-access <command> [options]

Commands:
  serve                                   run the API server (also: npm start)
  --version                               print the version
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

/** The package's version (package.json, two levels up from src/cli/ and from dist/cli/). */
export function packageVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}

/** What a run of the CLI reads and writes. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** the environment the configuration comes from */
  env: NodeJS.ProcessEnv;
}

/**
 * Runs one command line and returns its exit code: 0 done, 1 refused, 2 not understood; -1 for
 * `serve`, which keeps running until a signal ends the process.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const [command, ...rest] = argv;
  const json = rest.includes('--json');
  const out: Out = (human, obj) => io.stdout.write(`${json ? JSON.stringify(obj) : human}\n`);
  try {
    if (command === undefined || command === 'help' || command === '--help' || command === '-h') {
      io.stdout.write(`${USAGE}\n`);
      return command === undefined ? 1 : 0;
    }
    if (command === '--version' || command === '-v' || command === 'version') {
      io.stdout.write(`${packageVersion()}\n`);
      return 0;
    }
    const config = loadConfig(io.env);
    switch (command) {
      case 'serve':
        await serveCommand(config, io.stdout);
        return -1; // keep running
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
    // a database that cannot be opened or written (disk full, unreachable) is the operator's to fix: one line, no stack
    const known =
      [UsageError, CommandError, ConfigError, KeyError, AppInputError, UserInputError, DatabaseUnavailableError].some(
        (type) => err instanceof type,
      ) || isStorageUnavailable(err);
    const message = err instanceof Error ? err.message : String(err);
    if (json) io.stdout.write(`${JSON.stringify({ error: message })}\n`);
    io.stderr.write(`asc-access: ${message}\n${err instanceof UsageError ? `\n${USAGE}\n` : ''}`);
    if (!known && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
