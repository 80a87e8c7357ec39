import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { writeFileSync } from 'node:fs';
import type { PagePool } from '../../runner/pool/page-pool.js';
import type { WorkerMessage } from '../../runner/pool/worker-messages.js';
import { root, sleep, tempDir, waitFor } from '../helpers.js';
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

  it("stops a thread that a page blocks without waiting for its output, which it cannot send", async () => {
    const { pool: threads, bundle } = startPagePool(`export default { async run() { const end = Date.now() + 120_000; while (Date.now() < end); } };`);
    pool = threads;
    const started = new Promise<void>((resolve) => threads.onMessages((messages) => messages.some((m) => m.t === 'started') && resolve()));
    const blocked = threads.runPages(bundle, [firstAttempt(1)]).then(
      () => 'ended',
      () => 'stopped',
    );
    await started;
    // Without the bound on flushOutput, this waits for the page's two minutes: past the test's timeout.
    await threads.destroy();
    await expect(blocked).resolves.toBe('stopped');
  }, 30_000);

  it("bumps a thread's beat count while its event loop runs, and not while a page blocks it", async () => {
    // The page logs (the line is noted in shared memory at once), then holds the thread for 3 s.
    const { pool: threads, bundle } = startPagePool(
      `export default { async run(ctx) {
        await new Promise((resolve) => setTimeout(resolve, 300));
        ctx.log.info('blocking');
        const end = Date.now() + 3_000;
        while (Date.now() < end);
      } };`,
    );
    pool = threads;
    const ended = threads.runPages(bundle, [firstAttempt(1)]);
    const threadId = await waitFor(() => threads.threadIds()[0], 10_000, 'the thread');
    const first = threads.beatsOf(threadId)!;
    // Waiting on its timer, the thread's loop runs: the scheduler sees it is not blocked.
    await waitFor(() => threads.beatsOf(threadId)! > first, 5_000, 'a beat while the page waits');
    await waitFor(() => (threads.peekUnsent(threadId) ?? []).some((m) => m.t === 'log'), 5_000, 'the page to block');
    const blocked = threads.beatsOf(threadId);
    await sleep(400);
    // Six beats' time, well inside the page's 3 s: not one, since its loop cannot run.
    expect(threads.beatsOf(threadId)).toBe(blocked);
    await ended;
    await waitFor(() => threads.beatsOf(threadId)! > blocked!, 5_000, 'a beat once the page has ended');
  }, 30_000);

  it('keeps in shared memory the enqueue of a child it started on a credit while the scheduler records children, until it is sent', async () => {
    // Page 1 waits for its credit, then enqueues page 100, which blocks the thread the moment it
    // starts: the enqueue, left to the scheduler (threads may not write), never leaves the outbox.
    const { pool: threads, bundle } = startPagePool(
      `export default { async run(ctx) {
        if (ctx.page.id === 100) for (;;);
        await new Promise((resolve) => setTimeout(resolve, 100));
        await ctx.enqueueNextPage({ cursor: 'next' });
      } };`,
      false,
    );
    pool = threads;
    let threadId = -1;
    threads.onMessages((messages, thread) => {
      if (!messages.some((m) => m.t === 'started')) return;
      threadId = thread;
      threads.send(thread, { t: 'grant', numbers: [100], credits: 1 });
    });
    void threads.runPages(bundle, [firstAttempt(1)]).catch(() => {});
    // Without it, a blocked thread's child is lost to the scheduler, which learns of it from
    // this memory when it stops the thread (the child then runs again).
    await waitFor(() => threadId >= 0 && (threads.peekUnsent(threadId) ?? []).some((m) => m.t === 'enqueue'), 5_000, 'the enqueue in shared memory');
    expect(threads.peekUnsent(threadId)).toEqual([
      expect.objectContaining({ t: 'enqueue', page: 1, attempt: 1, ordinal: 0, cursor: '"next"', local: 100, started: true, durable: false }),
    ]);
    const unsent = new Promise((resolve) => threads.onThreadExit((thread) => resolve(threads.unsentMessages(thread))));
    threads.terminateThread(threadId);
    expect(await unsent).toEqual([expect.objectContaining({ t: 'enqueue', local: 100, started: true, durable: false })]);
  }, 30_000);

  it('does not start a child whose cursor another thread has sent to the scheduler and not yet heard committed', async () => {
    // Pages 1 and 2 run on the two threads and both hand on the cursor "same", page 2 once page
    // 1's enqueue has reached the scheduler (this test) and sits there unanswered. Threads may
    // not write, so neither commits its child itself.
    const dir = tempDir();
    const go = (no: number) => join(dir, `go-${no}`);
    const { pool: threads, bundle } = startPagePool(
      `import { existsSync } from 'node:fs';
      export default { async run(ctx) {
        const go = ${JSON.stringify(join(dir, 'go-'))} + ctx.page.id;
        while (!existsSync(go)) await new Promise((resolve) => setTimeout(resolve, 5));
        // Past any message the scheduler sent before the file appeared.
        await new Promise((resolve) => setTimeout(resolve, 50));
        await ctx.enqueueNextPage({ cursor: 'same' });
      } };`,
      false,
      { threads: 2, cursorsComplete: true },
    );
    pool = threads;
    const startedOn = new Map<number, number>();
    const enqueues: { thread: number; message: WorkerMessage }[] = [];
    threads.onMessages((messages, thread) => {
      for (const message of messages) {
        if (message.t === 'started') for (const page of message.pages) startedOn.set(page, thread);
        if (message.t === 'enqueue') enqueues.push({ thread, message });
      }
    });
    await waitFor(() => threads.threadIds().length === 2, 10_000, 'both threads');
    // Each thread gets a page number for a child and a slot to start it in at once.
    for (const [page, number] of [[1, 100], [2, 200]] as const) {
      void threads.runPages(bundle, [firstAttempt(page)]).catch(() => {});
      const thread = await waitFor(() => startedOn.get(page), 10_000, `page ${page} to start`);
      threads.send(thread, { t: 'grant', numbers: [number], credits: 1 });
    }
    expect(startedOn.get(1)).not.toBe(startedOn.get(2));
    writeFileSync(go(1), '');
    await waitFor(() => enqueues.length === 1, 10_000, "page 1's enqueue");
    writeFileSync(go(2), '');
    await waitFor(() => enqueues.length === 2, 10_000, "page 2's enqueue");
    // Page 1's child started on its thread's slot; page 2's, the same cursor, is left to the
    // scheduler, which refuses it as a repeat. Without the shared note, both would run.
    expect(enqueues[0]!.message).toMatchObject({ page: 1, cursor: '"same"', local: 100, started: true, durable: false });
    expect(enqueues[1]!.message).toMatchObject({ page: 2, cursor: '"same"', local: null, started: false, durable: false });
  }, 30_000);

  // On Node 20, a thread terminated while require() loads an ES module aborts the whole process
  // (a V8 fatal error). A pool is destroyed as its threads start whenever a job's start fails, and
  // a stuck page's thread is replaced as it starts. Without the CommonJS entry, a few dozen such
  // destroys took the process down (the most that survived, of twelve tries, was 195).
  it('lives through being destroyed while its threads still load', async () => {
    const child = promisify(execFile)(process.execPath, [join(root, 'test/support/destroy-starting-pools.mjs'), '200']);
    const output = await child.then(
      ({ stdout, stderr }) => ({ stdout, stderr }),
      ({ stdout, stderr }: { stdout: string; stderr: string }) => ({ stdout, stderr }),
    );
    expect(output).toEqual({ stdout: 'ok\n', stderr: '' });
  }, 180_000);
});
