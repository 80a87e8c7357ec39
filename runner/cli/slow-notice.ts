/**
 * A job's start can take a while before its first progress line: the processor is bundled, and
 * `initialPages` and `estimateTotalItems` run (a COUNT(*) over fifty million rows takes seconds).
 * Silence meanwhile reads as a hang, so a line says what is going on once it lasts.
 */
import type { Writable } from 'node:stream';

/** How long a start may take before the line is written. */
export const SLOW_START_MS = 1_000;
/** How long before a second line says what may hang, and how to get out. */
export const STALLED_START_MS = 15_000;

/** What a start still pending after STALLED_START_MS may be waiting for: code of the user's that never settles. */
export function stalledNote(what: string, processor: string): string {
  return `still ${what} after ${STALLED_START_MS / 1000}s: ${processor}'s top-level code (a connect that never ends?), its initialPages or its estimateTotalItems has not settled; Ctrl-C stops, and no job starts`;
}

/**
 * Resolves as `work` does; writes `message` to `out` if `work` is still pending after `afterMs`,
 * and `stalled` (when given) if it still is after STALLED_START_MS.
 */
export async function withSlowNotice<T>(work: Promise<T>, message: string, out: Writable = process.stderr, afterMs = SLOW_START_MS, stalled?: string): Promise<T> {
  const timers = [setTimeout(() => out.write(`${message}\n`), afterMs)];
  if (stalled !== undefined) timers.push(setTimeout(() => out.write(`${stalled}\n`), STALLED_START_MS));
  try {
    return await work;
  } finally {
    for (const timer of timers) clearTimeout(timer);
  }
}
