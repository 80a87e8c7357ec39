import { afterEach, describe, expect, it } from 'vitest';
import type { PagePool } from '../../runner/pool/page-pool.js';
import type { WorkerMessage } from '../../runner/pool/worker-messages.js';
import { waitFor } from '../helpers.js';
import { firstAttempt, startPagePool } from './pool-helpers.js';

const PAGES = 8;

// The pages' timers fire in one turn of the thread's event loop, one callback at a time. Node
// starts each timer at the current millisecond, so timers set one after another can fall due a
// millisecond or more apart, in two turns: a timer set to fire just before them keeps the thread
// busy until the last has fallen due, and the next turn runs them all.
const PROCESSOR = `
let lastSet = 0;
let holding = false;
export default {
  async run() {
    lastSet = Date.now();
    if (!holding) {
      holding = true;
      setTimeout(() => {
        while (Date.now() < lastSet + 205);
      }, 190);
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    return { items: 1 };
  },
};
`;

let pool: PagePool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

/** Runs PAGES pages on one real worker thread and returns the batches its channel carried. */
async function runPages(threadsMayWrite: boolean): Promise<WorkerMessage[][]> {
  const { pool: threads, bundle } = startPagePool(PROCESSOR, threadsMayWrite);
  pool = threads;
  const batches: WorkerMessage[][] = [];
  threads.onMessages((batch) => batches.push(batch));
  const pages = Array.from({ length: PAGES }, (_, i) => firstAttempt(i + 1));
  await threads.runPages(bundle, pages);
  // The task's answer and the channel are two ports: the last batch may come after it.
  await waitFor(() => batches.flat().filter((message) => message.t === 'done').length === PAGES, 5_000, 'every page to end');
  return batches;
}

const ends = (batch: WorkerMessage[]) => batch.filter((message) => message.t === 'done').length;

describe("a worker thread's batches to the scheduler", () => {
  it('carry the pages that ended in one turn of the event loop in one batch, while the scheduler lets threads write', async () => {
    const batches = await runPages(true);
    expect(batches.map(ends).filter((n) => n > 0)).toEqual([PAGES]);
  });

  it('go after each run of the thread\'s code while the scheduler is near saturation: it waits for what it is told', async () => {
    const batches = await runPages(false);
    expect(batches.map(ends).filter((n) => n > 0)).toEqual(Array.from({ length: PAGES }, () => 1));
  });

  it('hold what nobody waits for a few milliseconds: children committed by the thread, and pages that end on its credits, go together', async () => {
    // Page 1 waits for its credits, then a chain of CHILDREN pages, each in a turn of its own,
    // hands on its cursor and ends on the next turn.
    const { pool: threads, bundle } = startPagePool(CHAIN);
    pool = threads;
    const batches: WorkerMessage[][] = [];
    threads.onMessages((batch, threadId) => {
      batches.push(batch);
      if (batch.some((message) => message.t === 'started')) {
        threads.send(threadId, { t: 'grant', numbers: Array.from({ length: CHILDREN }, (_, i) => 100 + i), credits: CHILDREN });
      }
    });
    await threads.runPages(bundle, [firstAttempt(1)]);
    await waitFor(() => batches.flat().filter((message) => message.t === 'done').length === CHILDREN + 1, 5_000, 'every page to end');

    const enqueues = batches.flat().filter((message) => message.t === 'enqueue');
    // Each was committed by the thread and started on a credit: nobody waits for the message.
    expect(enqueues).toHaveLength(CHILDREN);
    expect(enqueues.every((message) => message.durable && message.started)).toBe(true);
    const kept = batches.flat().filter((message) => message.t === 'done' && message.kept);
    expect(kept).toHaveLength(CHILDREN);
    // One batch a message (each child's turn) without the hold; a few with it.
    const batchesWithEnqueues = batches.filter((batch) => batch.some((message) => message.t === 'enqueue')).length;
    expect(batchesWithEnqueues).toBeLessThan(CHILDREN / 2);
  });
});

const CHILDREN = 20;

const CHAIN = `
const nextTurn = () => new Promise((resolve) => setImmediate(resolve));
export default {
  async run(ctx) {
    if (ctx.page.id === 1) await new Promise((resolve) => setTimeout(resolve, 100));
    const cursor = ctx.page.cursor;
    await nextTurn();
    if (cursor <= ${CHILDREN}) await ctx.enqueueNextPage({ cursor: cursor + 1 });
    await nextTurn();
    return { items: 1 };
  },
};
`;
