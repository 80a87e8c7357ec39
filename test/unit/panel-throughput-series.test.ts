import { describe, expect, it } from 'vitest';
import type { JobSnapshot } from '../../runner/protocol.js';
import { axisTop, highestIn, ThroughputSeries } from '../../webview/throughput-series.js';

function snapshot(itemsPerSecond: number, inFlight: number, maxParallel: number, rateItems?: number): JobSnapshot {
  return {
    throughput: { itemsPerSecond, pagesPerSecond: itemsPerSecond / 10 },
    inFlight,
    limits: { maxParallel, ...(rateItems !== undefined ? { rateLimit: { itemsPerSecond: rateItems } } : {}) },
  } as JobSnapshot;
}

describe('the throughput series', () => {
  it('adds a point per snapshot for items/s, pages/s and pages in flight', () => {
    const series = new ThroughputSeries();
    series.push(1_000, snapshot(50, 4, 8));
    series.push(1_250, snapshot(60, 5, 8));
    expect(series.rates.itemsPerSecond).toEqual([{ x: 1_000, y: 50 }, { x: 1_250, y: 60 }]);
    expect(series.rates.pagesPerSecond).toEqual([{ x: 1_000, y: 5 }, { x: 1_250, y: 6 }]);
    expect(series.rates.inFlight).toEqual([{ x: 1_000, y: 4 }, { x: 1_250, y: 5 }]);
    expect(series.span).toEqual({ from: 1_000, to: 1_250 });
  });

  it('keeps a limit as a step line: a point where it changes, the last one moved to the present', () => {
    const series = new ThroughputSeries();
    for (let t = 0; t <= 4; t++) series.push(t * 1_000, snapshot(1, 1, 8));
    series.push(5_000, snapshot(1, 1, 16));
    series.push(6_000, snapshot(1, 1, 16));
    series.push(7_000, snapshot(1, 1, 16));
    expect(series.limits.maxParallel).toEqual([
      { x: 0, y: 8 },
      { x: 4_000, y: 8 },
      { x: 5_000, y: 16 },
      { x: 7_000, y: 16 },
    ]);
  });

  it('leaves a gap where there is no rate limit', () => {
    const series = new ThroughputSeries();
    series.push(0, snapshot(1, 1, 8));
    series.push(1_000, snapshot(1, 1, 8, 100));
    expect(series.limits.rateItems.map((point) => point.y)).toEqual([null, 100]);
    expect(series.limits.ratePages.every((point) => point.y === null)).toBe(true);
  });

  it('never goes back in time: a late point replaces the last one', () => {
    const series = new ThroughputSeries();
    series.push(1_000, snapshot(10, 1, 8));
    series.push(900, snapshot(20, 2, 8));
    expect(series.rates.itemsPerSecond).toEqual([{ x: 1_000, y: 20 }]);
  });

  it('thins its older half past maxPoints, so hours of a run stay bounded', () => {
    const series = new ThroughputSeries({ maxPoints: 100 });
    for (let i = 0; i < 1_000; i++) series.push(i * 250, snapshot(i, i % 7, 8));
    expect(series.length).toBeLessThanOrEqual(100);
    const xs = series.rates.itemsPerSecond.map((point) => point.x);
    expect(xs).toEqual([...xs].sort((a, b) => a - b));
    expect(series.span!.to).toBe(999 * 250);
    // In-flight keeps its peaks when thinned.
    expect(Math.max(...series.rates.inFlight.map((point) => point.y ?? 0))).toBe(6);
  });
});

describe('an axis with a limit far above what runs', () => {
  it('takes the highest point in the window, with the value a step line holds from before it', () => {
    const points = [{ x: 0, y: 50 }, { x: 10, y: 3 }, { x: 20, y: null }, { x: 30, y: 7 }, { x: 40, y: 90 }];
    expect(highestIn(points, 15, 35)).toBe(7);
    expect(highestIn(points, 5, 30)).toBe(50);
    expect(highestIn(points, 50, 60)).toBe(90);
    expect(highestIn([], 0, 10)).toBe(0);
  });

  it('leaves the axis to chart.js while the limit is near what runs, and tops it above the measured lines otherwise', () => {
    expect(axisTop(40, 64)).toBeUndefined();
    expect(axisTop(40, 160)).toBeUndefined();
    expect(axisTop(40, 100_000)).toBe(50);
    // Nothing measured yet: small limits still show.
    expect(axisTop(0, 40)).toBeUndefined();
    expect(axisTop(0, 1_000_000)).toBe(12.5);
  });
});

describe('the throughput series across a silence', () => {
  it('holds the last rates until the next point, rather than drawing a ramp over a job that did not run', () => {
    const series = new ThroughputSeries();
    // A stopped job (nothing in flight), run again 19 s later with 3 pages in flight.
    series.push(1_000, snapshot(0, 0, 8));
    series.push(1_250, snapshot(0, 0, 8));
    series.push(20_000, snapshot(50, 3, 8));
    expect(series.rates.inFlight).toEqual([{ x: 1_000, y: 0 }, { x: 1_250, y: 0 }, { x: 19_999, y: 0 }, { x: 20_000, y: 3 }]);
    expect(series.rates.itemsPerSecond.at(-2)).toEqual({ x: 19_999, y: 0 });
    expect(series.rates.pagesPerSecond.at(-2)).toEqual({ x: 19_999, y: 0 });
  });

  it('draws points that come at the usual pace as they are', () => {
    const series = new ThroughputSeries();
    series.push(1_000, snapshot(10, 1, 8));
    series.push(3_000, snapshot(20, 2, 8));
    expect(series.rates.inFlight).toEqual([{ x: 1_000, y: 1 }, { x: 3_000, y: 2 }]);
  });
});
