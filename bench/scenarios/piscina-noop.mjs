// The architecture's limit: bare Piscina dispatching no-op tasks. argv: tasks threads pagesPerTask
import { join } from 'node:path';
import { Piscina } from 'piscina';
import { report } from '../lib/report.mjs';

const [tasks = 400_000, threads = 2, pagesPerTask = 1] = process.argv.slice(2).map(Number);
const pool = new Piscina({ filename: join(import.meta.dirname, '..', 'lib', 'noop-worker.mjs'), minThreads: threads, maxThreads: threads, concurrentTasksPerWorker: 16 });
const inFlight = threads * 16;
const payload = pagesPerTask === 1 ? 1 : Array.from({ length: pagesPerTask }, (_, i) => i);
// Warm the threads up.
await Promise.all(Array.from({ length: inFlight }, () => pool.run(payload)));
let sent = 0;
const started = performance.now();
await Promise.all(
  Array.from({ length: inFlight }, async () => {
    while (sent < tasks) {
      sent++;
      await pool.run(payload);
    }
  }),
);
const seconds = (performance.now() - started) / 1000;
report({ scenario: 'piscina-noop', tasks, threads, pagesPerTask, seconds, tasksPerSecond: tasks / seconds, pagesPerSecond: (tasks * pagesPerTask) / seconds });
await pool.destroy();
