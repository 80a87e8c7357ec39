// One command: writes the sample's CSV and JSONL files (once), runs the csv-import job through
// the Baton CLI with live progress, then counts the imported customers.
//
//   node samples/csv-import/run.mjs [--csv-rows N] [--jsonl-rows N] [--parallel N] [--shards N] [--size N] [--data DIR]
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { batonDatabase, jobRan, runCli, sampleOptions } from '../sample-command.mjs';
import { DATA_DIR, generateCustomers } from './generate.mjs';

const here = dirname(fileURLToPath(import.meta.url));
const options = sampleOptions('samples/csv-import/run.mjs', {
  'csv-rows': [150_000, 'whole'],
  'jsonl-rows': [50_000, 'whole'],
  parallel: [8, 'count'],
  shards: [4, 'count'],
  size: [2_000, 'count'],
});
const dir = options.data ?? DATA_DIR;
const files = generateCustomers({ dir, csvRows: options.csvRows, jsonlRows: options.jsonlRows });
const target = join(dir, 'imported.db');
console.log(`importing ${files.total.toLocaleString('en')} customers from\n  ${files.csv}\n  ${files.jsonl}\ninto ${target}`);
const args = {
  files: [{ path: files.csv, format: 'csv' }, { path: files.jsonl, format: 'jsonl' }],
  db: target,
  shards: options.shards,
  size: options.size,
};
const started = Date.now();
const code = await runCli(['run', join(here, 'processor.ts'), '--args', JSON.stringify(args), '--parallel', String(options.parallel), '--db', batonDatabase(options.data)]);
const seconds = (Date.now() - started) / 1000;
process.exitCode = jobRan(code) ? checkImport(code) : code;

/**
 * Counts the imported customers and prints the verdict; returns the exit code. Only ids 1..total
 * are this run's: rows an earlier run with more rows imported stay in imported.db, and are named
 * apart rather than taken for a wrong count.
 */
function checkImport(code) {
  const db = new Database(target, { readonly: true });
  const count = db.prepare('SELECT count(*) FROM customers WHERE id BETWEEN 1 AND ?').pluck().get(files.total);
  const others = db.prepare('SELECT count(*) FROM customers WHERE id NOT BETWEEN 1 AND ?').pluck().get(files.total);
  const multiline = db.prepare("SELECT count(*) FROM customers WHERE id BETWEEN 1 AND ? AND note LIKE '%' || char(10) || '%'").pluck().get(files.total);
  db.close();
  // The import is idempotent: running this again replaces the same rows and the count stays.
  const verdict = count === files.total ? 'every customer imported' : `expected ${files.total.toLocaleString('en')}`;
  const left = others > 0 ? `, and ${others.toLocaleString('en')} more left by an earlier run with more rows` : '';
  console.log(`imported.db holds ${count.toLocaleString('en')} customers of these files (${multiline.toLocaleString('en')} with multi-line notes)${left}: ${verdict} (${seconds.toFixed(1)} s)`);
  return code !== 0 ? code : count === files.total ? 0 : 1;
}
