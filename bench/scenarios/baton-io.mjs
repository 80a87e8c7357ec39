// Baton on an I/O-bound processor, one chain. argv: processor argsJson maxParallel threads
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Baton } from '../../dist/runner/index.js';
import { report } from '../lib/report.mjs';

const [name, argsJson, maxParallel, threads = '2'] = process.argv.slice(2);
const dir = join(import.meta.dirname, '..', '.tmp', `io-${process.pid}`);
mkdirSync(dir, { recursive: true });
try {
  const baton = await Baton.open({ db: join(dir, 'baton.db') });
  const job = await baton.start({ processor: join(import.meta.dirname, '..', 'processors', `${name}.ts`), args: JSON.parse(argsJson), maxParallel: Number(maxParallel), threads: Number(threads) });
  const started = performance.now();
  const summary = await job.done;
  const seconds = (performance.now() - started) / 1000;
  report({ scenario: `baton-${name}`, maxParallel: Number(maxParallel), threads: Number(threads), pages: summary.pages.succeeded, seconds, pagesPerSecond: summary.pages.succeeded / seconds, maxInFlight: summary.maxInFlight });
  await baton.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
