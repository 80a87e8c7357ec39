/**
 * Live views of jobs for the panel and the tree view, wherever each job runs: a job run by this
 * Baton is heard directly; one run by another process (`baton run` in a terminal) is read from
 * the activity its owner publishes to the database about four times a second.
 */
import type { JobActivity, JobSummary } from '../protocol.js';
import { ownerIsLive, summarize, type JobRow, type JobStore } from '../store/job-store.js';
import { percentDone } from './progress-estimate.js';
import type { Job, SqlGuard } from './job.js';

/** How often the feed reads what other processes published. */
export const FEED_POLL_MS = 250;
const JOBS_POLL_MS = 1_000;
/** How far apart in time two pages' ends may reach the owner out of order (threads report them separately). */
const REORDER_MS = 2_000;

export type Unsubscribe = () => void;

/**
 * Told when the feed can no longer read the database (a BatonError such as DB_LOCKED or
 * DB_CORRUPT that names the file and the fix), and told `null` once it reads it again. The feed
 * keeps trying at its pace meanwhile: a lock passes, a file moved back can be read.
 */
export type ProblemListener = (problem: Error | null) => void;

/** Without a listener, a problem is a process warning rather than an exception thrown from a timer. */
const warnOfProblem: ProblemListener = (problem) => {
  if (problem) process.emitWarning(problem.message, { code: 'BATON_FEED' });
};

/** Runs a poll; reports the first failure of a run of them, and the first success after it. */
function reportingPoll(poll: () => void, sql: SqlGuard, onProblem: ProblemListener): () => void {
  let failing = false;
  return () => {
    try {
      sql(poll);
    } catch (error) {
      if (!failing) onProblem(error instanceof Error ? error : new Error(String(error)));
      failing = true;
      return;
    }
    if (failing) onProblem(null);
    failing = false;
  };
}

/** A job's activity when nobody publishes any: its recorded summary, with nothing running. */
export function restingActivity(row: JobRow, seq: number): JobActivity {
  const summary = summarize(row);
  return {
    jobId: row.id,
    seq,
    snapshot: {
      ...summary,
      throughput: { itemsPerSecond: 0, pagesPerSecond: 0 },
      itemsLive: summary.items,
      inFlight: 0,
      effectiveParallel: summary.limits.maxParallel,
      percent: percentDone(summary.state, summary.items, summary.estimatedTotalItems),
      etaSeconds: null,
    },
    running: [],
    runningDropped: 0,
    ended: [],
    endedDropped: 0,
  };
}

export class JobFeed {
  constructor(
    private readonly store: JobStore,
    /** The handle of a job this process runs, if it does. */
    private readonly localJob: (jobId: string) => Job | undefined,
    private readonly sql: SqlGuard = (work) => work(),
    /** The row with counters that hold (see Baton's counted: an orphaned job's are recounted). */
    private readonly counted: (row: JobRow) => JobRow = (row) => row,
  ) {}

  /**
   * Calls `listener` with the job's activity as it happens, starting at once with the latest
   * state. Throws JOB_NOT_FOUND for an unknown job, and DB_LOCKED or DB_CORRUPT when the first
   * read fails; later failures go to `onProblem`.
   */
  watch(jobId: string, listener: (activity: JobActivity) => void, onProblem: ProblemListener = warnOfProblem): Unsubscribe {
    const row = this.sql(() => this.store.require(jobId));
    let lastSeq = -1;
    let lastRow = '';
    /** The latest end time delivered, and the attempts delivered that ended within REORDER_MS of it. */
    let lastEndedAt = 0;
    const delivered = new Map<string, number>();
    let listening: Job | undefined;
    const onActivity = (activity: JobActivity) => {
      lastSeq = activity.seq;
      for (const attempt of activity.ended) {
        delivered.set(`${attempt.page}/${attempt.attempt}`, attempt.endedAt!);
        if (attempt.endedAt! > lastEndedAt) lastEndedAt = attempt.endedAt!;
      }
      for (const [key, endedAt] of delivered) if (endedAt < lastEndedAt - REORDER_MS) delivered.delete(key);
      listener(activity);
    };
    /** Activities published between two reads are gone; the attempts they ended are in the store. */
    const withMissed = (activity: JobActivity): JobActivity => {
      if (lastSeq < 0 || activity.seq <= lastSeq + 1) return activity;
      const inThis = new Set(activity.ended.map((a) => `${a.page}/${a.attempt}`));
      const missed = this.store
        .attempts(row.no, { endedAfter: lastEndedAt - REORDER_MS, limit: 10_000 })
        .filter((a) => a.outcome !== 'running' && !inThis.has(`${a.page}/${a.attempt}`) && !delivered.has(`${a.page}/${a.attempt}`))
        .sort((a, b) => a.endedAt! - b.endedAt!);
      return { ...activity, ended: [...missed, ...activity.ended] };
    };
    const poll = () => {
      const local = this.localJob(jobId);
      if (local?.active) {
        if (listening !== local) {
          listening?.off('activity', onActivity);
          listening = local;
          local.on('activity', onActivity);
        }
        return;
      }
      listening?.off('activity', onActivity);
      listening = undefined;
      const current = this.store.getByNo(row.no);
      const ownerLive = ownerIsLive(current);
      const live = this.store.readLive(row.no, lastSeq);
      if (live) {
        const activity = JSON.parse(live.activity) as JobActivity;
        // Whatever the live owner publishes; once it is gone, only its last word (live: false),
        // not the leftovers of an owner that died mid-run.
        if (ownerLive || !activity.snapshot.live) {
          onActivity(withMissed(activity));
          // The owner's last word already tells the row's state: not again as a resting one.
          // (Read again: the commit that wrote it may have come between the two reads above.)
          if (!activity.snapshot.live) lastRow = JSON.stringify(summarize(this.counted(this.store.getByNo(row.no))));
          return;
        }
      }
      // Its owner is between two writes: wait for the next rather than report it idle.
      if (ownerLive) return;
      // Nobody runs it: report its recorded state when that changes.
      const resting = this.counted(current);
      const key = JSON.stringify(summarize(resting));
      if (key !== lastRow) {
        lastRow = key;
        const seq = Math.max(lastSeq, live?.seq ?? this.store.readLive(row.no, -1)?.seq ?? 0);
        onActivity(restingActivity(resting, seq));
      }
    };
    this.sql(poll);
    const timer = setInterval(reportingPoll(poll, this.sql, onProblem), FEED_POLL_MS);
    timer.unref();
    return () => {
      clearInterval(timer);
      listening?.off('activity', onActivity);
    };
  }

  /**
   * Calls `listener` with every job's summary whenever any of them changes, at once first. A
   * failed first read throws; later ones go to `onProblem`.
   */
  watchJobs(listener: (jobs: JobSummary[]) => void, onProblem: ProblemListener = warnOfProblem): Unsubscribe {
    let last = '';
    const poll = () => {
      const jobs = this.store.list().map((row) => {
        const local = this.localJob(row.id);
        if (local?.active) return local.snapshot();
        const live = ownerIsLive(row) ? this.store.readLive(row.no, -1) : undefined;
        return live ? (JSON.parse(live.activity) as JobActivity).snapshot : summarize(this.counted(row));
      });
      const key = JSON.stringify(jobs);
      if (key !== last) {
        last = key;
        listener(jobs);
      }
    };
    this.sql(poll);
    const timer = setInterval(reportingPoll(poll, this.sql, onProblem), JOBS_POLL_MS);
    timer.unref();
    return () => clearInterval(timer);
  }
}
