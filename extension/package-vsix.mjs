// Packages the VS Code extension as a .vsix that works on its own: the extension bundle, the
// runner server (dist/runner, run by the user's Node), the panel (dist/webview), the templates,
// and the runner's production dependencies with their native parts (better-sqlite3, esbuild).
//
//   node extension/package-vsix.mjs [--out <file.vsix>]      (npm run package builds first)
//
// vsce packs a folder, but it refuses a package.json that has "files" (which the npm package
// needs) together with a .vscodeignore (which the extension needs to leave out sources). So this
// stages the extension in a temporary folder with its own manifest and the root .vscodeignore,
// and runs vsce there. Native modules are those built for the Node that ran `npm install` here, on this
// platform; the extension checks them against the user's Node and says what to do when they
// do not fit.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, relative, resolve, sep } from 'node:path';

const root = resolve(import.meta.dirname, '..');
const pkg = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8'));
const outIndex = process.argv.indexOf('--out');
const out = resolve(outIndex > 0 ? process.argv[outIndex + 1] : join(root, `${pkg.name}-${pkg.version}.vsix`));

for (const built of ['dist/extension/activate.js', 'dist/runner/server/main.js']) {
  if (!existsSync(join(root, built))) {
    console.error(`package-vsix: ${built} is missing: run npm run build first (npm run package does)`);
    process.exit(1);
  }
}
if (!existsSync(join(root, 'dist/webview/panel.js'))) console.warn('package-vsix: dist/webview/panel.js is missing: the progress panel will be blank');

const stage = mkdtempSync(join(tmpdir(), 'baton-vsix-'));
try {
  // The manifest: the extension's fields, the runner's dependencies; no "files" (see above),
  // no scripts (vsce would run vscode:prepublish), no devDependencies.
  const { files: _files, scripts: _scripts, devDependencies: _dev, allowScripts: _allow, ...manifest } = pkg;
  writeFileSync(join(stage, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);

  const skipped = (path) => /\.(map|d\.ts)$/.test(path);
  const copy = (from, to = from) => cpSync(join(root, from), join(stage, to), { recursive: true, filter: (source) => !skipped(source) });
  copy('dist/extension');
  copy('dist/runner');
  if (existsSync(join(root, 'dist/webview'))) copy('dist/webview');
  copy('runner/templates');
  copy('extension/media');
  // The extension's page in VS Code: docs/extension.md.
  cpSync(join(root, 'docs', 'extension.md'), join(stage, 'README.md'));
  for (const license of ['LICENSE', 'LICENSE.md', 'LICENSE.txt']) if (existsSync(join(root, license))) cpSync(join(root, license), join(stage, license));

  // Production dependencies, as npm resolved them here (optional platform packages included).
  const listed = execFileSync('npm', ['ls', '--omit=dev', '--all', '--parseable'], { cwd: root, encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.startsWith(join(root, 'node_modules') + sep));
  const leftovers = [
    /[\\/]better-sqlite3[\\/](deps|src)[\\/]/,
    /[\\/]better-sqlite3[\\/]build[\\/](?!Release[\\/]better_sqlite3\.node$)/,
    /[\\/](test|tests|\.github)[\\/]/,
  ];
  for (const dir of listed) {
    const rel = relative(root, dir);
    mkdirSync(dirname(join(stage, rel)), { recursive: true });
    cpSync(dir, join(stage, rel), {
      recursive: true,
      // Nested node_modules are listed (and copied) on their own.
      filter: (source) => {
        const inner = relative(dir, source);
        if (inner.split(sep).includes('node_modules')) return false;
        if (source === dir || !leftovers.some((pattern) => pattern.test(source))) return true;
        // Keep the folders on the way to the one native file better-sqlite3 loads.
        return /[\\/]better-sqlite3[\\/]build([\\/]Release)?$/.test(source);
      },
    });
  }

  cpSync(join(root, '.vscodeignore'), join(stage, '.vscodeignore'));
  mkdirSync(dirname(out), { recursive: true });
  const vsce = join(root, 'node_modules', '@vscode', 'vsce', 'vsce');
  execFileSync(process.execPath, [vsce, 'package', '--no-yarn', '--allow-missing-repository', '--skip-license', '--no-rewrite-relative-links', '--out', out], { cwd: stage, stdio: 'inherit' });
} finally {
  rmSync(stage, { recursive: true, force: true });
}
