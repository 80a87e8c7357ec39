/**
 * One write transaction shared by every job this process runs, committed once per turn of the
 * event loop. Writes go in as events arrive; whatever must wait for durability (acknowledging
 * an enqueue, starting an at-most-once page) waits for the commit.
 */
import { busyMoreThan } from '../thread-load.js';
import type { SqliteDatabase } from './database.js';

const MIN_COMMIT_INTERVAL_MS = 1;
/** A group this large means events are streaming in (about 100,000 a second). */
const BUSY_GROUP_WRITES = 100;
/**
 * The oldest a group gets while events keep coming and the thread has time to spare. Under a
 * burst of messages the event loop's poll phase does not drain, so a commit left to
 * setImmediate would wait for the whole burst, and every enqueue in it with it.
 */
const MAX_GROUP_AGE_MS = 0.5;
/**
 * Above this share of busy time the thread is saturated: groups are then left to grow, since a
 * commit costs about as much for ten writes as for a hundred, and throughput is what counts.
 */
const SATURATED = 0.8;
const LOAD_WINDOW_MS = 50;

export class GroupCommit {
  private readonly beginStmt;
  private readonly commitStmt;
  private readonly rollbackStmt;
  private open = false;
  private scheduled = false;
  private callbacks: (() => void)[] = [];
  private readonly failureListeners = new Set<(error: unknown) => void>();

  /**
   * `saturated` says whether this thread is busy nearly all the time (then groups grow instead
   * of committing early); by default, measured over the last few tens of milliseconds.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly saturated: (now: number) => boolean = busyMoreThan(SATURATED, LOAD_WINDOW_MS),
  ) {
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
    this.openedAt = performance.now();
    this.schedule();
  }

  /**
   * Commits a group that has been open too long. Call it only between events (never halfway
   * through a write), since the callbacks run at once.
   */
  commitIfDue(): void {
    if (!this.open) return;
    const now = performance.now();
    if (now - this.openedAt >= MAX_GROUP_AGE_MS && !this.saturated(now)) this.commit();
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
  private openedAt = 0;
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
