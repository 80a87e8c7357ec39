/**
 * The handle `baton.start` and `baton.resume` return. Controls write the job's row first, so
 * they are durable and look the same to this process as to any other one.
 */
import { EventEmitter } from 'node:events';
import { BatonError } from '../errors.js';
import { jobHasEnded, type JobActivity, type JobSnapshot, type JobSummary } from '../protocol.js';
import type { JobStore } from '../store/job-store.js';
import type { JobRunner, StopMode } from './job-runner.js';
import { checkRetryFailedOptions, checkStopMode, fillLimits, type Limits, type RetryFailedOptions } from './options.js';
import type { RetryMode } from '../processor-api.js';

interface JobEvents {
  /** A snapshot of the job, at most about 4 per second, and once more when it ends. */
  update: [JobSnapshot];
  /** The snapshot with the attempts running and those ended since the last one (for timelines). */
  activity: [JobActivity];
}

/** Restarts an ended job in this process to run its failed pages again. */
export type RetryRestarter = (jobId: string, page?: number) => Promise<{ runner: JobRunner; requeued: number }>;

/** The error for `retryFailed({ page })` when that page was not queued again: it is not failed, or not there. */
export type NotFailedError = (page: number) => Error;
/** Cancels, through the database, a job this handle no longer runs (stopped here, not ended). */
export type StoppedCanceller = (jobId: string) => Promise<JobSummary>;

/** Runs a control's write; SQLite's errors come out as BatonErrors that name the file (DB_LOCKED, DB_CORRUPT). */
export type SqlGuard = <T>(work: () => T) => T;

export class Job extends EventEmitter<JobEvents> {
  private runner: JobRunner;

  constructor(
    runner: JobRunner,
    private readonly jobs: JobStore,
    private readonly restartForRetry: RetryRestarter,
    private readonly sql: SqlGuard,
    private readonly notFailed: NotFailedError,
    private readonly cancelStopped: StoppedCanceller,
  ) {
    super();
    this.runner = runner;
    this.attach(runner);
  }

  private attach(runner: JobRunner): void {
    this.runner = runner;
    runner.on('update', (snapshot) => this.emit('update', snapshot));
    runner.on('activity', (activity) => this.emit('activity', activity));
  }

  /** The job's id. */
  get id(): string {
    return this.runner.jobId;
  }

  /**
   * Resolves with the summary however this run ends: succeeded, failed, cancelled, or stopped
   * in this process (state 'running' or 'paused', resumable). After retryFailed() on an ended
   * job, a new run starts and `done` is that run's.
   */
  get done(): Promise<JobSummary> {
    return this.runner.done;
  }

  /** The processor's retry mode: what a stop at once does to running pages depends on it. */
  get mode(): RetryMode {
    return this.runner.mode;
  }

  /** True while this process runs the job. */
  get active(): boolean {
    return !this.runner.isFinished;
  }

  snapshot(): JobSnapshot {
    return this.runner.snapshot();
  }

  /** No new page starts; running pages finish. Durable: a resumed runner stays paused. */
  async pause(): Promise<void> {
    this.sql(() => this.jobs.setPaused(this.id, true));
    this.poll();
  }

  async resume(): Promise<void> {
    this.sql(() => this.jobs.setPaused(this.id, false));
    this.poll();
  }

  /** Changes limits while the job runs; durable. `rateLimit: null` removes the rate limit. */
  async setLimits(limits: Limits): Promise<void> {
    const filled = fillLimits(limits);
    this.sql(() => this.jobs.setLimits(this.id, filled));
    this.poll();
  }

  /**
   * Rebuilds the processor and runs the failed pages again (all, or only `page`) with a fresh
   * attempt budget. Resolves with how many pages were queued again; with `page`, 1, or rejects
   * (INVALID_OPTION) when that page is not failed.
   */
  async retryFailed(options: RetryFailedOptions = {}): Promise<number> {
    const { page } = checkRetryFailedOptions(options);
    if (this.runner.isFinished) {
      // The restart refuses a page that is not failed before it runs anything.
      const { runner, requeued } = await this.restartForRetry(this.id, page);
      this.attach(runner);
      return requeued;
    }
    const requeued = await this.runner.retryFailed(page);
    if (page !== undefined && requeued === 0) {
      // The run ended while the processor was rebuilt: the restart retries it, or says why not.
      if (this.runner.isFinished) return this.retryFailed({ page });
      throw this.sql(() => this.notFailed(page));
    }
    return requeued;
  }

  /** Cancels for good: running pages are aborted, queued pages never run. */
  async cancel(): Promise<JobSummary> {
    if (this.runner.isFinished) {
      // Stopped here (stop(), or its Baton closed) is not ended: it can still be cancelled, as baton.cancel does.
      if (!jobHasEnded(this.runner.summary().state)) return this.cancelStopped(this.id);
      throw new BatonError('JOB_FINISHED', `job "${this.id}" has already ended; there is nothing to cancel`);
    }
    this.sql(() => this.jobs.requestCancel(this.id));
    return this.runner.cancel();
  }

  /**
   * Stops running the job in this process; it stays resumable. 'drain' (default) lets running
   * pages finish; 'now' aborts them and they run again on resume (at-most-once: they fail as
   * interrupted, since they may have done part of their work).
   */
  async stop(mode: StopMode = 'drain'): Promise<JobSummary> {
    return this.runner.stop(checkStopMode('stop', mode));
  }

  private poll(): void {
    if (!this.runner.isFinished) this.runner.pollControl();
  }
}
