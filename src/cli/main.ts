#!/usr/bin/env node
/** The `asc-access` command: the CLI (src/cli/run.ts) on this process's streams and environment. */
import { run } from './run.js';

const code = await run(process.argv.slice(2), { stdout: process.stdout, stderr: process.stderr, env: process.env });
if (code >= 0) process.exitCode = code;
