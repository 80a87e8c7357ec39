/**
 * Whether this thread's event loop was busy more than `share` of the last `windowMs`: measured
 * at most once a window, so it is cheap to ask on every event.
 */
import { performance } from 'node:perf_hooks';

export function busyMoreThan(share: number, windowMs: number): (now?: number) => boolean {
  let mark = performance.eventLoopUtilization();
  let at = performance.now();
  let busy = false;
  return (now = performance.now()) => {
    if (now - at >= windowMs) {
      const next = performance.eventLoopUtilization();
      busy = performance.eventLoopUtilization(next, mark).utilization > share;
      mark = next;
      at = now;
    }
    return busy;
  };
}
