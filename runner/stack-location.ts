/** Where in the user's code an error was thrown, read off its stack. Pure. */
import { basename, dirname, join, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

export interface CodeLocation {
  file: string;
  line: number;
  column: number;
}

// `at fn (/abs/file.ts:2:25)`, `at /abs/file.ts:2:25`, `at file:///abs/file.ts:2:25`
const FRAME = /^\s*at (?:.*?\()?((?:file:\/\/)?\/[^()]+?):(\d+):(\d+)\)?\s*$/;

const here = dirname(fileURLToPath(import.meta.url));
// runner/ in the sources, dist/runner/ once built; source maps may name either tree.
const root = basename(dirname(here)) === 'dist' ? dirname(dirname(here)) : dirname(here);
const BATONS = [join(root, 'runner') + sep, join(root, 'dist') + sep];

/** Baton's own code, in this copy of it or in the build folder of a job's processor (.baton/). */
export function isBatons(file: string): boolean {
  return BATONS.some((prefix) => file.startsWith(prefix)) || file.includes(`${sep}.baton${sep}`);
}

/**
 * The first frame of `stack` in a file of the user's: not Node's own, not a dependency's
 * (node_modules), not Baton's. null when there is none.
 */
export function userLocation(stack: string | null | undefined): CodeLocation | null {
  if (!stack) return null;
  for (const line of stack.split('\n')) {
    const match = FRAME.exec(line);
    if (!match) continue;
    const file = match[1]!.startsWith('file://') ? fileURLToPath(match[1]!) : match[1]!;
    if (file.includes('/node_modules/') || isBatons(file)) continue;
    return { file, line: Number(match[2]), column: Number(match[3]) };
  }
  return null;
}
