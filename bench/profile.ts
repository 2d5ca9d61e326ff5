/**
 * Summarises a V8 .cpuprofile (written by the server under --cpu-prof): the functions with the most
 * self time, so a run says where the server's CPU went without opening a profiler.
 */
import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';

interface ProfileNode {
  id: number;
  children?: number[];
  callFrame: { functionName: string; url: string; lineNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface ProfileEntry {
  function: string;
  /** file (relative to the repository or node_modules) and line */
  location: string;
  selfMs: number;
  /** share of all samples, idle included */
  percent: number;
}

function shorten(url: string): string {
  if (url === '') return '(native)';
  const nm = url.lastIndexOf('node_modules/');
  if (nm !== -1) return url.slice(nm + 'node_modules/'.length);
  const dist = url.lastIndexOf('/dist/');
  if (dist !== -1) return url.slice(dist + 1);
  return url.replace(/^file:\/\//, '');
}

/**
 * The `top` functions by self time in the newest profile of a main thread in `dir`. Node names
 * profiles CPU.<date>.<time>.<pid>.<thread>.<seq>.cpuprofile; thread 0 is the main thread, the
 * others are worker threads (the WAL checkpointer's).
 */
export function summarizeProfile(dir: string, top = 20): { file: string; totalMs: number; entries: ProfileEntry[] } | undefined {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.cpuprofile') && f.split('.')[4] === '0')
    .sort();
  const newest = files[files.length - 1];
  if (!newest) return undefined;
  const file = path.join(dir, newest);
  const profile = JSON.parse(readFileSync(file, 'utf8')) as CpuProfile;
  const nodes = new Map(profile.nodes.map((n) => [n.id, n]));
  const parents = new Map<number, ProfileNode>();
  for (const n of profile.nodes) for (const child of n.children ?? []) parents.set(child, n);
  const self = new Map<string, { fn: string; location: string; us: number }>();
  let totalUs = 0;
  profile.samples.forEach((id, i) => {
    const node = nodes.get(id);
    const us = profile.timeDeltas[i] ?? 0;
    totalUs += us;
    if (!node) return;
    const { functionName, url, lineNumber } = node.callFrame;
    // unnamed native code (a C++ binding, a builtin) is named after the function that called it
    const caller = parents.get(id)?.callFrame;
    const native = url === '' && functionName === '' && caller;
    const location = native
      ? `(native, called from ${shorten(caller.url)}:${caller.lineNumber + 1})`
      : url === ''
        ? '(native)'
        : `${shorten(url)}:${lineNumber + 1}`;
    const fn = native ? `(native in ${caller.functionName || 'anonymous'})` : functionName || '(anonymous)';
    const key = `${fn}@${location}`;
    const entry = self.get(key) ?? { fn, location, us: 0 };
    entry.us += us;
    self.set(key, entry);
  });
  const entries = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, top)
    .map((e) => ({ function: e.fn, location: e.location, selfMs: e.us / 1000, percent: (100 * e.us) / totalUs }));
  return { file, totalMs: totalUs / 1000, entries };
}
