/**
 * A job's start can take a while before its first progress line: the processor is bundled, and
 * `initialPages` and `estimateTotalItems` run (a COUNT(*) over fifty million rows takes seconds).
 * Silence meanwhile reads as a hang, so a line says what is going on once it lasts.
 */
import type { Writable } from 'node:stream';

/** How long a start may take before the line is written. */
export const SLOW_START_MS = 1_000;

/** Resolves as `work` does; writes `message` to `out` if `work` is still pending after `afterMs`. */
export async function withSlowNotice<T>(work: Promise<T>, message: string, out: Writable = process.stderr, afterMs = SLOW_START_MS): Promise<T> {
  const timer = setTimeout(() => out.write(`${message}\n`), afterMs);
  try {
    return await work;
  } finally {
    clearTimeout(timer);
  }
}
