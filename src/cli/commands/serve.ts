/** `asc-access serve`: runs the API server until SIGTERM or SIGINT, then drains and exits. */
import type { Config } from '../../config.js';
import { startServer } from '../../server.js';
import type { Output } from '../command.js';

/** Starts the server; the process exits (0, or 1 when the shutdown fails) after a signal. */
export async function serveCommand(config: Config, stdout: Output): Promise<void> {
  const server = await startServer(config, { print: (s) => stdout.write(`${s}\n`) });
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
}
