import { spawn } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import type { AttemptInfo } from '../../runner/protocol.js';
import { childLogDir } from '../../runner/store/child-log.js';
import { fixture, root, runUntilCase, tempDir, waitFor } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

/** A page's attempts, oldest first, the page found by its cursor. */
async function attemptsAt(jobId: string, cursor: unknown): Promise<AttemptInfo[]> {
  const page = (await baton!.pages(jobId)).find((p) => p.cursor === cursor)!;
  return (await baton!.attempts(jobId, { page: page.page })).reverse();
}

/** How a page's attempts ended, oldest first. */
async function outcomesAt(jobId: string, cursor: unknown): Promise<string[]> {
  return (await attemptsAt(jobId, cursor)).map((a) => a.outcome);
}

describe('stuck pages', () => {
  it('aborts a page past pageTimeoutMs through ctx.signal, records it as stuck and retries it', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('hangs-once.ts'), jobId: 'hangs', threads: 1 });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'succeeded', items: 3, pages: { succeeded: 3 } });
    const attempts = await baton.attempts('hangs', { page: 2 });
    expect(attempts.map((a) => a.outcome)).toEqual(['succeeded', 'stuck']);
    // It stopped when its signal was aborted: its thread was left alone.
    expect(attempts[1]!.error).toMatchObject({ name: 'PageTimeoutError', message: 'page ran longer than pageTimeoutMs (400 ms): aborted through ctx.signal and recorded as stuck' });
    expect(await baton.logs('hangs', 2, 1)).toEqual([expect.objectContaining({ level: 'warn', message: 'aborted: page timed out' })]);
  });

  it('terminates and replaces the thread of a page that ignores its signal, and the other pages go on', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('busy-loops.ts'), jobId: 'spins', threads: 2, maxParallel: 8 });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'succeeded', items: 8, pages: { total: 8, succeeded: 8, failed: 0 } });
    const spinning = await baton.attempts('spins', { page: 2 });
    // Stuck when it was alone on its thread; interrupted (not counted) when other pages shared the
    // thread it blocked, since nothing tells which of them blocked it.
    expect(spinning.map((a) => a.outcome)).toEqual(['succeeded', expect.stringMatching(/^(stuck|interrupted)$/)]);
    // A blocked thread freezes every page on it; pages on the other thread finished meanwhile,
    // on their first attempt, before the spinning page was given up on.
    const all = await baton.attempts('spins');
    const stuckAt = spinning[1]!.endedAt!;
    const wentOn = all.filter((a) => a.attempt === 1 && a.outcome === 'succeeded' && a.endedAt! < stuckAt);
    expect(wentOn.length).toBeGreaterThan(0);
    // The pages it froze ran again without an attempt counted against them.
    for (const attempt of all.filter((a) => a.page !== 2 && a.outcome !== 'succeeded')) expect(attempt.outcome).toBe('interrupted');
  });

  it('keeps the log lines a page wrote just before it blocked its thread, and says its thread was terminated', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    /** The stuck attempt's log lines, after checking how its attempts ended. */
    const stuckWith = async (spin: string) => {
      const job = await baton!.start({ processor: fixture('logs-then-spins.ts'), args: { spin }, jobId: spin, threads: 1 });
      const pages = spin === 'after-enqueue' ? 2 : 1;
      expect(await job.done).toMatchObject({ state: 'succeeded', items: pages, pages: { total: pages, succeeded: pages, failed: 0 } });
      const attempts = await attemptsAt(spin, spin);
      expect(attempts.map((a) => a.outcome)).toEqual([expect.stringMatching(/^(stuck|interrupted)$/), 'succeeded']);
      // Stuck past pageTimeoutMs; or, when the scheduler had not yet heard the page start before
      // it blocked the thread (a busy machine), interrupted as the unknown page that blocked it.
      expect(attempts[0]!.error).toEqual(
        attempts[0]!.outcome === 'stuck'
          ? expect.objectContaining({ name: 'PageTimeoutError', message: 'page ran longer than pageTimeoutMs (1000 ms): it ignored ctx.signal, so its worker thread was terminated; recorded as stuck' })
          : expect.objectContaining({ name: 'Interrupted', message: expect.stringMatching(/^its worker thread was blocked by one of the pages it ran/) }),
      );
      return (await baton!.logs(spin, 1, 1)).map(({ level, message }) => ({ level, message }));
    };
    // The first line was sent at the await; the last, never sent, was read from the stopped thread's memory.
    expect(await stuckWith('awaits')).toEqual([
      { level: 'info', message: 'fetched 500 rows' },
      { level: 'info', message: 'entering tight loop' },
    ]);
    expect(await stuckWith('at-once')).toEqual([{ level: 'warn', message: 'about to spin { rows: 500 }' }]);
    // Behind an enqueue, which has the batch sent at the end of the run of code that never ended.
    expect(await stuckWith('after-enqueue')).toEqual([{ level: 'error', message: 'enqueued, now spinning' }]);
    // More than the thread's memory for them holds: each line that did not fit went at once.
    const flood = await stuckWith('floods');
    expect(flood.map(({ message }) => message.slice(0, 12))).toEqual([...Array.from({ length: 100 }, (_, i) => `${i} `.padEnd(12, 'x')), 'y'.repeat(12), 'last line']);
    expect(flood[100]!.message).toBe(`${'y'.repeat(8_192)}… (truncated)`);
  });

  it("keeps them too when the stuck attempt was its page's last: the job ends once that thread is terminated", async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('logs-then-spins-gives-up.ts'), args: { spin: 'awaits' }, jobId: 'last', threads: 1 });
    const shown = new Map<number, AttemptInfo>();
    job.on('activity', (activity) => {
      for (const attempt of activity.ended) shown.set(attempt.attempt, attempt);
    });
    expect(await job.done).toMatchObject({ state: 'failed', items: 0, pages: { total: 1, failed: 1 } });
    // Newest first. On a busy machine the scheduler may not have heard the page start before it
    // blocked the thread: that attempt is interrupted as the unknown page, does not count, and
    // the next one is called stuck.
    const [last, ...before] = await baton.attempts('last');
    expect(last).toMatchObject({ outcome: 'stuck', error: { message: 'page ran longer than pageTimeoutMs (1000 ms): it ignored ctx.signal, so its worker thread was terminated; recorded as stuck' } });
    // Live timelines were told too, not only a reload of the database.
    await waitFor(() => shown.get(last!.attempt)?.error?.message === last!.error!.message, 5_000, 'the live activity to say the thread was terminated');
    for (const attempt of before) expect(attempt.outcome).toBe('interrupted');
    expect((await baton.logs('last', 1, last!.attempt)).map((line) => line.message)).toEqual(['fetched 500 rows', 'entering tight loop']);
  });

  it('fails only the page that keeps blocking its thread, not the pages it froze there', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('blocks-every-attempt.ts'), jobId: 'blocks', threads: 1, maxParallel: 8 });
    expect(await job.done).toMatchObject({ state: 'failed', items: 5, pages: { total: 6, succeeded: 5, failed: 1 } });
    const outcomes = (cursor: number) => outcomesAt('blocks', cursor);
    // Frozen with the others at first (which page blocked the thread was not known), then run
    // alone among the suspects: stuck on both of its counted attempts.
    expect((await outcomes(0)).filter((outcome) => outcome !== 'interrupted')).toEqual(['stuck', 'stuck']);
    for (const cursor of [1, 2, 3, 4, 5]) {
      const attempts = await outcomes(cursor);
      expect(attempts.at(-1)).toBe('succeeded');
      expect(attempts.slice(0, -1).every((outcome) => outcome === 'interrupted')).toBe(true);
    }
  });

  it('at-most-once: fails every page its blocked thread froze as interrupted, says it is not run again, and calls onPageFailed for each', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const log = join(tempDir(), 'failed.log');
    // The other five have started on the one thread when page 0 blocks it.
    const job = await baton.start({ processor: fixture('blocks-at-most-once.ts'), args: { log, spinAfterMs: 500, ms: 5_000 }, jobId: 'once', threads: 1, maxParallel: 8 });
    expect(await job.done).toMatchObject({ state: 'failed', items: 0, pages: { total: 6, failed: 6 } });
    const attempts = await baton.attempts('once');
    // One attempt each: none ran again. Which page blocked the thread is not known, so none is called stuck.
    expect(attempts.map((a) => a.page).sort()).toEqual([1, 2, 3, 4, 5, 6]);
    for (const attempt of attempts) {
      expect(attempt).toMatchObject({ outcome: 'interrupted', error: { message: expect.stringContaining('; at-most-once: it is not run again, and fails as interrupted') } });
      expect(attempt.error!.message).not.toContain('runs again');
    }
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['0', '1', '2', '3', '4', '5'].map((cursor) => `${cursor} Interrupted`));
  });

  it('at-most-once: runs again the pages sent to a thread that was blocked before they could start, since their code never ran', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const log = join(tempDir(), 'failed.log');
    const job = await baton.start({ processor: fixture('blocks-at-most-once.ts'), args: { log }, jobId: 'unstarted', threads: 1, maxParallel: 1 });
    await waitFor(() => existsSync(`${log}.spins`), 20_000, 'page 0 to block its thread');
    // Now the other five go to the one thread, which is blocked and never starts them.
    await job.setLimits({ maxParallel: 8 });
    expect(await job.done).toMatchObject({ state: 'failed', items: 5, pages: { total: 6, succeeded: 5, failed: 1 } });
    expect(await outcomesAt('unstarted', 0)).toEqual(['stuck']);
    for (const cursor of [1, 2, 3, 4, 5]) {
      const attempts = await attemptsAt('unstarted', cursor);
      // Sent again before the blocked thread is replaced (the only one here), a page can wait
      // behind it a second time, or be cut off as the thread is terminated: each such attempt
      // never started, and none counts.
      expect(attempts.at(-1)!.outcome).toBe('succeeded');
      for (const attempt of attempts.slice(0, -1)) {
        expect(attempt.outcome).toBe('interrupted');
        expect(attempt.error!.message).toMatch(/^(it never started: .*|its worker thread stopped before the page started \(.*\)); it runs again and this attempt does not count$/);
      }
      expect(attempts.length).toBeGreaterThan(1);
    }
    expect(readFileSync(log, 'utf8')).toBe('0 PageTimeoutError\n');
  });

  it('stops the thread of a page given up on as never started that starts after all, once the thread it waited behind lets go, and blocks it', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const log = join(tempDir(), 'runs.log');
    // Page 0 blocks the thread past the time limit but less than the grace before its thread is
    // terminated, so the pages frozen behind it reach the thread once it lets go. The first of
    // them to start blocks the thread for good: its thread must be stopped for the retries to run.
    const job = await baton.start({ processor: fixture('starts-after-freeze.ts'), args: { log, spinMs: 1_700 }, jobId: 'late-start', threads: 1, maxParallel: 1 });
    await waitFor(() => existsSync(`${log}.spins`), 20_000, 'page 0 to block its thread');
    await job.setLimits({ maxParallel: 8 });
    const ended = await Promise.race([job.done, new Promise<null>((resolve) => setTimeout(() => resolve(null), 20_000))]);
    expect(ended, 'the job to end (a late starter nobody stops keeps its thread blocked)').toMatchObject({ state: 'succeeded', items: 6, pages: { total: 6, succeeded: 6, failed: 0 } });
    // Its retry may wait behind the late starter too, and be cut off with its thread (interrupted).
    const first = await outcomesAt('late-start', 0);
    expect([first[0], first.at(-1)]).toEqual(['stuck', 'succeeded']);
    const started = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(started).toHaveLength(1);
    expect(started[0]).toMatch(/^[1-5] attempt 1 started$/);
    for (const cursor of [1, 2, 3, 4, 5]) {
      const attempts = await attemptsAt('late-start', cursor);
      expect(attempts[0]!.outcome).toBe('interrupted');
      expect(attempts[0]!.error!.message).toMatch(/^it never started: /);
      expect(attempts.at(-1)!.outcome).toBe('succeeded');
    }
  }, 40_000);

  it('at-most-once: runs again the pages sent to a thread that exited before they could start, and fails the one it ran', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const log = join(tempDir(), 'failed.log');
    const job = await baton.start({ processor: fixture('exits-after-spin.ts'), args: { log, spinMs: 1_500 }, jobId: 'exits', threads: 1, maxParallel: 1 });
    await waitFor(() => existsSync(`${log}.spins`), 20_000, 'page 0 to hold its thread');
    // The other five go to the one thread while page 0 holds it, then the thread exits.
    await job.setLimits({ maxParallel: 8 });
    expect(await job.done).toMatchObject({ state: 'failed', items: 5, pages: { total: 6, succeeded: 5, failed: 1 } });
    const [exited] = await attemptsAt('exits', 0);
    expect(exited).toMatchObject({ outcome: 'failed', error: { name: 'WorkerExitError' } });
    for (const cursor of [1, 2, 3, 4, 5]) {
      const attempts = await attemptsAt('exits', cursor);
      expect(attempts.map((a) => a.outcome)).toEqual(['interrupted', 'succeeded']);
      expect(attempts[0]!.error!.message).toMatch(/^its worker thread stopped before the page started .*; it runs again and this attempt does not count$/);
    }
    expect(readFileSync(log, 'utf8')).toBe('0 WorkerExitError\n');
  });

  it('calls onPageFailed for a stuck page that gives up and stops when told, saying it was aborted through ctx.signal', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const log = join(tempDir(), 'failed.txt');
    const job = await baton.start({ processor: fixture('hangs-until-aborted-reports.ts'), args: { log }, jobId: 'told', threads: 1 });
    expect(await job.done).toMatchObject({ state: 'failed', pages: { total: 1, failed: 1 } });
    expect(readFileSync(log, 'utf8')).toBe('waits PageTimeoutError: page ran longer than pageTimeoutMs (300 ms): aborted through ctx.signal and recorded as stuck\n');
  });

  it("calls onPageFailed for every stuck page that gives up, even when its call waited on a thread that was then stopped", async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const log = join(tempDir(), 'failed.txt');
    const job = await baton.start({ processor: fixture('busy-pages-report-failures.ts'), args: { log }, jobId: 'hooks', threads: 2 });
    expect(await job.done).toMatchObject({ state: 'failed', pages: { total: 2, failed: 2 } });
    // Told what the last attempt's record says: that its thread was terminated, since it never
    // stopped (see the busy-machine test below for a retry that once spun its 10 s out).
    const told = async (cursor: string) => `${cursor} PageTimeoutError: ${(await attemptsAt('hooks', cursor)).at(-1)!.error!.message}`;
    expect(readFileSync(log, 'utf8').split('\n').filter(Boolean).sort()).toEqual([await told('busy-0'), await told('busy-1')]);
    for (const cursor of ['busy-0', 'busy-1']) expect((await attemptsAt('hooks', cursor)).at(-1)!.error!.message).toMatch(/its worker thread was terminated/);
    for (const page of await baton.pages('hooks')) {
      expect((await baton.logs('hooks', page.page)).filter((line) => line.message.startsWith('onPageFailed'))).toEqual([]);
    }
  });

  it("terminates the thread of a retry that ignores its signal when its task reached a thread only after the time limit (one starting on a busy machine)", async () => {
    // The job's process and two busy loops share one core: the threads that replace the
    // terminated ones start slowly, and the retries' tasks wait for them past pageTimeoutMs.
    // Called stuck before they had started, the retries then ran their 10 s unchecked.
    const runOnBusyCore = async (jobId: string, db: string, log: string) => {
      const hogs = [0, 1].map(() => spawn('taskset', ['-c', '0', process.execPath, '-e', 'for (;;) {}'], { stdio: 'ignore' }));
      try {
        const job = spawn('taskset', ['-c', '0', process.execPath, join(root, 'test/support/run-job.mjs'), db, jobId, fixture('busy-pages-report-failures.ts'), JSON.stringify({ log })], { stdio: 'ignore' });
        expect(await new Promise((resolve) => job.on('exit', resolve))).toBe(0);
      } finally {
        for (const hog of hogs) hog.kill('SIGKILL');
      }
    };
    const db = join(tempDir(), 'baton.db');
    // Twice: one run on a busy core does not always make a retry wait that long.
    for (const jobId of ['busy-core-1', 'busy-core-2']) await runOnBusyCore(jobId, db, join(tempDir(), 'failed.txt'));
    baton = await Baton.open({ db });
    for (const jobId of ['busy-core-1', 'busy-core-2']) {
      for (const cursor of ['busy-0', 'busy-1']) {
        const ends = (await attemptsAt(jobId, cursor)).filter((a) => a.outcome === 'stuck').map((a) => a.error!.message);
        expect(ends).toHaveLength(2);
        for (const message of ends) expect(message).toMatch(/its worker thread was terminated/);
      }
    }
  });

  it('runs again every page of a terminated thread, including those it started on its own', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('spins-in-chain.ts'), jobId: 'chains', threads: 2, maxParallel: 8 });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'succeeded', items: 20, pages: { total: 20, succeeded: 20, failed: 0 } });
    const pages = await baton.pages('chains');
    expect(pages.map((p) => p.cursor).sort()).toEqual(Array.from({ length: 4 }, (_, c) => Array.from({ length: 5 }, (_, n) => `${c}:${n}`)).flat().sort());
    const spinner = pages.find((p) => p.cursor === '1:2')!;
    const outcomes = (await baton.attempts('chains', { page: spinner.page })).map((a) => a.outcome);
    expect(outcomes).toHaveLength(2);
    const [last, first] = outcomes;
    expect(last).toBe('succeeded');
    // Stuck when the scheduler had heard it start; interrupted when it blocked its thread in the
    // turn it started in, before the thread sent word of it (its start is then read from the
    // stopped thread's memory).
    expect(['stuck', 'interrupted']).toContain(first);
  });

  it('learns of a child that blocked its thread the moment it started, before its enqueue was sent, and runs it again', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    // The child starts inside its parent's enqueue only once the thread holds credits; the
    // parent waits 200 ms for them, which a loaded machine can outlast. Then the child starts
    // through the scheduler and only it is stuck: correct, but not this case, so a few runs are
    // allowed for the case to happen.
    const startedInsideEnqueue = await runUntilCase(3, async (run) => {
      const jobId = `child-${run}`;
      const job = await baton!.start({ processor: fixture('child-spins-at-start.ts'), jobId, threads: 1, maxParallel: 4 });
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 3, succeeded: 3, failed: 0 } });
      const pages = await baton!.pages(jobId);
      expect(pages.map((p) => p.cursor)).toEqual([0, 1, 2]);
      const outcomes = (cursor: number) => outcomesAt(jobId, cursor);
      const parent = await outcomes(0);
      if (parent[0] === 'succeeded') {
        expect(parent).toEqual(['succeeded']);
        expect(await outcomes(1)).toEqual([expect.stringMatching(/^(stuck|interrupted)$/), 'succeeded']);
        return false;
      }
      // The parent was blocked too (the child started inside its enqueue). The child is known
      // from the thread's unsent enqueues, so the thread ran two pages and which one blocked it
      // is not known: both run again as suspects, neither attempt counted, and the parent's
      // retry does not start the child a second time.
      expect(parent).toEqual(['interrupted', 'succeeded']);
      expect(await outcomes(1)).toEqual(['interrupted', 'succeeded']);
      return true;
    });
    expect(startedInsideEnqueue).toBe(true);
  });

  it('records as they ended the pages that ended in the turn their thread was blocked in, instead of running them again', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('blocks-after-others-end.ts'), jobId: 'turn', threads: 1, maxParallel: 4 });
    expect(await job.done).toMatchObject({ state: 'succeeded', items: 4, pages: { total: 4, succeeded: 4, failed: 0 } });
    const outcomes = (cursor: number) => outcomesAt('turn', cursor);
    // Their ends waited in the thread's outbox for the end of the turn, which never came.
    for (const cursor of [0, 1, 2]) expect(await outcomes(cursor)).toEqual(['succeeded']);
    expect(await outcomes(3)).toEqual(['stuck', 'succeeded']);
  });

  it('records as they ended the pages whose ends their thread held back (slots it keeps) when it was blocked', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('blocks-after-held-ends.ts'), jobId: 'held', threads: 1, maxParallel: 8 });
    expect(await job.done).toMatchObject({ state: 'succeeded', items: 4, pages: { total: 4, succeeded: 4, failed: 0 } });
    const pages = await baton.pages('held');
    const attempts = async (cursor: number) => await baton!.attempts('held', { page: pages.find((p) => p.cursor === cursor)!.page });
    // Children started on the thread's credits: their ends wait up to 3 ms, and never left.
    for (const cursor of [1, 2]) expect((await attempts(cursor)).map((a) => a.outcome)).toEqual(['succeeded']);
    expect((await attempts(3)).map((a) => a.outcome).reverse()).toEqual(['stuck', 'succeeded']);
  });

  it('blames a child its thread committed and was blocked by before telling of it, not the parent whose end it still holds', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    // The child starts inside its parent's enqueue only once the thread holds credits (the
    // parent waits 200 ms for them); otherwise it starts through the scheduler, which then hears
    // of it as usual: correct, but not this case.
    const readFromMemory = await runUntilCase(3, async (run) => {
      const jobId = `unknown-${run}`;
      const job = await baton!.start({ processor: fixture('child-blocks-after-parent-ends.ts'), jobId, threads: 1, maxParallel: 4 });
      expect(await job.done).toMatchObject({ state: 'succeeded', items: 2, pages: { total: 2, succeeded: 2, failed: 0 } });
      const pages = await baton!.pages(jobId);
      expect(pages.map((p) => p.cursor)).toEqual([0, 1]);
      const attempts = (cursor: number) => attemptsAt(jobId, cursor);
      const [parent, child] = [(await attempts(0))[0]!, (await attempts(1))[0]!];
      // Its start was read from the thread's memory at the stuck check, not heard as it came.
      if (child.startedAt - parent.endedAt! < 500) return false;
      // The parent's end, noted there too, counts once the thread is stopped: it does not run again.
      expect((await attempts(0)).map((a) => a.outcome)).toEqual(['succeeded']);
      expect((await attempts(1)).map((a) => a.outcome)).toEqual(['stuck', 'succeeded']);
      return true;
    });
    expect(readFromMemory).toBe(true);
  });

  it('records a child that blocked its thread before its commit, read from the thread\'s memory, and goes on exactly once it lets go', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    // The child starts before its commit only once the thread holds credits (the parent waits
    // 200 ms for them); otherwise it waits for its commit and the scheduler hears of it as usual.
    const readBeforeCommit = await runUntilCase(3, async (run) => {
      const jobId = `lets-go-${run}`;
      const job = await baton!.start({ processor: fixture('child-blocks-then-lets-go.ts'), args: { blockMs: 900 }, jobId, threads: 1, maxParallel: 4 });
      // Its thread commits the child after the block, or finds the scheduler recorded it meanwhile
      // (or, its lock taken, asks the scheduler, which answers from what it read): the chain goes on.
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 3, succeeded: 3, failed: 0 } });
      expect((await baton!.pages(jobId)).map((page) => page.cursor)).toEqual([0, 1, 2]);
      const child = await outcomesAt(jobId, 1);
      expect(child.at(-1)).toBe('succeeded');
      // Known to the scheduler while it blocked: given up on then, and run again.
      return child.length === 2;
    });
    expect(readBeforeCommit).toBe(true);
  });

  it('answers the parent of a child read from its blocked thread when the thread, its log unwritable, then asks the scheduler for it', async () => {
    const db = join(tempDir(), 'baton.db');
    // A file where the threads' child logs would go: a thread's first line fails, and it asks
    // the scheduler instead, as it would with a full disk.
    writeFileSync(childLogDir(db), '');
    baton = await Baton.open({ db });
    const askedScheduler = await runUntilCase(3, async (run) => {
      const dir = tempDir();
      const files = { startedFile: join(dir, 'started'), goFile: join(dir, 'go'), wentFile: join(dir, 'went'), answeredFile: join(dir, 'answered') };
      const jobId = `asks-${run}`;
      const job = await baton!.start({ processor: fixture('child-blocks-then-lets-go.ts'), args: { ...files, blockMs: 1000 }, jobId, threads: 1, maxParallel: 4 });
      await waitFor(() => existsSync(files.startedFile), 10_000, 'page 1 to start');
      // Sent to the scheduler before it started (its thread held no credit yet): not this case.
      const startedFirst = !(await baton!.pages(jobId)).some((page) => page.cursor === 1);
      if (startedFirst) {
        // Only the scheduler can record it now, from the thread's memory, at a stuck check.
        await waitFor(async () => (await baton!.pages(jobId)).some((page) => page.cursor === 1), 10_000, 'page 1 read from its thread');
      }
      // Page 1 lets go: its thread cannot log it, so it asks the scheduler, which recorded it already.
      writeFileSync(files.goFile, '');
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 3, succeeded: 3, failed: 0 } });
      expect((await baton!.pages(jobId)).map((page) => page.cursor)).toEqual([0, 1, 2]);
      // Page 0's first attempt still waited for that answer: without it, its thread would be
      // stopped with the wait unanswered.
      if (startedFirst) expect(existsSync(files.answeredFile)).toBe(true);
      return startedFirst;
    });
    expect(askedScheduler).toBe(true);
  });

  it('blames a child that blocked its thread after its parent, which forgot to await the enqueue, had ended', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    for (let run = 0; run < 2; run++) {
      const jobId = `forgot-${run}`;
      const job = await baton.start({ processor: fixture('forgets-await-child-blocks.ts'), jobId, threads: 1, maxParallel: 4 });
      // It ends at all: the blocked thread was stopped.
      expect(await job.done).toMatchObject({ state: 'succeeded', items: 2, pages: { total: 2, succeeded: 2, failed: 0 } });
      const pages = await baton.pages(jobId);
      expect(pages.map((p) => p.cursor)).toEqual([0, 1]);
      // The thread committed the child before starting it, so the scheduler finds it in the
      // stopped thread's memory (or heard of it through the scheduler's own path) and blames it;
      // the parent, whose end was noted there, keeps its one attempt.
      expect(await outcomesAt(jobId, 0)).toEqual(['succeeded']);
      expect(await outcomesAt(jobId, 1)).toEqual([expect.stringMatching(/^(stuck|interrupted)$/), 'succeeded']);
    }
  });

  it('blames a held child that its thread started and was blocked by in the same turn, not the pages that ended there', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    // Needs the thread to hold a credit in time and to be lightly loaded (so the turn's ends wait
    // for its end); otherwise what happened is sent before the child blocks, and the scheduler
    // blames the child from what it was told: correct, but not this case.
    const learnedFromMemory = await runUntilCase(3, async (run) => {
      const jobId = `held-start-${run}`;
      const job = await baton!.start({ processor: fixture('held-child-blocks-at-start.ts'), jobId, threads: 1, maxParallel: 2 });
      expect(await job.done).toMatchObject({ state: 'succeeded', items: 3, pages: { total: 3, succeeded: 3, failed: 0 } });
      const pages = await baton!.pages(jobId);
      expect(pages.map((p) => p.cursor)).toEqual([0, 1, 2]);
      const attempts = (cursor: number) => attemptsAt(jobId, cursor);
      const [parent, held] = [(await attempts(1))[0]!, (await attempts(2))[0]!];
      // Its start was read from the thread's memory when the pages that ended there came up for
      // the stuck check, not heard from the thread as it came.
      if (held.startedAt - parent.endedAt! < 500) return false;
      for (const cursor of [0, 1]) expect((await attempts(cursor)).map((a) => a.outcome)).toEqual(['succeeded']);
      expect((await attempts(2)).map((a) => a.outcome)).toEqual(['stuck', 'succeeded']);
      // The ends read beside that start leave their slots to it: never more in flight than allowed.
      expect((await baton!.status(jobId)).maxInFlight).toBe(2);
      return true;
    });
    expect(learnedFromMemory).toBe(true);
  });
});
