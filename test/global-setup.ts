import { execFileSync } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Compiles runner/ to dist/ (worker threads and CLI tests run it) and builds the bundles. */
export default function setup(): void {
  // For a run against a dist/ built by hand (BATON_SKIP_BUILD=1).
  if (process.env.BATON_SKIP_BUILD === '1') return;
  execFileSync(process.execPath, [join(root, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' });
  execFileSync(process.execPath, [join(root, 'scripts/build-bundles.mjs')], { cwd: root, stdio: 'inherit' });
}
