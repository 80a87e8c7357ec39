import { existsSync, mkdirSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { CursorFilter, cursorHash } from '../../runner/pool/cursor-filter.js';
import { DirectEnqueue } from '../../runner/pool/direct-enqueue.js';
import { ChildLogWriter, childLogDir, childLogFiles, foldChildLogs, readChildLog, unfoldedChildren } from '../../runner/store/child-log.js';
import { PageStore } from '../../runner/store/page-store.js';
import { WriteLock } from '../../runner/store/write-lock.js';
import { fixture, jobLogKey, loggedChildren, runUntilCase, tempDir, waitFor } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));
/** The children the threads logged for job 'j'. */
const logged = (file: string) => loggedChildren(file, 'j');

describe("a page's thread recording its child itself", () => {
  it('resolves an awaited enqueue while the scheduler thread is blocked', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const rounds = 5;
    baton = await Baton.open({ db });
    const job = await baton.start({ processor: fixture('enqueues-while-blocked.ts'), args: { dir, rounds }, threads: 1, maxParallel: 4 });
    const reader = new Database(db, { readonly: true });
    const childRows = (n: number) => reader.prepare('SELECT count(*) FROM pages WHERE cursor = ?').pluck().get(String(n + 1)) as number;
    // Each round blocks this thread, which is Baton's scheduler, once the page is ready to
    // enqueue. A round can miss (the scheduler had not yet let threads write, or the child
    // waited for a slot), so a few rounds are allowed; through the scheduler, all miss.
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
        // Resolved means durable: the child is in its thread's log, for the next run to read.
        expect(childRows(n) + loggedChildren(db, job.id).filter((c) => c.cursor === String(n + 1)).length).toBe(1);
      }
    }
    for (let n = 0; n < rounds; n++) writeFileSync(join(dir, `go-${n}`), '');
    expect(resolvedWhileBlocked).toBeGreaterThanOrEqual(0);
    expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: rounds, succeeded: rounds } });
    reader.close();
  });

  it("starts a child on one of its thread's slots before logging it, and resolves the enqueue once the child is durable", async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    baton = await Baton.open({ db });
    // The parent waits 200 ms for its thread's credits, which a loaded machine can outlast: then
    // the child waits for a slot, and is logged before it starts. A few runs are allowed.
    const startedFirst = await runUntilCase(3, async (run) => {
      const out = join(dir, `found-${run}`);
      const job = await baton!.start({ processor: fixture('checks-own-row.ts'), jobId: `own-row-${run}`, args: { db, out }, threads: 1, maxParallel: 4 });
      expect(await job.done).toMatchObject({ state: 'succeeded', pages: { total: 2, succeeded: 2 } });
      expect((await baton!.pages(job.id)).map((page) => page.cursor)).toEqual([0, 1]);
      const found = JSON.parse(readFileSync(out, 'utf8')) as { atChildStart: string; afterEnqueue: string };
      // Whichever way the child went, its parent's enqueue resolved only once it was durable.
      expect(found.afterEnqueue).toBe('present');
      // Ran before it was logged: its HTTP request, say, would be on the wire while its thread logs it.
      return found.atChildStart === 'absent';
    });
    expect(startedFirst).toBe(true);
  });

  it('goes on from a child logged after its parent was given up on, and the retry does not fork the chain', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    // The thread logs the late child itself only when the abort is not heard yet (a loaded
    // machine can deliver it before the attempt blocks). Otherwise the scheduler refuses the
    // child and the retry's goes on. Either way the chain must not fork; a few runs are allowed
    // for the late child to be logged at least once.
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
  /** A thread's log and connection for job 'j' of `file`. */
  const directOn = (file: string, lock: WriteLock, cursors = CursorFilter.create(2 ** 10), sealed: string[] = []) =>
    new DirectEnqueue({ file, jobId: 'j', logDir: childLogDir(file), logRun: 'test', synchronous: 'NORMAL', lock: lock.buffer, cursors: cursors.buffer }, (sealedFile) => sealed.push(sealedFile));
  /** A job's file, and a thread's connection to it with its own lock. */
  async function opened() {
    const file = await jobFile();
    const lock = new WriteLock();
    return { file, lock, direct: directOn(file, lock) };
  }
  const jobNo = (db: Database.Database) => db.prepare('SELECT no FROM jobs WHERE id = ?').pluck().get('j') as number;

  it('logs a child, which the log then holds as queued, or as running its first attempt when its thread started it', async () => {
    const { file, direct } = await opened();
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"held"' })).toBe('committed');
    expect(direct.tryCommit({ ...child, no: 101, ordinal: 6, cursor: '"started"', startedAt: 1234 })).toBe('committed');
    direct.close();
    expect(logged(file)).toEqual([
      { no: 100, parent: 1, ordinal: 5, cursor: '"held"', size: null, startedAt: null },
      { no: 101, parent: 1, ordinal: 6, cursor: '"started"', size: null, startedAt: 1234 },
    ]);
    // Copied into the database (a recovery, or the end of a stopped run), they are pages.
    const db = new Database(file);
    const files = db.transaction(() => foldChildLogs(new PageStore(db, jobNo(db)), childLogDir(file), jobLogKey(file, 'j')!))();
    expect(db.prepare('SELECT no, parent, ordinal, cursor, state, attempts, started_at FROM pages WHERE no >= 100 ORDER BY no').all()).toEqual([
      { no: 100, parent: 1, ordinal: 5, cursor: '"held"', state: 'queued', attempts: 0, started_at: null },
      { no: 101, parent: 1, ordinal: 6, cursor: '"started"', state: 'running', attempts: 1, started_at: 1234 },
    ]);
    db.close();
    expect(files).toHaveLength(1);
  });

  it('counts, without writing them, the children a fold would write: each once, none a page has, a damaged file left out', async () => {
    const file = await jobFile();
    const key = jobLogKey(file, 'j')!;
    const dir = childLogDir(file);
    mkdirSync(dir);
    // counts-to's one page: number 1, cursor 0, size 10.
    writeFileSync(
      join(dir, `${key}-run-1-0.log`),
      [
        [100, 1, 5, '"queued"', null, null],
        [101, 1, 6, '"started"', null, 1234],
        // The same child in another thread's file, and in this one again: counted once.
        [101, 1, 6, '"started"', null, 1234],
        // A page's number, and a page's cursor and size: the fold leaves both out.
        [1, 1, 7, '"other"', null, 1],
        [102, 1, 8, '0', 10, 1],
      ]
        .map((line) => `${JSON.stringify(line)}\n`)
        .join(''),
    );
    writeFileSync(join(dir, `${key}-run-2-0.log`), `${JSON.stringify([101, 1, 6, '"started"', null, 1234])}\n`);
    writeFileSync(join(dir, `${key}-run-3-0.log`), `${JSON.stringify([103, 1, 9, '"damaged"', null, null])}\nnot json\n`);
    const db = new Database(file);
    const pages = new PageStore(db, jobNo(db));
    expect(unfoldedChildren(pages, dir, key)).toEqual({ running: 1, queued: 1, lastNo: 101 });
    expect(db.prepare('SELECT count(*) FROM pages WHERE no >= 100').pluck().get()).toBe(0);
    rmSync(join(dir, `${key}-run-3-0.log`));
    // What a fold then writes is what was counted.
    db.transaction(() => foldChildLogs(pages, dir, key))();
    expect(db.prepare('SELECT no, state FROM pages WHERE no >= 100 ORDER BY no').all()).toEqual([
      { no: 100, state: 'queued' },
      { no: 101, state: 'running' },
    ]);
    db.close();
  });

  it("leaves the child to the scheduler when the scheduler says so, or when the cursor is a page's already", async () => {
    const { file, lock, direct } = await opened();
    lock.threadsMayWrite = false;
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('unsettled');
    lock.threadsMayWrite = true;
    // counts-to's first page has cursor 0: a child that must not run.
    expect(direct.tryCommit({ ...child, no: 100, cursor: '0', size: 10 })).toBe('unsettled');
    direct.close();
    expect(logged(file)).toEqual([]);
  });

  it('logs a child whose cursor it claimed before starting it, which the filter then holds for every other thread', async () => {
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
    expect(logged(file).map((c) => c.no)).toEqual([100]);
  });

  it('leaves a row the scheduler wrote meanwhile (read from the thread\'s memory) as it is when the log is copied in', async () => {
    const { file, direct } = await opened();
    const scheduler = new Database(file);
    scheduler
      .prepare("INSERT INTO pages (job, no, parent, ordinal, cursor, size, state, attempts, started_at) VALUES (?, 100, 1, 5, '\"early\"', NULL, 'succeeded', 1, 1)")
      .run(jobNo(scheduler));
    // A child that started first (its cursor claimed), which the scheduler read from the thread's memory.
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"early"', startedAt: 2 }, cursorHash('"early"', null), true)).toBe('committed');
    direct.close();
    scheduler.transaction(() => foldChildLogs(new PageStore(scheduler, jobNo(scheduler)), childLogDir(file), jobLogKey(file, 'j')!))();
    expect(scheduler.prepare('SELECT no, state, started_at FROM pages WHERE no >= 100').all()).toEqual([{ no: 100, state: 'succeeded', started_at: 1 }]);
    scheduler.close();
  });

  it('moves to a new file every so many lines, and says which file it sealed', async () => {
    const file = await jobFile();
    const sealed: string[] = [];
    const writer = new ChildLogWriter({ dir: childLogDir(file), job: '1.1', run: 'test', sync: false, onSealed: (f) => sealed.push(f), segmentLines: 2 });
    for (let no = 100; no < 105; no++) writer.append({ ...child, no, cursor: `"${no}"` });
    writer.close();
    expect(sealed).toHaveLength(2);
    expect(sealed.map(readChildLog).map((lines) => lines.map((c) => c.no))).toEqual([
      [100, 101],
      [102, 103],
    ]);
    const files = childLogFiles(childLogDir(file), '1.1');
    expect(files).toHaveLength(3);
    expect(files.filter((f) => !sealed.includes(f)).flatMap(readChildLog).map((c) => c.no)).toEqual([104]);
  });

  it('reads a log whose last line was cut short as if that child had not been logged, and names a damaged line with the fix', async () => {
    const dir = tempDir();
    const cut = join(dir, '1-1-1-1-0.log');
    writeFileSync(cut, '[100,1,5,"\\"a\\"",null,null]\n[101,1,6,"\\"b');
    expect(readChildLog(cut).map((c) => c.no)).toEqual([100]);
    const damaged = join(dir, '1-1-1-1-1.log');
    writeFileSync(damaged, '[100,1,5,"\\"a\\"",null,null]\nnot json\n');
    expect(() => readChildLog(damaged)).toThrow(`line 2 of the child log ${damaged} is damaged: move the file aside and run again`);
  });

  it("lets the scheduler record a child its thread logged as that child, not as a repeat of a page's cursor", async () => {
    const { file, direct } = await opened();
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"thread"', startedAt: 1 })).toBe('committed');
    direct.close();
    const db = new Database(file);
    const pages = new PageStore(db, jobNo(db));
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

  it("logs a child while another connection holds SQLite's write lock: the thread never waits for the database", async () => {
    const { file, lock, direct } = await opened();
    // Another process's transaction, as a CLI command or a second runner would hold it, and the
    // scheduler's own group open (its lock taken).
    const other = new Database(file);
    other.exec('BEGIN IMMEDIATE');
    lock.tryAcquire();
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('committed');
    lock.release();
    other.exec('COMMIT');
    other.close();
    direct.close();
    expect(logged(file).map((c) => c.cursor)).toEqual(['"a"']);
  });

  it('leaves this child and every later one to the scheduler once its log cannot be written', async () => {
    const file = await jobFile();
    // The log's folder cannot be made: a file is in its place.
    writeFileSync(childLogDir(file), '');
    const direct = directOn(file, new WriteLock());
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('unsettled');
    expect(direct.mayTry).toBe(false);
    rmSync(childLogDir(file));
    expect(direct.tryCommit({ ...child, no: 101, cursor: '"b"' })).toBe('unsettled');
    direct.close();
  });

  it.runIf(existsSync('/dev/full'))('leaves the child to the scheduler when the disk is full, and logs nothing more', async () => {
    const file = await jobFile();
    // The thread's first log file is /dev/full, which fails every write as a full disk does (ENOSPC).
    mkdirSync(childLogDir(file), { recursive: true });
    symlinkSync('/dev/full', join(childLogDir(file), `${jobLogKey(file, 'j')}-test-${threadId}-0.log`));
    const cursors = CursorFilter.create(2 ** 10);
    cursors.markComplete();
    const direct = directOn(file, new WriteLock(), cursors);
    expect(direct.mayTry).toBe(true);
    expect(direct.tryCommit({ ...child, no: 100, cursor: '"a"' })).toBe('unsettled');
    expect(direct.mayTry).toBe(false);
    // The disk has room again: the thread still leaves its children to the scheduler, since a
    // file it could not write may end in part of a line.
    rmSync(childLogDir(file), { recursive: true });
    expect(direct.tryCommit({ ...child, no: 101, cursor: '"b"' })).toBe('unsettled');
    direct.close();
    expect(existsSync(childLogDir(file))).toBe(false);
  });
});
