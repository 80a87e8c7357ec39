/**
 * How busy this thread's event loop has been over the last window: measured at most once a
 * window, so it is cheap to ask on every event.
 */
import { performance } from 'node:perf_hooks';

/** The share of the last `windowMs` (0 to 1) this thread's event loop was busy. */
export function busyShare(windowMs: number): (now?: number) => number {
  let mark = performance.eventLoopUtilization();
  let at = performance.now();
  let share = 0;
  return (now = performance.now()) => {
    if (now - at >= windowMs) {
      const next = performance.eventLoopUtilization();
      share = performance.eventLoopUtilization(next, mark).utilization;
      mark = next;
      at = now;
    }
    return share;
  };
}

/** Whether this thread's event loop was busy more than `share` of the last `windowMs`. */
export function busyMoreThan(share: number, windowMs: number): (now?: number) => boolean {
  const load = busyShare(windowMs);
  return (now) => load(now) > share;
}

/**
 * A yes/no with hysteresis: it turns true above `high` and false again only below `low`, so that
 * a policy it switches does not flap while the load sits near one bar, or when the switch itself
 * moves the load.
 */
export function hysteresis(high: number, low: number): (value: number) => boolean {
  let on = false;
  return (value) => {
    if (value > high) on = true;
    else if (value < low) on = false;
    return on;
  };
}
