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
});
