/**
 * A worker thread's own connection to the job's database, for the one write that a page waits
 * for: its enqueued child. Through the scheduler that write costs two hops between threads and
 * a wait for the group's commit (about 1 to 2 ms under load on a 2-core machine, 5 to 10% of a
 * 20 ms page); here it is one small transaction, about 15 µs. It is tried only when nothing can
 * make it wrong and the scheduler can spare the lock: the scheduler lets threads write (it is not
 * near saturation) and its transaction is not open (the shared write lock is free), the child's
 * number was granted to this thread, and the page has no recorded child at this ordinal. Anything
 * else, a duplicate cursor included, goes through the scheduler as before.
 */
import Database from 'better-sqlite3';
import { WAL_SIZE_LIMIT } from '../store/database.js';
import { WriteLock } from '../store/write-lock.js';
import { CursorFilter, cursorHash } from './cursor-filter.js';

export interface DirectEnqueueTarget {
  file: string;
  jobId: string;
  synchronous: 'NORMAL' | 'FULL';
  lock: SharedArrayBuffer;
  /** The job's cursor filter (see cursor-filter.ts). */
  cursors: SharedArrayBuffer;
}

export interface DirectChild {
  no: number;
  parent: number;
  ordinal: number;
  cursor: string;
  size: number | null;
  /** When it starts at once (on a credit): it is recorded as running its first attempt. */
  startedAt: number | null;
}

/** What became of a child the thread tried to commit itself. */
export type DirectOutcome =
  /** In the database: it may start. */
  | 'committed'
  /** Its cursor (and size) is a page's already: it must not run; the scheduler words the warning. */
  | 'duplicate'
  /** Not tried or not done (the lock taken, the scheduler busy, an error): the scheduler's path decides. */
  | 'unsettled';

export class DirectEnqueue {
  private readonly db: Database.Database;
  /** The job's key in the pages table. */
  private readonly job: number;
  private readonly lock: WriteLock;
  private readonly cursors: CursorFilter;
  private readonly begin;
  private readonly insert;
  private readonly commit;
  private readonly rollback;
  private broken = false;

  constructor(target: DirectEnqueueTarget) {
    // No busy wait: another process holding the lock means the scheduler path, not a stall.
    this.db = new Database(target.file, { timeout: 0 });
    this.db.pragma(`synchronous = ${target.synchronous}`);
    // Checkpoints stay with the scheduler's connection: one here would stall this thread's pages.
    this.db.pragma('wal_autocheckpoint = 0');
    this.db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    this.lock = new WriteLock(target.lock);
    this.cursors = new CursorFilter(target.cursors);
    const job = this.db.prepare<[string], number>('SELECT no FROM jobs WHERE id = ?').pluck().get(target.jobId);
    if (job === undefined) throw new Error(`job ${target.jobId} is not in ${target.file}`);
    this.job = job;
    this.begin = this.db.prepare('BEGIN IMMEDIATE');
    this.insert = this.db.prepare(
      'INSERT OR IGNORE INTO pages (job, no, parent, ordinal, cursor, size, state, attempts, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.commit = this.db.prepare('COMMIT');
    this.rollback = this.db.prepare('ROLLBACK');
    this.existing = this.db.prepare<[number, string, number], number>('SELECT 1 FROM pages WHERE job = ? AND cursor = ? AND ifnull(size, -1) = ?').pluck();
    this.same = this.db.prepare<[number, number, number, number], number>('SELECT 1 FROM pages WHERE job = ? AND no = ? AND parent = ? AND ordinal = ?').pluck();
  }

  private readonly existing;
  private readonly same;

  private isRecorded(child: DirectChild): boolean {
    return this.same.get(this.job, child.no, child.parent, child.ordinal) !== undefined;
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
    if (this.broken) return false;
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

  /** Whether a commit is worth trying now: the scheduler lets threads write. */
  get mayTry(): boolean {
    return !this.broken && this.lock.threadsMayWrite;
  }

  /**
   * Takes a cursor the filter says no page has, for a child that starts before its commit: in the
   * filter from now on, so that no other thread starts it too. `tryCommit` with `claimed` follows.
   */
  claim(hash: number): void {
    this.cursors.add(hash);
  }

  /**
   * Commits the child, or says why not: its cursor repeats a page's, or the scheduler must
   * decide. `hash`: its cursorHash, when the caller has it already. `claimed`: the caller took
   * the cursor (see claim), so the filter holds it now for that reason.
   */
  tryCommit(child: DirectChild, hash = cursorHash(child.cursor, child.size), claimed = false): DirectOutcome {
    if (!this.mayTry) return 'unsettled';
    // A cursor another thread sent to the scheduler is not in the database yet: the scheduler,
    // which will have both, decides.
    if (!claimed && this.cursors.complete && this.cursors.mayHave(hash)) return 'unsettled';
    if (!this.lock.tryAcquire()) return 'unsettled';
    try {
      this.begin.run();
    } catch {
      // Another process holds SQLite's lock.
      this.lock.release();
      return 'unsettled';
    }
    let outcome: DirectOutcome = 'unsettled';
    let committed = false;
    // Before the commit: the filter holds at least every committed page (a claimed cursor is in it).
    if (!claimed) this.cursors.add(hash);
    try {
      const running = child.startedAt !== null;
      const { changes } = this.insert.run(this.job, child.no, child.parent, child.ordinal, child.cursor, child.size, running ? 'running' : 'queued', running ? 1 : 0, child.startedAt);
      // No change: the cursor is already a page's; or, for a child that started before its
      // commit, the scheduler recorded it from this thread's memory meanwhile (a stuck check).
      if (changes === 1 || this.isRecorded(child)) {
        this.commit.run();
        committed = true;
        outcome = 'committed';
      } else {
        outcome = 'duplicate';
      }
    } catch {
      // Whatever went wrong, the scheduler's path records the child or reports the error.
    } finally {
      if (!committed && this.db.inTransaction) {
        try {
          this.rollback.run();
        } catch {
          // Closing rolls back, and this thread hands every later child to the scheduler.
          this.broken = true;
          this.db.close();
        }
      }
      this.lock.release();
    }
    return outcome;
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
