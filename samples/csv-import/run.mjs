// One command: writes the sample's CSV and JSONL files (once), runs the csv-import job through
// the Baton CLI with live progress, then counts the imported customers.
//
//   node samples/csv-import/run.mjs [--csv-rows N] [--jsonl-rows N] [--parallel N] [--shards N]
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { DATA_DIR, generateCustomers } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const repo = resolve(here, '..', '..');

/** The built CLI; compiles runner/ first when dist/ is missing. */
function cliPath() {
  const cli = join(repo, 'dist', 'runner', 'cli.js');
  if (!existsSync(cli)) {
    console.log('dist/runner/cli.js is missing: building runner/ first (npm run build)');
    spawnSync(process.execPath, [join(repo, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.build.json'], { cwd: repo, stdio: 'inherit' });
    if (!existsSync(cli)) throw new Error(`${cli} does not exist after the build: the Baton CLI is not there yet`);
  }
  return cli;
}

/** Runs `baton <args>` with the terminal attached, so its progress bar shows; resolves with its exit code. */
function runCli(args) {
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

function option(argv, name, fallback) {
  const at = argv.indexOf(name);
  return at >= 0 && argv[at + 1] !== undefined ? Number(argv[at + 1]) : fallback;
}

const argv = process.argv.slice(2);
const files = generateCustomers({ csvRows: option(argv, '--csv-rows', 150_000), jsonlRows: option(argv, '--jsonl-rows', 50_000) });
const target = join(DATA_DIR, 'imported.db');
console.log(`importing ${files.total.toLocaleString('en')} customers from\n  ${files.csv}\n  ${files.jsonl}\ninto ${target}`);
const args = {
  files: [{ path: files.csv, format: 'csv' }, { path: files.jsonl, format: 'jsonl' }],
  db: target,
  shards: option(argv, '--shards', 4),
  size: option(argv, '--size', 2_000),
};
const started = Date.now();
const code = await runCli(['run', join(here, 'processor.ts'), '--args', JSON.stringify(args), '--parallel', String(option(argv, '--parallel', 8)), '--db', join(repo, '.baton', 'baton.db')]);
const seconds = (Date.now() - started) / 1000;
const db = new Database(target, { readonly: true });
const count = db.prepare('SELECT count(*) FROM customers').pluck().get();
const multiline = db.prepare("SELECT count(*) FROM customers WHERE note LIKE '%' || char(10) || '%'").pluck().get();
db.close();
// The import is idempotent: running this again replaces the same rows and the count stays.
const verdict = count === files.total ? 'every customer imported' : `expected ${files.total.toLocaleString('en')}`;
console.log(`imported.db holds ${count.toLocaleString('en')} customers (${multiline.toLocaleString('en')} with multi-line notes): ${verdict} (${seconds.toFixed(1)} s)`);
process.exitCode = code !== 0 ? code : count === files.total ? 0 : 1;
