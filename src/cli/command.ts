/**
 * What every command of the operator CLI shares: its errors, how it prints, its required options
 * and the services it opens on the configured database.
 */
import { createServices, type Services } from '../container.js';
import { systemClock } from '../clock.js';
import type { Config } from '../config.js';
import { openDatabase } from '../db/database.js';

/** A command line the CLI does not understand (exit 2, with the usage text). */
export class UsageError extends Error {
  override name = 'UsageError';
}

/** A command that cannot do what was asked (exit 1, no usage text). */
export class CommandError extends Error {
  override name = 'CommandError';
}

/** Where the CLI writes: process.stdout and process.stderr, or a test's capture. */
export interface Output {
  write(text: string): unknown;
}

/** Prints a command's result: the human text, or with --json the one JSON object. */
export type Out = (human: string, json: Record<string, unknown>) => void;

export function required(values: Record<string, unknown>, name: string): string {
  const v = values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`--${name} is required`);
  return v;
}

export async function withServices<T>(config: Config, fn: (s: Services) => Promise<T>): Promise<T> {
  const db = await openDatabase(config);
  try {
    return await fn(createServices(db, systemClock, config));
  } finally {
    await db.close();
  }
}
