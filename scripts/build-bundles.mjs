// Runs each part's esbuild script after tsc: webview/build.mjs (the panel bundle) and
// extension/build.mjs (the VS Code extension), when they exist.
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';

const root = join(import.meta.dirname, '..');
for (const script of ['webview/build.mjs', 'extension/build.mjs']) {
  if (existsSync(join(root, script))) execFileSync(process.execPath, [join(root, script)], { cwd: root, stdio: 'inherit' });
}
