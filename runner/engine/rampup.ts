/** Rampup: start with `from` pages in flight and add `step` every `everyMs`, up to maxParallel. */
export interface Rampup {
  from: number;
  step: number;
  everyMs: number;
}

/** The parallelism allowed `elapsedMs` after the job started. */
export function rampedParallel(maxParallel: number, rampup: Rampup | undefined, elapsedMs: number): number {
  if (!rampup) return maxParallel;
  const steps = Math.floor(Math.max(0, elapsedMs) / rampup.everyMs);
  return Math.min(maxParallel, rampup.from + steps * rampup.step);
}

/** Milliseconds until the next rampup step, or null when the ramp is complete. */
export function msUntilNextRampStep(maxParallel: number, rampup: Rampup | undefined, elapsedMs: number): number | null {
  if (!rampup || rampedParallel(maxParallel, rampup, elapsedMs) >= maxParallel) return null;
  const elapsed = Math.max(0, elapsedMs);
  return rampup.everyMs - (elapsed % rampup.everyMs);
}

/** Reads FROM:STEP:MS, as `baton run --rampup` takes it. */
export function parseRampup(text: string): Rampup {
  const parts = text.split(':').map(Number);
  if (parts.length !== 3 || parts.some((n) => !Number.isFinite(n))) {
    throw new Error(`--rampup must be FROM:STEP:MS, such as 1:1:2000, got ${JSON.stringify(text)}`);
  }
  const [from, step, everyMs] = parts as [number, number, number];
  return { from, step, everyMs };
}
