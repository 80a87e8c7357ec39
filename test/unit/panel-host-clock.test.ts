import { describe, expect, it } from 'vitest';
import type { AttemptInfo, JobActivity } from '../../runner/protocol.js';
import { HostClock } from '../../webview/host-clock.js';

function activity(live: boolean, endedAt: number[], runningFrom: number[] = []): JobActivity {
  const attempt = (startedAt: number, end: number | null): AttemptInfo => ({ page: 1, attempt: 1, slot: 0, outcome: end === null ? 'running' : 'succeeded', cursor: null, startedAt, endedAt: end, items: 1, error: null, runsAgain: false });
  return {
    jobId: 'j',
    seq: 1,
    snapshot: { live } as JobActivity['snapshot'],
    running: runningFrom.map((t) => attempt(t, null)),
    runningDropped: 0,
    ended: endedAt.map((t) => attempt(t - 10, t)),
    endedDropped: 0,
  };
}

describe("the panel's estimate of the host's clock", () => {
  it('is the local clock until a fresh time is heard', () => {
    expect(new HostClock().now(1_000_000)).toBe(1_000_000);
  });

  it('learns a host clock ahead of the local one from the ends a live activity carries', () => {
    const clock = new HostClock();
    clock.noteActivity(activity(true, [1_030_000, 1_029_900]), 1_000_000);
    expect(clock.now(1_000_500)).toBe(1_030_500);
  });

  it('takes no "now" from old times: a running attempt\'s start, or the ends an ended or stopped job last published', () => {
    const clock = new HostClock();
    // A page that has run for five minutes, and a job whose process let it go a minute ago.
    clock.noteActivity(activity(true, [], [700_000]), 1_000_000);
    clock.noteActivity(activity(false, [940_000]), 1_000_000);
    expect(clock.now(1_000_000)).toBe(1_000_000);
  });
});
