import { afterEach, describe, expect, it } from 'vitest';
import type { PagePool } from '../../runner/pool/page-pool.js';
import { firstAttempt, startPagePool } from './pool-helpers.js';

const PROCESSOR = `export default { async run() { return { items: 1 }; } };`;

let pool: PagePool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

describe('PagePool', () => {
  it("reports a thread's exit only once Piscina sends it no more tasks, so pages dispatched then run on its replacement", async () => {
    const { pool: threads, bundle } = startPagePool(PROCESSOR);
    pool = threads;
    await threads.runPages(bundle, [firstAttempt(1)]);
    const [threadId] = threads.threadIds();
    // What a job does when a thread it stopped is gone: its pages' retries go out at once.
    const retried = new Promise<void>((resolve, reject) => {
      threads.onThreadExit(() => threads.runPages(bundle, [firstAttempt(2)]).then(resolve, reject));
    });
    expect(threads.terminateThread(threadId!)).toBe(true);
    await expect(retried).resolves.toBeUndefined();
    expect(threads.threadIds()).not.toContain(threadId);
  });
});
