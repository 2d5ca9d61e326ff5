/** `asc-access serve`: runs the API server until SIGTERM or SIGINT, then drains and exits. */
import { Command } from 'commander';
import type { Config } from '../../config.js';
import { startServer, type RunningServer } from '../../server.js';
import { CommandError, type CommandContext, type Output } from '../command.js';

/** A listen that failed for a reason of the operator's (port taken, no permission): one line. */
function listenError(err: unknown, config: Config): unknown {
  const code = (err as NodeJS.ErrnoException | null)?.code;
  const where = `port ${config.port} on ${config.host}`;
  if (code === 'EADDRINUSE') return new CommandError(`${where} is in use (set PORT)`, { cause: err });
  if (code === 'EACCES') return new CommandError(`no permission to listen on ${where} (set PORT, 1024 or above)`, { cause: err });
  if (code === 'EADDRNOTAVAIL') return new CommandError(`${config.host} is not an address of this machine (set HOST)`, { cause: err });
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN')
    return new CommandError(`cannot resolve HOST ${config.host} (set HOST)`, { cause: err });
  return err;
}

/**
 * Starts the server; the process exits (0, or 1 when the shutdown fails) after a signal. The
 * signals are heard from the start: one that comes while the server starts (after it printed its
 * first-start message, say) stops it once it has started.
 */
export async function serve(config: Config, stdout: Output): Promise<void> {
  let server: RunningServer | undefined;
  let pending: string | undefined;
  const stop = (signal: string) => {
    if (!server) {
      pending = signal;
      return;
    }
    const running = server;
    running.app.log.info({ signal }, 'shutting down');
    running.close().then(
      () => process.exit(0),
      (err: unknown) => {
        running.app.log.error({ err }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  const onTerm = () => stop('SIGTERM');
  const onInt = () => stop('SIGINT');
  process.once('SIGTERM', onTerm);
  process.once('SIGINT', onInt);
  try {
    server = await startServer(config, { print: (s) => stdout.write(`${s}\n`) });
  } catch (err) {
    process.off('SIGTERM', onTerm);
    process.off('SIGINT', onInt);
    throw listenError(err, config);
  }
  if (pending) stop(pending);
}

/** `serve` keeps running: `onServing` tells the CLI not to end the process. */
export function serveCommand(ctx: CommandContext, stdout: Output, onServing: () => void): Command {
  return new Command('serve')
    .description('run the API server (creates and migrates the database on its first start)')
    .option('--emulator', 'turn on the test target controls under /_emulator/v1 (as ASC_EMULATOR=1 does)')
    .action(async (options: { emulator?: boolean }) => {
      const config = ctx.config();
      await serve(options.emulator ? Object.freeze({ ...config, emulator: true }) : config, stdout);
      onServing();
    });
}
