// Heap and RSS of the runner process over a long no-op run. argv: pages chains
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Baton } from '../../dist/runner/index.js';
import { report } from '../lib/report.mjs';

const [pages = 1_000_000, chains = 64] = process.argv.slice(2).map(Number);
const marks = [100_000, 500_000, 1_000_000].filter((mark) => mark <= pages);
const dir = join(import.meta.dirname, '..', '.tmp', `memory-${process.pid}`);
mkdirSync(dir, { recursive: true });
const samples = [];
const sample = (done) => {
  globalThis.gc?.();
  const { heapUsed, rss } = process.memoryUsage();
  samples.push({ pages: done, heapUsedMB: heapUsed / 2 ** 20, rssMB: rss / 2 ** 20 });
};
try {
  const baton = await Baton.open({ db: join(dir, 'baton.db') });
  const job = await baton.start({ processor: join(import.meta.dirname, '..', 'processors', 'noop.ts'), args: { chains, pagesPerChain: Math.ceil(pages / chains) }, maxParallel: 256, threads: 1 });
  sample(0);
  job.on('update', (snapshot) => {
    while (marks.length > 0 && snapshot.pages.succeeded >= marks[0]) sample(marks.shift());
  });
  const summary = await job.done;
  for (const mark of marks) sample(mark);
  report({ scenario: 'baton-memory', pages: summary.pages.succeeded, samples });
  await baton.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
