import { fork } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton, type JobActivity, type JobSummary } from '../../runner/index.js';
import { fixture, loggedChildren, root, tempDir, waitFor } from '../helpers.js';

const CHAINS = 6;
const PAGES = 30;

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

interface Crash {
  db: string;
  log: string;
  /** State of every page as Baton held it right after the kill: its database, and the children its threads logged. */
  recorded: Map<string, string>;
  /** Cursors that ran before the kill, with how many times. */
  ranBefore: Map<string, number>;
}

function runs(log: string): Map<string, number> {
  const counts = new Map<string, number>();
  if (!existsSync(log)) return counts;
  for (const cursor of readFileSync(log, 'utf8').split('\n').filter(Boolean)) counts.set(cursor, (counts.get(cursor) ?? 0) + 1);
  return counts;
}

/** Starts the job in a child process and kills it with SIGKILL once `afterRuns` pages ran. */
async function runAndKill(processor: string, afterRuns: number): Promise<Crash> {
  const dir = tempDir();
  const db = join(dir, 'baton.db');
  const log = join(dir, 'runs.log');
  const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'crashy', processor, JSON.stringify({ log, chains: CHAINS, pages: PAGES, ms: 15 }), '12'], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await waitFor(() => runs(log).size >= afterRuns, 30_000, `${afterRuns} pages to run`);
  child.kill('SIGKILL');
  await exited;
  const sqlite = new Database(db, { readonly: true });
  const rows = sqlite.prepare('SELECT cursor, state FROM pages').all() as { cursor: string; state: string }[];
  sqlite.close();
  const recorded = new Map(rows.map((row) => [JSON.parse(row.cursor) as string, row.state]));
  // A logged child the scheduler had not written yet is written on resume, as its thread left it.
  for (const child of loggedChildren(db, 'crashy')) {
    const cursor = JSON.parse(child.cursor) as string;
    if (!recorded.has(cursor)) recorded.set(cursor, child.startedAt === null ? 'queued' : 'running');
  }
  return { db, log, recorded, ranBefore: runs(log) };
}

const everyCursor = Array.from({ length: CHAINS }, (_, chain) => Array.from({ length: PAGES }, (_, n) => `${chain}:${n}`)).flat();

/** Starts `ignores-cancel.ts` in a child process; resolves once its four pages run. */
async function startIgnoringCancel(): Promise<{ db: string; log: string; child: ReturnType<typeof fork>; exited: Promise<unknown> }> {
  const dir = tempDir();
  const db = join(dir, 'baton.db');
  const log = join(dir, 'runs.log');
  const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'cancelled', fixture('ignores-cancel.ts'), JSON.stringify({ log, pages: 4, ms: 20_000 }), '4'], {
    stdio: 'ignore',
  });
  const exited = new Promise((resolve) => child.on('exit', resolve));
  await waitFor(() => runs(log).size === 4, 30_000, 'four pages to run');
  return { db, log, child, exited };
}

/** What the database says of the job, from its tables and its row: they must agree. */
async function settledAsCancelled(b: Baton): Promise<void> {
  const status = await b.status('cancelled');
  expect(status).toMatchObject({ state: 'cancelled', live: false, pages: { total: 4, running: 0, queued: 4, succeeded: 0, failed: 0 } });
  const pages = await b.pages('cancelled');
  expect(pages.map((page) => page.state)).toEqual(['queued', 'queued', 'queued', 'queued']);
  // Each page that was running when its process died has that attempt recorded.
  const attempts = await b.attempts('cancelled');
  expect(attempts.map((attempt) => attempt.outcome)).toEqual(['interrupted', 'interrupted', 'interrupted', 'interrupted']);
}

describe('crash safety (kill -9, then resume)', () => {
  for (const afterRuns of [3, 40, 120]) {
    it(`at-least-once, killed after ${afterRuns} runs: loses no page, forks no chain, re-runs only pages not recorded done`, async () => {
      const crash = await runAndKill(fixture('logs-runs.ts'), afterRuns);
      // Killed mid-run: some page was not done yet (pages may start before their row commits,
      // so none need be recorded as running).
      expect(crash.recorded.size < CHAINS * PAGES || [...crash.recorded.values()].some((state) => state !== 'succeeded')).toBe(true);
      baton = await Baton.open({ db: crash.db });
      const job = await baton.resume('crashy');
      const summary = await job.done;
      expect(summary).toMatchObject({ state: 'succeeded', items: CHAINS * PAGES, pages: { total: CHAINS * PAGES, succeeded: CHAINS * PAGES, failed: 0 } });
      const ranAfter = runs(crash.log);
      expect([...ranAfter.keys()].sort()).toEqual([...everyCursor].sort());
      for (const [cursor, times] of ranAfter) {
        if (times === 1) continue;
        // Ran again: it must not have been recorded as done before the crash.
        expect(crash.recorded.get(cursor), `${cursor} ran ${times} times`).not.toBe('succeeded');
        expect(times).toBe(2);
      }
      const interrupted = (await baton.attempts('crashy', { limit: 10_000 })).filter((a) => a.outcome === 'interrupted');
      expect(interrupted.length).toBe([...crash.recorded.values()].filter((state) => state === 'running').length);
    });
  }

  it('at-most-once: never runs a page twice, fails the pages that were running as interrupted, and calls onPageFailed for each', async () => {
    const crash = await runAndKill(fixture('logs-runs-at-most-once.ts'), 40);
    const wasRunning = [...crash.recorded].filter(([, state]) => state === 'running').map(([cursor]) => cursor);
    expect(wasRunning.length).toBeGreaterThan(0);
    baton = await Baton.open({ db: crash.db });
    const job = await baton.resume('crashy');
    const summary = await job.done;
    expect(summary.state).toBe('failed');
    for (const [cursor, times] of runs(crash.log)) expect(times, `${cursor} ran ${times} times`).toBe(1);
    const failures = (await baton.status('crashy')).failures;
    expect(failures.map((f) => f.cursor).sort()).toEqual([...wasRunning].sort());
    expect(failures.every((f) => f.outcome === 'interrupted' && f.error.message.includes('at-most-once'))).toBe(true);
    // They gave up as a page that fails in a run does, though the process that ran them is gone.
    expect([...runs(`${crash.log}.failed`)].sort()).toEqual([...wasRunning].sort().map((cursor) => [cursor, 1]));
  });

  it('counts the pages as the database holds them after a kill -9, not as its last heartbeat did, until it is resumed', async () => {
    const crash = await runAndKill(fixture('logs-runs.ts'), 40);
    const states = [...crash.recorded.values()];
    const count = (state: string) => states.filter((recorded) => recorded === state).length;
    const pages = { total: states.length, queued: count('queued'), running: count('running'), succeeded: count('succeeded'), failed: 0 };
    expect(pages.running).toBeGreaterThan(0);
    baton = await Baton.open({ db: crash.db });
    expect(await baton.status('crashy')).toMatchObject({ state: 'running', live: false, pages, items: pages.succeeded });
    expect(await baton.jobs()).toMatchObject([{ jobId: 'crashy', pages, items: pages.succeeded }]);
    // The live views say the same: the panel's job list, and the job's own feed.
    const lists: JobSummary[][] = [];
    const activities: JobActivity[] = [];
    const unwatchJobs = baton.watchJobs((jobs) => lists.push(jobs));
    const unwatch = baton.watch('crashy', (activity) => activities.push(activity));
    unwatchJobs();
    unwatch();
    expect(lists[0]).toMatchObject([{ jobId: 'crashy', pages, items: pages.succeeded }]);
    expect(activities[0]!.snapshot).toMatchObject({ jobId: 'crashy', live: false, pages, items: pages.succeeded });
    // Resumed, the job settles those pages and its counters are its own again.
    const job = await baton.resume('crashy');
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: CHAINS * PAGES, succeeded: CHAINS * PAGES } });
  });

  it('refuses to resume a job that another live process runs, naming the process', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const log = join(dir, 'runs.log');
    const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'taken', fixture('logs-runs.ts'), JSON.stringify({ log, chains: 1, pages: 1000, ms: 50 }), '1'], {
      stdio: 'ignore',
    });
    // Gone only once reaped: until then its pid still answers, and the job still looks taken.
    const exited = new Promise((resolve) => child.once('exit', resolve));
    try {
      await waitFor(() => runs(log).size >= 1, 30_000, 'the child to run a page');
      baton = await Baton.open({ db });
      await expect(baton.resume('taken')).rejects.toMatchObject({
        code: 'JOB_LOCKED',
        message: expect.stringMatching(new RegExp(`^job "taken" is already running in process ${child.pid} on .+: pause it there with \`baton pause taken --db ${db}\`, or wait for it to end$`)),
      });
    } finally {
      child.kill('SIGKILL');
      await exited;
    }
    // Once that process is gone the job is free again.
    const job = await baton!.resume('taken');
    await job.setLimits({ maxParallel: 50 });
    await job.cancel();
  });

  it('does not enqueue again the children of a page that its thread started and a crash cut off while still recorded as queued', async () => {
    const db = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db });
    await (await baton.start({ processor: fixture('counts-to.ts'), args: { total: 30 }, jobId: 'held' })).done;
    await baton.close();
    baton = undefined;
    // What a crash leaves of a page a thread held and started (its row is written when it ends):
    // the page at cursor 10 still 'queued' with no children counted, though its child, the page
    // at cursor 20, is recorded.
    const raw = new Database(db);
    const job = raw.prepare("SELECT no FROM jobs WHERE id = 'held'").pluck().get() as number;
    const page = (cursor: number) => raw.prepare('SELECT no, parent FROM pages WHERE job = ? AND cursor = ?').get(job, String(cursor)) as { no: number; parent: number };
    const [second, third] = [page(10), page(20)];
    expect(third.parent).toBe(second.no);
    raw
      .prepare(`UPDATE pages SET state = 'queued', attempts = 0, children = 0, items = NULL, started_at = NULL, ended_at = NULL, slot = NULL WHERE job = ? AND no IN (?, ?)`)
      .run(job, second.no, third.no);
    raw.prepare("UPDATE jobs SET state = 'running', ended_at = NULL, owner = NULL, owner_pid = NULL, owner_host = NULL WHERE no = ?").run(job);
    raw.close();

    baton = await Baton.open({ db });
    const summary = await (await baton.resume('held')).done;
    expect(summary).toMatchObject({ state: 'succeeded', items: 30, pages: { total: 3, succeeded: 3 } });
    // Its re-run matched its enqueue to page 3 by call order, not by the cursor's duplicate.
    expect((await baton.logs('held', second.no)).filter((line) => line.message.includes('already page'))).toEqual([]);
  });
});

describe('a cancel and a kill -9', () => {
  it('ends the attempts a kill -9 cut off when their process was last seen, not when the job is resumed', async () => {
    const { db, child, exited } = await startIgnoringCancel();
    child.kill('SIGKILL');
    await exited;
    const lastSeen = (new Database(db, { readonly: true }).prepare('SELECT heartbeat_at FROM jobs').get() as { heartbeat_at: number }).heartbeat_at;
    // Resumed well after the kill, so that the two times differ.
    await waitFor(() => Date.now() - lastSeen > 3_000, 10_000, 'three seconds after the last heartbeat');
    baton = await Baton.open({ db });
    const resumedAt = Date.now();
    await baton.resume('cancelled');
    const cutOff = (await baton.attempts('cancelled')).filter((attempt) => attempt.outcome === 'interrupted');
    expect(cutOff).toHaveLength(4);
    for (const attempt of cutOff) {
      // At the last heartbeat, or at its start if it started after it.
      expect(attempt.endedAt).toBe(Math.max(lastSeen, attempt.startedAt!));
      expect(attempt.endedAt).toBeLessThan(resumedAt - 2_000);
    }
  }, 60_000);

  it('cancelled after its process was killed: the pages left running are settled, and the counts agree', async () => {
    const { db, child, exited } = await startIgnoringCancel();
    child.kill('SIGKILL');
    await exited;
    baton = await Baton.open({ db });
    await baton.cancel('cancelled');
    await settledAsCancelled(baton);
  });

  for (const when of ['before its process applies the cancel', 'while its process waits for the pages to stop']) {
    it(`killed ${when}: resume ends it cancelled and runs nothing again`, async () => {
      const { db, log, child, exited } = await startIgnoringCancel();
      baton = await Baton.open({ db });
      await baton.cancel('cancelled');
      if (when.startsWith('while')) {
        // Its process shows the cancel at once, and writes it once its pages stop (they ignore
        // their signal for 20 s; it waits 2 s for them).
        let cancelling = false;
        const stop = baton.watch('cancelled', (activity) => (cancelling ||= activity.snapshot.state === 'cancelled'));
        await waitFor(() => cancelling, 10_000, 'the cancel to begin');
        stop();
      }
      child.kill('SIGKILL');
      await exited;
      await expect(baton.resume('cancelled')).rejects.toMatchObject({ code: 'JOB_FINISHED', message: expect.stringContaining('has already ended (cancelled)') });
      await settledAsCancelled(baton);
      expect([...runs(log).values()]).toEqual([1, 1, 1, 1]);
    });
  }
});
