import { describe, expect, it } from 'vitest';
import { estimateProgress, percentDone } from '../../runner/engine/progress-estimate.js';
import { ThroughputWindow } from '../../runner/engine/throughput-window.js';

describe('ThroughputWindow', () => {
  it('averages over the time since start while shorter than the window', () => {
    const window = new ThroughputWindow(5_000, 0);
    window.record(500, 100, 2);
    expect(window.rates(1_000)).toEqual({ itemsPerSecond: 100, pagesPerSecond: 2 });
  });

  it('forgets what happened before the window', () => {
    const window = new ThroughputWindow(5_000, 0);
    window.record(0, 1_000, 10);
    window.record(9_000, 50, 1);
    // At 10 s the window holds 4.75 s of full buckets and a newest one just begun.
    const rates = window.rates(10_000);
    expect(rates.itemsPerSecond).toBeCloseTo(50 / 4.75, 6);
    expect(rates.pagesPerSecond).toBeCloseTo(1 / 4.75, 6);
  });

  it('takes back the items of an attempt that failed, from the buckets since it started, and no others', () => {
    const window = new ThroughputWindow(5_000, 0);
    window.record(200, 40, 1); // a page that succeeded before the failing one started
    window.record(1_200, 30, 0); // the failing attempt's progress...
    window.record(2_600, 30, 0);
    window.withdraw(3_000, 60, 1_000); // ...taken back when it fails
    expect(window.rates(4_000)).toEqual({ itemsPerSecond: 10, pagesPerSecond: 0.25 });
    // More than was recorded since then: nothing goes below zero, the earlier page's items stay.
    window.record(3_500, 5, 0);
    window.withdraw(3_600, 1_000, 3_000);
    expect(window.rates(4_000)).toEqual({ itemsPerSecond: 10, pagesPerSecond: 0.25 });
  });

  it('forgets the pace before a restart (a change of limits) and averages over the time since', () => {
    const window = new ThroughputWindow(5_000, 0);
    window.record(1_000, 10_000, 100);
    window.record(3_000, 10_000, 100);
    window.restart(3_200);
    window.record(3_500, 20, 1);
    expect(window.rates(4_200)).toEqual({ itemsPerSecond: 20, pagesPerSecond: 1 });
    // An attempt that reported before the restart and failed after it: nothing goes below zero.
    window.withdraw(4_300, 500, 2_900);
    expect(window.rates(4_700)).toEqual({ itemsPerSecond: 0, pagesPerSecond: 1_000 / 1_500 });
  });

  it('keeps constant memory however long it runs', () => {
    const window = new ThroughputWindow(1_000, 0, 10);
    for (let t = 0; t < 1_000_000; t += 7) window.record(t, 1, 0);
    expect(window.rates(1_000_000).itemsPerSecond).toBeCloseTo(1000 / 7, 0);
  });
});

describe('estimateProgress', () => {
  it('has no percent or ETA without an estimated total', () => {
    expect(estimateProgress(10, null, 5)).toEqual({ percent: null, etaSeconds: null });
  });

  it('gives percent done and seconds left at the current rate', () => {
    expect(estimateProgress(250, 1_000, 50)).toEqual({ percent: 25, etaSeconds: 15 });
  });

  it('has no ETA while nothing moves, and 0 when done', () => {
    expect(estimateProgress(250, 1_000, 0)).toEqual({ percent: 25, etaSeconds: null });
    expect(estimateProgress(1_200, 1_000, 0)).toEqual({ percent: 100, etaSeconds: 0 });
  });
});

describe('percentDone', () => {
  it('is the share of the estimate done, capped at 100, and null without an estimate', () => {
    expect(percentDone('running', 250, 1_000)).toBe(25);
    expect(percentDone('running', 1_200, 1_000)).toBe(100);
    expect(percentDone('running', 10, null)).toBeNull();
    expect(percentDone('succeeded', 10, 0)).toBeNull();
  });

  it('is 100 for a job that succeeded short of an estimate set a little high, and the share done for one that did not', () => {
    expect(percentDone('succeeded', 200_000, 203_894)).toBe(100);
    expect(percentDone('failed', 200_000, 203_894)).toBeCloseTo(98.09, 2);
    expect(percentDone('cancelled', 100, 1_000)).toBe(10);
  });
});
