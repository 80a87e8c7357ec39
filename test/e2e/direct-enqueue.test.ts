import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { CursorFilter, cursorHash } from '../../runner/pool/cursor-filter.js';
import { DirectEnqueue } from '../../runner/pool/direct-enqueue.js';
import { PageStore } from '../../runner/store/page-store.js';
import { WriteLock } from '../../runner/store/write-lock.js';
import { fixture, runUntilCase, tempDir, waitFor } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe("a page's thread committing its child itself", () => {
  it('resolves an awaited enqueue while the scheduler thread is blocked', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const rounds = 5;
    baton = await Baton.open({ db });
    const job = await baton.start({ processor: fixture('enqueues-while-blocked.ts'), args: { dir, rounds }, threads: 1, maxParallel: 4 });
    const reader = new Database(db, { readonly: true });
    const childRows = (n: number) => reader.prepare('SELECT count(*) FROM pages WHERE cursor = ?').pluck().get(String(n + 1)) as number;
    // Each round blocks this thread, which is Baton's scheduler, once the page is ready to
    // enqueue. A round can miss (the scheduler's own transaction was open when it blocked, and a
    // thread never waits for it), so a few rounds are allowed; through the scheduler, all miss.
    let resolvedWhileBlocked = -1;
    for (let n = 0; n < rounds - 1 && resolvedWhileBlocked < 0; n++) {
      await waitFor(() => existsSync(join(dir, `ready-${n}`)), 10_000, `page ${n} to start`);
      await nextTurn();
      await nextTurn();
      writeFileSync(join(dir, `go-${n}`), '');
      const until = Date.now() + 2_000;
      while (Date.now() < until && !existsSync(join(dir, `resolved-${n}`))) {
        // Blocked: no message from a worker thread is read, no commit runs.
      }
      if (existsSync(join(dir, `resolved-${n}`))) {
        resolvedWhileBlocked = n;
        // Resolved means durable: the child's row is in the file for any other connection.
        expect(childRows(n)).toBe(1);
      }
    }
    for (let n = 0; n < rounds; n++) writeFileSync(join(dir, `go-${n}`), '');
    expect(resolvedWhileBlocked).toBeGreaterThanOrEqual(0);
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: rounds, succeeded: rounds } });
    reader.close();
  });

  it("starts a child on one of its thread's slots before committing it, and resolves the enqueue once the child is in the database", async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    baton = await Baton.open({ db });
    // The parent waits 200 ms for its thread's credits, which a loaded machine can outlast: then
    // the child waits for a slot, and is committed before it starts. A few runs are allowed.
    const startedFirst = await runUntilCase(3, async (run) => {
      const out = join(dir, `found-${run}`);
      const job = await baton!.start({ processor: fixture('checks-own-row.ts'), jobId: `own-row-${run}`, args: { db, out }, threads: 1, maxParallel: 4 });
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2 } });
      expect((await baton!.pages(job.id)).map((page) => page.cursor)).toEqual([0, 1]);
      const found = JSON.parse(readFileSync(out, 'utf8')) as { atChildStart: string; afterEnqueue: string };
      // Whichever way the child went, its parent's enqueue resolved only once it was durable.
      expect(found.afterEnqueue).toBe('present');
      // Ran before its commit: its HTTP request, say, would be on the wire while its thread commits it.
      return found.atChildStart === 'absent';
    });
    expect(startedFirst).toBe(true);
  });

  it('goes on from a child committed after its parent was given up on, and the retry does not fork the chain', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    // The thread commits the late child itself only when nothing stops it at that instant: the
    // write lock free (the scheduler's commits take it), and the abort not heard yet (a loaded
    // machine can deliver it before the attempt blocks). Otherwise the scheduler refuses the
    // child and the retry's goes on. Either way the chain must not fork; a few runs are allowed
    // for the late child to be committed at least once.
    const lateChildCommitted = await runUntilCase(5, async (run) => {
      const jobId = `late-${run}`;
      const job = await baton!.start({ processor: fixture('enqueues-after-given-up.ts'), jobId, threads: 1, maxParallel: 4 });
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2, failed: 0 } });
      const pages = await baton!.pages(jobId);
      expect(pages.map((p) => p.cursor)).toEqual(['root', expect.stringMatching(/^child-from-attempt-[12]$/)]);
      expect((await baton!.attempts(jobId, { page: pages[0]!.page })).map((a) => a.outcome)).toEqual(['succeeded', 'stuck']);
      return pages[1]!.cursor === 'child-from-attempt-1';
    });
    expect(lateChildCommitted).toBe(true);
  });
});

describe('reads while page ends wait for their commit', () => {
  it("shows a page's end through baton.pages() as soon as the job counts it", async () => {
    const dir = tempDir();
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const job = await baton.start({ processor: fixture('enqueues-while-blocked.ts'), args: { dir, rounds: 2 }, jobId: 'reads', threads: 1, maxParallel: 4 });
    await waitFor(() => existsSync(join(dir, 'ready-0')), 10_000, 'page 0 to start');
    writeFileSync(join(dir, 'go-0'), '');
    // Polled every turn: the end is counted in the turn its message arrives, and its row is
    // written only at the group's commit, a few milliseconds later, unless a read asks first.
    while ((await baton.status('reads')).pages.succeeded < 1) await nextTurn();
    expect((await baton.pages('reads')).map((p) => [p.cursor, p.state])).toEqual([
      [0, 'succeeded'],
      [1, expect.stringMatching(/queued|running/)],
    ]);
    writeFileSync(join(dir, 'go-1'), '');
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { succeeded: 2 } });
  });
});

describe('DirectEnqueue', () => {
  async function jobFile(): Promise<string> {
    const file = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db: file });
    await (await baton.start({ processor: fixture('counts-to.ts'), args: { total: 10 }, jobId: 'j' })).done;
    return file;
  }
  const child = { parent: 1, ordinal: 5, size: null, startedAt: null };
  /** A thread's connection to job 'j' of `file`. */
  const directOn = (file: string, lock: WriteLock, cursors = CursorFilter.create(2 ** 10)) =>
    new DirectEnqueue({ file, jobId: 'j', synchronous: 'NORMAL', lock: lock.buffer, cursors: cursors.buffer });
  /** A job's file, and a thread's connection to it with its own lock. */
  async function opened() {
    const file = await jobFile();
    const lock = new WriteLock();
    return { file, lock, direct: directOn(file, lock) };
  }

  it('commits a child as queued, or as running its first attempt when its thread started it', async () => {
    const { file, lock, direct } = await opened();
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"held"' })).toBe('committed');
    expect(direct.tryCommit({ ...child, no: 101, ordinal: 6, cursor: '"started"', startedAt: 1234 })).toBe('committed');
    direct.close();
    const rows = new Database(file, { readonly: true })
      .prepare("SELECT no, parent, ordinal, cursor, state, attempts, started_at FROM pages WHERE no >= 100 ORDER BY no")
      .all();
    expect(rows).toEqual([
      { no: 100, parent: 1, ordinal: 5, cursor: '"held"', state: 'queued', attempts: 0, started_at: null },
      { no: 101, parent: 1, ordinal: 6, cursor: '"started"', state: 'running', attempts: 1, started_at: 1234 },
    ]);
    expect(lock.tryAcquire()).toBe(true);
  });

  it("leaves the child to the scheduler when the write lock is held, when the scheduler says so, or when the cursor is a page's already", async () => {
    const { file, lock, direct } = await opened();
    lock.tryAcquire();
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('unsettled');
    lock.release();
    lock.threadsMayWrite = false;
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('unsettled');
    lock.threadsMayWrite = true;
    // counts-to's first page has cursor 0: a child that must not run.
    expect(direct.tryCommit({ ...child, no: 100, cursor: '0', size: 10 })).toBe('duplicate');
    direct.close();
    const reader = new Database(file, { readonly: true });
    expect(reader.prepare('SELECT count(*) FROM pages WHERE no >= 100').pluck().get()).toBe(0);
    // Nothing left open: the lock is free, and so is SQLite's.
    expect(lock.tryAcquire()).toBe(true);
    reader.close();
  });

  it('commits a child whose cursor it claimed before starting it, which the filter then holds for every other thread', async () => {
    const file = await jobFile();
    const lock = new WriteLock();
    const cursors = CursorFilter.create(2 ** 16);
    cursors.markComplete();
    const direct = directOn(file, lock, cursors);
    const other = directOn(file, lock, cursors);
    const hash = cursorHash('"claimed"', null);
    direct.claim(hash);
    expect(other.mayBeTaken('"claimed"', null)).toBe(true);
    // Unclaimed, the filter's "maybe" would leave it to the scheduler.
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"claimed"', startedAt: 1 }, hash)).toBe('unsettled');
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"claimed"', startedAt: 1 }, hash, true)).toBe('committed');
    other.close();
    direct.close();
  });

  it('takes a child the scheduler recorded from its memory meanwhile as committed, and a page with its cursor as a duplicate', async () => {
    const { file, lock, direct } = await opened();
    const scheduler = new Database(file);
    const job = scheduler.prepare('SELECT no FROM jobs WHERE id = ?').pluck().get('j') as number;
    scheduler
      .prepare("INSERT INTO pages (job, no, parent, ordinal, cursor, size, state, attempts, started_at) VALUES (?, 100, 1, 5, '\"early\"', NULL, 'running', 1, 1)")
      .run(job);
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"early"', startedAt: 2 })).toBe('committed');
    // Another child (another number) with that cursor must not run.
    expect(direct.tryCommit({ ...child, no: 101, ordinal: 6, cursor: '"early"', startedAt: 2 })).toBe('duplicate');
    direct.close();
    expect(scheduler.prepare('SELECT no, started_at FROM pages WHERE no >= 100').all()).toEqual([{ no: 100, started_at: 1 }]);
    scheduler.close();
    expect(lock.tryAcquire()).toBe(true);
  });

  it("lets the scheduler record a child its thread committed meanwhile as that child, not as a repeat of a page's cursor", async () => {
    const { file, direct } = await opened();
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"thread"', startedAt: 1 })).toBe('committed');
    direct.close();
    const db = new Database(file);
    const pages = new PageStore(db, db.prepare('SELECT no FROM jobs WHERE id = ?').pluck().get('j') as number);
    expect(pages.insert({ no: 100, parent: 1, ordinal: 5, cursor: '"thread"', size: null }, 2)).toBe(true);
    // The same cursor from another enqueue is a repeat.
    expect(pages.insert({ no: 101, parent: 1, ordinal: 6, cursor: '"thread"', size: null }, 2)).toBe(false);
    expect(db.prepare('SELECT count(*) FROM pages WHERE no >= 100').pluck().get()).toBe(1);
    db.close();
  });

  it("tells whether a cursor and size are a committed page's, the scheduler's open transaction aside", async () => {
    const { file, direct } = await opened();
    expect(direct.mayBeTaken('0', 10)).toBe(true);
    expect(direct.mayBeTaken('0', null)).toBe(false);
    expect(direct.mayBeTaken('"new"', null)).toBe(false);
    const scheduler = new Database(file);
    scheduler.exec('BEGIN IMMEDIATE');
    scheduler.prepare("INSERT INTO pages (job, no, parent, ordinal, cursor, size, state) VALUES ((SELECT no FROM jobs WHERE id = 'j'), 200, 1, 9, '\"new\"', NULL, 'queued')").run();
    expect(direct.mayBeTaken('"new"', null)).toBe(false);
    scheduler.exec('COMMIT');
    expect(direct.mayBeTaken('"new"', null)).toBe(true);
    scheduler.close();
    direct.close();
  });

  it('asks the database only until the cursor filter is complete, and adds what it commits', async () => {
    const file = await jobFile();
    const lock = new WriteLock();
    const cursors = CursorFilter.create(2 ** 16);
    const direct = directOn(file, lock, cursors);
    // Incomplete: every question goes to the database.
    expect(direct.mayBeTaken('0', 10)).toBe(true);
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"mine"' })).toBe('committed');
    expect(cursors.mayHave(cursorHash('"mine"', null))).toBe(true);
    cursors.markComplete();
    expect(direct.mayBeTaken('"mine"', null)).toBe(true);
    // Page 0 is in the database but was never added here: the filter, trusted, says no without
    // a read. (The scheduler adds every page before it runs; this shows the read is skipped.)
    expect(direct.mayBeTaken('0', 10)).toBe(false);
    cursors.add(cursorHash('0', 10));
    expect(direct.mayBeTaken('0', 10)).toBe(true);
    direct.close();
  });

  it('takes a cursor another thread sent to the scheduler as taken, though no page has it yet, and leaves its commit to the scheduler', async () => {
    const file = await jobFile();
    const lock = new WriteLock();
    const cursors = CursorFilter.create(2 ** 16);
    cursors.markComplete();
    const direct = directOn(file, lock, cursors);
    const other = directOn(file, lock, cursors);
    expect(direct.mayBeTaken('"sent"', null)).toBe(false);
    other.noteSent(cursorHash('"sent"', null));
    expect(direct.mayBeTaken('"sent"', null)).toBe(true);
    // Committed here, it would run; the scheduler, which commits the other first, refuses it.
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"sent"' })).toBe('unsettled');
    const reader = new Database(file, { readonly: true });
    expect(reader.prepare('SELECT count(*) FROM pages WHERE no = 100').pluck().get()).toBe(0);
    reader.close();
    other.close();
    direct.close();
  });

  it("leaves the child to the scheduler at once while another connection holds SQLite's write lock, and commits again once it is let go", async () => {
    const { file, lock, direct } = await opened();
    // Another process's transaction, as a CLI command or a second runner would hold it.
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('unsettled');
    // The thread's own lock is let go too, or the scheduler could never open its group again.
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
    other.exec('COMMIT');
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('committed');
    direct.close();
    expect(other.prepare('SELECT cursor FROM pages WHERE no = 100').pluck().get()).toBe('"a"');
    other.close();
  });

  it('gives its connection up for good when a failed write cannot be rolled back, letting both locks go', async () => {
    const { file, lock, direct } = await opened();
    // A rollback fails only when SQLite itself is in trouble (an I/O error, say): injected here.
    const inside = direct as unknown as { rollback: { run(): never } };
    inside.rollback = {
      run() {
        throw new Error('disk I/O error');
      },
    };
    // A cursor SQLite cannot bind makes the insert fail inside the transaction.
    expect(direct.tryCommit({ ...child, no: 100, cursor: {} as unknown as string })).toBe('unsettled');
    expect(direct.mayTry).toBe(false);
    expect(lock.tryAcquire()).toBe(true);
    lock.release();
    // Every later child is the scheduler's, even one that would commit.
    expect(direct.tryCommit({ ...child, no: 101, cursor: '"fine"' })).toBe('unsettled');
    // Closing the connection rolled its transaction back: another writer gets SQLite's lock.
    const other = new Database(file, { timeout: 0 });
    other.exec('BEGIN IMMEDIATE');
    expect(other.prepare('SELECT count(*) FROM pages WHERE no >= 100').pluck().get()).toBe(0);
    other.exec('ROLLBACK');
    other.close();
    direct.close();
  });
});
