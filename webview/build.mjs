// Bundles the panel with esbuild: dist/webview/panel.js (one IIFE script, loaded with the page's
// nonce), panel.css and theme-browser.css (the default theme `baton ui` serves). Run by
// `npm run build` (scripts/build-bundles.mjs) and by the tests' global setup.
import { build } from 'esbuild';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';

const here = import.meta.dirname;
const out = join(here, '..', 'dist', 'webview');
mkdirSync(out, { recursive: true });

await Promise.all([
  build({
    entryPoints: [join(here, 'app.ts')],
    outfile: join(out, 'panel.js'),
    bundle: true,
    format: 'iife',
    platform: 'browser',
    // VS Code 1.91's Electron ships Chromium 124.
    target: ['chrome114'],
    minify: true,
    legalComments: 'eof',
    logLevel: 'warning',
  }),
  build({
    entryPoints: [join(here, 'styles.css')],
    outfile: join(out, 'panel.css'),
    bundle: true,
    minify: true,
    logLevel: 'warning',
  }),
  build({
    entryPoints: [join(here, 'theme-browser.css')],
    outfile: join(out, 'theme-browser.css'),
    bundle: true,
    minify: true,
    logLevel: 'warning',
  }),
]);
