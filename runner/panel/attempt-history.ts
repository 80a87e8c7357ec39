/** Older attempts for a timeline that pans back. */
import type { Baton } from '../engine/baton.js';
import type { AttemptInfo } from '../protocol.js';

export interface AttemptPage {
  /** Attempts that started before the time, newest first. */
  attempts: AttemptInfo[];
  /** No attempt older than these exists. */
  complete: boolean;
}

/** At most `limit` attempts of the job that started before `before`, newest first. */
export async function attemptsBefore(baton: Baton, jobId: string, before: number, limit: number): Promise<AttemptPage> {
  // One more than asked tells whether anything older is left.
  const attempts = await baton.attempts(jobId, { startedBefore: before, limit: limit + 1 });
  return { attempts: attempts.slice(0, limit), complete: attempts.length <= limit };
}
