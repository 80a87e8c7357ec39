import { fork } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import type { WorkerMessage } from '../../runner/pool/worker-messages.js';
import { childLogDir, childLogKey } from '../../runner/store/child-log.js';
import { fixture, jobLogKey, loggedChildren, root, runUntilCase, tempDir, waitFor } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
  delete process.env.BATON_CHILD_LOG_LINES;
});

const filesIn = (dir: string) => (existsSync(dir) ? readdirSync(dir) : []);

/** A database in a fresh folder with job `jobId` of counts-to, paused and left by its process. */
async function pausedJob(jobId: string): Promise<{ dir: string; db: string }> {
  const dir = tempDir();
  const db = join(dir, 'baton.db');
  baton = await Baton.open({ db });
  await baton.start({ processor: fixture('counts-to.ts'), args: { total: 10 }, jobId, paused: true });
  await baton.close();
  return { dir, db };
}

describe("the children a page's thread logs", () => {
  it('are deleted file by file as the scheduler writes them while the job runs, and none is left when it ends', async () => {
    // Two children a file: a chain of 40 pages fills 20 of them.
    process.env.BATON_CHILD_LOG_LINES = '2';
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    baton = await Baton.open({ db });
    const job = await baton.start({ processor: fixture('logs-runs.ts'), args: { log: join(dir, 'runs.log'), chains: 1, pages: 40, ms: 15 }, threads: 1, maxParallel: 4 });
    let lastSegment = -1;
    let most = 0;
    let ended = false;
    void job.done.finally(() => (ended = true));
    while (!ended) {
      const files = filesIn(childLogDir(db));
      for (const file of files) lastSegment = Math.max(lastSegment, Number(/-(\d+)\.log$/.exec(file)![1]));
      most = Math.max(most, files.length);
      await new Promise((resolve) => setTimeout(resolve, 2));
    }
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 40, succeeded: 40 } });
    // The chain's children went through the log (a few may have taken the scheduler's path):
    // files numbered from 0 to past 5 were written.
    expect(lastSegment).toBeGreaterThanOrEqual(5);
    // A sealed file goes at the next commit: a few at most at any time, not one per two pages.
    expect(most).toBeLessThanOrEqual(5);
    expect(filesIn(childLogDir(db))).toEqual([]);
  });

  it('that the scheduler had not written when the process was killed count in the status of the job, and are written on resume as the running pages they were', async () => {
    const found = await runUntilCase(4, async () => {
      const dir = tempDir();
      const db = join(dir, 'baton.db');
      const log = join(dir, 'runs.log');
      const marker = join(dir, 'enqueued');
      const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'logged', fixture('logs-child-then-blocks.ts'), JSON.stringify({ marker, log }), '4'], { stdio: 'ignore' });
      const exited = new Promise((resolve) => child.on('exit', resolve));
      await waitFor(() => existsSync(marker), 30_000, 'page 0 to enqueue');
      child.kill('SIGKILL');
      await exited;
      const logged = loggedChildren(db, 'logged');
      const reader = new Database(db, { readonly: true });
      const rows = reader.prepare("SELECT count(*) FROM pages WHERE cursor = '1'").pluck().get() as number;
      reader.close();
      // The case under test: started at once and logged, and not yet in the database. (A loaded
      // machine can keep page 0's thread from its credits: the child then takes the scheduler's
      // path, and the run is tried again.)
      const child1 = logged.find((c) => c.cursor === '1');
      if (rows !== 0 || child1 === undefined || child1.startedAt === null) return false;
      expect(readFileSync(log, 'utf8')).toBe('0\n1\n');

      baton = await Baton.open({ db });
      // Before a resume writes its row, the job's status counts it, as running when the process died.
      expect((await baton.jobs()).find((j) => j.jobId === 'logged')).toMatchObject({ live: false, pages: { total: 2, running: 2, queued: 0 } });
      const job = await baton.resume('logged');
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2 } });
      const pages = await baton.pages('logged');
      expect(pages.map((p) => [p.cursor, p.page])).toEqual([
        [0, 1],
        [1, child1.no],
      ]);
      // It was running when the process died: recorded so, and run again.
      expect((await baton.attempts('logged', { page: child1.no })).map((a) => a.outcome).sort()).toEqual(['interrupted', 'succeeded']);
      expect(filesIn(childLogDir(db))).toEqual([]);
      await baton.close();
      baton = undefined;
      return true;
    });
    expect(found).toBe(true);
  });

  it('that the scheduler never heard of are written when the run is stopped, and the files go', async () => {
    const found = await runUntilCase(4, async (run) => {
      const dir = tempDir();
      const db = join(dir, 'baton.db');
      const marker = join(dir, 'enqueued');
      baton = await Baton.open({ db });
      const jobId = `stopped-${run}`;
      await baton.start({ processor: fixture('logs-child-then-blocks.ts'), args: { marker, log: join(dir, 'runs.log') }, jobId, maxParallel: 4 });
      await waitFor(() => existsSync(marker), 10_000, 'page 0 to enqueue');
      // Page 0's thread is blocked with the child's word unsent; the stop terminates it.
      const child1 = loggedChildren(db, jobId).find((c) => c.cursor === '1');
      await baton.close({ stop: 'now' });
      baton = undefined;
      // Sent to the scheduler instead (no credit yet on a loaded machine): not this case.
      if (child1 === undefined || child1.startedAt === null) return false;
      const reader = new Database(db, { readonly: true });
      const rows = reader.prepare('SELECT no, cursor, state FROM pages ORDER BY no').all();
      reader.close();
      expect(rows).toEqual([
        { no: 1, cursor: '0', state: expect.stringMatching(/queued|running/) },
        { no: child1.no, cursor: '1', state: 'running' },
      ]);
      expect(filesIn(childLogDir(db))).toEqual([]);
      return true;
    });
    expect(found).toBe(true);
  });

  it("are refused as repeats when another page has the cursor by the time the scheduler hears of them, with the children they logged meanwhile", async () => {
    // Two threads that hand on the same new cursor within microseconds can both log it; which
    // one the scheduler hears of first cannot be arranged from outside, so the later one's
    // messages are handed to the scheduler here, as its thread would send them.
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 30_000, pages: 1 }, jobId: 'twice', maxParallel: 4 });
    await waitFor(async () => (await baton!.status('twice')).pages.running === 1, 10_000, 'page 1 to run');
    const runner = (job as unknown as { runner: { onWorkerMessages(messages: WorkerMessage[], threadId: number): void; pool: { threadIds(): number[] } } }).runner;
    const thread = runner.pool.threadIds()[0]!;
    const logged = { t: 'enqueue', attempt: 1, ordinal: 0, size: 1, request: 0, started: false, durable: true, filtered: true } as const;
    // Page 1's own cursor, logged as page 500's; then page 500's child, logged before its thread heard.
    runner.onWorkerMessages([{ ...logged, page: 1, cursor: '[0,0]', local: 500 }], thread);
    runner.onWorkerMessages([{ ...logged, page: 500, cursor: '[9,9]', local: 501 }], thread);
    expect((await baton.pages('twice')).map((page) => page.cursor)).toEqual([[0, 0]]);
    expect((await baton.status('twice')).pages.total).toBe(1);
    expect((await baton.logs('twice', 1)).map((line) => line.message)).toContainEqual(expect.stringContaining("cursor [0,0] with size 1 is already page 1's; not enqueued again"));
    await job.cancel();
  });

  it("of another database's job of the same number (one deleted and made anew beside them) are left alone", async () => {
    const { db } = await pausedJob('fresh');
    baton = await Baton.open({ db });
    // Job 1 of the database that was here before, created at another time.
    const stray = join(childLogDir(db), `${childLogKey({ no: 1, created_at: 1_000 })}-1-1-1-0.log`);
    mkdirSync(childLogDir(db), { recursive: true });
    writeFileSync(stray, '[7,1,0,"\\"old\\"",null,5]\n');
    const job = await baton.resume('fresh');
    await job.resume();
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 1 } });
    expect((await baton.pages('fresh')).map((page) => page.cursor)).toEqual([0]);
    expect(existsSync(stray)).toBe(true);
  });

  it('when damaged, keep the job from resuming with one line that names the file and the fix, and nothing changes', async () => {
    const { dir, db } = await pausedJob('damaged');
    const damaged = join(childLogDir(db), `${jobLogKey(db, 'damaged')}-1-1-1-0.log`);
    mkdirSync(childLogDir(db), { recursive: true });
    writeFileSync(damaged, '[9,1,0,"\\"x\\"",null,null]\nnot a line\n');
    baton = await Baton.open({ db });
    const before = await baton.status('damaged');
    await expect(baton.resume('damaged')).rejects.toMatchObject({
      code: 'DB_CORRUPT',
      message: `line 2 of the child log ${damaged} is damaged: move the file aside and run again (the pages it names then run again from their parents); Baton has not changed it`,
    });
    expect(readFileSync(damaged, 'utf8')).toBe('[9,1,0,"\\"x\\"",null,null]\nnot a line\n');
    expect(await baton.status('damaged')).toMatchObject({ state: before.state, pages: before.pages, items: before.items, live: false });
    expect(await baton.pages('damaged')).toHaveLength(1);
    // Moved aside, as the message says: the job runs.
    renameSync(damaged, join(dir, 'aside.log'));
    const job = await baton.resume('damaged');
    await job.resume();
    expect(await job.done).toMatchObject({ state: 'succeeded' });
  });
});
