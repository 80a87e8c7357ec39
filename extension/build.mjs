// Bundles the VS Code extension: extension/activate.ts → dist/extension/activate.js (CommonJS,
// as VS Code loads extensions; 'vscode' is provided by VS Code). The runner server is not in this
// bundle: tsc compiles it to dist/runner/server, and it runs in its own Node process.
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { build } from 'esbuild';

const root = join(import.meta.dirname, '..');
const outdir = join(root, 'dist', 'extension');
mkdirSync(outdir, { recursive: true });
// The package is "type": "module"; this folder's files are CommonJS.
writeFileSync(join(outdir, 'package.json'), '{ "type": "commonjs" }\n');

await build({
  entryPoints: [join(root, 'extension', 'activate.ts')],
  outfile: join(outdir, 'activate.js'),
  bundle: true,
  format: 'cjs',
  platform: 'node',
  target: 'node20',
  external: ['vscode'],
  sourcemap: true,
  // Code shared with the runner (runner/scaffold.ts) finds its files from import.meta.url.
  define: { 'import.meta.url': '__batonImportMetaUrl' },
  banner: { js: "const __batonImportMetaUrl = require('node:url').pathToFileURL(__filename).href;" },
  logLevel: 'warning',
});
