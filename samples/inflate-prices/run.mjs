// One command: creates the shop (100,000 products, once), resets its prices, runs the
// inflate-prices job through the Baton CLI with live progress, then checks every price.
//
//   node samples/inflate-prices/run.mjs [--rows N] [--percent P] [--delay-ms MS] [--parallel N] [--shards N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { DEFAULT_SHOP, checkShop, setupShop } from './setup.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

/** The built CLI; compiles runner/ first when dist/ is missing. */
export function cliPath() {
  const cli = join(repo, 'dist', 'runner', 'cli.js');
  if (!existsSync(cli)) {
    console.log('dist/runner/cli.js is missing: building runner/ first (npm run build)');
    spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'inherit' });
    if (!existsSync(cli)) throw new Error(`${cli} does not exist after the build: the Baton CLI is not there yet`);
  }
  return cli;
}

/** Runs `baton <args>` with the terminal attached, so its progress bar shows; resolves with its exit code. */
export function runCli(args) {
  return new Promise((resolvePromise, reject) => {
    const child = spawn(process.execPath, [cliPath(), ...args], { stdio: 'inherit' });
    // Ctrl-C reaches the CLI too, which pauses the job cleanly; this process waits for it.
    const ignore = () => {};
    process.on('SIGINT', ignore);
    child.on('error', reject);
    child.on('exit', (code, signal) => {
      process.off('SIGINT', ignore);
      resolvePromise(code ?? (signal ? 128 : 1));
    });
  });
}

/** Prepares the shop, runs the job and prints a one-line check. Resolves with the exit code. */
export async function runInflatePrices({ rows = 100_000, percent = 5, delayMs = 0, parallel = 8, shards = 4, size = 500, db = join(repo, '.baton', 'baton.db'), file = DEFAULT_SHOP } = {}) {
  const shop = setupShop({ file, rows });
  console.log(`shop: ${rows.toLocaleString('en')} products in ${shop.file}, average price ${(shop.averageCents / 100).toFixed(2)}`);
  const args = { shop: shop.file, percent, delayMs, shards, size };
  const started = Date.now();
  const code = await runCli(['run', join(here, 'processor.ts'), '--args', JSON.stringify(args), '--parallel', String(parallel), '--db', db]);
  const seconds = (Date.now() - started) / 1000;
  const after = checkShop(shop.file, percent);
  const change = shop.averageCents > 0 ? ((after.averageCents / shop.averageCents - 1) * 100).toFixed(2) : '0';
  const verdict = after.wrong === 0 ? `every product inflated exactly once` : `${after.wrong.toLocaleString('en')} products not inflated exactly once`;
  console.log(`average price ${(shop.averageCents / 100).toFixed(2)} -> ${(after.averageCents / 100).toFixed(2)} (+${change}%): ${verdict} (${seconds.toFixed(1)} s)`);
  return code !== 0 ? code : after.wrong === 0 ? 0 : 1;
}

function option(argv, name, fallback) {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? Number(argv[at + 1]) : fallback;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  process.exitCode = await runInflatePrices({
    rows: option(argv, '--rows', 100_000),
    percent: option(argv, '--percent', 5),
    delayMs: option(argv, '--delay-ms', 20),
    parallel: option(argv, '--parallel', 8),
    shards: option(argv, '--shards', 4),
  });
}
