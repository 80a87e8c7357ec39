import { mkdtempSync, renameSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { openDatabase, type SqliteDatabase } from '../../runner/store/database.js';
import { GroupCommit } from '../../runner/store/group-commit.js';
import { JobStore } from '../../runner/store/job-store.js';

/** Waits on the clock without yielding: a burst of events keeps the thread this busy. */
function spin(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until);
}

describe('GroupCommit', () => {
  let dir: string;
  let db: SqliteDatabase;
  let reader: Database.Database;
  const groups: GroupCommit[] = [];
  const track = (group: GroupCommit) => (groups.push(group), group);
  const rows = () => reader.prepare('SELECT count(*) FROM baton_meta WHERE key LIKE ?').pluck().get('test-%') as number;
  const write = (group: GroupCommit, key: string) => {
    group.begin();
    db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)').run(key, 'x');
  };

  /** Commits, then commits again once a checkpoint is due (one every 50 ms at most). */
  const commitTwiceForCheckpoint = async (group: GroupCommit) => {
    write(group, 'test-1');
    group.commit();
    await group.checkpointed();
    await new Promise((resolve) => setTimeout(resolve, 60));
    write(group, 'test-2');
    group.commit();
  };

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-group-'));
    db = openDatabase(join(dir, 'baton.db'));
    reader = new Database(join(dir, 'baton.db'), { readonly: true });
  });
  afterEach(async () => {
    // Their checkpointers' threads hold connections to the file.
    for (const group of groups.splice(0)) await group.close().catch(() => {});
    reader.close();
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('commits the writes of one turn together, then runs what waited for them', async () => {
    const group = track(new GroupCommit(db));
    const heard: number[] = [];
    write(group, 'test-1');
    group.afterCommit(() => heard.push(rows()));
    write(group, 'test-2');
    expect(rows()).toBe(0);
    await new Promise((resolve) => setImmediate(resolve));
    expect(heard).toEqual([2]);
  });

  it('commits a group older than half a millisecond between events, while the thread has time to spare', () => {
    // The clock is the test's: a loaded machine can pause it between two lines.
    let now = 1_000;
    const clock = vi.spyOn(performance, 'now').mockImplementation(() => now);
    const group = track(new GroupCommit(db, () => 0));
    const heard: string[] = [];
    write(group, 'test-1');
    group.afterCommit(() => heard.push('committed'));
    now += 0.4;
    group.commitIfDue();
    expect(rows()).toBe(0);
    now += 0.2;
    group.commitIfDue();
    clock.mockRestore();
    expect(rows()).toBe(1);
    expect(heard).toEqual(['committed']);
  });

  it('lets the group grow when the thread is saturated', async () => {
    const group = track(new GroupCommit(db, () => 1));
    write(group, 'test-1');
    spin(1);
    group.commitIfDue();
    expect(rows()).toBe(0);
    // Committed at the end of the turn instead.
    await expect.poll(rows).toBe(1);
  });

  it('keeps writes for the commit without taking the write lock, so worker threads can write meanwhile', async () => {
    const group = track(new GroupCommit(db, () => 0));
    const insert = db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)');
    group.defer(insert, ['test-1', 'x']);
    expect(group.lock.tryAcquire()).toBe(true);
    group.lock.release();
    expect(rows()).toBe(0);
    await expect.poll(rows).toBe(1);
  });

  it('commits kept writes that nothing waits for a few milliseconds later, not at the end of the turn', async () => {
    const group = track(new GroupCommit(db, () => 0));
    group.defer(db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)'), ['test-1', 'x']);
    await new Promise((resolve) => setImmediate(resolve));
    expect(rows()).toBe(0);
    await expect.poll(rows).toBe(1);
    // Something waiting for the commit brings it to the end of the turn.
    group.defer(db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)'), ['test-2', 'x']);
    group.afterCommit(() => {});
    await new Promise((resolve) => setImmediate(resolve));
    expect(rows()).toBe(2);
  });

  it('runs kept writes before a statement that must run now, and before a read', () => {
    const group = track(new GroupCommit(db, () => 0));
    const insert = db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)');
    const mine = () => db.prepare('SELECT key FROM baton_meta WHERE key LIKE ? ORDER BY rowid').pluck().all('test-%');
    group.defer(insert, ['test-1', 'x']);
    group.begin();
    insert.run('test-2', 'x');
    expect(mine()).toEqual(['test-1', 'test-2']);
    group.defer(insert, ['test-3', 'x']);
    expect(mine()).toEqual(['test-1', 'test-2']);
    group.flush();
    expect(mine()).toEqual(['test-1', 'test-2', 'test-3']);
    group.commit();
    expect(rows()).toBe(3);
  });

  it('holds the write lock while its transaction is open', () => {
    const group = track(new GroupCommit(db, () => 0));
    write(group, 'test-1');
    expect(group.lock.tryAcquire()).toBe(false);
    group.commit();
    expect(group.lock.tryAcquire()).toBe(true);
  });

  it('lets worker threads write until it is busy more than 80% of its time, and again only below 50%', () => {
    let load = 0;
    const group = track(new GroupCommit(db, () => load));
    const threadsMayWriteAt = (share: number, key: string): boolean => {
      load = share;
      write(group, key);
      group.commit();
      return group.lock.threadsMayWrite;
    };
    expect(threadsMayWriteAt(0.75, 'test-1')).toBe(true);
    expect(threadsMayWriteAt(0.85, 'test-2')).toBe(false);
    // Between the bars it keeps what it said: the switch itself moves the load.
    expect(threadsMayWriteAt(0.6, 'test-3')).toBe(false);
    expect(threadsMayWriteAt(0.45, 'test-4')).toBe(true);
    expect(threadsMayWriteAt(0.75, 'test-5')).toBe(true);
  });

  it.each([
    ['while worker threads write', 0],
    ['while the scheduler is saturated and they do not', 0.9],
  ])('checkpoints the WAL after a commit on a thread of its own, never inside the commit, %s', async (_, load) => {
    const group = track(new GroupCommit(db, () => load));
    const walSize = () => statSync(join(dir, 'baton.db-wal')).size;
    await commitTwiceForCheckpoint(group);
    expect(group.lock.threadsMayWrite).toBe(load < 0.5);
    await group.checkpointed();
    const afterCheckpoint = walSize();
    write(group, 'test-3');
    group.commit();
    // Every frame was copied into the database after the second commit, so the third one
    // starts the WAL over instead of growing it.
    expect(walSize()).toBe(afterCheckpoint);
    expect(db.pragma('wal_autocheckpoint', { simple: true })).toBe(0);
  });

  it("checkpoints on its own thread when the checkpointer's thread cannot open the file", async () => {
    const group = track(new GroupCommit(db, () => 0));
    // The connection keeps its open files; a thread opening the file by its path finds nothing.
    const moved = `${dir}-moved`;
    renameSync(dir, moved);
    try {
      const walSize = () => statSync(join(moved, 'baton.db-wal')).size;
      await commitTwiceForCheckpoint(group);
      // No await: the checkpoint ran inside commit(), on this thread.
      const afterCheckpoint = walSize();
      write(group, 'test-3');
      group.commit();
      expect(walSize()).toBe(afterCheckpoint);
    } finally {
      renameSync(moved, dir);
    }
  });

  it("keeps a running job's live activity for the commit, so the write lock stays free until then", () => {
    const group = track(new GroupCommit(db, () => 0));
    const live = () => reader.prepare('SELECT seq FROM job_live').pluck().all();
    new JobStore(db).writeLive(1, 7, 1_000, '{"seq":7}', group);
    expect(group.lock.tryAcquire()).toBe(true);
    group.lock.release();
    expect(live()).toEqual([]);
    group.commit();
    expect(live()).toEqual([7]);
  });

  it("keeps a running job's counters and heartbeat for the commit too", () => {
    db.prepare(
      "INSERT INTO jobs (no, id, name, processor, args, state, max_parallel, retry, page_timeout_ms, durability, created_at, started_at) VALUES (1, 'j', 'j', 'p.ts', '{}', 'running', 8, '{}', 1000, 'normal', 0, 0)",
    ).run();
    const group = track(new GroupCommit(db, () => 0));
    const heartbeat = () => reader.prepare('SELECT heartbeat_at FROM jobs WHERE no = 1').pluck().get();
    const counters = { pages_total: 3, pages_queued: 1, pages_running: 1, pages_succeeded: 1, pages_failed: 0, items: 10, attempts: 2, max_in_flight: 1, next_page: 4 };
    new JobStore(db).writeCounters(1, counters, 5_000, group);
    expect(group.lock.tryAcquire()).toBe(true);
    group.lock.release();
    expect(heartbeat()).toBeNull();
    group.commit();
    expect(heartbeat()).toBe(5_000);
  });

  it('drops the commit it had scheduled when one came first, so the database may close at once', async () => {
    const group = track(new GroupCommit(db, () => 0));
    write(group, 'test-1');
    group.commit();
    db.close();
    const commit = vi.spyOn(group, 'commit').mockImplementation(() => {});
    await new Promise((resolve) => setTimeout(resolve, 10));
    expect(commit).not.toHaveBeenCalled();
  });

  it('stops the threads writing above 80% busy, and lets them again only below 50%', () => {
    let load = 0;
    const group = track(new GroupCommit(db, () => load));
    const threadsMayWriteAt = (share: number, i: number) => {
      load = share;
      write(group, `test-${i}`);
      group.commit();
      return group.lock.threadsMayWrite;
    };
    expect([0.3, 0.79, 0.81, 0.65, 0.51, 0.49, 0.65, 0.79].map(threadsMayWriteAt)).toEqual([true, true, false, false, false, true, true, true]);
  });

  it('measures its load as the share of time its event loop was busy', async () => {
    const group = track(new GroupCommit(db));
    let n = 0;
    const commitAfter = async (busyMs: number, restMs: number, ms: number) => {
      for (const until = performance.now() + ms; performance.now() < until; ) {
        spin(busyMs);
        write(group, `test-${n++}`);
        group.commit();
        await new Promise((resolve) => (restMs > 0 ? setTimeout(resolve, restMs) : setImmediate(resolve)));
      }
      return group.lock.threadsMayWrite;
    };
    // Busy all the time, then idle all the time: the measure, not the bars in between (above).
    expect(await commitAfter(10, 0, 150)).toBe(false);
    expect(await commitAfter(0, 10, 200)).toBe(true);
  });

  it('tells worker threads to leave their writes to it while it is busy', () => {
    let saturated = true;
    const group = track(new GroupCommit(db, () => (saturated ? 0.9 : 0)));
    write(group, 'test-1');
    group.commit();
    expect(group.lock.threadsMayWrite).toBe(false);
    saturated = false;
    write(group, 'test-2');
    group.commit();
    expect(group.lock.threadsMayWrite).toBe(true);
  });
});
