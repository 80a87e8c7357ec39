/**
 * WAL checkpoints on a thread of their own. A checkpoint copies the WAL into the database file
 * and syncs it: 5 ms on average on this machine under a steady stream of commits, up to 26 ms.
 * Run on the scheduler's thread after a commit, every 50 ms, it stalled for a tenth of the time
 * everything that thread does (pages' ends, the children it records, the credits it hands out).
 * SQLite's own checkpoints would run inside a commit, with the write lock held.
 */
import { Worker } from 'node:worker_threads';
import { compiledEntry } from '../compiled-entry.js';

export interface CheckpointerData {
  file: string;
  synchronous: 'NORMAL' | 'FULL';
  /** The write lock of the process's writers (write-lock.ts), for the checkpoint that lets the WAL start over. */
  lock?: SharedArrayBuffer;
  /** How often that checkpoint runs; default 1,000 ms. */
  restartEveryMs?: number;
}

export type CheckpointerRequest = 'checkpoint' | 'close';

/** The thread's answer to a checkpoint: whether it also tried to let the WAL start over, and got the lock for it. */
export interface CheckpointDone {
  restart: 'not-tried' | 'done' | 'missed';
}

export class Checkpointer {
  private readonly worker: Worker;
  private running = false;
  private failed = false;
  private idleWaiters: (() => void)[] = [];
  private readonly exited: Promise<void>;
  /** Checkpoints that tried to let the WAL start over, and those of them that got the lock. */
  readonly restarts = { tried: 0, done: 0 };

  constructor(data: CheckpointerData) {
    this.worker = new Worker(compiledEntry(import.meta.url, 'checkpoint-worker.js'), { workerData: data });
    // It never keeps the process alive: a checkpoint cut short loses nothing.
    this.worker.unref();
    this.worker.on('message', ({ restart }: CheckpointDone) => {
      if (restart !== 'not-tried') this.restarts.tried++;
      if (restart === 'done') this.restarts.done++;
      this.settle();
    });
    // A thread that cannot open the file: checkpoints go back to the caller (see `usable`).
    this.worker.on('error', () => {
      this.failed = true;
      this.settle();
    });
    this.exited = new Promise((resolve) =>
      this.worker.once('exit', () => {
        this.failed = true;
        this.settle();
        resolve();
      }),
    );
  }

  /** False once the thread failed or closed: the caller then checkpoints on its own. */
  get usable(): boolean {
    return !this.failed;
  }

  /** Starts a checkpoint unless one is running (then the next request catches up). */
  request(): void {
    if (this.failed || this.running) return;
    this.running = true;
    this.worker.postMessage('checkpoint' satisfies CheckpointerRequest);
  }

  /** Resolves once no checkpoint is running. */
  idle(): Promise<void> {
    if (!this.running) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Closes the thread's connection (a checkpoint running finishes first); resolves once the thread is gone. */
  close(): Promise<void> {
    if (!this.failed) {
      this.failed = true;
      // Whoever awaits this keeps the process alive until the thread is gone.
      this.worker.ref();
      this.worker.postMessage('close' satisfies CheckpointerRequest);
    }
    return this.exited;
  }

  private settle(): void {
    this.running = false;
    const waiters = this.idleWaiters;
    this.idleWaiters = [];
    for (const resolve of waiters) resolve();
  }
}
