import { fork } from 'node:child_process';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { FEED_POLL_MS, JobFeed, restingActivity } from '../../runner/engine/job-feed.js';
import { Baton, type JobActivity, type JobSummary } from '../../runner/index.js';
import { openDatabase } from '../../runner/store/database.js';
import { JobStore } from '../../runner/store/job-store.js';
import { fixture, root, sleep, tempDir, waitFor } from '../helpers.js';
import { damageTable } from './damage-table.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

function collect(b: Baton, jobId: string): { activities: JobActivity[]; stop: () => void } {
  const activities: JobActivity[] = [];
  const stop = b.watch(jobId, (activity) => activities.push(activity));
  return { activities, stop };
}

describe('following a job live', () => {
  it('hears every ended attempt and the running ones of a job run here', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 100, chains: 3, pages: 10 }, maxParallel: 3, jobId: 'here' });
    const { activities, stop } = collect(baton, 'here');
    await job.done;
    await waitFor(() => activities.at(-1)?.snapshot.state === 'succeeded');
    stop();
    const ended = activities.flatMap((a) => a.ended);
    expect(activities.every((a) => a.endedDropped === 0)).toBe(true);
    expect(new Set(ended.map((a) => a.page)).size).toBe(30);
    expect(ended.every((a) => a.outcome === 'succeeded' && a.endedAt! >= a.startedAt && Array.isArray(a.cursor))).toBe(true);
    const running = activities.flatMap((a) => a.running);
    expect(running.length).toBeGreaterThan(0);
    expect(running.every((a) => a.outcome === 'running' && a.endedAt === null && a.slot >= 0 && a.slot < 3)).toBe(true);
    const seqs = activities.map((a) => a.seq);
    expect(seqs).toEqual([...seqs].sort((x, y) => x - y));
  });

  it('hears a job that another process runs, through the database', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const log = join(dir, 'runs.log');
    const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'elsewhere', fixture('logs-runs.ts'), JSON.stringify({ log, chains: 2, pages: 40, ms: 50 }), '2'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    baton = await Baton.open({ db });
    await waitFor(async () => (await baton!.jobs()).length === 1, 20_000, 'the job to exist');
    const { activities, stop } = collect(baton, 'elsewhere');
    await exited;
    await waitFor(() => activities.at(-1)?.snapshot.state === 'succeeded', 20_000, 'the final state');
    stop();
    const live = activities.filter((a) => a.snapshot.state === 'running' && a.snapshot.live);
    expect(live.length).toBeGreaterThan(0);
    expect(live.some((a) => a.running.length > 0 && a.snapshot.throughput.pagesPerSecond > 0)).toBe(true);
    expect(activities.at(-1)!.snapshot).toMatchObject({ state: 'succeeded', pages: { succeeded: 80 } });
    // Never a step back, never a moment it looks idle while it runs, and nothing lost at the
    // end: every page's end reached the watcher, the owner's last activity included.
    const seqs = activities.map((a) => a.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((x, y) => x - y));
    const first = activities.findIndex((a) => a.snapshot.live);
    expect(activities.slice(first, -1).every((a) => a.snapshot.live && a.snapshot.state === 'running')).toBe(true);
    expect(new Set(activities.flatMap((a) => a.ended).map((a) => a.page)).size).toBe(80);
  });

  it('recovers the ends of activities it missed, even those that reached the owner out of order', async () => {
    const db = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db });
    await (await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 1, pages: 3 }, maxParallel: 1, jobId: 'order' })).done;
    await baton.close();
    baton = undefined;
    // What an owner in another process leaves: pages 1 and 3 published at once, then page 2,
    // which ended 5 ms before page 3 on another thread, in an activity the reader never sees.
    const sqlite = openDatabase(db);
    const store = new JobStore(sqlite);
    const row = store.require('order');
    const [one, two, three] = store.pages(row.no).map((record) => record.page);
    const t = Date.now() - 60_000;
    const setEnd = sqlite.prepare('UPDATE pages SET ended_at = ? WHERE job = ? AND no = ?');
    setEnd.run(t, row.no, one);
    setEnd.run(t + 10, row.no, two);
    setEnd.run(t + 15, row.no, three);
    store.claim(row.no, 'another-process');
    const ended = (pages: number[]) => store.attempts(row.no).filter((a) => pages.includes(a.page));
    const publish = (seq: number, pages: number[]) => {
      const resting = restingActivity(store.getByNo(row.no), seq);
      const activity: JobActivity = { ...resting, snapshot: { ...resting.snapshot, state: 'running', live: true }, ended: ended(pages) };
      store.writeLive(row.no, seq, Date.now(), JSON.stringify(activity));
    };
    publish(1, [one!, three!]);
    const heard: number[][] = [];
    const stop = new JobFeed(store, () => undefined).watch('order', (activity) => heard.push(activity.ended.map((a) => a.page)));
    publish(3, []);
    await waitFor(() => heard.length === 2, 5_000, 'the second activity');
    stop();
    sqlite.close();
    expect(heard.map((pages) => pages.sort((x, y) => x - y))).toEqual([[one, three], [two]]);
  });

  it("tells a job's end once, from its owner's last activity, when the owner is gone", async () => {
    const db = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db });
    await (await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 1, pages: 3 }, jobId: 'ended' })).done;
    await baton.close();
    baton = undefined;
    const sqlite = openDatabase(db);
    const heard: JobActivity[] = [];
    const stop = new JobFeed(new JobStore(sqlite), () => undefined).watch('ended', (activity) => heard.push(activity));
    await new Promise((resolve) => setTimeout(resolve, 3 * FEED_POLL_MS));
    stop();
    sqlite.close();
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ snapshot: { state: 'succeeded', live: false } });
    expect(heard[0]!.ended).toHaveLength(3);
  });

  it('tells of a table that goes bad while it follows a job once, and again once it reads it', async () => {
    const db = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db });
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'damaged' })).done;
    const problems: (Error | null)[] = [];
    const heard: JobActivity[] = [];
    const stop = baton.watch('damaged', (activity) => heard.push(activity), (problem) => problems.push(problem));
    const damage = damageTable(db, 'job_live');
    await waitFor(() => problems.length > 0, 10_000, 'the problem');
    // Still unreadable four reads later: told once.
    await sleep(4 * FEED_POLL_MS);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'DB_CORRUPT' });
    expect(problems[0]!.message).toMatch(/baton\.db is not a usable SQLite database \(database disk image is malformed\): move it aside or set Baton\.open's db to another file/);
    damage.restore();
    await waitFor(() => problems.length > 1, 10_000, 'the all-clear');
    stop();
    expect(problems[1]).toBeNull();
    expect(heard[0]).toMatchObject({ jobId: 'damaged', snapshot: { state: 'succeeded' } });
  });

  it('tells of a damaged list of jobs once, and again once it reads it', async () => {
    const db = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db });
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'listed' })).done;
    const problems: (Error | null)[] = [];
    const stop = baton.watchJobs(() => {}, (problem) => problems.push(problem));
    const damage = damageTable(db, 'jobs');
    await waitFor(() => problems.length > 0, 10_000, 'the problem');
    await sleep(2_500);
    expect(problems).toHaveLength(1);
    expect(problems[0]).toMatchObject({ code: 'DB_CORRUPT' });
    damage.restore();
    await waitFor(() => problems.length > 1, 10_000, 'the all-clear');
    stop();
    expect(problems[1]).toBeNull();
  });

  it('lists jobs as they change, a job another process starts included', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    baton = await Baton.open({ db });
    const lists: JobSummary[][] = [];
    const stop = baton.watchJobs((jobs) => lists.push(jobs));
    expect(lists).toEqual([[]]);
    const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'listed', fixture('sleeps.ts'), JSON.stringify({ ms: 100, pages: 20 }), '2'], { stdio: 'ignore' });
    await new Promise((resolve) => child.on('exit', resolve));
    await waitFor(() => lists.at(-1)?.[0]?.state === 'succeeded', 20_000, 'the finished job');
    stop();
    expect(lists.some((jobs) => jobs[0]?.jobId === 'listed' && jobs[0].state === 'running' && jobs[0].live)).toBe(true);
  });
});

describe('an older database', () => {
  it('is brought up to the current schema on open, its jobs kept', async () => {
    const file = join(tempDir(), 'baton.db');
    const first = await Baton.open({ db: file });
    await (await first.start({ processor: fixture('plain.js'), jobId: 'old' })).done;
    await first.close();
    const raw = new Database(file);
    // What schema 1 lacked: job_live (2), and pages keeping their only attempt (3).
    raw.exec("DROP TABLE job_live; ALTER TABLE pages DROP COLUMN slot; UPDATE baton_meta SET value = '1' WHERE key = 'schema_version'");
    raw.close();

    baton = await Baton.open({ db: file });
    expect((await baton.status('old')).state).toBe('succeeded');
    const done = await (await baton.start({ processor: fixture('plain.js'), jobId: 'new' })).done;
    const attempts = await baton.attempts('new');
    expect(attempts).toHaveLength(done.pages.succeeded);
    expect(attempts.every((attempt) => attempt.outcome === 'succeeded' && attempt.attempt === 1)).toBe(true);
    const check = new Database(file, { readonly: true });
    expect(check.prepare("SELECT value FROM baton_meta WHERE key = 'schema_version'").pluck().get()).toBe('3');
    expect(check.prepare('SELECT count(*) FROM job_live').pluck().get()).toBeGreaterThan(0);
    check.close();
  });
});
