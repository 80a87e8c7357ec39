/**
 * One write transaction shared by every job this process runs. Writes go in as events arrive;
 * whatever must wait for durability (acknowledging an enqueue, starting an at-most-once page)
 * waits for the commit, which then comes at the end of the event loop's turn; a group that
 * nothing waits for is committed within a few milliseconds.
 *
 * Writes that nothing reads back before the commit (a page's end, its log lines) are kept and
 * run at the commit, so SQLite's write lock is held only while the commit runs: other processes
 * write controls, and the checkpointer takes the lock to let the WAL start over. The row of a
 * child its thread logged already (child-log.ts) opens the transaction, since its insert tells
 * whether its cursor is a repeat, but waits for a lazy commit like a kept write.
 */
import { busyShare, hysteresis } from '../thread-load.js';
import { Checkpointer } from './checkpointer.js';
import type { Statement } from 'better-sqlite3';
import { synchronousOf, type SqliteDatabase } from './database.js';
import { WriteLock } from './write-lock.js';

const MIN_COMMIT_INTERVAL_MS = 1;
/**
 * How long kept writes wait for a commit when nothing waits for them: a page's end need not be
 * durable at once (a crash before the commit runs the page again, as at-least-once allows), and
 * every commit costs the scheduler's thread about as much for ten writes as for a hundred.
 */
const LAZY_COMMIT_MS = 5;
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
/**
 * Above the first share of busy time, worker threads leave their children to this thread until
 * it is below the second again: near saturation its large groups cost it less per page than
 * waiting for the threads' commits would (no-op pages keep it busy nearly all the time; an
 * I/O-bound chain about a third). Two bars, since the switch moves the load: the scheduler's
 * path makes this thread busier.
 */
const THREADS_STOP_ABOVE = 0.8;
const THREADS_WRITE_BELOW = 0.5;
const LOAD_WINDOW_MS = 50;
/**
 * WAL checkpoints are asked for after a commit at most this often, and run on a thread of their
 * own (checkpointer.ts). SQLite's own (every 1,000 WAL pages) would run inside a commit: a few
 * milliseconds each here, with the write lock held and the scheduler's thread stalled. Under
 * no-op pages they were about 10% of that thread (the commit's share of its profile fell from
 * 20% to 8% without them; 11 alternating pairs of runs, all faster, 0.2-18%).
 */
const CHECKPOINT_EVERY_MS = 50;

export class GroupCommit {
  private readonly beginStmt;
  private readonly commitStmt;
  private readonly rollbackStmt;
  private readonly checkpointStmt;
  private readonly saturated: (now: number) => boolean;
  private readonly tooBusyForThreads: (now: number) => boolean;
  private open = false;
  /** Something in the group wants its commit soon (a write that must run now, not a logged child's row). */
  private soon = false;
  /** A group has started: writes are kept, or the transaction is open. */
  private started = false;
  /** A commit is scheduled: soon, or lazily (only kept writes, nothing waiting for them). */
  private scheduled: 'no' | 'lazy' | 'soon' = 'no';
  private lazyTimer: NodeJS.Timeout | null = null;
  private callbacks: (() => void)[] = [];
  /** Kept writes, in order: a statement, then its parameters. */
  private later: (Statement | unknown[])[] = [];
  private readonly failureListeners = new Set<(error: unknown) => void>();
  /** Started at the first checkpoint; null when it could not start (the checkpoint runs here). */
  private checkpointer: Checkpointer | null | undefined;
  private openedAt = 0;
  private lastCommit = 0;
  private lastCheckpoint = 0;
  /** Writes in the open group, and in the last one committed. */
  private writes = 0;
  private lastWrites = 0;
  /** Held while the transaction is open; worker threads of this process commit between groups. */
  readonly lock = new WriteLock();

  /**
   * `load` is this thread's busy share (0 to 1) of late; by default its event loop's over the
   * last few tens of milliseconds. Above SATURATED groups grow instead of committing early; the
   * THREADS_ bars decide whether worker threads leave their writes to this thread.
   */
  constructor(
    private readonly db: SqliteDatabase,
    load: (now: number) => number = busyShare(LOAD_WINDOW_MS),
  ) {
    const threadsStop = hysteresis(THREADS_STOP_ABOVE, THREADS_WRITE_BELOW);
    this.saturated = (now) => load(now) > SATURATED;
    this.tooBusyForThreads = (now) => threadsStop(load(now));
    this.beginStmt = db.prepare('BEGIN IMMEDIATE');
    this.commitStmt = db.prepare('COMMIT');
    this.rollbackStmt = db.prepare('ROLLBACK');
    this.checkpointStmt = db.prepare('PRAGMA wal_checkpoint(PASSIVE)');
    // Checkpoints run on the checkpointer's thread, never inside a commit.
    db.pragma('wal_autocheckpoint = 0');
  }

  /**
   * Counts `writes` events into the group and schedules its commit, without opening the
   * transaction: for callers whose statements are all kept (see `defer`) or who call `begin`
   * before a statement that must run now.
   */
  note(writes = 1): void {
    this.writes += writes;
    if (this.started) return;
    this.started = true;
    this.openedAt = performance.now();
    this.schedule(false);
  }

  /**
   * Opens the shared transaction if it is not open, runs the kept writes, and schedules its
   * commit: after this, statements run inside the group and reads see every write before them.
   * `soon` false: nothing waits for this write, and the group may wait for a lazy commit (a row
   * whose thread logged it already, see child-log.ts), unless something else asks for one soon.
   */
  begin(writes = 1, soon = true): void {
    this.note(writes);
    this.openNow();
    // An open transaction holds the write lock, which the checkpointer waits for at times.
    if (soon) {
      this.soon = true;
      this.schedule(true);
    }
  }

  private openNow(): void {
    if (!this.open) {
      this.lock.acquire();
      try {
        this.beginStmt.run();
      } catch (error) {
        this.lock.release();
        throw error;
      }
      this.open = true;
    }
    if (this.later.length > 0) this.runLater();
  }

  /** Runs `statement` with `params` at the commit, or at the next `begin`, whichever comes first. */
  defer(statement: Statement, params: unknown[]): void {
    this.later.push(statement, params);
    this.note(0);
  }

  /** Opens the transaction if writes were kept, so that reads see them. */
  flush(): void {
    if (this.later.length > 0) this.begin(0);
  }

  /**
   * Commits a group that has been open too long. Call it only between events (never halfway
   * through a write), since the callbacks run at once.
   */
  commitIfDue(): void {
    // A lazy group is left to its timer, open or not: a logged child's row opens the
    // transaction, and a commit at every batch of them would cost the busiest thread a commit a
    // batch for writes nobody waits for.
    if (!this.started || (!this.soon && this.callbacks.length === 0)) return;
    const now = performance.now();
    if (now - this.openedAt >= MAX_GROUP_AGE_MS && !this.saturated(now)) this.commit();
  }

  /** Runs `callback` once what has been written so far is committed (soon if nothing is). */
  afterCommit(callback: () => void): void {
    this.callbacks.push(callback);
    this.schedule(true);
  }

  /** Hears of a commit that failed: the writes of every job in it are lost. */
  onFailure(listener: (error: unknown) => void): () => void {
    this.failureListeners.add(listener);
    return () => this.failureListeners.delete(listener);
  }

  private schedule(soon: boolean): void {
    if (this.scheduled === 'soon' || (!soon && this.scheduled === 'lazy')) return;
    if (!soon) {
      this.scheduled = 'lazy';
      this.lazyTimer = setTimeout(() => this.commit(), LAZY_COMMIT_MS);
      return;
    }
    this.cancelLazy();
    this.scheduled = 'soon';
    // Under a heavy stream of writes, one commit a millisecond at most: larger groups cost less
    // per page, and the commit is the main thread's biggest cost. Otherwise commit at once, for
    // the least latency.
    const wait = this.lastWrites >= BUSY_GROUP_WRITES ? this.lastCommit + MIN_COMMIT_INTERVAL_MS - performance.now() : 0;
    // Unless a commit came first (and the database may be closed since).
    const commitIfScheduled = () => {
      if (this.scheduled === 'soon') this.commit();
    };
    if (wait <= 0) setImmediate(commitIfScheduled);
    else setTimeout(commitIfScheduled, wait);
  }

  /** Copies the WAL into the database, on the checkpointer's thread when it runs. */
  private checkpoint(): void {
    if (this.checkpointer === undefined) this.checkpointer = this.startCheckpointer();
    if (this.checkpointer?.usable) {
      this.checkpointer.request();
      return;
    }
    try {
      this.checkpointStmt.run();
    } catch {
      // Nothing is lost: the writes are in the WAL, and the next checkpoint copies them.
    }
  }

  private startCheckpointer(): Checkpointer | null {
    if (this.db.memory) return null;
    try {
      return new Checkpointer({ file: this.db.name, synchronous: synchronousOf(this.db), lock: this.lock.buffer });
    } catch {
      return null;
    }
  }

  /** Resolves once no checkpoint is running on the checkpointer's thread. */
  checkpointed(): Promise<void> {
    return this.checkpointer?.idle() ?? Promise.resolve();
  }

  /** Commits what is pending and stops the checkpointer: call it before the database closes. */
  async close(): Promise<void> {
    this.commit();
    await this.checkpointer?.close();
  }

  private cancelLazy(): void {
    if (this.lazyTimer === null) return;
    clearTimeout(this.lazyTimer);
    this.lazyTimer = null;
  }

  private runLater(): void {
    const later = this.later;
    this.later = [];
    for (let i = 0; i < later.length; i += 2) (later[i] as Statement).run(...(later[i + 1] as unknown[]));
  }

  /** A write failed: roll back what is pending and tell every job; their state stays resumable. */
  abort(error: unknown): void {
    const wasOpen = this.open;
    this.open = false;
    this.started = false;
    this.soon = false;
    this.later = [];
    this.callbacks = [];
    try {
      if (wasOpen && this.db.inTransaction) this.rollbackStmt.run();
    } finally {
      if (wasOpen) this.lock.release();
      for (const listener of this.failureListeners) listener(error);
    }
  }

  /** Commits now; then runs the callbacks waiting for it. */
  commit(): void {
    this.scheduled = 'no';
    this.cancelLazy();
    this.lastCommit = performance.now();
    this.lock.threadsMayWrite = !this.tooBusyForThreads(this.lastCommit);
    this.lastWrites = this.writes;
    this.writes = 0;
    this.started = false;
    this.soon = false;
    if (this.open || this.later.length > 0) {
      try {
        this.openNow();
        this.commitStmt.run();
      } catch (error) {
        this.abort(error);
        return;
      }
      this.open = false;
      this.lock.release();
      if (this.lastCommit - this.lastCheckpoint >= CHECKPOINT_EVERY_MS) {
        this.lastCheckpoint = this.lastCommit;
        this.checkpoint();
      }
    }
    const callbacks = this.callbacks;
    this.callbacks = [];
    for (const callback of callbacks) callback();
  }
}
