/**
 * One write transaction shared by every job this process runs, committed once per turn of the
 * event loop. Writes go in as events arrive; whatever must wait for durability (acknowledging
 * an enqueue, starting an at-most-once page) waits for the commit.
 */
import type { SqliteDatabase } from './database.js';

const MIN_COMMIT_INTERVAL_MS = 1;
/** A group this large means events are streaming in (about 100,000 a second). */
const BUSY_GROUP_WRITES = 100;

export class GroupCommit {
  private readonly beginStmt;
  private readonly commitStmt;
  private readonly rollbackStmt;
  private open = false;
  private scheduled = false;
  private callbacks: (() => void)[] = [];
  private readonly failureListeners = new Set<(error: unknown) => void>();

  constructor(private readonly db: SqliteDatabase) {
    this.beginStmt = db.prepare('BEGIN IMMEDIATE');
    this.commitStmt = db.prepare('COMMIT');
    this.rollbackStmt = db.prepare('ROLLBACK');
  }

  /**
   * Opens the shared transaction if it is not open, and schedules its commit. `writes` says how
   * many events the caller is about to record (it tells a heavy stream from a trickle).
   */
  begin(writes = 1): void {
    this.writes += writes;
    if (this.open) return;
    this.beginStmt.run();
    this.open = true;
    this.schedule();
  }

  /** Runs `callback` once what has been written so far is committed (soon if nothing is). */
  afterCommit(callback: () => void): void {
    this.callbacks.push(callback);
    this.schedule();
  }

  /** Hears of a commit that failed: the writes of every job in it are lost. */
  onFailure(listener: (error: unknown) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private lastCommit = 0;
  /** Writes in the open transaction, and in the last one committed. */
  private writes = 0;
  private lastWrites = 0;

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    // Under a heavy stream of writes, one commit a millisecond at most: larger groups cost less
    // per page, and the commit is the main thread's biggest cost. Otherwise commit at once, for
    // the least latency.
    const wait = this.lastWrites >= BUSY_GROUP_WRITES ? this.lastCommit + MIN_COMMIT_INTERVAL_MS - performance.now() : 0;
    if (wait <= 0) setImmediate(() => this.commit());
    else setTimeout(() => this.commit(), wait);
  }

  /** A write failed: roll back what is pending and tell every job; their state stays resumable. */
  abort(error: unknown): void {
    if (this.open && this.db.inTransaction) this.rollbackStmt.run();
    this.open = false;
    this.callbacks = [];
    for (const listener of this.failureListeners) listener(error);
  }

  /** Commits now; then runs the callbacks waiting for it. */
  commit(): void {
    this.scheduled = false;
    this.lastCommit = performance.now();
    this.lastWrites = this.writes;
    this.writes = 0;
    if (this.open) {
      try {
        this.commitStmt.run();
      } catch (error) {
        this.abort(error);
        return;
      }
      this.open = false;
    }
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  }
}
