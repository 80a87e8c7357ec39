/**
 * Where a worker thread records the one write that a page waits for: its enqueued child. Through
 * the scheduler that write costs two hops between threads and a wait for the group's commit
 * (about 1 to 2 ms under load on a 2-core machine, 5 to 10% of a 20 ms page); a transaction of
 * the thread's own on the shared database cost 30 to 40 µs of the chain's thread; here it is a
 * line in the thread's child log (child-log.ts), about 3 µs, and the scheduler writes the row in
 * its next group commit. It is tried only when nothing can make it wrong: the scheduler lets
 * threads write (it is not near saturation), the child's number was granted to this thread, the
 * page has no recorded child at this ordinal, and no page has the child's cursor (the job's
 * cursor filter says so for certain, or while it loads, the database). Anything else goes
 * through the scheduler as before.
 */
import Database from 'better-sqlite3';
import { ChildLogWriter, childLogKey, type LoggedChild } from '../store/child-log.js';
import { WriteLock } from '../store/write-lock.js';
import { CursorFilter, cursorHash } from './cursor-filter.js';

export interface DirectEnqueueTarget {
  file: string;
  jobId: string;
  /** Where the thread's child logs go (childLogDir of the file). */
  logDir: string;
  /** The run the pool's threads log for (childLogRun). */
  logRun: string;
  /** Lines to a log file before the next (SEGMENT_LINES unless set, as tests do). */
  logSegmentLines?: number;
  synchronous: 'NORMAL' | 'FULL';
  lock: SharedArrayBuffer;
  /** The job's cursor filter (see cursor-filter.ts). */
  cursors: SharedArrayBuffer;
}

/** What became of a child the thread tried to commit itself. */
export type DirectOutcome =
  /** In the thread's child log: it may start, and its parent's enqueue may resolve. */
  | 'committed'
  /** Not tried or not done (the scheduler busy, its cursor maybe a page's, the log failed): the scheduler's path decides. */
  | 'unsettled';

export class DirectEnqueue {
  private readonly db: Database.Database;
  /** The job's key in the pages table. */
  private readonly job: number;
  private readonly lock: WriteLock;
  private readonly cursors: CursorFilter;
  private readonly log: ChildLogWriter;
  private readonly existing;
  /** The log could not be written: every later child takes the scheduler's path. */
  private broken = false;

  constructor(target: DirectEnqueueTarget, onSealed: (file: string) => void) {
    // Only read, while the cursor filter loads. No busy wait: a lock means the scheduler's path.
    this.db = new Database(target.file, { timeout: 0 });
    this.lock = new WriteLock(target.lock);
    this.cursors = new CursorFilter(target.cursors);
    // Read here: a new job's pool starts before its row is written, and this runs at its first child.
    const job = this.db.prepare<[string], { no: number; created_at: number }>('SELECT no, created_at FROM jobs WHERE id = ?').get(target.jobId);
    if (job === undefined) throw new Error(`job ${target.jobId} is not in ${target.file}`);
    this.job = job.no;
    this.log = new ChildLogWriter({ dir: target.logDir, job: childLogKey(job), run: target.logRun, sync: target.synchronous === 'FULL', onSealed, segmentLines: target.logSegmentLines });
    this.existing = this.db.prepare<[number, string, number], number>('SELECT 1 FROM pages WHERE job = ? AND cursor = ? AND ifnull(size, -1) = ?').pluck();
  }

  /**
   * Whether a page may have this cursor and size, or a thread may have sent one with them to the
   * scheduler: a child that repeats one must not start before the scheduler decides. Once the
   * job's cursor filter is complete it answers alone, since it holds both, and its rare false
   * "maybe" only sends a child the scheduler's way. Until then (a resumed job's pages still being
   * added), the database answers, and it does not see cursors on their way to the scheduler.
   */
  mayBeTaken(cursor: string, size: number | null, hash = cursorHash(cursor, size)): boolean {
    if (this.cursors.complete) return this.cursors.mayHave(hash);
    try {
      return this.existing.get(this.job, cursor, size ?? -1) !== undefined;
    } catch {
      // A read that fails (the file in trouble) leaves the decision to the scheduler's path.
      return true;
    }
  }

  /** A child this thread sent to the scheduler: other threads must not start its cursor meanwhile. */
  noteSent(hash: number): void {
    this.cursors.add(hash);
  }

  /** Whether logging a child is worth trying now: the scheduler lets threads write. */
  get mayTry(): boolean {
    return !this.broken && this.lock.threadsMayWrite;
  }

  /**
   * Takes a cursor the filter says no page has, for a child that starts before it is logged: in
   * the filter from now on, so that no other thread starts it too. `tryCommit` with `claimed`
   * follows.
   */
  claim(hash: number): void {
    this.cursors.add(hash);
  }

  /**
   * Logs the child, or leaves it to the scheduler. `hash`: its cursorHash, when the caller has
   * it already. `claimed`: the caller took the cursor (see claim). Two threads that hand on the
   * same new cursor at the same moment may both log it: the scheduler, whose insert finds the
   * second, stops that one and warns, as it does for a repeat it hears of first.
   */
  tryCommit(child: LoggedChild, hash = cursorHash(child.cursor, child.size), claimed = false): DirectOutcome {
    if (!this.mayTry) return 'unsettled';
    if (!claimed && this.mayBeTaken(child.cursor, child.size, hash)) return 'unsettled';
    // Before the line: the filter holds at least every page logged or committed.
    if (!claimed) this.cursors.add(hash);
    try {
      this.log.append(child);
      return 'committed';
    } catch {
      // A disk that is full or gone: the scheduler's path records the child or reports the error.
      this.broken = true;
      return 'unsettled';
    }
  }

  close(): void {
    this.log.close();
    if (this.db.open) this.db.close();
  }
}
