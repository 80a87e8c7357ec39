/**
 * The contract shared by the runner, the CLI's --json output, the VS Code extension and the
 * webview. Types, and the one predicate on them every side needs: every side imports them from
 * here and never redeclares them.
 */

export type JobState = 'queued' | 'running' | 'paused' | 'succeeded' | 'failed' | 'cancelled';

/** Whether a job in this state has ended for good; a job in any other state can still run. */
export function jobHasEnded(state: JobState): boolean {
  return state === 'succeeded' || state === 'failed' || state === 'cancelled';
}

/**
 * The most pages in flight a job may be given, wherever it is set (API, CLI, panel, VS Code): more
 * than any process holds, since each is a task, a timer and a row in memory. A value past it is
 * a typo (--parallel 1e9), not a setting.
 */
export const MAX_PARALLEL = 1_000_000;

/** The highest rate limit the panel and VS Code accept, in items or pages per second. */
export const MAX_RATE = 1e9;

/**
 * The close code `baton ui` gives a WebSocket from its own page whose token is not its own (it
 * was restarted with a new token): the page stops retrying and says to open the new address.
 */
export const UI_TOKEN_REFUSED = 4401;

/**
 * How a job's state is shown: a job whose row says running but that no process runs (it was
 * killed, or its machine stopped) is 'stopped'.
 */
export function shownState(job: { state: JobState; live: boolean }): JobState | 'stopped' {
  return job.state === 'running' && !job.live ? 'stopped' : job.state;
}

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

/** Whether two sets of limits are the same (no rate limit and an absent one alike). */
export function sameLimits(a: JobLimits, b: JobLimits): boolean {
  return (
    a.maxParallel === b.maxParallel &&
    a.rateLimit?.itemsPerSecond === b.rateLimit?.itemsPerSecond &&
    a.rateLimit?.pagesPerSecond === b.rateLimit?.pagesPerSecond
  );
}

/**
 * Who reads a message about the database file, which decides how its fix names the file to use:
 * Baton.open's `db` option, the CLI's `--db`, or the extension's `baton.database` setting.
 */
export type DatabaseAudience = 'api' | 'cli' | 'vscode';

/** How the runner words the fix "use another file": for the API, since that is where it is thrown. */
export const OTHER_DATABASE_FIX = "set Baton.open's db to";

const DATABASE_FIX: Record<DatabaseAudience, string> = {
  api: OTHER_DATABASE_FIX,
  cli: 'pass --db with',
  vscode: 'set baton.database to',
};

/** A database error's fix as its reader gives the file: "pass --db with another file" on the command line. */
export function wordDatabaseFix(message: string, audience: DatabaseAudience): string {
  return message.replaceAll(OTHER_DATABASE_FIX, DATABASE_FIX[audience]);
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
  /** The process running this job now: present while `live`. */
  runBy?: JobProcess;
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
  /**
   * ISO 8601: when a process last ran the job (its last heartbeat, or when it let the job go),
   * for a job that no process runs now and that has not ended. Absent otherwise.
   */
  lastRunAt?: string;
}

/** The process that runs a job: its id, on the host named. */
export interface JobProcess {
  pid: number;
  host: string;
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
  /**
   * The page runs again after this attempt: a retry to come or already made, or a run after an
   * interruption. false while it runs, and for the page's last attempt.
   */
  runsAgain: boolean;
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

// ---------------------------------------------------------------------------------------------
// The panel: one webview bundle, two hosts. In VS Code it talks to the extension by postMessage
// (the extension relays to the runner server); in a browser it talks to `baton ui` over a
// WebSocket. The same messages either way.

/** A control's outcome, for the panel to show errors. */
export interface PanelResult {
  type: 'result';
  requestId: number;
  ok: boolean;
  /** Why it failed, in one line. */
  error?: string;
}

/** Host to panel. */
export type PanelMessage =
  /** Every job, for the job picker; sent at once and whenever any changes. */
  | { type: 'jobs'; jobs: JobSummary[] }
  /** The selected job's activity: snapshot, running attempts, attempts ended since the last one. */
  | { type: 'activity'; activity: JobActivity }
  /** Earlier attempts of the selected job, newest first: on selection and when the timeline pans back. */
  | { type: 'history'; jobId: string; attempts: AttemptInfo[]; complete: boolean }
  /** The selected job's failed pages; sent on selection and when its failed count changes. */
  | { type: 'failures'; jobId: string; failures: PageFailureInfo[] }
  /** One page's attempts and log lines, asked for with 'openPage'. */
  | { type: 'pageDetail'; jobId: string; page: number; attempts: AttemptInfo[]; logs: LogLine[] }
  | PanelResult
  /** The host cannot read the database (locked, damaged): why, in one line; `null` once it can again. */
  | { type: 'problem'; message: string | null }
  /** The host's link to the runner: the panel shows it and keeps its state while reconnecting. */
  | { type: 'connection'; state: 'connected' | 'reconnecting'; message?: string };

/** Panel to host. Hosts validate every one (validatePanelRequest) before acting on it. */
export type PanelRequest =
  /** The panel has loaded (or reloaded); `jobId` is the job it showed before, if any. */
  | { type: 'ready'; jobId: string | null }
  | { type: 'select'; jobId: string }
  | { type: 'pause'; jobId: string; requestId: number }
  | { type: 'resume'; jobId: string; requestId: number }
  /** Confirmed by the user in the panel before it is sent. */
  | { type: 'cancel'; jobId: string; requestId: number }
  /** maxParallel and/or rateLimit; rateLimit null removes it. */
  | { type: 'setLimits'; jobId: string; maxParallel?: number; rateLimit?: RateLimitSetting | null; requestId: number }
  /** Every failed page, or only `page`. */
  | { type: 'retryFailed'; jobId: string; page?: number; requestId: number }
  /** Attempts that started before `before` (ms since the epoch), at most `limit`, for panning back. */
  | { type: 'loadHistory'; jobId: string; before: number; limit: number }
  | { type: 'openPage'; jobId: string; page: number };

// ---------------------------------------------------------------------------------------------
// The runner server: a Node process the VS Code extension starts with vscode-languageclient
// (JSON-RPC over stdio). Custom methods are named baton/...; the extension never runs the
// engine itself.

/** A job to start, as the extension asks for it (paths absolute). */
export interface StartJobParams {
  processor: string;
  args?: unknown;
  jobId?: string;
  maxParallel?: number;
  rateLimit?: RateLimitSetting;
  threads?: number;
}

/**
 * What a failed request carries besides its message (which is for the user as is): the
 * BatonError code when it is one, and where in the user's code the problem is when Baton knows
 * (a processor that does not build or load: an absolute path, line and column from 1).
 */
export interface RunnerErrorData {
  code: string | null;
  location?: { file: string; line: number; column: number };
}

/** What the extension may ask of the runner server: method name → params and result. */
export interface RunnerRequests {
  /** Every job in the database. */
  'baton/listJobs': { params: Record<string, never>; result: JobSummary[] };
  /** Starts a job in the runner server's process. */
  'baton/startJob': { params: StartJobParams; result: { jobId: string } };
  /** Pauses a job wherever it runs. */
  'baton/pauseJob': { params: { jobId: string }; result: null };
  /** Unpauses a live job, or runs a stopped one in the runner server. */
  'baton/resumeJob': { params: { jobId: string }; result: null };
  /** Cancels a job wherever it runs. */
  'baton/cancelJob': { params: { jobId: string }; result: null };
  /** Runs failed pages again (all, or one), rebuilding the processor first. */
  'baton/retryFailed': { params: { jobId: string; page?: number }; result: { requeued: number } };
  /** Changes limits of a job wherever it runs. */
  'baton/setLimits': { params: { jobId: string; maxParallel?: number; rateLimit?: RateLimitSetting | null }; result: null };
  /** Opens a panel session in the runner: its messages come back as baton/panelMessage. */
  'baton/openPanel': { params: { panelId: string }; result: null };
  /** A panel request from a webview, relayed by the extension as it came (the runner validates it). */
  'baton/panelRequest': { params: { panelId: string; request: unknown }; result: null };
  /** The webview is gone. */
  'baton/closePanel': { params: { panelId: string }; result: null };
}

/** Notifications the runner server sends to the extension. */
export interface RunnerNotifications {
  /** Every job, whenever any changes (jobs run from a terminal included): tree view and status bar. */
  'baton/jobsChanged': { jobs: JobSummary[] };
  /** A message for one panel session, to post to its webview as is. */
  'baton/panelMessage': { panelId: string; message: PanelMessage };
}
