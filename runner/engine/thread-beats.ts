/**
 * Which worker threads are blocked. Each thread's event loop bumps a counter every BEAT_MS
 * (worker.ts); the scheduler reads the counters at its ticks and notes them here. A thread whose
 * count has not moved for BLOCKED_AFTER_MS is blocked: a page on it never yields (a busy loop),
 * and its other pages, late, may only be waiting for it (see sortBlame in job-runner.ts).
 */

/** How long a thread's count may stay still before the thread is called blocked: five beats. */
export const BLOCKED_AFTER_MS = 250;

export class ThreadBeats {
  /** Per thread: its count when last read, and when that count was first seen. */
  private readonly seen = new Map<number, { beats: number; since: number }>();

  constructor(private readonly blockedAfterMs = BLOCKED_AFTER_MS) {}

  /** The thread's count, read at `now`. */
  note(threadId: number, beats: number, now: number): void {
    if (this.seen.get(threadId)?.beats !== beats) this.seen.set(threadId, { beats, since: now });
  }

  /** Whether the thread's count has stayed still for blockedAfterMs; never before its count was first read. */
  isBlocked(threadId: number, now: number): boolean {
    const seen = this.seen.get(threadId);
    return seen !== undefined && now - seen.since >= this.blockedAfterMs;
  }

  /** A thread that stopped: its replacement counts afresh. */
  forget(threadId: number): void {
    this.seen.delete(threadId);
  }
}
