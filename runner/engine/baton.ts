/**
 * The entry point: opens the database and starts, resumes and lists jobs. A job runs in the
 * process that owns it; other processes steer it through the database.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { availableParallelism, hostname } from 'node:os';
import { basename, dirname, extname, resolve } from 'node:path';
import { buildDirFor, buildProcessor, type BuiltProcessor } from '../build/build-processor.js';
import { BatonError, isBatonError } from '../errors.js';
import type { JsonValue } from '../json-value.js';
import { jobHasEnded, type AttemptInfo, type JobActivity, type JobStatus, type JobSummary, type LogLine, type PageRecord } from '../protocol.js';
import { CursorFilter } from '../pool/cursor-filter.js';
import { PagePool, ProcessorLoadError } from '../pool/page-pool.js';
import type { DescribeResult } from '../pool/worker-messages.js';
import { userLocation } from '../stack-location.js';
import { quoteArg, shownPath, synchronousOf, translateSqliteError, type DatabaseLabel, type Durability, type SqliteDatabase } from '../store/database.js';
import type { GroupCommit } from '../store/group-commit.js';
import { acquireDatabase, type SharedDatabase } from '../store/shared-database.js';
import { JobStore, ownerIsLive, summarize, type JobCounters, type JobRow } from '../store/job-store.js';
import { childLogDir, childLogRun, removeChildLogs } from '../store/child-log.js';
import { PageStore } from '../store/page-store.js';
import { Job } from './job.js';
import { JobFeed, type ProblemListener, type Unsubscribe } from './job-feed.js';
import { JobRunner, type ProcessorState } from './job-runner.js';
import {
  DEFAULT_DB,
  fillBatonOptions,
  checkJobId,
  checkThreads,
  checkPageTimeout,
  checkAttemptQuery,
  checkCloseOptions,
  checkPageNumber,
  checkPageQuery,
  checkResumeOptions,
  checkRetryFailedOptions,
  fillLimits,
  fillStartOptions,
  type AttemptQuery,
  type BatonOptions,
  type CloseOptions,
  type Limits,
  type PageQuery,
  type ResumeOptions,
  type RetryFailedOptions,
  type StartOptions,
} from './options.js';
import { countOrphanPages, isOrphaned, recoverJob, type GaveUpPage } from './recover-job.js';
import type { RetryOptions } from '../processor-api.js';
import { fillRetryPolicy, type RetryPolicy } from './retry-policy.js';

/** What `baton.retryFailed(jobId)` did. */
export type RetryFailedResult =
  | { ranHere: true; job: Job; requeued: number }
  /** Another live process runs the job; it was asked to retry through the database. */
  | { ranHere: false; requested: true };

export class Baton {
  private readonly handles = new Map<string, Job>();
  private readonly owner = `${hostname()}:${process.pid}:${randomUUID()}`;
  private closed = false;

  private readonly db: SqliteDatabase;
  private readonly group: GroupCommit;
  private readonly store: JobStore;
  private readonly feed: JobFeed;
  private readonly label: DatabaseLabel;

  private constructor(
    private readonly shared: SharedDatabase,
    /** The database file, absolute. */
    readonly dbPath: string,
  ) {
    this.db = shared.db;
    this.group = shared.group;
    this.label = labelOf(dbPath);
    this.store = new JobStore(shared.db, this.label);
    this.feed = new JobFeed(this.store, (jobId) => this.handles.get(jobId), (work) => this.sql(work), (row) => this.counted(row));
  }

  /** Opens (creating if needed) the database. */
  static async open(options: BatonOptions = {}): Promise<Baton> {
    const { db, durability, busyTimeoutMs } = fillBatonOptions(options);
    const path = resolve(db);
    return new Baton(acquireDatabase(path, durability, busyTimeoutMs), path);
  }

  private get buildDir(): string {
    return buildDirFor(this.dbPath);
  }

  /**
   * Starts a job, or resumes it when `jobId` names an unfinished one. Rejects when the job
   * cannot run: the processor is missing, does not build, or is not a page processor.
   */
  async start(options: StartOptions): Promise<Job> {
    return this.startOnce(options, false);
  }

  /** `raced`: a second try after another process recorded a job with this id first. */
  private async startOnce(options: StartOptions, raced: boolean): Promise<Job> {
    this.checkOpen(true);
    const filled = fillStartOptions(options);
    const reused = filled.jobId;
    if (reused !== null) {
      const existing = this.sql(() => this.store.get(reused));
      if (existing) {
        if (jobHasEnded(existing.state)) throw finishedError(existing, this.label, 'start');
        refuseOtherDefinition(existing, options.args !== undefined ? filled : { processor: filled.processor }, this.label);
        const running = this.handles.get(reused);
        if (running && !isEnded(running)) {
          // Its pool and its rampup were set when it started here: dropping them in silence would
          // run the job otherwise than asked.
          const fixed = (['threads', 'rampup'] as const).filter((name) => options[name] !== undefined);
          if (fixed.length > 0) {
            throw new BatonError('INVALID_OPTION', `job "${reused}" already runs here: ${fixed.join(' and ')} apply when a job starts or resumes; leave ${fixed.length > 1 ? 'them' : 'it'} out to go on with it, or give another jobId`);
          }
        }
        const job = await this.resume(reused, { threads: filled.threads });
        if (options.maxParallel !== undefined || options.rateLimit !== undefined) {
          await job.setLimits({ ...(options.maxParallel !== undefined ? { maxParallel: filled.maxParallel } : {}), ...(options.rateLimit !== undefined ? { rateLimit: filled.rateLimit } : {}) });
        }
        // Given, paused applies as to a new job.
        if (options.paused === true) await job.pause();
        else if (options.paused === false && job.snapshot().paused) await job.resume();
        return job;
      }
    }
    const built = await buildProcessor(filled.processor, this.buildDir);
    const jobId = filled.jobId ?? generateJobId(built.source);
    const pool = this.createPool(jobId, JSON.stringify(filled.args), filled.threads);
    try {
      const description = await this.describe(pool, built.bundle, built.source, true);
      const processor = toProcessorState(built.bundle, description, built.source);
      const now = Date.now();
      const no = this.db.transaction(() => {
        const jobNo = this.store.insert({
          id: jobId,
          name: description.name ?? defaultName(built.source),
          processor: built.source,
          bundle: built.bundle,
          args: JSON.stringify(filled.args),
          state: filled.paused ? 'paused' : 'running',
          paused: filled.paused ? 1 : 0,
          max_parallel: filled.maxParallel,
          rampup: filled.rampup ? JSON.stringify(filled.rampup) : null,
          rate_items: filled.rateLimit?.itemsPerSecond ?? null,
          rate_pages: filled.rateLimit?.pagesPerSecond ?? null,
          threads: filled.threads,
          retry: JSON.stringify(processor.policy),
          page_timeout_ms: processor.pageTimeoutMs,
          estimate_total: description.estimateTotalItems,
          durability: this.durability,
          created_at: now,
          started_at: now,
        });
        const pages = new PageStore(this.db, jobNo);
        let inserted = 0;
        (description.initialPages ?? []).forEach(([cursor, size], ordinal) => {
          if (pages.insert({ no: inserted + 1, parent: 0, ordinal, cursor, size })) inserted++;
        });
        this.db
          .prepare('UPDATE jobs SET pages_total = ?, pages_queued = ?, next_page = ? WHERE no = ?')
          .run(inserted, inserted, inserted + 1, jobNo);
        this.store.claim(jobNo, this.owner);
        return jobNo;
      })();
      return this.handleFor(this.launchRunner(this.store.getByNo(no), pool, processor));
    } catch (error) {
      await pool.destroy().catch(() => {});
      // Another process recorded a job with this id between the check above and the insert (two
      // `baton run --job X` at once): go on as if it had been there, which resumes it here or says
      // which process runs it.
      if (!raced && filled.jobId !== null && isDuplicateJobId(error)) return this.startOnce(options, true);
      throw translateSqliteError(error, this.dbPath);
    }
  }

  /**
   * Runs an unfinished job in this process: pages that were running when its last owner
   * stopped run again (at-least-once) or fail as interrupted (at-most-once). A paused job
   * stays paused until `job.resume()`.
   */
  async resume(jobId: string, options: ResumeOptions = {}): Promise<Job> {
    this.checkOpen(true);
    checkJobId(jobId);
    options = checkResumeOptions(options);
    const handle = this.handles.get(jobId);
    if (handle && !isEnded(handle)) return handle;
    const row = this.sql(() => this.store.require(jobId));
    if (jobHasEnded(row.state)) throw finishedError(row, this.label, 'resume');
    const { runner } = await this.runHere(row, { threads: options.threads, retryFailed: false });
    return this.handleFor(runner);
  }

  /**
   * Runs a job's failed pages again, rebuilding its processor first. A job running in this
   * process retries at once; one run by another live process is asked to through the
   * database; one that nobody runs is run here to the end.
   */
  async retryFailed(jobId: string, options: RetryFailedOptions = {}): Promise<RetryFailedResult> {
    this.checkOpen(true);
    // Checked before anything runs: a misspelt { pag: 1 } would otherwise rerun every failed page.
    options = checkRetryFailedOptions(options);
    const handle = this.handles.get(jobId);
    if (handle) {
      const requeued = await handle.retryFailed(options);
      return { ranHere: true, job: handle, requeued };
    }
    const row = this.sql(() => this.store.require(jobId));
    refuseRetryOfEnded(row, this.label);
    if (ownerIsLive(row)) {
      if (options.page !== undefined) {
        throw new BatonError('JOB_LOCKED', `job "${jobId}" runs in process ${row.owner_pid}: retry its failed pages there, or all of them with \`baton retry-failed ${jobId}${this.label.flag}\``);
      }
      // As for a job nobody runs: nothing failed, nothing to ask (its process would only rebuild).
      if (this.sql(() => this.store.failures(row.no, 1)).length === 0) {
        throw new BatonError('NO_FAILED_PAGES', `job "${jobId}" has no failed pages to run again; it runs in process ${row.owner_pid}`);
      }
      this.sql(() => this.store.requestRetryFailed(jobId));
      return { ranHere: false, requested: true };
    }
    const { runner, requeued } = await this.runHere(row, { threads: undefined, retryFailed: true, page: options.page });
    return { ranHere: true, job: this.handleFor(runner), requeued };
  }

  /**
   * Follows a job live, wherever it runs (here, or another process on this database): the
   * listener gets its activity about four times a second, and its state at once. Returns the
   * function that stops following. When the database cannot be read later on (locked, damaged),
   * `onProblem` gets the error, and `null` once it can again; without it, a process warning.
   */
  watch(jobId: string, listener: (activity: JobActivity) => void, onProblem?: ProblemListener): Unsubscribe {
    this.checkOpen();
    return this.feed.watch(jobId, listener, onProblem);
  }

  /**
   * Follows the list of jobs: the listener gets every summary when any changes, and at once.
   * `onProblem` as for watch().
   */
  watchJobs(listener: (jobs: JobSummary[]) => void, onProblem?: ProblemListener): Unsubscribe {
    this.checkOpen();
    return this.feed.watchJobs(listener, onProblem);
  }

  /** Every job in the database, oldest first. */
  async jobs(): Promise<JobSummary[]> {
    this.checkOpen();
    return this.sql(() => this.store.list()).map((row) => this.summaryOf(row));
  }

  /** One job's summary and its failed pages. */
  async status(jobId: string): Promise<JobStatus> {
    this.checkOpen();
    return this.sql(() => {
      const row = this.store.require(jobId);
      // Page writes this process has kept for its next commit go in first (see GroupCommit).
      this.group.flush();
      return { ...this.summaryOf(row), failures: this.store.failures(row.no) };
    });
  }

  /** A job's pages in page order, optionally in one state; `after` pages through them. */
  async pages(jobId: string, options: PageQuery = {}): Promise<PageRecord[]> {
    options = checkPageQuery(options);
    return this.sql(() => {
      this.group.flush();
      return this.store.pages(this.store.require(jobId).no, options);
    });
  }

  /** Attempts of a job, newest first: of one page, ended after or started before a time (ms). */
  async attempts(jobId: string, options: AttemptQuery = {}): Promise<AttemptInfo[]> {
    options = checkAttemptQuery(options);
    return this.sql(() => {
      this.group.flush();
      return this.store.attempts(this.store.require(jobId).no, options);
    });
  }

  /** Log lines of a page, of one attempt or all. */
  async logs(jobId: string, page: number, attempt?: number): Promise<LogLine[]> {
    checkPageNumber('page', page);
    if (attempt !== undefined) checkPageNumber('attempt', attempt);
    return this.sql(() => {
      this.group.flush();
      const row = this.store.require(jobId);
      // No lines and no page are not the same answer: a mistaken number would read as a quiet page.
      if (this.store.pageState(row.no, page) === null) {
        throw new BatonError('INVALID_OPTION', `page ${page}: job "${row.id}" has no page ${page}; baton.pages("${row.id}") lists them`);
      }
      return this.store.logs(row.no, page, attempt);
    });
  }

  // Controls for a job that may run in another process: they act through the database.

  async pause(jobId: string): Promise<void> {
    const row = this.sql(() => this.store.require(jobId));
    if (jobHasEnded(row.state) && !this.handles.get(jobId)?.active) throw finishedError(row, this.label, 'pause');
    this.sql(() => this.store.setPaused(jobId, true));
    this.handles.get(jobId)?.pause();
  }

  /** Unpauses a job. It runs only where a process runs it: see `resume` to run it here. */
  async unpause(jobId: string): Promise<void> {
    const row = this.sql(() => this.store.require(jobId));
    if (jobHasEnded(row.state) && !this.handles.get(jobId)?.active) throw finishedError(row, this.label, 'resume');
    this.sql(() => this.store.setPaused(jobId, false));
    await this.handles.get(jobId)?.resume();
  }

  async setLimits(jobId: string, limits: Limits): Promise<void> {
    const handle = this.handles.get(jobId);
    if (handle && !isEnded(handle)) return handle.setLimits(limits);
    this.sql(() => this.store.require(jobId));
    const update = fillLimits(limits);
    this.sql(() => this.store.setLimits(jobId, update));
  }

  /** Cancels a job wherever it runs. One that nobody runs is marked cancelled at once. */
  async cancel(jobId: string): Promise<void> {
    const handle = this.handles.get(jobId);
    if (handle && !isEnded(handle)) {
      await handle.cancel();
      return;
    }
    const row = this.sql(() => this.store.require(jobId));
    if (jobHasEnded(row.state)) throw finishedError(row, this.label, 'cancel');
    const folded = this.sql(() =>
      this.db.transaction((): string[] => {
        this.store.requestCancel(jobId);
        if (ownerIsLive(row)) return [];
        // Nobody runs it: the pages its last owner left running (a crash) are settled as a resume
        // would (an interrupted attempt each), and the counters recounted, before it ends.
        const recovery = recoverJob(this.db, this.store, new PageStore(this.db, row.no), row, storedPolicy(row), row.heartbeat_at, this.logDir);
        this.store.setState(row.no, 'cancelled', Date.now());
        return recovery.folded;
      })(),
    );
    removeChildLogs(folded);
  }

  /** Whether a live process (this one or another) runs the job now. */
  isLive(jobId: string): boolean {
    const handle = this.handles.get(jobId);
    if (handle && !isEnded(handle)) return true;
    return ownerIsLive(this.sql(() => this.store.require(jobId)));
  }

  /**
   * Stops every job this process runs and closes the database. 'drain' (default) lets running
   * pages finish; 'now' aborts them and they run again on resume (at-most-once: they fail as
   * interrupted, since they may have done part of their work).
   */
  async close(options: CloseOptions = {}): Promise<void> {
    const mode = checkCloseOptions(options);
    // A second call while the first drains can still ask to stop at once.
    const stopping = Promise.all([...this.handles.values()].map((job) => job.stop(mode).catch(() => {})));
    this.closing ??= stopping.then(() => {
      this.closed = true;
      return this.shared.release();
    });
    await stopping;
    await this.closing;
  }

  private closing: Promise<void> | undefined;

  /** Where worker threads log the children they record (child-log.ts). */
  private get logDir(): string {
    return childLogDir(resolve(this.dbPath));
  }

  private get durability(): Durability {
    return synchronousOf(this.db) === 'FULL' ? 'full' : 'normal';
  }

  private summaryOf(row: JobRow): JobSummary {
    const handle = this.handles.get(row.id);
    if (handle && !isEnded(handle)) return handle.snapshot();
    return summarize(this.counted(row));
  }

  /** Orphaned jobs' counters from their pages, by job, with the row they were counted for. */
  private readonly orphanCounts = new Map<number, { owner: string | null; heartbeatAt: number | null; counters: JobCounters }>();

  /**
   * The row, or for a job whose owner died mid-run (isOrphaned) the row with its counters from
   * its pages and its threads' logs (countOrphanPages): the row's are up to a heartbeat old.
   * Counted once per orphan: neither changes until a process takes the job up again, which
   * changes the row.
   */
  private counted(row: JobRow): JobRow {
    if (!isOrphaned(row)) {
      this.orphanCounts.delete(row.no);
      return row;
    }
    let known = this.orphanCounts.get(row.no);
    if (!known || known.owner !== row.owner || known.heartbeatAt !== row.heartbeat_at) {
      const counters = this.sql(() => countOrphanPages(new PageStore(this.db, row.no), row, this.logDir));
      known = { owner: row.owner, heartbeatAt: row.heartbeat_at, counters };
      this.orphanCounts.set(row.no, known);
    }
    return { ...row, ...known.counters };
  }

  /** Runs reads and control writes: SQLite's errors become DB_CORRUPT or DB_LOCKED, naming the file. */
  private sql<T>(work: () => T): T {
    this.checkOpen();
    try {
      return work();
    } catch (error) {
      throw isBatonError(error) ? error : translateSqliteError(error, this.dbPath);
    }
  }

  /** Every public call checks this; `start`, `resume` and `retryFailed` also refuse while close() drains. */
  private checkOpen(forNewRun = false): void {
    if (this.closed || (forNewRun && this.closing)) {
      throw new BatonError('BATON_CLOSED', `this Baton is ${this.closed ? 'closed' : 'closing'}: open a new one with Baton.open()`);
    }
  }

  private createPool(jobId: string, argsJson: string, threads: number): PagePool {
    // A smaller log file than the default, for tests that watch files come and go.
    const logSegmentLines = Number(process.env.BATON_CHILD_LOG_LINES) || undefined;
    const direct = { file: resolve(this.dbPath), jobId, logDir: this.logDir, logRun: childLogRun(), logSegmentLines, synchronous: synchronousOf(this.db), lock: this.group.lock.buffer, cursors: CursorFilter.create().buffer } as const;
    return new PagePool({ boot: { jobId, argsJson, threads, direct }, threads });
  }

  private async describe(pool: PagePool, bundle: string, source: string, withInitialPages: boolean): Promise<DescribeResult> {
    try {
      return await pool.describe(bundle, withInitialPages);
    } catch (error) {
      let message = (error as Error).message;
      // Where it threw, when that is in the user's code: often a file the processor imports.
      const at = error instanceof ProcessorLoadError ? userLocation(error.serialized.stack) : null;
      if (at) message = message.replace(/(; fix it and run again)?$/, ` (at ${shownPath(at.file)}:${at.line}:${at.column})$1`);
      throw new BatonError('PROCESSOR_INVALID', `processor ${shownPath(source)} ${message}`, { cause: error, location: at });
    }
  }

  /** Claims, rebuilds, recovers and starts a job that exists in the database. */
  private async runHere(row: JobRow, options: { threads: number | undefined; retryFailed: boolean; page?: number }): Promise<{ runner: JobRunner; requeued: number }> {
    this.sql(() => this.store.claim(row.no, this.owner));
    let pool: PagePool | null = null;
    try {
      const built = await buildProcessor(row.processor, this.buildDir).catch((error: unknown) => {
        throw movedProcessorError(error, row);
      });
      const threads = options.threads !== undefined ? checkThreads(options.threads) : (row.threads ?? availableParallelism());
      pool = this.createPool(row.id, row.args, threads);
      const processor = await this.loadDefinition(row, pool, built);
      const pages = new PageStore(this.db, row.no);
      // The row as read before the claim, which wrote this process's heartbeat over the last owner's.
      const { gaveUp, folded } = recoverJob(this.db, this.store, pages, this.store.getByNo(row.no), processor.policy, row.heartbeat_at, this.logDir);
      removeChildLogs(folded);
      const recovered = this.store.getByNo(row.no);
      if (recovered.cancel_requested === 1) {
        // Cancelled, and its owner stopped before it could end the job: it ends now, and nothing runs.
        this.store.setState(row.no, 'cancelled', Date.now());
        throw finishedError({ ...recovered, state: 'cancelled' }, this.label, options.retryFailed ? 'retry' : 'resume');
      }
      let requeued = 0;
      if (options.retryFailed) {
        requeued = this.db.transaction(() => {
          const n = pages.requeueFailed(options.page);
          // Nothing to run is an answer only for "every failed page"; for one, say why.
          if (options.page !== undefined && n === 0) throw notFailedError(this.store, row, options.page, this.label);
          this.db.prepare('UPDATE jobs SET pages_failed = pages_failed - ?, pages_queued = pages_queued + ?, ended_at = NULL, last_error = NULL WHERE no = ?').run(n, n, row.no);
          return n;
        })();
      }
      const fresh = this.store.getByNo(row.no);
      const runner = this.launchRunner(fresh, pool, processor, gaveUp);
      return { runner, requeued };
    } catch (error) {
      await pool?.destroy().catch(() => {});
      try {
        this.store.release(row.no, this.owner);
      } catch {
        // Releasing is best effort; a stale heartbeat frees the job anyway.
      }
      throw isBatonError(error) ? error : translateSqliteError(error, this.dbPath);
    }
  }

  private launchRunner(row: JobRow, pool: PagePool, processor: ProcessorState, gaveUp: GaveUpPage[] = []): JobRunner {
    const runner = new JobRunner({
      gaveUp,
      db: this.db,
      group: this.group,
      jobs: this.store,
      row,
      pool,
      processor,
      owner: this.owner,
      logDir: this.logDir,
      rebuild: () => this.rebuild(row, pool),
    });
    pool.onMessages((messages, threadId) => runner.onWorkerMessages(messages, threadId));
    pool.onThreadExit((threadId) => runner.onThreadExit(threadId));
    runner.begin();
    return runner;
  }

  private async rebuild(row: JobRow, pool: PagePool): Promise<ProcessorState> {
    return this.loadDefinition(row, pool, await buildProcessor(row.processor, this.buildDir));
  }

  /** Loads a freshly built bundle in the pool and records what it declares as the job's definition. */
  private async loadDefinition(row: JobRow, pool: PagePool, built: BuiltProcessor): Promise<ProcessorState> {
    const description = await this.describe(pool, built.bundle, built.source, false);
    const processor = toProcessorState(built.bundle, description, built.source);
    this.store.setDefinition(row.no, {
      name: description.name ?? row.name,
      bundle: built.bundle,
      retry: JSON.stringify(processor.policy),
      page_timeout_ms: processor.pageTimeoutMs,
      estimate_total: description.estimateTotalItems,
    });
    return processor;
  }

  private handleFor(runner: JobRunner): Job {
    const job = new Job(runner, this.store, async (jobId, page) => {
      this.checkOpen(true);
      const row = this.store.require(jobId);
      refuseRetryOfEnded(row, this.label);
      const restarted = await this.runHere(row, { threads: undefined, retryFailed: true, page });
      this.track(job, restarted.runner);
      return restarted;
    }, (work) => this.sql(work), (page) => notFailedError(this.store, this.store.require(runner.jobId), page, this.label), async (jobId) => {
      await this.cancel(jobId);
      return this.status(jobId);
    });
    this.track(job, runner);
    return job;
  }

  /**
   * Finds the handle by its job's id while its run lasts, and lets it go when the run ends: a
   * process that runs job after job (the runner server) would otherwise keep every ended job's
   * handle, and with it its runner and processor bundle, for as long as it lives.
   */
  private track(job: Job, runner: JobRunner): void {
    this.handles.set(runner.jobId, job);
    const forget = () => {
      if (this.handles.get(runner.jobId) === job && isEnded(job)) this.handles.delete(runner.jobId);
    };
    runner.done.then(forget, forget);
  }
}

function isEnded(job: Job): boolean {
  return !job.active;
}

/** How messages name a database: a suggested command needs --db unless it is the default file. */
function labelOf(file: string): DatabaseLabel {
  const shown = shownPath(file);
  return { shown, flag: file === resolve(DEFAULT_DB) ? '' : ` --db ${quoteArg(shown)}` };
}

/** What was asked of a job that has ended. */
type EndedAction = 'start' | 'retry' | 'resume' | 'pause' | 'cancel';

function finishedError(row: JobRow, label: DatabaseLabel, action: EndedAction): BatonError {
  return new BatonError('JOB_FINISHED', `job "${row.id}" has already ended (${row.state})${finishedHint(row, label, action)}`);
}

/**
 * A failed job goes on only through retry-failed; pausing or cancelling any ended job, or resuming
 * one that did not fail, has nothing to act on; running an ended job again takes a new id.
 */
function finishedHint(row: JobRow, label: DatabaseLabel, action: EndedAction): string {
  const goesOn = action === 'start' || action === 'resume';
  if (row.state === 'failed' && goesOn) return `: run its failed pages again with \`baton retry-failed ${row.id}${label.flag}\``;
  if (action === 'resume' || action === 'pause' || action === 'cancel') return `; there is nothing to ${action}`;
  // Cancelling is for good (DESIGN.md §3): say so, or a retry looks like it should have worked.
  if (row.state === 'cancelled' && action === 'retry') return ': a cancelled job never runs its pages again; to do its work, start a new job with another id';
  return ': start a new job with another id';
}

/**
 * `jobId` names an unfinished job: going on with it under another processor or other args would
 * run the job the user did not ask for, in silence. Args left out mean the job's own.
 */
function refuseOtherDefinition(row: JobRow, given: { processor: string; args?: JsonValue }, label: DatabaseLabel): void {
  const processor = resolve(given.processor);
  const differences: string[] = [];
  if (processor !== row.processor) differences.push(`runs processor ${shownPath(row.processor)}, not ${shownPath(processor)}`);
  if (given.args !== undefined && canonicalJson(given.args) !== canonicalJson(JSON.parse(row.args))) {
    differences.push(`has args ${clip(row.args)}, not ${clip(JSON.stringify(given.args))}`);
  }
  if (differences.length === 0) return;
  throw new BatonError(
    'JOB_MISMATCH',
    `job "${row.id}" ${differences.join(', and ')}: to go on with that job, \`baton resume ${row.id}${label.flag}\`; to start yours, give it another job id (--job)`,
  );
}

/** JSON with object keys in order, so that args equal but for their key order compare equal. */
function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, inner: unknown) =>
    inner !== null && typeof inner === 'object' && !Array.isArray(inner) ? Object.fromEntries(Object.entries(inner).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : inner,
  );
}

/** Args in a one-line message: long ones are cut. */
function clip(json: string, max = 100): string {
  return json.length <= max ? json : `${json.slice(0, max - 1)}…`;
}

/**
 * Cancelled is for good: its queued pages must not run through a retry. A job that succeeded has
 * no failed page: running it again would only rebuild its processor and rewrite its end.
 */
/** The retry policy a job last ran with, as recorded (the default if the record is unreadable). */
function storedPolicy(row: JobRow): RetryPolicy {
  try {
    return fillRetryPolicy(JSON.parse(row.retry) as RetryOptions);
  } catch {
    return fillRetryPolicy(undefined);
  }
}

function refuseRetryOfEnded(row: JobRow, label: DatabaseLabel): void {
  if (row.state === 'cancelled') throw finishedError(row, label, 'retry');
  if (row.state === 'succeeded') throw new BatonError('JOB_FINISHED', `job "${row.id}" succeeded: it has no failed pages to run again`);
}

/**
 * `retryFailed({ page })` for a page that is not failed: resolving 0 would read as done, when
 * the page number is wrong (a typo, another job's page) or the page needs no retry.
 */
function notFailedError(store: JobStore, row: JobRow, page: number, label: DatabaseLabel): BatonError {
  const state = store.pageState(row.no, page);
  const failed = store.failures(row.no, 6).map((failure) => failure.page);
  const these = failed.length === 0 ? 'it has no failed pages' : `its failed pages are ${failed.slice(0, 5).join(', ')}${failed.length > 5 ? ', …' : ''}`;
  const why = state === null ? `job "${row.id}" has no page ${page}` : `page ${page} of job "${row.id}" ${state === 'succeeded' ? 'has succeeded' : `is ${state}`}, not failed`;
  return new BatonError('INVALID_OPTION', `page ${page}: ${why}; only a failed page runs again, and ${these} (see \`baton status ${row.id}${label.flag}\`)`);
}

/** A job's processor that is gone from where the job was started: `baton new` is no answer there. */
function movedProcessorError(error: unknown, row: JobRow): unknown {
  if (!(error instanceof BatonError) || error.code !== 'PROCESSOR_NOT_FOUND') return error;
  return new BatonError(
    'PROCESSOR_NOT_FOUND',
    `job "${row.id}" runs processor ${shownPath(row.processor)}, which no longer exists: put it back there (Baton builds it again to go on), then run the command again; the job's pages are kept`,
    { cause: error },
  );
}

function toProcessorState(bundle: string, description: DescribeResult, source: string): ProcessorState {
  try {
    return {
      bundle,
      policy: fillRetryPolicy(description.retry),
      pageTimeoutMs: checkPageTimeout(description.pageTimeoutMs),
      estimatedTotalItems: description.estimateTotalItems,
      hasOnPageFailed: description.hasOnPageFailed,
    };
  } catch (error) {
    throw new BatonError('PROCESSOR_INVALID', `processor ${shownPath(source)}: ${(error as Error).message}`, { cause: error });
  }
}

/** The processor's file name, or its folder's when the file is named processor or index. */
function defaultName(source: string): string {
  const base = basename(source, extname(source));
  return base === 'processor' || base === 'index' ? basename(dirname(source)) : base;
}

function generateJobId(source: string): string {
  const stamp = new Date().toISOString().replace(/[-:T]/g, '').slice(0, 14);
  const name = defaultName(source).replace(/[^A-Za-z0-9._-]/g, '-').replace(/^[^A-Za-z0-9]+/, '').slice(0, 60) || 'job';
  return `${name}-${stamp}-${randomBytes(2).toString('hex')}`;
}

/** Whether an insert of a job failed because its id is taken. */
function isDuplicateJobId(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (code === 'SQLITE_CONSTRAINT_UNIQUE' || code === 'SQLITE_CONSTRAINT_PRIMARYKEY') && /jobs\.id/.test((error as Error).message);
}
