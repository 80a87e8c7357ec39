/**
 * The page timeline's data: every attempt the panel has heard of, by lane (the slot it ran in),
 * sorted by start time, so that drawing a time window touches only the attempts in it. Pure (no
 * DOM): unit-tested in Node, drawn by timeline.ts.
 */
import type { AttemptInfo, AttemptOutcome, JobActivity } from '../runner/protocol.js';

/** How a bar is coloured. 'retried': an attempt that failed and was, or will be, tried again. */
export type BarKind = 'running' | 'succeeded' | 'retried' | 'failed' | 'stuck' | 'other';

export const BAR_KINDS: readonly BarKind[] = ['running', 'succeeded', 'retried', 'failed', 'stuck', 'other'];

/** One attempt on the timeline. */
export interface Bar {
  page: number;
  attempt: number;
  slot: number;
  start: number;
  /** null while it runs. */
  end: number | null;
  /** 'unknown': it stopped showing as running and its end was never heard (a dropped activity). */
  outcome: AttemptOutcome | 'unknown';
  cursor: unknown;
  items: number | null;
  error: AttemptInfo['error'];
  /** The runner said the page runs again after it (its retry may not have started yet). */
  runsAgain: boolean;
}

/** The attempts of one slot, in start order. */
export interface Lane {
  slot: number;
  bars: Bar[];
  /** Ended attempts that did not succeed, in start order: drawn over the rest at any zoom. */
  marks: Bar[];
  /** The longest ended attempt in `bars`, for finding those that overlap a window's start. */
  maxSpan: number;
}

export interface TimelineModelOptions {
  /** Most attempts kept; the oldest go first (they can be loaded again by panning back). Default 400,000. */
  maxBars?: number;
}

const DEFAULT_MAX_BARS = 400_000;
/** Attempt numbers below this fit in a numeric key with the page number. */
const ATTEMPT_KEY_SPACE = 2 ** 20;

function keyOf(page: number, attempt: number): number {
  return page * ATTEMPT_KEY_SPACE + (attempt % ATTEMPT_KEY_SPACE);
}

/** The first index in `bars` (sorted by start) whose start is >= t. */
export function lowerBound(bars: readonly Bar[], t: number, from = 0, to = bars.length): number {
  let lo = from;
  let hi = to;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (bars[mid]!.start < t) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function insertSorted(bars: Bar[], bar: Bar): void {
  // Nearly always an append: attempts arrive in start order.
  const last = bars.at(-1);
  if (last === undefined || last.start <= bar.start) {
    bars.push(bar);
    return;
  }
  let index = lowerBound(bars, bar.start);
  while (index < bars.length && bars[index]!.start === bar.start) index++;
  bars.splice(index, 0, bar);
}

function removeFrom(bars: Bar[], bar: Bar): void {
  for (let index = lowerBound(bars, bar.start); index < bars.length && bars[index]!.start === bar.start; index++) {
    if (bars[index] === bar) {
      bars.splice(index, 1);
      return;
    }
  }
}

/** Bars at least this wide are drawn one by one with a gap; narrower ones merge. */
const WIDE_BAR_PX = 4;

const SEVERITY: Record<BarKind, number> = { succeeded: 0, running: 1, other: 2, retried: 3, stuck: 4, failed: 5 };

export class TimelineModel {
  private readonly byKey = new Map<number, Bar>();
  private readonly laneBySlot = new Map<number, Lane>();
  /** The highest attempt number heard of per page: an earlier failed attempt was retried. */
  private readonly lastAttempt = new Map<number, number>();
  private readonly runningBars = new Set<Bar>();
  private readonly maxBars: number;

  /** Bumped on every change, so a view knows when to draw again. */
  version = 0;
  /** The earliest start among the attempts held (Infinity when none). */
  earliest = Infinity;
  /** The latest time any attempt started or ended. */
  latest = -Infinity;
  /** True once no older attempt exists than those held. */
  historyComplete = false;

  constructor(options: TimelineModelOptions = {}) {
    this.maxBars = options.maxBars ?? DEFAULT_MAX_BARS;
  }

  /** Attempts held. */
  get size(): number {
    return this.byKey.size;
  }

  /** The attempts running now. */
  get running(): ReadonlySet<Bar> {
    return this.runningBars;
  }

  /** Lanes in display order: slots 0, 1, 2, … then the lane of attempts whose slot is not known. */
  lanes(): Lane[] {
    return [...this.laneBySlot.values()].sort((a, b) => (a.slot < 0 ? 1 : b.slot < 0 ? -1 : a.slot - b.slot));
  }

  /** Lane count shown: every slot up to the highest seen, even those idle so far. */
  get laneSlots(): number[] {
    let max = -1;
    let unknown = false;
    for (const slot of this.laneBySlot.keys()) {
      if (slot < 0) unknown = true;
      else if (slot > max) max = slot;
    }
    const slots = Array.from({ length: max + 1 }, (_, i) => i);
    if (unknown) slots.push(-1);
    return slots;
  }

  lane(slot: number): Lane | undefined {
    return this.laneBySlot.get(slot);
  }

  get(page: number, attempt: number): Bar | undefined {
    return this.byKey.get(keyOf(page, attempt));
  }

  /** The attempts of one page held, first attempt first. */
  barsOf(page: number): Bar[] {
    const bars: Bar[] = [];
    const last = this.lastAttempt.get(page) ?? 0;
    for (let attempt = 1; attempt <= last; attempt++) {
      const bar = this.get(page, attempt);
      if (bar !== undefined) bars.push(bar);
    }
    return bars;
  }

  /** How a bar is coloured now. */
  kindOf(bar: Bar): BarKind {
    switch (bar.outcome) {
      case 'running':
        return bar.end === null ? 'running' : 'other';
      case 'succeeded':
        return 'succeeded';
      case 'stuck':
        return 'stuck';
      case 'failed':
        return bar.runsAgain || this.retried(bar) ? 'retried' : 'failed';
      default:
        return 'other';
    }
  }

  /** A later attempt of the bar's page is known. */
  retried(bar: Bar): boolean {
    return (this.lastAttempt.get(bar.page) ?? 0) > bar.attempt;
  }

  /** Forgets everything (another job was selected). */
  clear(): void {
    this.byKey.clear();
    this.laneBySlot.clear();
    this.lastAttempt.clear();
    this.runningBars.clear();
    this.earliest = Infinity;
    this.latest = -Infinity;
    this.historyComplete = false;
    this.version++;
  }

  /**
   * Takes in one activity: attempts running now and those ended since the last one. Returns the
   * bars that ended in it (for measuring how soon they are drawn).
   */
  applyActivity(activity: JobActivity, now: number): Bar[] {
    const ended: Bar[] = [];
    for (const info of activity.ended) ended.push(this.upsert(info));
    const stillRunning = new Set<Bar>();
    for (const info of activity.running) stillRunning.add(this.upsert(info));
    // An attempt that stopped showing as running ended unheard; when the list is cut short
    // (runningDropped) absence means nothing.
    if (activity.runningDropped === 0) {
      for (const bar of [...this.runningBars]) {
        if (!stillRunning.has(bar) && bar.end === null) {
          this.finish(bar, { end: Math.max(bar.start, now), outcome: 'unknown' });
        }
      }
    }
    this.trim();
    this.version++;
    return ended;
  }

  /** Takes in older attempts (newest first or in any order); `complete`: there are no older ones. */
  addHistory(attempts: readonly AttemptInfo[], complete: boolean): void {
    for (const info of attempts) this.upsert(info);
    if (complete) this.historyComplete = true;
    this.trim();
    this.version++;
  }

  /** Adds or updates one attempt. */
  upsert(info: AttemptInfo): Bar {
    const key = keyOf(info.page, info.attempt);
    const known = this.byKey.get(key);
    if ((this.lastAttempt.get(info.page) ?? 0) < info.attempt) this.lastAttempt.set(info.page, info.attempt);
    if (known !== undefined) {
      // An ended attempt never goes back to running (an older activity read late).
      if (known.end !== null && info.endedAt === null) return known;
      if (known.slot !== info.slot || known.start !== info.startedAt) {
        this.detach(known);
        known.slot = info.slot;
        known.start = info.startedAt;
        known.end = info.endedAt;
        known.outcome = info.endedAt === null ? 'running' : info.outcome;
        known.items = info.items;
        known.error = info.error;
        known.runsAgain = info.runsAgain;
        this.attach(known);
      } else {
        this.finish(known, { end: info.endedAt, outcome: info.outcome, items: info.items, error: info.error });
        known.runsAgain = info.runsAgain;
      }
      return known;
    }
    const bar: Bar = {
      page: info.page,
      attempt: info.attempt,
      slot: info.slot,
      start: info.startedAt,
      end: info.endedAt,
      outcome: info.endedAt === null ? 'running' : info.outcome,
      cursor: info.cursor,
      items: info.items,
      error: info.error,
      runsAgain: info.runsAgain,
    };
    this.byKey.set(key, bar);
    this.attach(bar);
    return bar;
  }

  private laneFor(slot: number): Lane {
    let lane = this.laneBySlot.get(slot);
    if (lane === undefined) {
      lane = { slot, bars: [], marks: [], maxSpan: 0 };
      this.laneBySlot.set(slot, lane);
    }
    return lane;
  }

  private attach(bar: Bar): void {
    const lane = this.laneFor(bar.slot);
    insertSorted(lane.bars, bar);
    if (bar.end === null) this.runningBars.add(bar);
    else this.noteEnded(lane, bar);
    if (bar.start < this.earliest) this.earliest = bar.start;
    const last = bar.end ?? bar.start;
    if (last > this.latest) this.latest = last;
  }

  private detach(bar: Bar): void {
    const lane = this.laneBySlot.get(bar.slot);
    if (lane === undefined) return;
    removeFrom(lane.bars, bar);
    if (bar.end !== null && bar.outcome !== 'succeeded') removeFrom(lane.marks, bar);
    this.runningBars.delete(bar);
  }

  private noteEnded(lane: Lane, bar: Bar): void {
    const span = bar.end! - bar.start;
    if (span > lane.maxSpan) lane.maxSpan = span;
    if (bar.outcome !== 'succeeded') insertSorted(lane.marks, bar);
  }

  private finish(bar: Bar, update: { end: number | null; outcome: Bar['outcome']; items?: number | null; error?: Bar['error'] }): void {
    const lane = this.laneFor(bar.slot);
    if (bar.end !== null && bar.outcome !== 'succeeded') removeFrom(lane.marks, bar);
    this.runningBars.delete(bar);
    bar.end = update.end;
    bar.outcome = update.end === null ? 'running' : update.outcome;
    if (update.items !== undefined) bar.items = update.items;
    if (update.error !== undefined) bar.error = update.error;
    if (bar.end === null) {
      this.runningBars.add(bar);
      return;
    }
    this.noteEnded(lane, bar);
    if (bar.end > this.latest) this.latest = bar.end;
  }

  /** Drops the oldest ended attempts while more than maxBars are held. */
  private trim(): void {
    if (this.byKey.size <= this.maxBars) return;
    const target = Math.floor(this.maxBars * 0.75);
    while (this.byKey.size > target) {
      const before = this.byKey.size;
      const cutoff = this.earliest + (this.latest - this.earliest) * 0.25;
      let earliest = Infinity;
      for (const lane of this.laneBySlot.values()) {
        let drop = 0;
        while (drop < lane.bars.length && lane.bars[drop]!.start < cutoff && lane.bars[drop]!.end !== null) drop++;
        for (const bar of lane.bars.splice(0, drop)) this.byKey.delete(keyOf(bar.page, bar.attempt));
        lane.marks.splice(0, lowerBound(lane.marks, lane.bars[0]?.start ?? Infinity));
        if (lane.bars[0] !== undefined && lane.bars[0].start < earliest) earliest = lane.bars[0].start;
      }
      this.earliest = earliest;
      this.historyComplete = false;
      if (!Number.isFinite(earliest) || this.byKey.size === before) break;
    }
  }

  /**
   * Calls `draw(x, width, kind)` for the runs of pixels of one lane in the window [from, to]
   * mapped onto [0, pixels): ended attempts first, each on its own when it is a few pixels wide,
   * else merged with its neighbours where they share pixels and a kind
   * (so a zoomed-out view of 100,000 attempts draws a few hundred rectangles), then the ended
   * attempts that did not succeed, at least a pixel wide so that none disappears at any zoom.
   * Running attempts are drawn apart (see scanRunning).
   */
  scanLane(slot: number, from: number, to: number, pixels: number, draw: (x: number, width: number, kind: BarKind) => void): void {
    const lane = this.laneBySlot.get(slot);
    if (lane === undefined || to <= from) return;
    const scale = pixels / (to - from);
    this.scanBars(lane.bars, lane.maxSpan, from, to, scale, draw, false);
    this.scanBars(lane.marks, lane.maxSpan, from, to, scale, draw, true);
  }

  private scanBars(bars: readonly Bar[], maxSpan: number, from: number, to: number, scale: number, draw: (x: number, width: number, kind: BarKind) => void, marks: boolean): void {
    let runX = 0;
    let runEnd = -1;
    let runKind: BarKind = 'succeeded';
    for (let i = lowerBound(bars, from - maxSpan); i < bars.length; i++) {
      const bar = bars[i]!;
      if (bar.start > to || (bar.start === to && bar.end !== bar.start)) break;
      if (bar.end === null || bar.end < from || (bar.end === from && bar.start !== bar.end)) continue;
      const kind = marks ? this.kindOf(bar) : bar.outcome === 'succeeded' ? 'succeeded' : null;
      // In the first pass, bars that did not succeed leave a gap the second pass fills.
      if (kind === null) continue;
      let x1 = (Math.max(bar.start, from) - from) * scale;
      let x2 = (Math.min(bar.end, to) - from) * scale;
      if (marks && x2 - x1 < 1) {
        x1 = Math.min(x1, x2 - 1);
        x2 = x1 + 1;
      }
      if (x2 - x1 >= WIDE_BAR_PX) {
        // Wide enough to tell apart: drawn alone, a pixel short, so neighbours show as bars.
        if (runEnd >= 0) draw(runX, Math.max(runEnd - runX, 0.5), runKind);
        runEnd = -1;
        draw(x1, x2 - x1 - 1, kind);
        continue;
      }
      if (runEnd >= 0 && kind === runKind && x1 <= runEnd + 0.5) {
        if (x2 > runEnd) runEnd = x2;
      } else {
        if (runEnd >= 0) draw(runX, Math.max(runEnd - runX, 0.5), runKind);
        runX = x1;
        runEnd = x2;
        runKind = kind;
      }
      const boundary = from + (Math.floor(runEnd) + 1) / scale;
      if (!marks && i + 2 < bars.length && bars[i + 2]!.start < boundary) {
        // Zoomed out, many attempts share a pixel: go straight to the last one that starts in
        // it (a slot runs one page at a time, so those before it end inside it too), found by
        // galloping then bisecting. Those passed over that did not succeed are drawn by the
        // second pass.
        let lo = i + 2;
        let step = 1;
        while (lo + step < bars.length && bars[lo + step]!.start < boundary) {
          lo += step;
          step *= 2;
        }
        const last = lowerBound(bars, boundary, lo, Math.min(bars.length, lo + step)) - 1;
        // The run covers the attempts passed over, up to where the last one starts.
        runEnd = Math.max(runEnd, (bars[last]!.start - from) * scale);
        i = last - 1;
      }
    }
    if (runEnd >= 0) draw(runX, Math.max(runEnd - runX, 0.5), runKind);
  }

  /** Calls `draw(slot, x, width)` for each running attempt visible in [from, to], drawn up to `now`. */
  scanRunning(from: number, to: number, pixels: number, now: number, draw: (slot: number, x: number, width: number) => void): void {
    if (to <= from) return;
    const scale = pixels / (to - from);
    for (const bar of this.runningBars) {
      const end = Math.max(now, bar.start);
      if (bar.start > to || end < from) continue;
      const x1 = (Math.max(bar.start, from) - from) * scale;
      const x2 = (Math.min(end, to) - from) * scale;
      draw(bar.slot, x1, Math.max(x2 - x1, 1));
    }
  }

  /**
   * The attempt under a point: lane `slot`, time `t`, within `tolerance` ms (for thin bars).
   * Prefers the attempt that contains t, then the nearest, then the most severe.
   */
  hitTest(slot: number, t: number, tolerance: number, now: number): Bar | undefined {
    const lane = this.laneBySlot.get(slot);
    if (lane === undefined) return undefined;
    let best: Bar | undefined;
    let bestDistance = Infinity;
    const consider = (bar: Bar) => {
      const end = bar.end ?? Math.max(now, bar.start);
      const distance = t < bar.start ? bar.start - t : t > end ? t - end : 0;
      if (distance > tolerance) return;
      if (distance < bestDistance || (distance === bestDistance && best !== undefined && SEVERITY[this.kindOf(bar)] > SEVERITY[this.kindOf(best)])) {
        best = bar;
        bestDistance = distance;
      }
    };
    const bars = lane.bars;
    for (let i = lowerBound(bars, t - tolerance - lane.maxSpan); i < bars.length && bars[i]!.start <= t + tolerance; i++) {
      if (bars[i]!.end !== null) consider(bars[i]!);
    }
    for (const bar of this.runningBars) if (bar.slot === slot) consider(bar);
    return best;
  }
}
