/**
 * Token buckets for items per second and pages per second. Items are charged at dispatch by
 * the page's size (what the page will most likely do) and settled when it ends, so the long-run
 * rate is exact even when pages do fewer items than their size.
 */
export interface RateLimit {
  itemsPerSecond?: number;
  pagesPerSecond?: number;
}

/** A bucket that refills `rate` tokens per second up to `burst`; it may go into debt. */
export class TokenBucket {
  private tokens: number;
  private updatedAt: number;

  constructor(
    private rate: number,
    private burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.updatedAt = now;
  }

  setRate(rate: number, burst: number, now: number): void {
    this.refill(now);
    this.rate = rate;
    this.burst = burst;
    this.tokens = Math.min(this.tokens, burst);
  }

  private refill(now: number): void {
    if (now > this.updatedAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.updatedAt) / 1000) * this.rate);
      this.updatedAt = now;
    }
  }

  /** True when a positive balance is left, so one more unit of work may start. */
  canTake(now: number): boolean {
    this.refill(now);
    return this.tokens > 0;
  }

  take(amount: number): void {
    this.tokens -= amount;
  }

  give(amount: number): void {
    this.tokens = Math.min(this.burst, this.tokens + amount);
  }

  /** Milliseconds until the balance is positive again. */
  msUntilAvailable(now: number): number {
    this.refill(now);
    if (this.tokens > 0) return 0;
    return Math.ceil(((-this.tokens + 1e-9) / this.rate) * 1000);
  }
}

/** Both limits; either may be absent. Bursts are one fifth of a second's worth (at least one). */
export class RateLimiter {
  private items: TokenBucket | null = null;
  private pages: TokenBucket | null = null;

  constructor(limit: RateLimit | undefined, now: number) {
    this.set(limit, now);
  }

  set(limit: RateLimit | undefined, now: number): void {
    this.items = bucketFor(this.items, limit?.itemsPerSecond, now);
    this.pages = bucketFor(this.pages, limit?.pagesPerSecond, now);
  }

  get limited(): boolean {
    return this.items !== null || this.pages !== null;
  }

  canStart(now: number): boolean {
    return (this.items?.canTake(now) ?? true) && (this.pages?.canTake(now) ?? true);
  }

  /** Charges a page that starts, with the items it is expected to do. */
  start(expectedItems: number): void {
    this.items?.take(expectedItems);
    this.pages?.take(1);
  }

  /** Settles a finished page's items against what was charged at its start. */
  settle(expectedItems: number, actualItems: number): void {
    if (!this.items) return;
    if (actualItems < expectedItems) this.items.give(expectedItems - actualItems);
    else this.items.take(actualItems - expectedItems);
  }

  msUntilAvailable(now: number): number {
    return Math.max(this.items?.msUntilAvailable(now) ?? 0, this.pages?.msUntilAvailable(now) ?? 0);
  }
}

function bucketFor(existing: TokenBucket | null, rate: number | undefined, now: number): TokenBucket | null {
  if (rate === undefined || rate === null) return null;
  const burst = Math.max(1, rate / 5);
  if (existing) {
    existing.setRate(rate, burst, now);
    return existing;
  }
  return new TokenBucket(rate, burst, now);
}
