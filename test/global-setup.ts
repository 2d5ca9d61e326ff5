/**
 * Builds the CLI's entry point (`npm run build`: dist/) once per test run, for the tests that start
 * it as a real process (test/helpers/cli.ts). Skipped when dist/ is newer than every source file.
 */
import { execFileSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const ENTRY = path.join(ROOT, 'dist/cli/main.js');

/** The newest modification time among the build's inputs. */
function newestInput(): number {
  let newest = 0;
  const visit = (file: string) => {
    const stat = statSync(file);
    if (stat.isDirectory()) for (const name of readdirSync(file)) visit(path.join(file, name));
    else newest = Math.max(newest, stat.mtimeMs);
  };
  for (const input of ['src', 'tsconfig.json', 'tsconfig.build.json', 'package.json']) visit(path.join(ROOT, input));
  return newest;
}

export default function setup(): void {
  let built = 0;
  try {
    built = statSync(ENTRY).mtimeMs;
  } catch {
    built = 0;
  }
  if (built >= newestInput()) return;
  execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: ROOT, stdio: 'inherit' });
}
