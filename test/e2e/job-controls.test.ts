import { readFileSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { afterEach, describe, expect, it } from 'vitest';
import { rampedParallel } from '../../runner/engine/rampup.js';
import { Baton, type Job, type JobSnapshot } from '../../runner/index.js';
import { fixture, peakConcurrency, sleep, tempDir, waitFor } from '../helpers.js';

const open: Baton[] = [];
afterEach(async () => {
  for (const b of open.splice(0)) await b.close({ stop: 'now' });
});

async function openBaton(db = join(tempDir(), 'baton.db')): Promise<Baton> {
  const baton = await Baton.open({ db });
  open.push(baton);
  return baton;
}

/**
 * Resumes a job started paused, cancels it after `ms`, and returns the seconds in between: every
 * page the rate limit let start was charged within them. (A page's recorded start is when its
 * thread began it, which can lag the charge by a varying delay under load, so counting recorded
 * starts in a one-second window measures the wrong clock.)
 */
/** A processor in `dir` whose one page fails its first attempt for good, then succeeds after `ms`. */
function failsFirstAttempt(dir: string, ms: number): string {
  const processor = join(dir, 'fails-first-attempt.ts');
  writeFileSync(
    processor,
    `import { definePageProcessor } from 'baton';
export default definePageProcessor({
  retry: { maxAttempts: 1 },
  async run(ctx) {
    if (ctx.page.attempt === 1) throw new Error('not yet');
    await new Promise((resolve) => setTimeout(resolve, ${ms}));
  },
});
`,
  );
  return processor;
}

async function runFor(job: Job, ms: number): Promise<number> {
  const resumed = performance.now();
  await job.resume();
  await sleep(ms);
  await job.cancel();
  return (performance.now() - resumed) / 1000;
}

describe('pause and resume', () => {
  it('stops new pages from starting while running pages finish, then resumes to the end', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 40, chains: 4, pages: 15 }, maxParallel: 4, jobId: 'p' });
    await waitFor(() => job.snapshot().attempts >= 8, 20_000, 'some pages to run');
    await job.pause();
    await waitFor(() => job.snapshot().inFlight === 0, 20_000, 'running pages to finish');
    const paused = job.snapshot();
    expect(paused.state).toBe('paused');
    await sleep(300);
    expect(job.snapshot().attempts).toBe(paused.attempts);
    expect((await baton.jobs())[0]).toMatchObject({ jobId: 'p', paused: true });
    await job.resume();
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { succeeded: 60 } });
  });

  it('keeps a job paused across a restart until it is resumed', async () => {
    const db = join(tempDir(), 'baton.db');
    const first = await openBaton(db);
    const job = await first.start({ processor: fixture('sleeps.ts'), args: { ms: 20, chains: 2, pages: 10 }, jobId: 'durable', paused: true });
    expect(job.snapshot()).toMatchObject({ state: 'paused', attempts: 0, pages: { total: 2, queued: 2 } });
    expect(await job.stop()).toMatchObject({ state: 'paused', live: false });
    await first.close();

    const second = await openBaton(db);
    const again = await second.resume('durable');
    await sleep(300);
    expect(again.snapshot()).toMatchObject({ state: 'paused', attempts: 0 });
    await again.resume();
    expect(await again.done).toMatchObject({ state: 'succeeded', pages: { succeeded: 20 } });
  });

  it('ends a job whose last pages finish after it was paused and its Baton closed (the CLI\'s Ctrl-C), rather than leaving it paused', async () => {
    const db = join(tempDir(), 'baton.db');
    const first = await openBaton(db);
    // Four chains of one page each: all four run at once, and nothing is queued behind them.
    const job = await first.start({ processor: fixture('sleeps.ts'), args: { ms: 400, chains: 4, pages: 1 }, jobId: 'last' });
    await waitFor(() => job.snapshot().pages.running === 4, 10_000, 'all four pages to run');
    await job.pause();
    await first.close();
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 4, succeeded: 4, queued: 0 } });
    const second = await openBaton(db);
    expect(await second.status('last')).toMatchObject({ state: 'succeeded' });
  });

  it('is paused from another Baton on the same database, as another process would', async () => {
    const db = join(tempDir(), 'baton.db');
    const runner = await openBaton(db);
    const job = await runner.start({ processor: fixture('sleeps.ts'), args: { ms: 30, chains: 2, pages: 40 }, jobId: 'remote' });
    await waitFor(() => job.snapshot().attempts >= 2);
    const other = await openBaton(db);
    expect(other.isLive('remote')).toBe(true);
    // Both say which process runs it: this one.
    expect(job.snapshot().runBy).toEqual({ pid: process.pid, host: hostname() });
    expect((await other.status('remote')).runBy).toEqual({ pid: process.pid, host: hostname() });
    await other.pause('remote');
    await waitFor(() => job.snapshot().state === 'paused' && job.snapshot().inFlight === 0, 20_000, 'the runner to see the pause');
    const attempts = job.snapshot().attempts;
    await sleep(300);
    expect(job.snapshot().attempts).toBe(attempts);
    await other.unpause('remote');
    await waitFor(() => job.snapshot().state === 'running');
    await other.cancel('remote');
    const ended = await job.done;
    expect(ended).toMatchObject({ state: 'cancelled', live: false });
    // Ended, nobody runs it.
    expect(ended).not.toHaveProperty('runBy');
    expect(await other.status('remote')).not.toHaveProperty('runBy');
  });
});

describe('stop', () => {
  /**
   * Two chains of two pages, whose pages log their cursor and then wait a minute; resolves once
   * both first pages run and have handed on their next (4 pages), which wait for a slot.
   */
  async function twoChainsRunning(processor: string, jobId: string): Promise<{ baton: Baton; job: Job; log: string }> {
    const dir = tempDir();
    const log = join(dir, 'runs.log');
    const baton = await openBaton(join(dir, 'baton.db'));
    const job = await baton.start({ processor: fixture(processor), args: { log, chains: 2, pages: 2, ms: 60_000 }, maxParallel: 2, jobId });
    await waitFor(() => job.snapshot().pages.total === 4, 20_000, 'both chains to enqueue');
    return { baton, job, log };
  }

  it("'now' runs the aborted pages again on resume, at-least-once", async () => {
    const { baton, job, log } = await twoChainsRunning('logs-runs.ts', 'again');
    expect(await job.stop('now')).toMatchObject({ state: 'running', live: false, pages: { running: 0, queued: 4 } });
    expect((await baton.attempts('again')).map((a) => a.outcome)).toEqual(['interrupted', 'interrupted']);
    const resumed = await baton.resume('again');
    const runs = () => readFileSync(log, 'utf8').split('\n').filter(Boolean);
    await waitFor(() => runs().length === 4, 20_000, 'the stopped pages to run again');
    await resumed.stop('now');
    expect(runs().sort()).toEqual(['0:0', '0:0', '1:0', '1:0']);
  });

  it("'now' fails the aborted pages as interrupted at-most-once (they may have done part of their work), with onPageFailed; a resume runs none again", async () => {
    const { baton, job, log } = await twoChainsRunning('logs-runs-at-most-once.ts', 'once');
    expect(await job.stop('now')).toMatchObject({ state: 'running', live: false, pages: { running: 0, queued: 2, failed: 2 } });
    expect(readFileSync(`${log}.failed`, 'utf8').split('\n').filter(Boolean).sort()).toEqual(['0:0', '1:0']);
    const resumed = await baton.resume('once');
    // The children they enqueued before the stop run; the stopped pages do not.
    await waitFor(() => readFileSync(log, 'utf8').split('\n').filter(Boolean).length === 4, 20_000, 'the children to run');
    await resumed.stop('now');
    const runs = readFileSync(log, 'utf8').split('\n').filter(Boolean);
    expect(runs.filter((cursor) => cursor.endsWith(':0')).sort()).toEqual(['0:0', '1:0']);
    expect(runs.filter((cursor) => cursor.endsWith(':1')).sort()).toEqual(['0:1', '1:1']);
  });
});

describe('limits', () => {
  it('lowers and raises maxParallel while the job runs, and keeps the new limit', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 30, chains: 8, pages: 40 }, maxParallel: 8, jobId: 'limits' });
    await waitFor(() => job.snapshot().inFlight >= 6, 20_000, 'eight chains to run');
    await job.setLimits({ maxParallel: 2 });
    await waitFor(() => job.snapshot().inFlight <= 2, 20_000, 'in flight to drop');
    // From the moment the scheduler counts two, never more: every page it counted as ended had
    // ended by then (a fixed delay after the call assumed the machine never paused that long).
    const settled = Date.now();
    expect((await baton.jobs())[0]!.limits.maxParallel).toBe(2);
    await sleep(400);
    expect(peakConcurrency(await baton.attempts('limits', { limit: 10_000 }), settled)).toBeLessThanOrEqual(2);
    await job.setLimits({ maxParallel: 6 });
    await waitFor(() => job.snapshot().inFlight > 2, 20_000, 'in flight to rise');
    await job.cancel();
  });

  it('rejects a bad limit with a message naming the option', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 10, pages: 2 } });
    await expect(job.setLimits({ maxParallel: 0 })).rejects.toThrow('maxParallel must be an integer >= 1, got 0');
    await expect(job.setLimits({ rateLimit: { itemsPerSecond: -5 } })).rejects.toThrow('rateLimit.itemsPerSecond must be a number > 0, got -5');
    await job.done;
  });

  it('ramps parallelism up from `from` by `step` every `everyMs`', async () => {
    const baton = await openBaton();
    const job = await baton.start({
      processor: fixture('sleeps.ts'),
      args: { ms: 60, chains: 6, pages: 6 },
      maxParallel: 6,
      rampup: { from: 1, step: 1, everyMs: 250 },
      jobId: 'ramp',
    });
    const start = Date.parse(job.snapshot().startedAt);
    await job.done;
    const attempts = await baton.attempts('ramp', { limit: 10_000 });
    for (const attempt of attempts) {
      const overlapping = attempts.filter((a) => a.startedAt <= attempt.startedAt && (a.endedAt ?? Infinity) > attempt.startedAt).length;
      expect(overlapping).toBeLessThanOrEqual(rampedParallel(6, { from: 1, step: 1, everyMs: 250 }, attempt.startedAt - start + 50));
    }
    expect(peakConcurrency(attempts.filter((a) => a.startedAt < start + 200))).toBe(1);
  });

  it('starts no more pages per second than rateLimit.pagesPerSecond allows', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 0, chains: 10, pages: 20 }, maxParallel: 10, rateLimit: { pagesPerSecond: 20 }, jobId: 'pps', paused: true });
    const seconds = await runFor(job, 1_200);
    const attempts = await baton.attempts('pps', { limit: 10_000 });
    // A burst of a fifth of a second's worth, then 20 per second, and one page on the last token.
    expect(attempts.length).toBeLessThanOrEqual(4 + 20 * seconds + 1);
  });

  it('keeps items per second under rateLimit.itemsPerSecond, charging each page its size', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('counts-to.ts'), args: { total: 10_000, chains: 10 }, maxParallel: 10, rateLimit: { itemsPerSecond: 200 }, jobId: 'ips', paused: true });
    const seconds = await runFor(job, 1_200);
    const attempts = await baton.attempts('ips', { limit: 10_000 });
    // Each page is charged its size (10): a fifth of a second's worth at once, then 200 per second.
    expect(attempts.length * 10).toBeLessThanOrEqual(40 + 200 * seconds + 10);
  });
});

describe('cancel', () => {
  it('aborts running pages, starts no more, and ends the job cancelled', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 5_000, chains: 3, pages: 5 }, jobId: 'cancel' });
    // Cancel at once: some tasks are still on their way to the threads.
    expect(job.snapshot().inFlight).toBe(3);
    const summary = await job.cancel();
    expect(summary).toMatchObject({ state: 'cancelled', live: false, pages: { running: 0 } });
    const attempts = await baton.attempts('cancel');
    expect(attempts.every((a) => a.outcome === 'cancelled' || a.outcome === 'succeeded')).toBe(true);
    const cancelled = attempts.filter((a) => a.outcome === 'cancelled');
    expect(cancelled.length).toBeGreaterThan(0);
    // Each saw its signal, even those whose task was still on its way to a thread.
    for (const attempt of cancelled) {
      expect(await baton.logs('cancel', attempt.page, attempt.attempt)).toContainEqual(expect.objectContaining({ level: 'warn', message: 'aborted: job cancelled' }));
    }
    await expect(baton.resume('cancel')).rejects.toThrow('job "cancel" has already ended (cancelled)');
  });

  it('leaves a job that succeeded as it ended: it has no failed page to retry', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('plain.js'), jobId: 'fine' });
    await job.done;
    const before = await baton.status('fine');
    const message = 'job "fine" succeeded: it has no failed pages to run again';
    await expect(job.retryFailed()).rejects.toMatchObject({ code: 'JOB_FINISHED', message });
    await expect(baton.retryFailed('fine')).rejects.toMatchObject({ code: 'JOB_FINISHED', message });
    expect(await baton.status('fine')).toEqual(before);
  });

  it('is for good: neither its own handle nor the job id runs its queued pages again through a retry', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 5_000, chains: 2, pages: 5 }, jobId: 'gone' });
    await job.cancel();
    const before = await baton.status('gone');
    await expect(job.retryFailed()).rejects.toMatchObject({ code: 'JOB_FINISHED', message: 'job "gone" has already ended (cancelled): a cancelled job never runs its pages again; to do its work, start a new job with another id' });
    await expect(baton.retryFailed('gone')).rejects.toMatchObject({ code: 'JOB_FINISHED' });
    expect(await baton.status('gone')).toMatchObject({ state: 'cancelled', live: false, pages: before.pages, attempts: before.attempts });
  });
});

describe('progress', () => {
  it('emits update snapshots at most about four times a second, and a last one at the end', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('counts-to.ts'), args: { total: 2_000, chains: 4, delayMs: 25 }, maxParallel: 4, jobId: 'updates' });
    const updates: { at: number; snapshot: JobSnapshot }[] = [];
    job.on('update', (snapshot) => updates.push({ at: Date.now(), snapshot }));
    const summary = await job.done;
    const last = updates.at(-1)!.snapshot;
    expect(last).toMatchObject({ state: 'succeeded', itemsLive: 2_000, percent: 100, etaSeconds: 0 });
    const spanSeconds = (updates.at(-1)!.at - updates[0]!.at) / 1000;
    expect(updates.length).toBeLessThanOrEqual(Math.ceil(spanSeconds * 4) + 3);
    const middle = updates.find((u) => u.snapshot.percent !== null && u.snapshot.percent > 0 && u.snapshot.percent < 100);
    expect(middle?.snapshot).toMatchObject({ state: 'running', estimatedTotalItems: 2_000 });
    expect(middle!.snapshot.throughput.itemsPerSecond).toBeGreaterThan(0);
    expect(middle!.snapshot.etaSeconds).toBeGreaterThan(0);
    expect(summary.items).toBe(2_000);
  });
});

describe('progress after a change of limits', () => {
  it('shows the pace under new limits at once, not averaged with the old pace over the 5 s window', async () => {
    const baton = await openBaton();
    const job = await baton.start({ processor: fixture('counts-to.ts'), args: { total: 1_000_000, chains: 10 }, maxParallel: 10, rateLimit: { itemsPerSecond: 2_000 }, jobId: 'pace' });
    let last: JobSnapshot | undefined;
    job.on('update', (snapshot) => (last = snapshot));
    await sleep(2_500);
    const before = last!.throughput.itemsPerSecond;
    expect(before).toBeGreaterThan(400);
    await job.setLimits({ rateLimit: { itemsPerSecond: 50 } });
    await sleep(1_500);
    // Averaged over 5 s, the old pace would still be most of the figure (about 0.7 of it).
    expect(last!.throughput.itemsPerSecond).toBeLessThan(before / 4);
    expect(last!.etaSeconds).toBeGreaterThan((1_000_000 - last!.itemsLive) / (before / 4));
    await job.cancel();
  });
});

describe('a process that runs job after job', () => {
  // Collected on demand: the handle is gone only once nothing holds it.
  setFlagsFromString('--expose-gc');
  const collect = runInNewContext('gc') as () => void;

  async function released(ref: WeakRef<object>): Promise<boolean> {
    for (let i = 0; i < 20 && ref.deref() !== undefined; i++) {
      await sleep(25);
      collect();
    }
    return ref.deref() === undefined;
  }

  it('lets an ended job go (its handle, runner and processor bundle), and still finds a running one by its id', async () => {
    const baton = await openBaton();
    let job: Job | undefined = await baton.start({ processor: fixture('counts-to.ts'), args: { total: 50 }, jobId: 'first' });
    await job.done;
    const ended = new WeakRef(job);
    job = undefined;
    expect(await released(ended)).toBe(true);
    // A running job is found by its id, for controls by id.
    const running = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 30, chains: 1, pages: 1_000 }, jobId: 'second' });
    await baton.pause('second');
    await waitFor(() => running.snapshot().state === 'paused', 20_000, 'the job to pause');
    await baton.cancel('second');
    expect(await running.done).toMatchObject({ state: 'cancelled' });
  });

  it('keeps a paused job paused through retryFailed, as resume does: its failed pages run once it is resumed', async () => {
    const dir = tempDir();
    const processor = failsFirstAttempt(dir, 0);
    const baton = await openBaton(join(dir, 'baton.db'));
    const job = await baton.start({ processor, jobId: 'held' });
    expect((await job.done).state).toBe('failed');
    await job.pause();
    expect(await job.retryFailed()).toBe(1);
    await waitFor(() => job.snapshot().state === 'paused', 20_000, 'the new run to start paused');
    expect(job.snapshot().pages).toMatchObject({ queued: 1, running: 0, failed: 0 });
    await job.resume();
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { succeeded: 1 } });
  });

  it('finds a handle that runs again (retry-failed) while that run lasts, and stops it on close', async () => {
    const dir = tempDir();
    const processor = failsFirstAttempt(dir, 400);
    const baton = await openBaton(join(dir, 'baton.db'));
    const job = await baton.start({ processor, jobId: 'again' });
    expect((await job.done).state).toBe('failed');
    expect(baton.isLive('again')).toBe(false);
    expect(await job.retryFailed()).toBe(1);
    expect(baton.isLive('again')).toBe(true);
    // Closing stops the runs it finds: this one too, resumable.
    await baton.close({ stop: 'now' });
    expect(await job.done).toMatchObject({ state: 'running', live: false, pages: { succeeded: 0 } });
  });
});
