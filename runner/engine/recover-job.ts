/**
 * Before a job runs again in a new process: the pages its last owner left 'running' (a crash,
 * kill -9, a stop at once) are settled by the retry mode, and the counters are recounted.
 */
import type { SerializedError } from '../errors.js';
import type { TaskPage } from '../pool/worker-messages.js';
import type { SqliteDatabase } from '../store/database.js';
import { jobHasEnded } from '../protocol.js';
import { ownerIsLive, type JobCounters, type JobRow, type JobStore } from '../store/job-store.js';
import { childLogKey, foldChildLogs, unfoldedChildren } from '../store/child-log.js';
import type { PageStore } from '../store/page-store.js';
import type { RetryPolicy } from './retry-policy.js';

/** Slot recorded for an attempt whose slot is not known (it ran in a process that died). */
export const UNKNOWN_SLOT = -1;

export interface Recovery {
  /** Pages that were running and run again (at-least-once). */
  requeued: number;
  /** Pages that were running and are failed as interrupted (at-most-once). */
  failed: number;
  /** Those pages, for onPageFailed: they gave up, as a page that fails in a run does. */
  gaveUp: GaveUpPage[];
  /** Child logs now copied into the database: to delete once the caller's transaction commits. */
  folded: string[];
}

/** A page that gave up, waiting for its onPageFailed call. */
export interface GaveUpPage {
  page: TaskPage;
  error: SerializedError;
}

/** The job's counters as its pages tell them: the row's are written every few seconds. */
export function countPages(pages: PageStore, row: JobRow): JobCounters {
  const counters: JobCounters = {
    pages_total: 0,
    pages_queued: 0,
    pages_running: 0,
    pages_succeeded: 0,
    pages_failed: 0,
    items: 0,
    attempts: pages.attemptTotal(),
    max_in_flight: row.max_in_flight,
    next_page: Math.max(row.next_page, pages.maxPageNo() + 1),
  };
  for (const { state, n, items } of pages.counts()) {
    counters.pages_total += n;
    if (state === 'queued') counters.pages_queued += n;
    else if (state === 'succeeded') {
      counters.pages_succeeded += n;
      counters.items += items;
    } else if (state === 'failed') counters.pages_failed += n;
    else counters.pages_running += n;
  }
  return counters;
}

/**
 * The counters of a job whose last owner died (isOrphaned): its pages, and the children its
 * threads logged in their last moments, as the running or queued pages a resume writes.
 */
export function countOrphanPages(pages: PageStore, row: JobRow, logDir: string): JobCounters {
  const logged = unfoldedChildren(pages, logDir, childLogKey(row));
  const counted = countPages(pages, row);
  return {
    ...counted,
    pages_total: counted.pages_total + logged.running + logged.queued,
    pages_running: counted.pages_running + logged.running,
    pages_queued: counted.pages_queued + logged.queued,
    next_page: Math.max(counted.next_page, logged.lastNo + 1),
  };
}

/**
 * Whether the job's last owner died while it ran (kill -9, a crash): its row still names that
 * owner, and its counters are as old as its last heartbeat (up to HEARTBEAT_EVERY_MS).
 */
export function isOrphaned(row: JobRow, now = Date.now()): boolean {
  return row.owner !== null && !jobHasEnded(row.state) && !ownerIsLive(row, now);
}

/**
 * Settles the pages the job's last owner left running, once the children its threads logged are
 * in the database (child-log.ts: `logDir`). `lastSeenAt` is when that owner was last known to run
 * it (its heartbeat, read before this process claimed the job): the attempts it cut off ended
 * then, not at this recovery, which may come hours later.
 */
export function recoverJob(db: SqliteDatabase, jobs: JobStore, pages: PageStore, row: JobRow, policy: RetryPolicy, lastSeenAt: number | null, logDir: string, now = Date.now()): Recovery {
  const stoppedAt = Math.min(lastSeenAt ?? now, now);
  return db.transaction((): Recovery => {
    // A logged child is a page like any other: it ran (it is 'running') or waited (queued).
    const folded = foldChildLogs(pages, logDir, childLogKey(row));
    const running = pages.running();
    const interrupted = {
      name: 'Interrupted',
      message: policy.mode === 'at-most-once'
        ? 'the runner stopped while this page ran; at-most-once: not run again'
        : 'the runner stopped while this page ran; it runs again',
    };
    for (const page of running) {
      pages.recordAttempt({
        page: page.no,
        attempt: page.attempts,
        slot: UNKNOWN_SLOT,
        outcome: 'interrupted',
        startedAt: page.startedAt ?? stoppedAt,
        // A page that started after the last heartbeat ran at least until it started.
        endedAt: Math.max(stoppedAt, page.startedAt ?? stoppedAt),
        items: null,
        errorName: interrupted.name,
        errorMessage: interrupted.message,
        errorStack: null,
      });
    }
    const nos = running.map((page) => page.no);
    if (policy.mode === 'at-most-once') pages.failPages(nos, stoppedAt);
    else pages.requeuePages(nos);
    // Keep chains from forking: a page that runs again matches the enqueues already committed.
    pages.adoptChildren();

    jobs.writeCounters(row.no, countPages(pages, row), now);
    if (policy.mode !== 'at-most-once') return { requeued: nos.length, failed: 0, gaveUp: [], folded };
    const gaveUp = running.map((page): GaveUpPage => ({ page: [page.no, page.attempts, page.cursor, page.size, page.children], error: interrupted }));
    return { requeued: 0, failed: nos.length, gaveUp, folded };
  })();
}
