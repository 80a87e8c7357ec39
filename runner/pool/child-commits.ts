/**
 * Children a worker thread commits together: those added within `delayMs` of the first go in
 * one transaction. A commit costs the thread a few tens of microseconds whatever it holds, and a
 * chain over a fast API hands over a child every few hundred; while the thread has slots to
 * spare, a parent can wait that long for its child's commit without holding up any page.
 */
export class ChildCommits<T> {
  private pending: { child: T; settle: (committed: boolean) => void }[] = [];
  private timer: NodeJS.Timeout | null = null;
  /** When the oldest child waiting was added (performance.now()). */
  private since = 0;

  /** `commit` commits children in one transaction and says, for each, whether it is committed. */
  constructor(
    private readonly delayMs: number,
    private readonly commit: (children: T[]) => boolean[],
  ) {}

  /** Children waiting for their commit. */
  get size(): number {
    return this.pending.length;
  }

  /**
   * Whether the oldest child has waited its delay: a caller that runs anyway (a thread sending
   * its messages) commits then, since the timer can be queued behind a burst of others.
   */
  due(now = performance.now()): boolean {
    return this.pending.length > 0 && now - this.since >= this.delayMs;
  }

  /** Commits `child` with the others added before the delay is up; `settle` hears whether it is committed. */
  add(child: T, settle: (committed: boolean) => void): void {
    if (this.pending.length === 0) this.since = performance.now();
    this.pending.push({ child, settle });
    this.timer ??= setTimeout(() => this.flush(), this.delayMs);
  }

  /** Commits what waits now. */
  flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = null;
    const batch = this.pending;
    if (batch.length === 0) return;
    this.pending = [];
    let results: boolean[];
    try {
      results = this.commit(batch.map((entry) => entry.child));
    } catch {
      // Not committed: the scheduler's path records them.
      results = [];
    }
    for (let i = 0; i < batch.length; i++) batch[i]!.settle(results[i] === true);
  }
}
