// One command: creates the shop (100,000 products, once), resets its prices, runs the
// inflate-prices job through the Baton CLI with live progress, then checks every price.
//
//   node samples/inflate-prices/run.mjs [--rows N] [--percent P] [--delay-ms MS] [--parallel N] [--shards N] [--size N] [--data DIR]
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { batonDatabase, jobRan, runCli, sampleOptions } from '../sample-command.mjs';
import { DEFAULT_SHOP, checkShop, setupShop } from './setup.mjs';

const here = dirname(fileURLToPath(import.meta.url));

/** Prepares the shop, runs the job and prints a one-line check. Resolves with the exit code. */
export async function runInflatePrices({ rows = 100_000, percent = 5, delayMs = 0, parallel = 8, shards = 4, size = 500, db = batonDatabase(null), file = DEFAULT_SHOP } = {}) {
  const shop = setupShop({ file, rows });
  console.log(`shop: ${rows.toLocaleString('en')} products in ${shop.file}, average price ${(shop.averageCents / 100).toFixed(2)}`);
  const args = { shop: shop.file, percent, delayMs, shards, size };
  const started = Date.now();
  const code = await runCli(['run', join(here, 'processor.ts'), '--args', JSON.stringify(args), '--parallel', String(parallel), '--db', db]);
  const seconds = (Date.now() - started) / 1000;
  if (!jobRan(code)) return code;
  const after = checkShop(shop.file, percent);
  const change = shop.averageCents > 0 ? ((after.averageCents / shop.averageCents - 1) * 100).toFixed(2) : '0';
  const verdict = after.wrong === 0 ? `every product inflated exactly once` : `${after.wrong.toLocaleString('en')} products not inflated exactly once`;
  console.log(`average price ${(shop.averageCents / 100).toFixed(2)} -> ${(after.averageCents / 100).toFixed(2)} (+${change}%): ${verdict} (${seconds.toFixed(1)} s)`);
  return code !== 0 ? code : after.wrong === 0 ? 0 : 1;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const { data, ...options } = sampleOptions('samples/inflate-prices/run.mjs', {
    rows: [100_000, 'count'],
    percent: [5, 'amount'],
    'delay-ms': [20, 'whole'],
    parallel: [8, 'count'],
    shards: [4, 'count'],
    size: [500, 'count'],
  });
  process.exitCode = await runInflatePrices({ ...options, db: batonDatabase(data), file: data ? join(data, 'shop.db') : DEFAULT_SHOP });
}
