/**
 * Builds dist/ (what `npm run build` emits) once per test run, for the tests that start the CLI's
 * entry point as a real process (test/helpers/cli.ts). With isolatedModules every file compiles
 * alone, so each is transpiled by itself: the same JavaScript as tsc's, in a fraction of the time
 * (`npm run typecheck` checks the types). Skipped when dist/ is newer than every input.
 */
import { mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';

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

function build(): void {
  const parsed = ts.getParsedCommandLineOfConfigFile(
    path.join(ROOT, 'tsconfig.build.json'),
    {},
    {
      ...ts.sys,
      onUnRecoverableConfigFileDiagnostic: (d) => {
        throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
      },
    },
  );
  if (!parsed) throw new Error('tsconfig.build.json cannot be read');
  const { rootDir, outDir } = parsed.options;
  if (!rootDir || !outDir) throw new Error('tsconfig.build.json must set rootDir and outDir');
  // the package is "type": "module": NodeNext emits ES modules, which a lone file cannot find out
  const compilerOptions = { ...parsed.options, module: ts.ModuleKind.ESNext, moduleResolution: ts.ModuleResolutionKind.Bundler };
  for (const file of parsed.fileNames) {
    const out = path.join(outDir, path.relative(rootDir, file)).replace(/\.ts$/, '.js');
    const { outputText, sourceMapText } = ts.transpileModule(readFileSync(file, 'utf8'), { compilerOptions, fileName: file });
    mkdirSync(path.dirname(out), { recursive: true });
    writeFileSync(out, outputText);
    if (sourceMapText) writeFileSync(`${out}.map`, sourceMapText);
  }
}

export default function setup(): void {
  let built: number;
  try {
    built = statSync(ENTRY).mtimeMs;
  } catch {
    built = 0;
  }
  if (built < newestInput()) build();
}
