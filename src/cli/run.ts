/**
 * asc-access: the operator CLI (commander). `serve` runs the service; the other commands work on
 * the same database directly (they need no running server, and never create a database). With
 * --json a command prints one JSON object. `run` is the whole CLI; src/cli/main.ts calls it with
 * the process's streams and environment.
 */
import { readFileSync } from 'node:fs';
import { Command, CommanderError } from 'commander';
import { ConfigError, loadConfig, type Config } from '../config.js';
import { DatabaseUnavailableError } from '../db/database.js';
import { isStorageUnavailable } from '../db/storage-errors.js';
import { KeyError } from '../keys/service.js';
import { AppInputError } from '../resources/apps/service.js';
import { SandboxTesterInputError } from '../resources/sandbox-testers/service.js';
import { UserInputError } from '../resources/users/service.js';
import { CommandError, UsageError, type CommandContext, type Out, type Output } from './command.js';
import { appsCommand } from './commands/apps.js';
import { emulatorCommand } from './commands/emulator.js';
import { keysCommand } from './commands/keys.js';
import { mailCommand } from './commands/mail.js';
import { sandboxTestersCommand } from './commands/sandbox-testers.js';
import { serveCommand } from './commands/serve.js';
import { tokenCommand } from './commands/token.js';
import { usersCommand } from './commands/users.js';

/** the package's version (src/cli and dist/cli are both two levels below package.json) */
const VERSION = (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;

/** What a run of the CLI reads and writes. */
export interface CliIo {
  stdout: Output;
  stderr: Output;
  /** the environment the configuration comes from */
  env: NodeJS.ProcessEnv;
}

/** `keys create`: a command's words after `asc-access` ('' for the program itself). */
function commandPath(cmd: Command): string {
  const names: string[] = [];
  for (let c: Command | null = cmd; c?.parent; c = c.parent) names.unshift(c.name());
  return names.join(' ');
}

function allCommands(cmd: Command): Command[] {
  return [cmd, ...cmd.commands.flatMap(allCommands)];
}

/** A usage error as one line: what is wrong, and where the command's help is. */
function usageLine(message: string, cmd: Command): string {
  const where = commandPath(cmd);
  const help = `see 'asc-access ${where ? `${where} ` : ''}--help'`;
  // commander: "error: unknown option '--nam'\n(Did you mean --name?)"
  const text = message
    .replace(/^error: /, '')
    .replace(/\.$/, '')
    .replace(/\n\(Did you mean (.*)\?\)$/, ' (did you mean $1?)');
  const excess = /^too many arguments for '[^']*'\. Expected (\d+) arguments? but got (\d+)/.exec(text);
  if (excess) return `too many arguments for '${where}': ${excess[2]} given, ${excess[1]} expected (${help})`;
  const forCommand = where && text.startsWith('unknown option') ? ` for '${where}'` : '';
  return `${text}${forCommand} (${help})`;
}

function program(io: CliIo, ctx: CommandContext, onServing: () => void): Command {
  const root = new Command('asc-access')
    .usage('<command> [options]')
    .description(
      'A self-hosted App Store Connect Users and Access API. `serve` runs it; the other commands work on its database ' +
        'directly (no server needs to run), but `emulator`, which drives a running emulator over HTTP.',
    )
    .version(VERSION, '-V, --version', 'print the version')
    .addCommand(serveCommand(ctx, io.stdout, onServing))
    .addCommand(keysCommand(ctx))
    .addCommand(usersCommand(ctx))
    .addCommand(appsCommand(ctx))
    .addCommand(sandboxTestersCommand(ctx))
    .addCommand(tokenCommand(ctx))
    .addCommand(mailCommand(ctx))
    .addCommand(emulatorCommand(ctx))
    .addHelpText(
      'after',
      '\nConfiguration comes from the environment (ASC_DATA_DIR, ASC_DATABASE_URL, HOST, PORT, ASC_PUBLIC_URL, ...); see README.md.',
    );
  for (const cmd of allCommands(root)) {
    cmd.configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
      // written by run() as one line
      outputError: () => undefined,
    });
    cmd.exitOverride();
    cmd.showSuggestionAfterError(true);
  }
  return root;
}

/**
 * Runs one command line and returns its exit code: 0 done, 1 refused, 2 not understood; -1 for
 * `serve`, which keeps running until a signal ends the process.
 */
export async function run(argv: readonly string[], io: CliIo): Promise<number> {
  const json = argv.includes('--json');
  const out: Out = (human, obj) => io.stdout.write(`${json ? JSON.stringify(obj) : human}\n`);
  let config: Config | undefined;
  const ctx: CommandContext = { env: io.env, out, config: () => (config ??= loadConfig(io.env)) };
  let serving = false;
  const root = program(io, ctx, () => (serving = true));
  // the command whose action runs, for the hint of a usage error it throws
  let current: Command = root;
  root.hook('preAction', (_root, action) => {
    current = action;
  });

  // `asc-access` or `asc-access keys` alone: that command's help, on stdout, exit 1
  const group = argv.length === 0 ? root : argv.length === 1 ? root.commands.find((c) => c.name() === argv[0]) : undefined;
  if (group && group.commands.length > 0) {
    group.outputHelp();
    return 1;
  }
  try {
    await root.parseAsync([...argv], { from: 'user' });
    return serving ? -1 : 0;
  } catch (caught) {
    if (caught instanceof CommanderError) {
      // --help and --version
      if (caught.code === 'commander.helpDisplayed' || caught.code === 'commander.version') return 0;
      if (caught.code === 'commander.help') return caught.exitCode;
    }
    let err = caught;
    if (caught instanceof CommanderError) {
      // the command that refused the line: the deepest one its words name
      let cmd = root;
      for (const word of argv) {
        const sub = cmd.commands.find((c) => c.name() === word);
        if (!sub) break;
        cmd = sub;
      }
      // commander checks required options before unknown ones: `--nam x` is an unknown option, not a missing --name
      const known = (w: string) => cmd.options.some((o) => [o.long, o.short].includes(w.split('=')[0]));
      const unknown = argv.find((w) => w.startsWith('-') && w !== '--' && !known(w));
      const message = caught.code === 'commander.missingMandatoryOptionValue' && unknown ? `unknown option '${unknown}'` : caught.message;
      err = new UsageError(usageLine(message, cmd));
    } else if (caught instanceof UsageError) {
      err = new UsageError(usageLine(caught.message, current));
    }
    // a database that cannot be opened or written (disk full, unreachable) is the operator's to fix: one line, no stack
    const known =
      [
        UsageError,
        CommandError,
        ConfigError,
        KeyError,
        AppInputError,
        UserInputError,
        SandboxTesterInputError,
        DatabaseUnavailableError,
      ].some((type) => err instanceof type) || isStorageUnavailable(err);
    const message = err instanceof Error ? err.message : String(err);
    if (json) io.stdout.write(`${JSON.stringify({ error: message })}\n`);
    io.stderr.write(`asc-access: ${message}\n`);
    if (!known && err instanceof Error && err.stack) io.stderr.write(`${err.stack}\n`);
    return err instanceof UsageError ? 2 : 1;
  }
}
