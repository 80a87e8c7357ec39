/**
 * What a failed runner request says besides its message (RunnerErrorData in runner/protocol.ts):
 * where in the user's code the problem is. Pure: commands.ts offers to go there.
 */
import type { RunnerErrorData } from '../runner/protocol.js';

export type ErrorLocation = NonNullable<RunnerErrorData['location']>;

/** The location a runner request's error names, if it names a valid one. */
export function errorLocation(error: unknown): ErrorLocation | null {
  if (typeof error !== 'object' || error === null) return null;
  const location = (error as { data?: Partial<RunnerErrorData> }).data?.location;
  if (typeof location !== 'object' || location === null) return null;
  const { file, line, column } = location;
  if (typeof file !== 'string' || file === '' || !isPositive(line) || !isPositive(column)) return null;
  return { file, line, column };
}

function isPositive(value: unknown): value is number {
  return typeof value === 'number' && Number.isInteger(value) && value >= 1;
}
