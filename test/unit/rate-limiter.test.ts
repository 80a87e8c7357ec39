import { describe, expect, it } from 'vitest';
import { RateLimiter, TokenBucket } from '../../runner/engine/rate-limiter.js';

describe('TokenBucket', () => {
  it('starts full, goes into debt, and refills at its rate', () => {
    const bucket = new TokenBucket(10, 2, 0);
    expect(bucket.canTake(0)).toBe(true);
    bucket.take(5);
    expect(bucket.canTake(0)).toBe(false);
    // A positive balance is needed: 300 ms brings it back to zero, a little more past it.
    expect(bucket.msUntilAvailable(0)).toBe(301);
    expect(bucket.canTake(300)).toBe(false);
    expect(bucket.canTake(301)).toBe(true);
  });

  it('never holds more than its burst', () => {
    const bucket = new TokenBucket(10, 2, 0);
    bucket.take(2);
    expect(bucket.canTake(10_000)).toBe(true);
    bucket.take(2);
    expect(bucket.canTake(10_000)).toBe(false);
  });
});

describe('RateLimiter', () => {
  it('is not limited without limits', () => {
    const limiter = new RateLimiter(undefined, 0);
    expect(limiter.limited).toBe(false);
    expect(limiter.canStart(0)).toBe(true);
  });

  it('limits pages per second', () => {
    const limiter = new RateLimiter({ pagesPerSecond: 5 }, 0);
    let started = 0;
    for (let t = 0; t < 1_000; t += 10) {
      while (limiter.canStart(t)) {
        limiter.start(1);
        started++;
      }
    }
    expect(started).toBeGreaterThanOrEqual(5);
    expect(started).toBeLessThanOrEqual(6);
  });

  it('charges items by page size at start and settles the difference at the end', () => {
    const limiter = new RateLimiter({ itemsPerSecond: 100 }, 0);
    limiter.start(100);
    expect(limiter.canStart(0)).toBe(false);
    // The page did only 10 of its 100 items: 90 come back.
    limiter.settle(100, 10);
    expect(limiter.canStart(0)).toBe(true);
  });

  it('takes new limits on the fly, and drops them', () => {
    const limiter = new RateLimiter({ pagesPerSecond: 1 }, 0);
    limiter.start(1);
    expect(limiter.canStart(0)).toBe(false);
    limiter.set({ pagesPerSecond: 1_000 }, 10);
    expect(limiter.canStart(10)).toBe(true);
    limiter.set(undefined, 10);
    expect(limiter.limited).toBe(false);
  });
});
