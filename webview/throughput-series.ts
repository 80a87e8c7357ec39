/**
 * The throughput chart's data: one point per activity for items/s, pages/s and pages in flight,
 * and the limits as step lines that keep a point only where they change. Points are chart.js's
 * own {x, y} form (the chart is told not to parse them), appended in time order; past
 * `maxPoints` the older half is thinned, so hours of a run keep a bounded size. Pure (no DOM).
 */
import type { JobSnapshot } from '../runner/protocol.js';

export interface Point {
  x: number;
  y: number | null;
}

export type RateSeriesName = 'itemsPerSecond' | 'pagesPerSecond' | 'inFlight';
export type LimitSeriesName = 'maxParallel' | 'rateItems' | 'ratePages';

export interface ThroughputSeriesOptions {
  /** Points kept per series before the older half is thinned. Default 20,000. */
  maxPoints?: number;
}

/**
 * Activities come about four a second while a job runs (at least every 2 s while it idles);
 * past this gap the rates are drawn as holding their last value, not as moving to the next.
 */
const HOLD_AFTER_MS = 2_500;

export class ThroughputSeries {
  readonly rates: Record<RateSeriesName, Point[]> = { itemsPerSecond: [], pagesPerSecond: [], inFlight: [] };
  readonly limits: Record<LimitSeriesName, Point[]> = { maxParallel: [], rateItems: [], ratePages: [] };
  private readonly maxPoints: number;
  /** Bumped on every change. */
  version = 0;

  constructor(options: ThroughputSeriesOptions = {}) {
    this.maxPoints = options.maxPoints ?? 20_000;
  }

  get length(): number {
    return this.rates.inFlight.length;
  }

  /** The first and last time held, or null when empty. */
  get span(): { from: number; to: number } | null {
    const points = this.rates.inFlight;
    return points.length === 0 ? null : { from: points[0]!.x, to: points.at(-1)!.x };
  }

  clear(): void {
    for (const points of Object.values(this.rates)) points.length = 0;
    for (const points of Object.values(this.limits)) points.length = 0;
    this.version++;
  }

  /** Adds the snapshot at time `t` (ms); a time not after the last one replaces that point. */
  push(t: number, snapshot: JobSnapshot): void {
    const last = this.rates.inFlight.at(-1);
    if (last !== undefined && t <= last.x) t = last.x;
    // Nothing heard for a while (a job stopped or paused, then run again): what was last heard
    // held until now. A straight line between the two points drew a ramp nothing ran on.
    if (last !== undefined && t - last.x > HOLD_AFTER_MS) this.holdRates(t - 1);
    this.pushRate('itemsPerSecond', t, snapshot.throughput.itemsPerSecond);
    this.pushRate('pagesPerSecond', t, snapshot.throughput.pagesPerSecond);
    this.pushRate('inFlight', t, snapshot.inFlight);
    this.pushLimit('maxParallel', t, snapshot.limits.maxParallel);
    this.pushLimit('rateItems', t, snapshot.limits.rateLimit?.itemsPerSecond ?? null);
    this.pushLimit('ratePages', t, snapshot.limits.rateLimit?.pagesPerSecond ?? null);
    if (this.rates.inFlight.length > this.maxPoints) this.thin();
    this.version++;
  }

  /** Repeats each rate's last value at `t`. */
  private holdRates(t: number): void {
    for (const points of Object.values(this.rates)) points.push({ x: t, y: points.at(-1)!.y });
  }

  private pushRate(name: RateSeriesName, t: number, y: number): void {
    const points = this.rates[name];
    const last = points.at(-1);
    if (last !== undefined && last.x === t) last.y = y;
    else points.push({ x: t, y });
  }

  /**
   * A step line: a point where the value changes, and the last point moved along to `t` so the
   * line reaches the present. A gap (null) where there is no limit.
   */
  private pushLimit(name: LimitSeriesName, t: number, y: number | null): void {
    const points = this.limits[name];
    const last = points.at(-1);
    const previous = points.at(-2);
    if (last === undefined) {
      points.push({ x: t, y });
      return;
    }
    if (last.y === y) {
      // Still the same value: stretch the line, keeping the point where it began.
      if (previous !== undefined && previous.y === y) last.x = t;
      else points.push({ x: t, y });
      return;
    }
    points.push({ x: t, y });
  }

  /** Halves the older half of each rate series: pairs become one point (mean time, mean value; max for in-flight). */
  private thin(): void {
    for (const name of Object.keys(this.rates) as RateSeriesName[]) {
      const points = this.rates[name];
      const half = Math.floor(points.length / 2) & ~1;
      const merged: Point[] = [];
      for (let i = 0; i < half; i += 2) {
        const a = points[i]!;
        const b = points[i + 1]!;
        const y = name === 'inFlight' ? Math.max(a.y ?? 0, b.y ?? 0) : ((a.y ?? 0) + (b.y ?? 0)) / 2;
        merged.push({ x: (a.x + b.x) / 2, y });
      }
      points.splice(0, half, ...merged);
    }
  }
}

/** A limit more than this many times what runs would flatten the measured lines to the floor. */
export const LIMIT_HEADROOM = 4;
/** Limits up to LIMIT_HEADROOM times this always fit, even before anything is measured. */
const MIN_MEASURED = 10;

/** The highest y of `points` (in time order) with x from `from` to `to`; 0 when none. */
export function highestIn(points: readonly Point[], from: number, to: number): number {
  let lo = 0;
  let hi = points.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (points[mid]!.x < from) lo = mid + 1;
    else hi = mid;
  }
  // A step line holds its value from its last point before the window.
  let top = lo > 0 ? (points[lo - 1]!.y ?? 0) : 0;
  for (let i = lo; i < points.length && points[i]!.x <= to; i++) top = Math.max(top, points[i]!.y ?? 0);
  return top;
}

/**
 * The top of an axis whose measured lines reach `measured` and whose limits reach `limit`:
 * undefined (chart.js's own, which fits the limit too) unless the limit is far above, such as a
 * max parallel of 100,000 beside 40 pages in flight; then the limit runs above the chart.
 */
export function axisTop(measured: number, limit: number): number | undefined {
  if (limit <= LIMIT_HEADROOM * Math.max(measured, MIN_MEASURED)) return undefined;
  return Math.max(measured, MIN_MEASURED) * 1.25;
}
