import { fork } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import type { AttemptInfo } from '../../runner/protocol.js';
import { fixture, root, tempDir, waitFor } from '../helpers.js';

/** Resolves once another program has held `db`'s write lock for `ms` and let it go (test/support/hold-lock.mjs). */
function holdLock(db: string, ms: number): Promise<unknown> {
  const holder = fork(join(root, 'test/support/hold-lock.mjs'), [db, String(ms)], { stdio: 'ignore' });
  return new Promise((resolve) => holder.once('exit', resolve));
}

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

async function open(db = join(tempDir(), 'baton.db')): Promise<Baton> {
  baton = await Baton.open({ db });
  return baton;
}

describe('retries', () => {
  it('retries a failed page and records every attempt with its error and log lines', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('throws-once.ts'), args: { pages: 3 }, jobId: 'retry' });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'succeeded', items: 3, attempts: 6, pages: { succeeded: 3, failed: 0 } });
    const attempts = await b.attempts('retry', { page: 1 });
    expect(attempts.map((a) => [a.attempt, a.outcome])).toEqual([
      [2, 'succeeded'],
      [1, 'failed'],
    ]);
    expect(attempts[1]!.error).toMatchObject({ name: 'Error', message: 'first attempt of page 0 fails' });
    // Mapped back to the processor's own file and line, not to its bundle's folder.
    expect(attempts[1]!.error!.stack).toContain(`${fixture('throws-once.ts')}:10:`);
    expect(attempts[1]!.endedAt).toBeGreaterThanOrEqual(attempts[1]!.startedAt);
    const logs = await b.logs('retry', 1);
    expect(logs.map((line) => [line.attempt, line.level, line.message])).toEqual([
      [1, 'info', 'attempt 1 of page 0'],
      [2, 'info', 'attempt 2 of page 0'],
    ]);
  });

  it('says of each ended attempt whether its page runs again, before its retry starts and after', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('fails-slow-retry.ts'), jobId: 'again' });
    const heard: AttemptInfo[] = [];
    job.on('activity', (activity) => heard.push(...activity.ended));
    await waitFor(() => heard.length > 0, 20_000, 'the first attempt to end');
    expect(heard[0]).toMatchObject({ page: 1, attempt: 1, outcome: 'failed', runsAgain: true });
    // The retry waits at least 1.5 s; meanwhile the database says the same.
    const recorded = async (): Promise<[number, boolean][]> => (await b.attempts('again', { page: 1 })).map((a) => [a.attempt, a.runsAgain]);
    await waitFor(async () => (await recorded()).length > 0, 20_000, 'the attempt row');
    expect(await recorded()).toEqual([[1, true]]);
    expect((await b.status('again')).pages.running).toBe(0);

    await job.done;
    expect(heard.map((a) => [a.attempt, a.outcome, a.runsAgain])).toEqual([
      [1, 'failed', true],
      [2, 'failed', false],
    ]);
    expect(await recorded()).toEqual([
      [2, false],
      [1, true],
    ]);
  });

  it('says a page waiting for its retry runs no more once its job is cancelled', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('fails-slow-retry.ts'), jobId: 'dropped' });
    const recorded = async (): Promise<[number, boolean][]> => (await b.attempts('dropped', { page: 1 })).map((a) => [a.attempt, a.runsAgain]);
    await waitFor(async () => (await recorded()).length > 0, 20_000, 'the attempt row');
    expect(await recorded()).toEqual([[1, true]]);
    await job.cancel();
    expect((await job.done).state).toBe('cancelled');
    expect(await recorded()).toEqual([[1, false]]);
  });

  it("waits at least as long as a 429's Retry-After before the retry, even when the backoff is shorter", async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('rate-limited-once.ts'), jobId: 'throttled' });
    expect((await job.done).state).toBe('succeeded');
    const [second, first] = await b.attempts('throttled', { page: 1 });
    expect(first).toMatchObject({ outcome: 'failed', error: { name: 'RateLimitedError', message: 'GET http://api.test/items answered 429 Too Many Requests; retry after 1500 ms' } });
    // A lower bound the runner keeps, not a measure of speed.
    expect(second!.startedAt - first!.endedAt!).toBeGreaterThanOrEqual(1_500);
  });

  it('gives up after maxAttempts, calls onPageFailed once, and ends the job failed while other pages run', async () => {
    const dir = tempDir();
    const failuresFile = join(dir, 'failures.jsonl');
    const b = await open();
    const job = await b.start({ processor: fixture('always-fails.ts'), args: { failuresFile }, jobId: 'gives-up' });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'failed', items: 20, pages: { total: 3, succeeded: 2, failed: 1 }, attempts: 5 });
    const status = await b.status('gives-up');
    expect(status.failures).toEqual([
      expect.objectContaining({ page: 2, cursor: 1, attempts: 3, outcome: 'failed', error: expect.objectContaining({ name: 'DatabaseGoneError', message: 'page 1 cannot reach the database (attempt 3)' }) }),
    ]);
    const calls = readFileSync(failuresFile, 'utf8').trim().split('\n').map((line) => JSON.parse(line));
    expect(calls).toEqual([{ cursor: 1, attempt: 3, error: 'page 1 cannot reach the database (attempt 3)' }]);
  });

  it('keeps log lines formatted as console.log does, and logs an onPageFailed that throws on the failed attempt, and still ends the job', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('always-fails.ts'), jobId: 'alert-fails' });
    expect(await job.done).toMatchObject({ state: 'failed', pages: { succeeded: 2, failed: 1 } });
    const logs = await b.logs('alert-fails', 2, 3);
    expect(logs.map((line) => [line.level, line.message])).toEqual([
      ['info', "connecting to { host: 'db.internal', port: 5432 }"],
      ['warn', 'no route to host, attempt 3'],
      ['error', 'onPageFailed threw: the alerting service is down'],
    ]);
  });

  it('fails a page at once on NonRetryableError or an error name listed in retry.nonRetryable', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('non-retryable.ts'), jobId: 'no-retry' });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'failed', attempts: 3, pages: { succeeded: 1, failed: 2 } });
    const failures = (await b.status('no-retry')).failures;
    expect(failures.map((f) => [f.cursor, f.attempts, f.error.name])).toEqual([
      [0, 1, 'NonRetryableError'],
      [1, 1, 'ValidationError'],
    ]);
  });

  it('never runs a page twice in at-most-once mode', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('at-most-once-fails.ts'), jobId: 'once' });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'failed', attempts: 2, pages: { succeeded: 1, failed: 1 } });
  });

  it('does not fork a chain when a page that enqueued fails and is retried', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('forks-on-retry.ts'), jobId: 'no-fork' });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2 } });
    const pages = (await b.pages('no-fork')).sort((x, y) => (x.parent ?? 0) - (y.parent ?? 0));
    expect(pages.map((p) => [p.cursor, p.attempts, p.state])).toEqual([
      ['root', 2, 'succeeded'],
      ['child-from-attempt-1', 1, 'succeeded'],
    ]);
    expect(pages[1]!.parent).toBe(pages[0]!.page);
  });

  it('enqueues a repeated cursor only once, warns in the page log, and ends the chain', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('repeats-cursor.ts'), jobId: 'repeat' });
    const summary = await job.done;
    expect(summary).toMatchObject({ state: 'succeeded', pages: { total: 4, succeeded: 4 } });
    const pages = await b.pages('repeat');
    // Page numbers are unique but not in chain order (threads number the children they start).
    expect(pages.map((p) => p.cursor).sort()).toEqual([0, 1, 2, 3]);
    const last = pages.find((p) => p.cursor === 3)!.page;
    expect(await b.logs('repeat', last)).toEqual([
      expect.objectContaining({ level: 'warn', message: `enqueueNextPage: cursor 3 with size 10 is already page ${last}'s; not enqueued again` }),
    ]);
  });

  it('ends a chain whose cursors cycle (a → b → a), and never runs the repeat, which its thread would start at once', async () => {
    const b = await open();
    const runs = join(tempDir(), 'runs.txt');
    const job = await b.start({ processor: fixture('cycles.ts'), args: { runs }, jobId: 'cycle', threads: 1 });
    expect(await job.done).toMatchObject({ state: 'succeeded', items: 2, pages: { total: 2, succeeded: 2, failed: 0 } });
    expect(readFileSync(runs, 'utf8')).toBe('a\nb\n');
    const pages = (await b.pages('cycle')).sort((x, y) => String(x.cursor).localeCompare(String(y.cursor)));
    expect(pages.map((p) => p.cursor)).toEqual(['a', 'b']);
    expect(await b.logs('cycle', pages[1]!.page)).toEqual([
      expect.objectContaining({ level: 'warn', message: `enqueueNextPage: cursor "a" is already page ${pages[0]!.page}'s; not enqueued again` }),
    ]);
  });

  it('never runs the repeat of a cycle whose thread cannot commit it (another program holds the lock): the scheduler decides first', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const b = await open(db);
    const runs = join(dir, 'runs.txt');
    const job = await b.start({ processor: fixture('cycles.ts'), args: { runs, waitMs: 500 }, jobId: 'cycle-locked', threads: 1 });
    // Held from before 'b' hands 'a' back (after 1 s) until after it: the thread cannot commit
    // the repeat itself, and the scheduler waits for the lock.
    // It lets go on its own: this thread waits for the lock in SQLite, where no timer runs.
    await holdLock(db, 1_300);
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2, failed: 0 } });
    expect(readFileSync(runs, 'utf8')).toBe('a\nb\n');
  });

  it('never runs the repeat of a page recorded by an earlier run of the job, resumed, when its thread cannot commit it', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const runs = join(dir, 'runs.txt');
    // a → b → a. The first run stops while b runs; the resumed run runs b again, which hands back
    // a, recorded by the first run, while another program holds the lock.
    const first = await open(db);
    const stopped = await first.start({ processor: fixture('cycles.ts'), args: { runs, waitMs: 1_500 }, jobId: 'cycle-resumed', threads: 1 });
    // a recorded as succeeded (it ends just after handing b on), b running: stopped at once, only b runs again.
    await waitFor(async () => (await first.pages('cycle-resumed')).some((page) => page.cursor === 'a' && page.state === 'succeeded'), 20_000, 'a to end');
    expect(readFileSync(runs, 'utf8')).toBe('a\nb\n');
    await stopped.stop('now');
    await first.close();
    baton = undefined;
    const b = await open(db);
    const job = await b.resume('cycle-resumed');
    await holdLock(db, 2_500);
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2, failed: 0 } });
    expect(readFileSync(runs, 'utf8')).toBe('a\nb\nb\n');
  });

  it('never runs a repeat of a page its thread enqueued through the scheduler, which has not recorded it yet', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const b = await open(db);
    const runs = join(dir, 'runs.txt');
    // a → b → c → b, a page every 600 ms. From before a hands on b until after c hands b back,
    // the lock is another program's: b goes to the scheduler, which cannot record it meanwhile.
    const job = await b.start({ processor: fixture('cycles.ts'), args: { runs, waitMs: 600, next: { a: 'b', b: 'c', c: 'b' } }, jobId: 'cycle-unrecorded', threads: 1 });
    await holdLock(db, 2_200);
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 3, succeeded: 3, failed: 0 } });
    expect(readFileSync(runs, 'utf8')).toBe('a\nb\nc\n');
  });

  it('never runs the repeat of a page the scheduler recorded earlier in the run, when its thread cannot commit it', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const b = await open(db);
    const runs = join(dir, 'runs.txt');
    // a → b → c → b, a page every second. The lock is another program's when a hands on b (so
    // the scheduler records b, and answers), and again when c hands b back.
    const job = await b.start({ processor: fixture('cycles.ts'), args: { runs, waitMs: 1_000, next: { a: 'b', b: 'c', c: 'b' } }, jobId: 'cycle-recorded', threads: 1 });
    await holdLock(db, 1_400);
    await waitFor(() => readFileSync(runs, 'utf8') === 'a\nb\nc\n', 20_000, 'c to start');
    await holdLock(db, 1_500);
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 3, succeeded: 3, failed: 0 } });
    expect(readFileSync(runs, 'utf8')).toBe('a\nb\nc\n');
  });

  it('records only pages whose parent is a page, when repeats of a cycle start one inside another before any is committed', async () => {
    const b = await open();
    // Whether the repeats nest depends on the thread's credits at that moment: a few runs.
    for (let run = 0; run < 5; run++) {
      const jobId = `nested-${run}`;
      const runs = join(tempDir(), 'runs.txt');
      const job = await b.start({ processor: fixture('cycles-at-once.ts'), args: { runs }, jobId, threads: 1 });
      expect(await job.done).toMatchObject({ state: 'succeeded', items: 3, pages: { total: 3, succeeded: 3, failed: 0 } });
      // The repeat of 0 never ran.
      expect(readFileSync(runs, 'utf8')).toBe('0\n1\n2\n');
      const pages = await b.pages(jobId);
      expect(pages.map((p) => p.cursor).sort()).toEqual([0, 1, 2]);
      const byCursor = new Map(pages.map((p) => [p.cursor, p]));
      // A chain 0 → 1 → 2, each page the child of the one before; the repeat of 0 is refused.
      expect(byCursor.get(0)!.parent).toBeNull();
      expect(byCursor.get(1)!.parent).toBe(byCursor.get(0)!.page);
      expect(byCursor.get(2)!.parent).toBe(byCursor.get(1)!.page);
      for (const cursor of [0, 1]) expect(await b.logs(jobId, byCursor.get(cursor)!.page)).toEqual([]);
      expect(await b.logs(jobId, byCursor.get(2)!.page)).toEqual([
        expect.objectContaining({ level: 'warn', message: `enqueueNextPage: cursor 0 is already page ${byCursor.get(0)!.page}'s; not enqueued again` }),
      ]);
    }
  });

  it('refuses a cursor that is not JSON, naming what to change', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('bad-cursor.ts'), jobId: 'bad-cursor' });
    const summary = await job.done;
    expect(summary.state).toBe('failed');
    const [failure] = (await b.status('bad-cursor')).failures;
    expect(failure!.error.message).toBe('enqueueNextPage: cursor must be a JSON value, but cursor is a Date (use date.toISOString())');
  });
});
