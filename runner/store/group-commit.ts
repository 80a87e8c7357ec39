/**
 * One write transaction shared by every job this process runs, committed once per turn of the
 * event loop. Writes go in as events arrive; whatever must wait for durability (acknowledging
 * an enqueue, starting an at-most-once page) waits for the commit.
 */
import type { SqliteDatabase } from './database.js';

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

  /** Opens the shared transaction if it is not open, and schedules its commit. */
  begin(): void {
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

  private schedule(): void {
    if (this.scheduled) return;
    this.scheduled = true;
    setImmediate(() => this.commit());
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
