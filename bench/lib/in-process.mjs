// Runs a page processor in this process without Baton: serially, or pipelined under p-limit.
// These are the baselines: the same processor code, no durability, no threads.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { buildProcessor } from '../../dist/runner/build/build-processor.js';

export async function loadProcessor(source, tmp) {
  mkdirSync(tmp, { recursive: true });
  const { bundle } = await buildProcessor(source, join(tmp, 'build'));
  return (await import(pathToFileURL(bundle).href)).default;
}

function context(page, args, enqueue) {
  const controller = new AbortController();
  return {
    jobId: 'baseline',
    page,
    args,
    signal: controller.signal,
    enqueueNextPage: async (next) => enqueue(next),
    reportProgress() {},
    log: { info() {}, warn() {}, error() {} },
  };
}

/** One page at a time: fetch, hand over the next cursor, process, repeat. */
export async function runSerial(processor, args) {
  const queue = [...(typeof processor.initialPages === 'function' ? await processor.initialPages(args) : processor.initialPages)];
  let pages = 0;
  const started = performance.now();
  while (queue.length > 0) {
    const spec = queue.shift();
    await processor.run(context({ id: ++pages, cursor: spec.cursor, size: spec.size, attempt: 1 }, args, (next) => queue.push(next)));
  }
  return { pages, seconds: (performance.now() - started) / 1000 };
}

/** Pipelined in memory: each enqueued page starts at once under p-limit(concurrency). */
export async function runPLimit(processor, args, concurrency) {
  const limit = pLimit(concurrency);
  const initial = typeof processor.initialPages === 'function' ? await processor.initialPages(args) : processor.initialPages;
  let pages = 0;
  const running = new Set();
  const schedule = (spec) => {
    const task = limit(() => processor.run(context({ id: ++pages, cursor: spec.cursor, size: spec.size, attempt: 1 }, args, schedule)));
    running.add(task);
    task.finally(() => running.delete(task));
  };
  const started = performance.now();
  for (const spec of initial) schedule(spec);
  while (running.size > 0) await Promise.all([...running]);
  return { pages, seconds: (performance.now() - started) / 1000 };
}
