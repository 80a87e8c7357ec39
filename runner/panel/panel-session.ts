/**
 * One open panel, whatever hosts it: the VS Code runner server and `baton ui` each create a
 * session per webview and pass it the webview's requests as they came. The session checks
 * them, follows the selected job and the job list, and answers with PanelMessages.
 */
import type { Baton } from '../engine/baton.js';
import type { Unsubscribe } from '../engine/job-feed.js';
import { checkRateLimit } from '../engine/options.js';
import { isBatonError } from '../errors.js';
import { wordDatabaseFix, type AttemptInfo, type DatabaseAudience, type JobActivity, type JobSummary, type PanelMessage, type PanelRequest } from '../protocol.js';
import { attemptsBefore } from './attempt-history.js';
import { requestIdOfInvalid, validatePanelRequest } from './validate-panel-request.js';

/** Attempts sent when a job is selected: enough for several minutes of a busy timeline. */
export const INITIAL_HISTORY = 5_000;
/** Most ended attempts read back from the database to fill one gap in a job's activity. */
const GAP_FILL_LIMIT = 5_000;
/** A job's failures are sent again at most this often while its failed count moves. */
const FAILURES_MIN_INTERVAL_MS = 1_000;
/** Gap fills read attempts that ended this long before the last one heard, to be safe. */
const GAP_MARGIN_MS = 1_000;

type Control = Extract<PanelRequest, { requestId: number }>;

export class PanelSession {
  private disposed = false;
  private selected: string | null = null;
  /** Bumped on every selection, so that answers for an earlier one are dropped. */
  private generation = 0;
  private unwatchJob: Unsubscribe | undefined;
  private unwatchJobs: Unsubscribe | undefined;
  /** Activities are forwarded one at a time, in order, gap fills included. */
  private forwarding: Promise<void> = Promise.resolve();
  private lastSeq = -1;
  private lastLive = false;
  private lastEndedAt = 0;
  private lastFailed = -1;
  /** What each feed last said of the database, and what the panel shows. */
  private readonly problems: Record<'jobs' | 'job', string | null> = { jobs: null, job: null };
  private shownProblem: string | null = null;
  private failuresSentAt = 0;
  private failuresTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly baton: Baton,
    private readonly send: (message: PanelMessage) => void,
    /** Who opened the panel: a problem with the database names the fix as they give the file. */
    private readonly audience: DatabaseAudience,
  ) {}

  /**
   * Acts on one request from the panel. An invalid request is answered with an error result
   * when it carries a requestId, and ignored otherwise. Never throws.
   */
  async handle(request: unknown): Promise<void> {
    if (this.disposed) return;
    const checked = validatePanelRequest(request);
    if (!checked.ok) {
      const requestId = requestIdOfInvalid(request);
      if (requestId !== undefined) this.post({ type: 'result', requestId, ok: false, error: checked.error });
      return;
    }
    const valid = checked.request;
    try {
      await this.dispatch(valid);
    } catch (error) {
      if ('requestId' in valid) this.post({ type: 'result', requestId: valid.requestId, ok: false, error: oneLine(error) });
    }
  }

  /** Stops following jobs; nothing is sent after this. */
  dispose(): void {
    this.disposed = true;
    this.unwatchJob?.();
    this.unwatchJob = undefined;
    this.unwatchJobs?.();
    this.unwatchJobs = undefined;
    clearTimeout(this.failuresTimer);
  }

  private post(message: PanelMessage): void {
    if (!this.disposed) this.send(message);
  }

  private async dispatch(request: PanelRequest): Promise<void> {
    switch (request.type) {
      case 'ready':
        return this.ready(request.jobId);
      case 'select':
        return this.select(request.jobId);
      case 'loadHistory': {
        const page = await attemptsBefore(this.baton, request.jobId, request.before, request.limit);
        if (request.jobId === this.selected) {
          this.post({ type: 'history', jobId: request.jobId, attempts: page.attempts, complete: page.complete });
        }
        return;
      }
      case 'openPage': {
        const attempts = await this.baton.attempts(request.jobId, { page: request.page, limit: 100 });
        // A page the database does not hold yet (just enqueued) has no lines so far.
        const logs = await this.baton.logs(request.jobId, request.page).catch((error: unknown) => {
          if (isBatonError(error) && error.code === 'INVALID_OPTION') return [];
          throw error;
        });
        this.post({ type: 'pageDetail', jobId: request.jobId, page: request.page, attempts, logs: logs.slice(-2_000) });
        return;
      }
      default:
        return this.control(request);
    }
  }

  private async control(request: Control): Promise<void> {
    const { jobId } = request;
    switch (request.type) {
      case 'pause':
        await this.baton.pause(jobId);
        break;
      case 'resume':
        if (this.baton.isLive(jobId)) {
          await this.baton.unpause(jobId);
        } else {
          // Nobody runs it: run it in this process, as `baton resume` would.
          const job = await this.baton.resume(jobId);
          await job.resume();
        }
        break;
      case 'cancel':
        await this.baton.cancel(jobId);
        break;
      case 'setLimits':
        await this.baton.setLimits(jobId, {
          ...(request.maxParallel !== undefined ? { maxParallel: request.maxParallel } : {}),
          ...(request.rateLimit !== undefined ? { rateLimit: checkRateLimit(request.rateLimit) } : {}),
        });
        break;
      case 'retryFailed': {
        const result = await this.baton.retryFailed(jobId, request.page !== undefined ? { page: request.page } : {});
        // Retrying is asking the job to run: one paused before it failed runs again too.
        if (result.ranHere && result.job.snapshot().paused) await result.job.resume();
        if (jobId === this.selected) await this.sendFailures(jobId, this.generation);
        break;
      }
    }
    this.post({ type: 'result', requestId: request.requestId, ok: true });
  }

  private async ready(jobId: string | null): Promise<void> {
    const jobs = await this.baton.jobs();
    this.post({ type: 'jobs', jobs });
    // A reloaded panel starts without it.
    if (this.shownProblem !== null) this.post({ type: 'problem', message: this.shownProblem });
    if (this.unwatchJobs === undefined) {
      // watchJobs calls back at once with the list just sent; only changes matter here.
      let initial = true;
      this.unwatchJobs = this.baton.watchJobs(
        (list) => {
          if (!initial) this.onJobs(list);
        },
        (problem) => this.onProblem('jobs', problem),
      );
      initial = false;
    }
    const wanted = jobId !== null && jobs.some((job) => job.jobId === jobId) ? jobId : defaultJob(jobs);
    if (wanted !== null) await this.select(wanted);
  }

  private onJobs(jobs: JobSummary[]): void {
    this.post({ type: 'jobs', jobs });
    // A panel opened before any job ran follows the first one that appears.
    if (this.selected === null) {
      const first = defaultJob(jobs);
      if (first !== null) void this.select(first).catch(() => {});
    }
  }

  private async select(jobId: string): Promise<void> {
    this.unwatchJob?.();
    this.unwatchJob = undefined;
    clearTimeout(this.failuresTimer);
    const generation = ++this.generation;
    this.selected = jobId;
    this.lastSeq = -1;
    this.lastLive = false;
    this.lastFailed = -1;
    this.forwarding = Promise.resolve();

    const history = await this.baton.attempts(jobId, { limit: INITIAL_HISTORY });
    if (generation !== this.generation || this.disposed) return;
    this.lastEndedAt = history.reduce((latest, attempt) => Math.max(latest, attempt.endedAt ?? 0), 0);
    this.post({ type: 'history', jobId, attempts: history, complete: history.length < INITIAL_HISTORY });
    await this.sendFailures(jobId, generation);
    if (generation !== this.generation || this.disposed) return;
    this.unwatchJob = this.baton.watch(
      jobId,
      (activity) => {
        this.forwarding = this.forwarding.then(() => this.forward(activity, generation)).catch(() => {});
      },
      (problem) => this.onProblem('job', problem),
    );
    // Read at once without a problem: whatever the last job's feed said is over.
    this.onProblem('job', null);
  }

  /** Both feeds read the same file: the panel shows a problem while either has one. */
  private onProblem(feed: 'jobs' | 'job', problem: Error | null): void {
    this.problems[feed] = problem ? wordDatabaseFix(problem.message, this.audience) : null;
    const message = this.problems.job ?? this.problems.jobs;
    if (message === this.shownProblem) return;
    this.shownProblem = message;
    this.post({ type: 'problem', message });
  }

  /**
   * Sends one activity, first filling in attempts it cannot carry: those of activities the
   * feed skipped (a job run by another process is read about four times a second, and a
   * write between two reads is missed) and those its owner dropped.
   */
  private async forward(activity: JobActivity, generation: number): Promise<void> {
    if (generation !== this.generation || this.disposed) return;
    // While another process runs the job, the feed may hand over the job's recorded row again
    // (same seq, nothing running, no throughput) between two of its owner's writes: not news.
    if (activity.seq <= this.lastSeq && activity.snapshot.live) return;
    // Missed: activities skipped between two reads; attempts the owner dropped; and the owner's
    // last activity, which the feed passes over when it reads the job after its owner has gone.
    const missed =
      (this.lastSeq >= 0 && activity.seq > this.lastSeq + 1) || activity.endedDropped > 0 || (this.lastLive && !activity.snapshot.live);
    this.lastLive = activity.snapshot.live;
    let out = activity;
    if (missed) {
      const since = Math.max(0, this.lastEndedAt - GAP_MARGIN_MS);
      const found = await this.baton.attempts(activity.jobId, { endedAfter: since, limit: GAP_FILL_LIMIT });
      if (generation !== this.generation || this.disposed) return;
      const carried = new Set(activity.ended.map(keyOf));
      const extra = found.filter((attempt) => attempt.endedAt !== null && !carried.has(keyOf(attempt))).sort((a, b) => a.endedAt! - b.endedAt!);
      out = { ...activity, ended: [...extra, ...activity.ended], endedDropped: 0 };
    }
    this.lastSeq = Math.max(this.lastSeq, activity.seq);
    for (const attempt of out.ended) if (attempt.endedAt !== null && attempt.endedAt > this.lastEndedAt) this.lastEndedAt = attempt.endedAt;
    this.post({ type: 'activity', activity: out });

    const failed = activity.snapshot.pages.failed;
    if (failed !== this.lastFailed) {
      this.lastFailed = failed;
      this.scheduleFailures(activity.jobId, generation);
    }
  }

  private scheduleFailures(jobId: string, generation: number): void {
    if (this.failuresTimer !== undefined) return;
    const wait = Math.max(0, this.failuresSentAt + FAILURES_MIN_INTERVAL_MS - Date.now());
    this.failuresTimer = setTimeout(() => {
      this.failuresTimer = undefined;
      if (generation === this.generation) void this.sendFailures(jobId, generation).catch(() => {});
    }, wait);
    this.failuresTimer.unref?.();
  }

  private async sendFailures(jobId: string, generation: number): Promise<void> {
    const status = await this.baton.status(jobId);
    if (generation !== this.generation || this.disposed) return;
    this.failuresSentAt = Date.now();
    this.lastFailed = status.pages.failed;
    this.post({ type: 'failures', jobId, failures: status.failures });
  }
}

/** The job a panel shows first: the most recent one running, else the most recent one. */
export function defaultJob(jobs: JobSummary[]): string | null {
  for (let i = jobs.length - 1; i >= 0; i--) if (jobs[i]!.state === 'running' || jobs[i]!.live) return jobs[i]!.jobId;
  return jobs.at(-1)?.jobId ?? null;
}

function keyOf(attempt: AttemptInfo): string {
  return `${attempt.page}:${attempt.attempt}`;
}

function oneLine(error: unknown): string {
  const message = error instanceof Error ? error.message : String(error);
  return message.replace(/\s+/g, ' ').trim() || 'the request failed';
}
