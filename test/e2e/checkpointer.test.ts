import { once } from 'node:events';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Worker } from 'node:worker_threads';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { Checkpointer } from '../../runner/store/checkpointer.js';
import { openDatabase, WAL_SIZE_LIMIT, type SqliteDatabase } from '../../runner/store/database.js';
import { WriteLock } from '../../runner/store/write-lock.js';

describe('Checkpointer', () => {
  let dir: string;
  let file: string;
  let db: SqliteDatabase;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'baton-checkpoint-'));
    file = join(dir, 'baton.db');
    db = openDatabase(file);
    db.pragma('wal_autocheckpoint = 0');
  });
  afterEach(() => {
    if (db.open) db.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('copies the WAL into the database on its own thread, while this one is busy', async () => {
    const insert = db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 2_000; i++) insert.run(`test-${i}`, 'x'.repeat(500));
    })();
    const before = statSync(file).size;
    const checkpointer = new Checkpointer({ file, synchronous: 'NORMAL' });
    checkpointer.request();
    // This thread never yields until the file has grown: only another thread can grow it.
    const until = performance.now() + 10_000;
    while (statSync(file).size < before + 500_000 && performance.now() < until);
    expect(statSync(file).size).toBeGreaterThan(before + 500_000);
    await checkpointer.idle();
    checkpointer.close();
  });

  it('lets the WAL start over while other threads commit without pause, so that it stays small', async () => {
    const lock = new WriteLock();
    const checkpointer = new Checkpointer({ file, synchronous: 'NORMAL', lock: lock.buffer, restartEveryMs: 20 });
    const writer = new Worker(new URL('../support/stream-commits.mjs', import.meta.url), { workerData: { file, lock: lock.buffer, ms: 1500, everyMs: 0.2 } });
    const asking = setInterval(() => checkpointer.request(), 20);
    const [commits] = (await once(writer, 'message')) as [number];
    clearInterval(asking);
    await checkpointer.idle();
    checkpointer.close();
    expect(commits).toBeGreaterThan(2_000);
    // Every commit appends at least a page (4 KiB) to the WAL: one that never started over holds
    // them all. Under a full suite's load the checkpointer's thread can miss a third of the run.
    expect(statSync(`${file}-wal`).size).toBeLessThan((commits * 4096) / 2);
  });

  it('waits for a writer that holds the lock for tens of milliseconds at a time, as a saturated scheduler does, to let the WAL start over', async () => {
    const lock = new WriteLock();
    const checkpointer = new Checkpointer({ file, synchronous: 'NORMAL', lock: lock.buffer, restartEveryMs: 50 });
    // The lock is free 5 ms in every 25. Under a full suite's load the checkpointer's thread may
    // wake too late for some of those windows; one that waited 1 ms got it in far fewer than half.
    const writer = new Worker(new URL('../support/stream-commits.mjs', import.meta.url), { workerData: { file, lock: lock.buffer, ms: 1500, everyMs: 25, holdMs: 20 } });
    const asking = setInterval(() => checkpointer.request(), 50);
    await once(writer, 'message');
    clearInterval(asking);
    await checkpointer.idle();
    checkpointer.close();
    expect(checkpointer.restarts.tried).toBeGreaterThan(5);
    expect(checkpointer.restarts.done / checkpointer.restarts.tried).toBeGreaterThan(0.5);
  });

  it('is cut back to its limit once it starts over, after a burst made it larger', () => {
    const insert = db.prepare('INSERT INTO baton_meta (key, value) VALUES (?, ?)');
    db.transaction(() => {
      for (let i = 0; i < 20_000; i++) insert.run(`burst-${i}`, 'x'.repeat(4000));
    })();
    expect(statSync(`${file}-wal`).size).toBeGreaterThan(WAL_SIZE_LIMIT);
    db.pragma('wal_checkpoint(PASSIVE)');
    // All of it is in the database now: this write starts the WAL over.
    insert.run('after', 'x');
    expect(statSync(`${file}-wal`).size).toBeLessThanOrEqual(WAL_SIZE_LIMIT);
  });

  it('says it is unusable when its thread cannot open the file, so its owner checkpoints instead', async () => {
    const checkpointer = new Checkpointer({ file: join(dir, 'missing', 'baton.db'), synchronous: 'NORMAL' });
    checkpointer.request();
    await checkpointer.idle();
    expect(checkpointer.usable).toBe(false);
  });
});
