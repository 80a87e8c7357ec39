/**
 * Items and pages per second over a sliding window, in fixed buckets so memory stays constant
 * however long the job runs.
 */
export class ThroughputWindow {
  private readonly items: Float64Array;
  private readonly pages: Float64Array;
  private readonly bucketMs: number;
  private head = 0;
  private headStart: number;
  private startedAt: number;

  /** @param windowMs span the rates are averaged over @param buckets resolution of the window */
  constructor(
    private readonly windowMs: number,
    now: number,
    buckets = 20,
  ) {
    this.bucketMs = windowMs / buckets;
    this.items = new Float64Array(buckets);
    this.pages = new Float64Array(buckets);
    this.headStart = now;
    this.startedAt = now;
  }

  private advance(now: number): void {
    const steps = Math.floor((now - this.headStart) / this.bucketMs);
    if (steps <= 0) return;
    const n = this.items.length;
    for (let i = 1; i <= Math.min(steps, n); i++) {
      const index = (this.head + i) % n;
      this.items[index] = 0;
      this.pages[index] = 0;
    }
    this.head = (this.head + steps) % n;
    this.headStart += steps * this.bucketMs;
  }

  /**
   * Forgets what came before `now`: the rates then cover the time since, as after the start. For
   * a change of limits, after which the old pace says nothing of the new one (a 5 s window took
   * 5 s to show it). An attempt's progress recorded before and withdrawn after takes from what
   * came since, never below zero.
   */
  restart(now: number): void {
    this.items.fill(0);
    this.pages.fill(0);
    this.head = 0;
    this.headStart = now;
    this.startedAt = now;
  }

  record(now: number, items: number, pages: number): void {
    this.advance(now);
    this.items[this.head]! += items;
    this.pages[this.head]! += pages;
  }

  /**
   * Takes back up to `items` recorded since `since`, newest first: the progress an attempt
   * reported before it failed, which never counted. Each bucket stays >= 0, and buckets before
   * `since` keep what other pages did; what has already left the window needs no taking back.
   */
  withdraw(now: number, items: number, since: number): void {
    this.advance(now);
    const n = this.items.length;
    let left = items;
    for (let i = 0; i < n && left > 0; i++) {
      // Bucket i back from the newest starts at headStart - i * bucketMs.
      if (this.headStart - i * this.bucketMs + this.bucketMs <= since) break;
      const index = (this.head - i + n) % n;
      const taken = Math.min(this.items[index]!, left);
      this.items[index]! -= taken;
      left -= taken;
    }
  }

  /** Rates over the window, or over the time since start when that is shorter. */
  rates(now: number): { itemsPerSecond: number; pagesPerSecond: number } {
    this.advance(now);
    let items = 0;
    let pages = 0;
    for (let i = 0; i < this.items.length; i++) {
      items += this.items[i]!;
      pages += this.pages[i]!;
    }
    // The newest bucket has only run since headStart: the window covers the older buckets
    // in full and that part of the newest.
    const covered = this.windowMs - this.bucketMs + (now - this.headStart);
    const spanMs = Math.max(this.bucketMs, Math.min(covered, now - this.startedAt));
    return { itemsPerSecond: (items * 1000) / spanMs, pagesPerSecond: (pages * 1000) / spanMs };
  }
}
