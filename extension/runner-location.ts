/**
 * Which runner server the extension starts. The workspace's own `baton` package comes first, as
 * vscode-eslint runs the workspace's eslint: processors import it anyway, and its native
 * better-sqlite3 was built for the user's Node. The runner bundled in the .vsix is the fallback.
 * No 'vscode' here.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import type { RunnerKind } from './node-check.js';

/** Where the server entry sits inside a baton package. */
export const SERVER_MAIN = join('dist', 'runner', 'server', 'main.js');

export interface RunnerLocation {
  kind: RunnerKind;
  /** The baton package's folder. */
  root: string;
  /** Its dist/runner/server/main.js. */
  main: string;
  version: string;
}

interface PackageJson {
  name?: unknown;
  version?: unknown;
}

function readPackage(dir: string): PackageJson | null {
  try {
    return JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as PackageJson;
  } catch {
    return null;
  }
}

function runnerIn(dir: string, kind: RunnerKind): RunnerLocation | null {
  const pkg = readPackage(dir);
  const main = join(dir, SERVER_MAIN);
  if (pkg?.name !== 'baton' || !existsSync(main)) return null;
  return { kind, root: dir, main, version: typeof pkg.version === 'string' ? pkg.version : 'unknown' };
}

/**
 * The workspace's baton that has a runner server: the folder itself when it is baton (built),
 * else node_modules/baton at or above it, as Node would resolve it from a processor there.
 */
export function findWorkspaceRunner(folder: string): RunnerLocation | null {
  const own = runnerIn(resolve(folder), 'workspace');
  if (own) return own;
  for (let dir = resolve(folder); ; dir = dirname(dir)) {
    const found = runnerIn(join(dir, 'node_modules', 'baton'), 'workspace');
    if (found) return found;
    if (dirname(dir) === dir) return null;
  }
}

/** The runner to start for these workspace folders: the first one's own baton, else the bundled one. */
export function locateRunner(folders: readonly string[], extensionRoot: string): RunnerLocation {
  for (const folder of folders) {
    const found = findWorkspaceRunner(folder);
    if (found) return found;
  }
  const bundled = runnerIn(extensionRoot, 'bundled');
  if (!bundled) throw new Error(`the Baton extension has no runner at ${join(extensionRoot, SERVER_MAIN)}: reinstall the extension`);
  return bundled;
}
