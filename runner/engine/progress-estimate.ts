import { jobHasEnded, type JobState } from '../protocol.js';

/** Percent done and time left, from items done, the estimated total and the current rate. */
export interface ProgressEstimate {
  /** 0..100, or null without an estimate of the total. */
  percent: number | null;
  /** Seconds left at the current rate, or null when unknown. */
  etaSeconds: number | null;
}

export function estimateProgress(itemsDone: number, estimatedTotal: number | null, itemsPerSecond: number): ProgressEstimate {
  if (estimatedTotal === null || estimatedTotal <= 0) return { percent: null, etaSeconds: null };
  const percent = Math.min(100, (itemsDone / estimatedTotal) * 100);
  const left = Math.max(0, estimatedTotal - itemsDone);
  const etaSeconds = left === 0 ? 0 : itemsPerSecond > 0 ? left / itemsPerSecond : null;
  return { percent, etaSeconds };
}

/**
 * Percent done, or null without an estimate. A job that succeeded did all its work, whatever its
 * estimate said: 100, where a total estimated a little high would leave it at 98.1% for good.
 */
export function percentDone(state: JobState, itemsDone: number, estimatedTotal: number | null): number | null {
  if (estimatedTotal === null || estimatedTotal <= 0) return null;
  return state === 'succeeded' ? 100 : Math.min(100, (itemsDone / estimatedTotal) * 100);
}

/**
 * The ETA of a job that no longer runs in this process. An ended job (succeeded, failed,
 * cancelled) has nothing left to wait for, even when it did fewer items than its estimate: 0.
 * A job stopped here, resumable, has no rate to go on until it runs again: null. The rate of
 * its last seconds would otherwise still give a positive number after the end.
 */
export function etaOfStoppedJob(state: JobState): number | null {
  return jobHasEnded(state) ? 0 : null;
}
