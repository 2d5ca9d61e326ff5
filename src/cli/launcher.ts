/**
 * Starts `serve` again in a child process with the runtime tuning it lacks (src/cli/tuning.ts),
 * and stands for it: the child shares this process's stdin, stdout and stderr; SIGTERM, SIGINT and
 * SIGHUP sent here go to the child (a terminal's Ctrl-C too: the child has its own process group); this process ends as the child ends (same exit code or
 * signal). If this process dies without passing anything on (SIGKILL), the child sees its IPC
 * channel close and shuts down as on SIGTERM: no server outlives its launcher.
 */
import { spawn } from 'node:child_process';
import { RELAUNCHED_ENV } from './tuning.js';

const FORWARDED = ['SIGTERM', 'SIGINT', 'SIGHUP'] as const;

/** Runs the same script with `flags` added to node's and `env` added to the environment; never returns. */
export function relaunch(flags: readonly string[], env: Record<string, string>): Promise<never> {
  const script = process.argv[1]!;
  const child = spawn(process.execPath, [...process.execArgv, ...flags, script, ...process.argv.slice(2)], {
    stdio: ['inherit', 'inherit', 'inherit', 'ipc'],
    // a process group of its own: a terminal's Ctrl-C reaches the child once, through this process
    detached: true,
    env: { ...process.env, ...env, [RELAUNCHED_ENV]: '1' },
  });
  const forward = (signal: NodeJS.Signals) => () => {
    child.kill(signal);
  };
  const handlers = FORWARDED.map((signal) => [signal, forward(signal)] as const);
  for (const [signal, handler] of handlers) process.on(signal, handler);
  return new Promise<never>(() => {
    child.once('error', (err) => {
      process.stderr.write(`asc-access: cannot start the server process: ${err.message}\n`);
      process.exit(1);
    });
    child.once('exit', (code, signal) => {
      for (const [name, handler] of handlers) process.off(name, handler);
      if (signal !== null) process.kill(process.pid, signal); // end the same way
      process.exit(code ?? 1);
    });
  });
}

/** In the relaunched child: end (as on SIGTERM) when the launcher is gone. */
export function followLauncher(): void {
  if (process.env[RELAUNCHED_ENV] !== '1' || !process.send) return;
  process.channel?.unref(); // the channel alone keeps nothing alive
  process.once('disconnect', () => process.kill(process.pid, 'SIGTERM'));
}
