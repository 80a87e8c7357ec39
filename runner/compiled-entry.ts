/**
 * Where a worker thread's entry is as compiled JavaScript: beside the module that starts it
 * (in dist/), or in dist/ when that module runs from its TypeScript source (tests, tsx).
 */
import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** `moduleUrl` is the starting module's import.meta.url, `name` the entry's file, in the same folder. */
export function compiledEntry(moduleUrl: string, name: string): string {
  const here = dirname(fileURLToPath(moduleUrl));
  const beside = join(here, name);
  if (existsSync(beside)) return beside;
  const built = join(here, '..', '..', 'dist', 'runner', basename(here), name);
  if (existsSync(built)) return built;
  throw new Error(`the worker entry ${built} is missing: run \`npm run build\` first`);
}
