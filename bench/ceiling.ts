/** Starts the ceiling server (ceiling-server.ts) with a captured response. */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import type { Captured } from './probe.js';
import { freePort, ROOT, startProcess, type RunningProcess } from './server.js';

/** Headers Node's http module writes itself; the others are replayed as captured. */
const NODE_OWN_HEADERS = new Set(['date', 'connection', 'keep-alive', 'transfer-encoding', 'content-length']);

export async function startCeiling(captured: Captured, workDir: string): Promise<RunningProcess> {
  const headers: Record<string, string> = {};
  for (const [name, value] of Object.entries(captured.headers)) if (!NODE_OWN_HEADERS.has(name)) headers[name] = value;
  const file = path.join(workDir, 'ceiling-response.json');
  writeFileSync(file, JSON.stringify({ headers, bodyBase64: captured.body.toString('base64') }));
  const port = await freePort();
  return startProcess({
    name: 'ceiling',
    args: ['--import', 'tsx', path.join(ROOT, 'bench', 'ceiling-server.ts')],
    env: { ...process.env, CEILING_RESPONSE: file, PORT: String(port) },
    port,
    logFile: path.join(workDir, 'ceiling.log'),
  });
}
