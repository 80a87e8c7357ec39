/**
 * The contract shared by the runner, the CLI's --json output, the VS Code extension and the
 * webview. Types only: every side imports them from here and never redeclares them.
 */

export type JobState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

/** A page's state. A page waiting to be retried is 'queued' with a later runAfter. */
export type PageState = 'queued' | 'running' | 'succeeded' | 'failed';

/**
 * How one attempt of a page ended. 'stuck': it passed pageTimeoutMs. 'interrupted': Baton
 * stopped it (a crash, a thread terminated for another page, a stop at once). 'cancelled': the
 * job was cancelled while it ran.
 */
export type AttemptOutcome = 'running' | 'succeeded' | 'failed' | 'stuck' | 'interrupted' | 'cancelled';

export interface RateLimitSetting {
  itemsPerSecond?: number;
  pagesPerSecond?: number;
}

export interface JobLimits {
  maxParallel: number;
  rateLimit?: RateLimitSetting;
}

export interface PageCounts {
  total: number;
  queued: number;
  running: number;
  succeeded: number;
  failed: number;
}

/** What `baton.jobs()`, `baton status --json` and `update` events carry for every job. */
export interface JobSummary {
  jobId: string;
  /** The processor's name. */
  name: string;
  /** The processor's source file, absolute. */
  processor: string;
  state: JobState;
  /** A process is running this job now (its heartbeat is fresh). */
  live: boolean;
  pages: PageCounts;
  /** Items reported by pages that succeeded. */
  items: number;
  /** Page attempts started, retries included. */
  attempts: number;
  /** The most pages that ran at once. */
  maxInFlight: number;
  limits: JobLimits;
  paused: boolean;
  /** Estimated total items, when the processor gives estimateTotalItems. */
  estimatedTotalItems: number | null;
  /** A job-level error no caller could receive, such as a retry-failed whose rebuild failed. */
  lastError: string | null;
  /** ISO 8601. */
  startedAt: string;
  endedAt?: string;
}

/** A live view of a running job: the summary plus rates and estimates. */
export interface JobSnapshot extends JobSummary {
  /** Items and pages per second over the last few seconds. */
  throughput: { itemsPerSecond: number; pagesPerSecond: number };
  /** Items done, including those reported so far by pages still running. */
  itemsLive: number;
  /** Pages running now. */
  inFlight: number;
  /** The parallelism allowed now: maxParallel, or less during rampup. */
  effectiveParallel: number;
  /** 0..100 when the total is estimated. */
  percent: number | null;
  /** Seconds left at the current rate. */
  etaSeconds: number | null;
}

/** A page that failed for good, with its last error. */
export interface PageFailureInfo {
  page: number;
  cursor: unknown;
  size: number | null;
  attempts: number;
  outcome: AttemptOutcome;
  error: { name: string; message: string; stack: string | null };
  endedAt: string;
}

/** A page as recorded: its cursor, where it came from and where it stands. */
export interface PageRecord {
  page: number;
  /** The page that enqueued it, or null for an initial page. */
  parent: number | null;
  cursor: unknown;
  size: number | null;
  state: PageState;
  attempts: number;
  items: number | null;
  startedAt: number | null;
  endedAt: number | null;
}

/** One attempt of one page, for the timeline and the failures view. Times in ms since the epoch. */
export interface AttemptInfo {
  page: number;
  attempt: number;
  /** The lane it ran in: the lowest slot free when it started (-1: not known, it ran in a process that died). */
  slot: number;
  outcome: AttemptOutcome;
  /** The page's cursor. */
  cursor: unknown;
  startedAt: number;
  /** null while it runs. */
  endedAt: number | null;
  items: number | null;
  error: { name: string; message: string; stack: string | null } | null;
}

/**
 * What happened in a job since the last activity: sent about four times a second while it
 * runs, by the process that runs it, in process and through the database alike.
 */
export interface JobActivity {
  jobId: string;
  /** Increases with every activity of this job; a reader that sees a gap missed some. */
  seq: number;
  snapshot: JobSnapshot;
  /** Every attempt running now (at most 5,000; see runningDropped). */
  running: AttemptInfo[];
  runningDropped: number;
  /** Attempts that ended since the previous activity, newest last (at most 2,000; see endedDropped). */
  ended: AttemptInfo[];
  endedDropped: number;
}

export interface LogLine {
  page: number;
  attempt: number;
  at: number;
  level: 'info' | 'warn' | 'error';
  message: string;
}

/** What `baton status <job> --json` prints. */
export interface JobStatus extends JobSummary {
  failures: PageFailureInfo[];
}
