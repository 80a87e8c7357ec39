// Baton end to end with the no-op processor: every page durable. argv: pages chains maxParallel threads
import { mkdirSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { Baton } from '../../dist/runner/index.js';
import { report } from '../lib/report.mjs';

const [pages = 640_000, chains = 64, maxParallel = 256, threads = 1] = process.argv.slice(2).map(Number);
const dir = join(import.meta.dirname, '..', '.tmp', `noop-${process.pid}`);
mkdirSync(dir, { recursive: true });
try {
  const baton = await Baton.open({ db: join(dir, 'baton.db') });
  const job = await baton.start({
    processor: join(import.meta.dirname, '..', 'processors', 'noop.ts'),
    args: { chains, pagesPerChain: Math.ceil(pages / chains) },
    maxParallel,
    threads,
  });
  const elu = performance.eventLoopUtilization();
  const cpu = process.cpuUsage();
  const started = performance.now();
  const summary = await job.done;
  const seconds = (performance.now() - started) / 1000;
  const used = process.cpuUsage(cpu);
  report({
    scenario: 'baton-noop',
    pages: summary.pages.succeeded,
    chains,
    maxParallel,
    threads,
    seconds,
    pagesPerSecond: summary.pages.succeeded / seconds,
    mainThreadBusy: performance.eventLoopUtilization(elu).utilization,
    processCores: (used.user + used.system) / 1e6 / seconds,
  });
  await baton.close();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
