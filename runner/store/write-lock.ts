/**
 * A lock in shared memory between the writers of this process, over SQLite's write lock: the
 * scheduler's group and the checkpointer, which takes it to let the WAL start over. SQLite would
 * keep two writers apart on its own, but its busy handler sleeps a whole millisecond. It also
 * carries the scheduler's word to worker threads on whether they may record children themselves
 * (in their child logs, child-log.ts; until 2026-12-03 they committed rows under this lock).
 */
const FREE = 0;
const HELD = 1;
/** Held, and someone sleeps on it: the holder wakes them when it lets go. */
const CONTENDED = 2;

/** How long a writer spins before it sleeps: most holds are a commit, tens of microseconds. */
const SPIN_MS = 0.2;

export class WriteLock {
  private readonly word: Int32Array;

  constructor(readonly buffer: SharedArrayBuffer = new SharedArrayBuffer(8)) {
    this.word = new Int32Array(buffer);
  }

  /**
   * Whether worker threads should record children themselves. The scheduler says no while it is
   * near saturation (see GroupCommit): then its groups are large, a row costs it least per page,
   * and threads that hold their messages (worker.ts) would keep it waiting for them.
   */
  get threadsMayWrite(): boolean {
    return Atomics.load(this.word, 1) === 0;
  }

  set threadsMayWrite(may: boolean) {
    Atomics.store(this.word, 1, may ? 0 : 1);
  }

  /** Takes the lock if it is free; never waits. */
  tryAcquire(): boolean {
    return Atomics.compareExchange(this.word, 0, FREE, HELD) === FREE;
  }

  /**
   * Takes the lock, waiting up to `maxWaitMs` for its holder. A thread holds it only for one
   * commit, but a thread terminated in the middle of one never gives it back: past the wait the
   * lock is taken anyway, and SQLite's own lock keeps the writes apart.
   */
  acquire(maxWaitMs = 5): void {
    if (this.tryAcquire()) return;
    const start = performance.now();
    // Spin first: sleeping and being woken costs more than the wait on this kind of machine.
    while (performance.now() - start < SPIN_MS) {
      if (Atomics.load(this.word, 0) === FREE && this.tryAcquire()) return;
    }
    // Taken anyway past the wait: the wait left it marked contended, as if this side held it.
    this.acquireWithin(start + maxWaitMs - performance.now());
  }

  /**
   * Takes the lock if its holder lets go within `maxWaitMs`; false (not taken) otherwise. For a
   * holder that may step aside (the checkpointer), unlike `acquire`.
   */
  acquireWithin(maxWaitMs: number): boolean {
    if (this.tryAcquire()) return true;
    const start = performance.now();
    for (;;) {
      // Mark it contended, so the holder wakes this thread; a free lock is taken as contended.
      if (Atomics.exchange(this.word, 0, CONTENDED) === FREE) return true;
      const left = start + maxWaitMs - performance.now();
      if (left <= 0) return false;
      Atomics.wait(this.word, 0, CONTENDED, left);
    }
  }

  release(): void {
    if (Atomics.exchange(this.word, 0, FREE) === CONTENDED) Atomics.notify(this.word, 0);
  }
}
