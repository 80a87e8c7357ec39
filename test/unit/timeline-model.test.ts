import { describe, expect, it } from 'vitest';
import type { AttemptInfo, JobActivity, JobSnapshot } from '../../runner/protocol.js';
import { TimelineModel, type BarKind } from '../../webview/timeline-model.js';

function attempt(page: number, fields: Partial<AttemptInfo> = {}): AttemptInfo {
  return { page, attempt: 1, slot: 0, outcome: 'succeeded', cursor: page, startedAt: page * 100, endedAt: page * 100 + 90, items: 1, error: null, runsAgain: false, ...fields };
}

function running(page: number, fields: Partial<AttemptInfo> = {}): AttemptInfo {
  return attempt(page, { outcome: 'running', endedAt: null, items: null, ...fields });
}

function activity(seq: number, fields: Partial<JobActivity>): JobActivity {
  return { jobId: 'J', seq, snapshot: {} as JobSnapshot, running: [], runningDropped: 0, ended: [], endedDropped: 0, ...fields };
}

/** Every run scanLane draws, as [x, width, kind] rounded to 0.1 px. */
function runs(model: TimelineModel, slot: number, from: number, to: number, pixels: number): [number, number, BarKind][] {
  const out: [number, number, BarKind][] = [];
  model.scanLane(slot, from, to, pixels, (x, width, kind) => out.push([Math.round(x * 10) / 10, Math.round(width * 10) / 10, kind]));
  return out;
}

describe('the timeline model', () => {
  it('keeps one lane per slot with its attempts in start order, whatever order they arrive in', () => {
    const model = new TimelineModel();
    model.addHistory([attempt(3, { slot: 1 }), attempt(1), attempt(2, { slot: 1 }), attempt(0)], false);
    expect(model.laneSlots).toEqual([0, 1]);
    expect(model.lane(0)!.bars.map((bar) => bar.page)).toEqual([0, 1]);
    expect(model.lane(1)!.bars.map((bar) => bar.page)).toEqual([2, 3]);
    expect(model.earliest).toBe(0);
    expect(model.latest).toBe(390);
  });

  it('turns a running attempt into an ended one when its end arrives, without a second bar', () => {
    const model = new TimelineModel();
    model.applyActivity(activity(1, { running: [running(5)] }), 520);
    expect(model.running.size).toBe(1);
    const ended = model.applyActivity(activity(2, { ended: [attempt(5, { startedAt: 502, endedAt: 590 })] }), 600);
    expect(ended).toHaveLength(1);
    expect(model.size).toBe(1);
    expect(model.running.size).toBe(0);
    expect(model.get(5, 1)).toMatchObject({ start: 502, end: 590, outcome: 'succeeded' });
  });

  it('never turns an ended attempt back into a running one (an older activity read late)', () => {
    const model = new TimelineModel();
    model.addHistory([attempt(1)], false);
    model.applyActivity(activity(1, { running: [running(1)] }), 150);
    expect(model.get(1, 1)!.end).toBe(190);
    expect(model.running.size).toBe(0);
  });

  it('colours a failed attempt as retried once a later attempt of its page is known', () => {
    const model = new TimelineModel();
    const error = { name: 'Error', message: 'boom', stack: null };
    model.addHistory([attempt(1, { outcome: 'failed', error })], false);
    expect(model.kindOf(model.get(1, 1)!)).toBe('failed');
    model.applyActivity(activity(1, { running: [running(1, { attempt: 2, startedAt: 300 })] }), 310);
    expect(model.kindOf(model.get(1, 1)!)).toBe('retried');
    expect(model.kindOf(model.get(1, 2)!)).toBe('running');
    model.addHistory([attempt(2, { outcome: 'stuck' }), attempt(3, { outcome: 'interrupted' })], false);
    expect(model.kindOf(model.get(2, 1)!)).toBe('stuck');
    expect(model.kindOf(model.get(3, 1)!)).toBe('other');
  });

  it('colours a failed attempt as retried as soon as the runner says its page runs again, before the retry starts', () => {
    const model = new TimelineModel();
    const error = { name: 'Error', message: 'boom', stack: null };
    model.applyActivity(activity(1, { running: [running(1)] }), 110);
    model.applyActivity(activity(2, { ended: [attempt(1, { outcome: 'failed', error, runsAgain: true })] }), 200);
    expect(model.kindOf(model.get(1, 1)!)).toBe('retried');
    expect(model.retried(model.get(1, 1)!)).toBe(false);
    // Its last attempt: nothing more comes, and it stays red.
    model.applyActivity(activity(3, { ended: [attempt(2, { outcome: 'failed', error, runsAgain: false })] }), 300);
    expect(model.kindOf(model.get(2, 1)!)).toBe('failed');
  });

  it('ends, as outcome unknown, a running attempt that stops showing without an end', () => {
    const model = new TimelineModel();
    model.applyActivity(activity(1, { running: [running(1), running(2)] }), 150);
    model.applyActivity(activity(2, { running: [running(2)] }), 400);
    expect(model.get(1, 1)).toMatchObject({ end: 400, outcome: 'unknown' });
    expect(model.get(2, 1)!.end).toBeNull();
  });

  it('keeps running attempts when the running list was cut short', () => {
    const model = new TimelineModel();
    model.applyActivity(activity(1, { running: [running(1), running(2)] }), 150);
    model.applyActivity(activity(2, { running: [running(2)], runningDropped: 1 }), 400);
    expect(model.get(1, 1)!.end).toBeNull();
  });

  it('draws only the window asked for, merging bars that share pixels and a kind', () => {
    const model = new TimelineModel();
    // 1,000 back-to-back pages of 10 ms in one lane: 10 s.
    model.addHistory(
      Array.from({ length: 1000 }, (_, i) => attempt(i + 1, { startedAt: i * 10, endedAt: i * 10 + 10 })),
      true,
    );
    // Zoomed out, 100 px for 10 s: one run.
    expect(runs(model, 0, 0, 10_000, 100)).toEqual([[0, 100, 'succeeded']]);
    // Zoomed in on 50 ms: five bars of 20 px each, drawn one by one with a pixel between them.
    expect(runs(model, 0, 5_000, 5_050, 100)).toEqual([0, 20, 40, 60, 80].map((x) => [x, 19, 'succeeded']));
  });

  it('keeps a failure visible at any zoom: at least a pixel, drawn over the successes', () => {
    const model = new TimelineModel();
    const error = { name: 'Error', message: 'boom', stack: null };
    model.addHistory(
      Array.from({ length: 1000 }, (_, i) =>
        attempt(i + 1, { startedAt: i * 10, endedAt: i * 10 + 10, ...(i === 500 ? { outcome: 'failed' as const, error } : {}) }),
      ),
      true,
    );
    const drawn = runs(model, 0, 0, 10_000, 100);
    const failed = drawn.filter(([, , kind]) => kind === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0]![1]).toBe(1);
    expect(Math.abs(failed[0]![0] - 50)).toBeLessThanOrEqual(1);
    // The successes leave a gap where the failure is, and the failure is drawn after them.
    expect(drawn.at(-1)![2]).toBe('failed');
  });

  it('finds an attempt that overlaps the window start although it started long before', () => {
    const model = new TimelineModel();
    model.addHistory([attempt(1, { startedAt: 0, endedAt: 10_000 }), attempt(2, { startedAt: 10_000, endedAt: 10_010 })], true);
    expect(runs(model, 0, 9_000, 9_100, 100)).toEqual([[0, 99, 'succeeded']]);
  });

  it('draws running attempts up to now', () => {
    const model = new TimelineModel();
    model.applyActivity(activity(1, { running: [running(1, { slot: 2, startedAt: 1_000 })] }), 1_000);
    const drawn: [number, number, number][] = [];
    model.scanRunning(0, 2_000, 200, 1_500, (slot, x, width) => drawn.push([slot, x, width]));
    expect(drawn).toEqual([[2, 100, 50]]);
  });

  it('hit-tests the attempt under a point, with a tolerance for thin bars', () => {
    const model = new TimelineModel();
    model.addHistory([attempt(1, { startedAt: 0, endedAt: 100 }), attempt(2, { startedAt: 200, endedAt: 201 })], true);
    expect(model.hitTest(0, 50, 0, 1_000)?.page).toBe(1);
    expect(model.hitTest(0, 150, 10, 1_000)).toBeUndefined();
    expect(model.hitTest(0, 204, 5, 1_000)?.page).toBe(2);
    expect(model.hitTest(1, 50, 5, 1_000)).toBeUndefined();
  });

  it('drops the oldest attempts past its limit and says older ones must be loaded again', () => {
    const model = new TimelineModel({ maxBars: 1_000 });
    model.addHistory(Array.from({ length: 1_200 }, (_, i) => attempt(i + 1, { startedAt: i * 10, endedAt: i * 10 + 5 })), true);
    expect(model.size).toBeLessThanOrEqual(1_000);
    expect(model.historyComplete).toBe(false);
    expect(model.get(1, 1)).toBeUndefined();
    expect(model.get(1_200, 1)).toBeDefined();
    expect(model.earliest).toBe(model.lane(0)!.bars[0]!.start);
  });

  it('moves an attempt to its new lane when its slot is corrected', () => {
    const model = new TimelineModel();
    model.applyActivity(activity(1, { running: [running(1, { slot: -1 })] }), 150);
    model.applyActivity(activity(2, { ended: [attempt(1, { slot: 3 })] }), 200);
    expect(model.lane(-1)!.bars).toHaveLength(0);
    expect(model.lane(3)!.bars.map((bar) => bar.page)).toEqual([1]);
  });
});
