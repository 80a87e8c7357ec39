// Runs a page processor in this process without Baton: serially, or pipelined under p-limit.
// These are the baselines: the same processor code, no threads, and no durability but the
// commit of each child that p-limit can be given (durableChildren).
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import pLimit from 'p-limit';
import { buildProcessor } from '../../dist/runner/build/build-processor.js';
import { openDatabase } from '../../dist/runner/store/database.js';

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

/**
 * Each child's row committed to a Baton database before `enqueueNextPage` resolves, in one small
 * transaction on the chain's own thread, as Baton's worker thread commits it (direct-enqueue.ts),
 * and nothing else of Baton's: the least that this guarantee costs, with no scheduler, no
 * threads and no messages.
 */
function durableChildren(file) {
  const db = openDatabase(file);
  // Baton's checkpoints run on a thread of their own; here SQLite's own, inside the commit that
  // crosses the mark, would stall the chain for milliseconds.
  db.pragma('wal_autocheckpoint = 0');
  const begin = db.prepare('BEGIN IMMEDIATE');
  const insert = db.prepare("INSERT OR IGNORE INTO pages (job, no, parent, ordinal, cursor, size, state, attempts, started_at) VALUES (1, ?, ?, 0, ?, ?, 'running', 1, ?)");
  const commit = db.prepare('COMMIT');
  return (no, parent, spec) => {
    begin.run();
    insert.run(no, parent, JSON.stringify(spec.cursor), spec.size ?? null, Date.now());
    commit.run();
  };
}

/**
 * Pipelined in memory: each enqueued page starts at once under p-limit(concurrency). With
 * `durableAt` (a database file), each child is committed first (see durableChildren).
 */
export async function runPLimit(processor, args, concurrency, durableAt) {
  const record = durableAt ? durableChildren(durableAt) : null;
  const limit = pLimit(concurrency);
  const initial = typeof processor.initialPages === 'function' ? await processor.initialPages(args) : processor.initialPages;
  let pages = 0;
  const running = new Set();
  const schedule = (spec) => {
    const id = ++pages;
    const enqueue = (next) => {
      // The child's number is the next one schedule gives out.
      record?.(pages + 1, id, next);
      schedule(next);
    };
    const task = limit(() => processor.run(context({ id, cursor: spec.cursor, size: spec.size, attempt: 1 }, args, enqueue)));
    running.add(task);
    task.finally(() => running.delete(task));
  };
  const started = performance.now();
  for (const spec of initial) schedule(spec);
  while (running.size > 0) await Promise.all([...running]);
  return { pages, seconds: (performance.now() - started) / 1000 };
}
