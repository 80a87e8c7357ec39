/**
 * Runs one job in this process. Page events from the worker threads are recorded as they
 * arrive, in the process's shared write group (GroupCommit: ends and starts are kept for its
 * commit); an enqueue is acknowledged only once that group has committed. A child its thread
 * logged itself (`durable`, see store/child-log.ts) is already durable: its row is written here,
 * and nobody waits for that commit.
 *
 * In at-least-once mode a new page may start before the commit that records it: if the process
 * dies first, its parent is still 'running' in SQLite, so both run again on resume, which
 * at-least-once allows for pages running at a crash. This keeps commit latency out of the
 * pipeline. In at-most-once mode a page starts only after its start is committed.
 */
import { EventEmitter } from 'node:events';
import { BatonError, serializeError, type SerializedError } from '../errors.js';
import { jobHasEnded, sameLimits, type AttemptInfo, type AttemptOutcome, type JobActivity, type JobSnapshot, type JobState, type JobSummary, type RateLimitSetting } from '../protocol.js';
import { cursorHash } from '../pool/cursor-filter.js';
import { ProcessorLoadError, type PagePool } from '../pool/page-pool.js';
import type { UnsentMessage } from '../pool/unsent-messages.js';
import type { TaskPage, WorkerMessage } from '../pool/worker-messages.js';
import { translateSqliteError, type SqliteDatabase } from '../store/database.js';
import { childLogFiles, childLogKey, foldChildLogs, removeChildLogs } from '../store/child-log.js';
import type { GroupCommit } from '../store/group-commit.js';
import { HEARTBEAT_EVERY_MS, summarize, thisHost, type JobControl, type JobCounters, type JobRow, type JobStore } from '../store/job-store.js';
import { PageStore, type AttemptRecord, type QueuedPage } from '../store/page-store.js';
import { PageQueue } from './page-queue.js';
import { estimateProgress, etaOfStoppedJob, percentDone } from './progress-estimate.js';
import { msUntilNextRampStep, rampedParallel, type Rampup } from './rampup.js';
import { RateLimiter } from './rate-limiter.js';
import type { GaveUpPage } from './recover-job.js';
import { decideRetry, type RetryPolicy } from './retry-policy.js';
import type { RetryMode } from '../processor-api.js';
import { SlotAllocator } from './slot-allocator.js';
import { ThreadBeats } from './thread-beats.js';
import { ThroughputWindow } from './throughput-window.js';

/** How often the runner polls control changes, checks for stuck pages and heartbeats. */
const HOUSEKEEPING_MS = 100;
/** Update events at most this often. */
const UPDATE_EVERY_MS = 250;
/** A stuck page that ignores its aborted signal this long has its thread terminated. */
const STUCK_GRACE_MS = 1_000;
/** A suspect due while another runs waits this long before it is looked at again. */
const SUSPECT_WAIT_MS = 100;
/** On cancel, running pages get this long to notice their signal before threads are stopped. */
const CANCEL_GRACE_MS = 2_000;
const MAX_PAGES_PER_TASK = 32;
/** Credits a thread may hold: children it may start at once, each a slot held for it. */
const MAX_CREDITS_PER_THREAD = 64;
/** Page numbers a thread holds for the children its pages enqueue (they cost nothing). */
const NUMBERS_PER_THREAD = 4_096;
const MAX_LOG_LINES_PER_ATTEMPT = 1_000;
const MAX_LOG_LINE_CHARS = 8_192;
/** Activity carries at most this many running and ended attempts; the rest are counted. */
const MAX_ACTIVITY_RUNNING = 5_000;
const MAX_ACTIVITY_ENDED = 2_000;

/** An attempt's key in the maps and sets that outlive its RunningAttempt. */
const attemptKey = (page: number, attempt: number) => `${page}/${attempt}`;

/**
 * Why an attempt past pageTimeoutMs is recorded as stuck: it was aborted through ctx.signal (and
 * is taken to stop), or it did not stop and its worker thread was terminated.
 */
function stuckError(timeoutMs: number, how: 'aborted' | 'ignored' | 'terminated-for-another'): SerializedError {
  const what = {
    aborted: 'aborted through ctx.signal and recorded as stuck',
    ignored: 'it ignored ctx.signal, so its worker thread was terminated; recorded as stuck',
    'terminated-for-another': 'aborted through ctx.signal, but its worker thread was terminated to stop another stuck page before it stopped; recorded as stuck',
  }[how];
  return { name: 'PageTimeoutError', message: `page ran longer than pageTimeoutMs (${timeoutMs} ms): ${what}` };
}

/** Pages whose cursors go into the cursor filter per turn of the event loop. */
const CURSOR_FILTER_CHUNK = 20_000;
/** An idle job's activity is still published this often, so readers see it is alive. */
const ACTIVITY_IDLE_MS = 2_000;

/** What the runner needs to know about the processor, refreshed on every rebuild. */
export interface ProcessorState {
  bundle: string;
  policy: RetryPolicy;
  pageTimeoutMs: number;
  estimatedTotalItems: number | null;
  hasOnPageFailed: boolean;
}

export interface JobRunnerOptions {
  db: SqliteDatabase;
  group: GroupCommit;
  jobs: JobStore;
  row: JobRow;
  pool: PagePool;
  processor: ProcessorState;
  owner: string;
  /** Rebuilds and describes the processor for retry-failed. */
  rebuild: () => Promise<ProcessorState>;
  /** Pages that gave up before this run (at-most-once pages a crash interrupted): onPageFailed runs for each. */
  gaveUp?: GaveUpPage[];
  /** Where the pool's threads log the children they record (child-log.ts). */
  logDir: string;
}

/** How a stop ends the run in this process: let running pages finish, or stop them now. */
export type StopMode = 'drain' | 'now';

type EndOutcome = Exclude<AttemptOutcome, 'running'>;

interface RunningAttempt {
  no: number;
  attempt: number;
  cursor: string;
  size: number | null;
  slot: number;
  dispatchedAt: number;
  /**
   * When its time limit (pageTimeoutMs) began: at its dispatch, then again when its thread told
   * of it. A task can wait in the pool for a thread that is starting (the one that replaced a
   * stuck page's, on a loaded machine for longer than the limit), and its page has not run.
   */
  timedFrom: number;
  retryBase: number;
  children: number;
  /** Items reported so far by this attempt. */
  items: number;
  expectedItems: number;
  threadId: number | null;
  logLines: number;
  /** Set when Baton aborted the attempt: the outcome it gets if it then ends aborted. */
  abortedAs: EndOutcome | null;
  /** Why it was aborted, as its signal's reason says. */
  abortReason: string;
}

/** An attempt given up on (stuck, or frozen on a blocked thread) whose thread may still run it. */
interface Zombie {
  threadId: number | null;
  /** When its thread is terminated if it has not ended by then; infinite once it was. */
  killAt: number;
  /** The attempt as it ran: its log lines still count against it (see onLog). */
  run: RunningAttempt;
  /**
   * Its record and what activity showed of it, when it was called stuck: recorded and shown
   * again, with the error saying so, if its thread is terminated (see sayWhyTerminated).
   */
  stuck: { record: AttemptRecord; shown: EndedRecord; timeoutMs: number } | null;
}

interface AttemptEnd {
  startedAt?: number;
  endedAt?: number;
  items?: number;
  error?: SerializedError;
  nonRetryable?: boolean;
  /** Its code never ran: it runs again even at-most-once. */
  neverStarted?: boolean;
}

interface RunnerEvents {
  update: [JobSnapshot];
  activity: [JobActivity];
}

/** An ended attempt kept for the next activity: [page, attempt, slot, outcome, cursor JSON, started, ended, items, error]. */
type EndedRecord = [number, number, number, EndOutcome, string, number, number, number | null, SerializedError | null, boolean];

export class JobRunner extends EventEmitter<RunnerEvents> {
  readonly jobId: string;
  private readonly no: number;
  private readonly db: SqliteDatabase;
  private readonly group: GroupCommit;
  private readonly jobs: JobStore;
  private readonly pages: PageStore;
  private readonly pool: PagePool;
  private processor: ProcessorState;
  private readonly owner: string;
  private readonly logDir: string;
  private readonly logKey: string;
  private readonly rebuild: () => Promise<ProcessorState>;

  private state: JobState;
  private paused: boolean;
  private maxParallel: number;
  private rateLimit: RateLimitSetting | null;
  private readonly rampup: Rampup | null;
  private readonly runStartedAt = Date.now();

  private readonly queue: PageQueue;
  private readonly rate: RateLimiter;
  private readonly slots = new SlotAllocator();
  private readonly running = new Map<number, RunningAttempt>();
  /** Attempts given up on (stuck) whose thread may still run them, by `${page}/${attempt}`. */
  private readonly zombies = new Map<string, Zombie>();
  /** Retries of attempts still in `zombies`, by the same key: queued once their thread lets go. */
  private readonly parked = new Map<string, QueuedPage>();
  private readonly window: ThroughputWindow;
  private readonly counts: JobCounters;

  // What waits for the next commit.
  private acks = new Map<number, number[]>();
  private rejections: { threadId: number; request: number; code: string; message: string }[] = [];
  private heldRuns: RunningAttempt[] = [];
  private gaveUp: GaveUpPage[];
  /**
   * Stuck attempts that were their pages' last, by attemptKey: reported to onPageFailed once the
   * attempt stops or its thread is terminated, so that the hook hears which (sayWhyTerminated).
   */
  private readonly stuckGaveUp = new Map<string, GaveUpPage>();
  private commitHooked = false;
  /** Runs started since the last send, to go out as tasks. */
  private startedRuns: RunningAttempt[] = [];
  /** Running attempts per thread, once the thread is known. */
  private readonly runningOn = new Map<number, number>();
  /** Credits outstanding per thread (see the 'grant' message), and their total. */
  private readonly credits = new Map<number, number>();
  private creditsOut = 0;
  /** Page numbers each thread holds for children. */
  private readonly numbersHeld = new Map<number, number>();
  /** Children a thread holds until one of its pages ends (queued in SQLite meanwhile), and how many per thread. */
  private readonly deferred = new Map<number, { threadId: number; page: QueuedPage }>();
  private readonly heldCount = new Map<number, number>();
  private readonly revoking = new Set<number>();
  /** Children a thread started on credit that Baton refused (a repeat): their messages are dropped. */
  private readonly refused = new Set<number>();
  /** Children committed by a thread after their parent's attempt was given up on: page -> children. */
  private readonly lateChildren = new Map<number, number>();
  /**
   * Children committed by their thread whose enqueue was read from its shared memory (see
   * readRunningThreads) before the batch that carries it arrived: that message is then dropped.
   */
  private readonly enqueuesReadEarly = new Set<number>();
  /** While starts are read from a thread's memory: how many of its running pages have ended there, unheard. */
  private endsReadEarly = 0;
  /** Which threads' event loops have stopped showing that they run (thread-beats.ts). */
  private readonly beats = new ThreadBeats();
  /**
   * Pages that were running on a thread one of its pages blocked, when which one was not known
   * (see sortBlame). They run one at a time until each has ended by itself or been called stuck.
   */
  private readonly suspects = new Set<number>();
  private runningSuspect: number | null = null;

  private wakeTimer: NodeJS.Timeout | null = null;
  private wakeAt = Number.POSITIVE_INFINITY;
  private readonly housekeeping: NodeJS.Timeout;
  private readonly stopListening: () => void;
  private lastHeartbeat = 0;
  private lastUpdate = 0;
  private lastActivity = 0;
  private activitySeq = 0;
  /** Attempts ended since the last activity, oldest first; a ring of MAX_ACTIVITY_ENDED. */
  private ended: EndedRecord[] = [];
  /** The job's row as summary() last read it, for a snapshot after the database is closed. */
  private lastRow: JobSummary | null = null;
  private endedDropped = 0;
  private dirty = true;
  private controlVersion: number;
  private retryRequested: number;
  private pendingSideTasks = 0;
  private retrying = false;

  private failure: unknown = null;
  private stopping: StopMode | null = null;
  private cancelling = false;
  private finished = false;
  private readonly donePromise: Promise<JobSummary>;
  private resolveDone!: (summary: JobSummary) => void;
  private rejectDone!: (error: unknown) => void;

  constructor(options: JobRunnerOptions) {
    super();
    const { row } = options;
    this.jobId = row.id;
    this.no = row.no;
    this.db = options.db;
    this.group = options.group;
    this.gaveUp = [...(options.gaveUp ?? [])];
    this.jobs = options.jobs;
    this.pool = options.pool;
    this.processor = options.processor;
    this.owner = options.owner;
    this.logDir = options.logDir;
    this.logKey = childLogKey(options.row);
    this.rebuild = options.rebuild;
    this.pages = new PageStore(this.db, row.no, this.group);
    this.paused = row.paused === 1;
    this.state = this.paused ? 'paused' : 'running';
    this.maxParallel = row.max_parallel;
    this.rateLimit = rateFromColumns(row.rate_items, row.rate_pages);
    this.rampup = row.rampup ? (JSON.parse(row.rampup) as Rampup) : null;
    this.controlVersion = row.control_version;
    this.retryRequested = row.retry_requested;
    // Readers follow seq across runs of the job: go on from the last one published.
    this.activitySeq = this.jobs.readLive(row.no, -1)?.seq ?? 0;
    const now = Date.now();
    this.queue = new PageQueue((from, limit) => this.pages.queued(from, limit));
    this.rate = new RateLimiter(this.rateLimit ?? undefined, now);
    this.window = new ThroughputWindow(5_000, now);
    this.counts = {
      pages_total: row.pages_total,
      pages_queued: row.pages_queued,
      pages_running: 0,
      pages_succeeded: row.pages_succeeded,
      pages_failed: row.pages_failed,
      items: row.items,
      attempts: row.attempts,
      max_in_flight: row.max_in_flight,
      next_page: row.next_page,
    };
    this.donePromise = new Promise((resolve, reject) => {
      this.resolveDone = resolve;
      this.rejectDone = reject;
    });
    // Callers may hold `done` without awaiting it right away; never an unhandled rejection.
    this.donePromise.catch(() => {});
    this.stopListening = this.group.onFailure((error) => this.fail(translateSqliteError(error, this.db.name)));
    this.housekeeping = setInterval(() => this.doHousekeeping(), HOUSEKEEPING_MS);
  }

  /** Starts dispatching; queued pages are read from SQLite as room allows. */
  begin(): void {
    this.loadCursorFilter(0);
    this.queue.reloadFrom(0);
    this.write(() => this.jobs.setState(this.no, this.state, null));
    this.emitUpdate(true);
    this.pump();
  }

  get done(): Promise<JobSummary> {
    return this.donePromise;
  }

  /**
   * Adds the cursors of the pages the job had when this run began to the threads' filter, a
   * chunk per turn of the event loop (a resumed job may have millions), then marks it complete;
   * until then the threads read the database instead. Pages inserted meanwhile are added as
   * they are inserted.
   */
  private loadCursorFilter(after: number): void {
    const filter = this.pool.cursorFilter;
    if (!filter || this.finished) return;
    let rows;
    try {
      rows = this.pages.cursorsAfter(after, CURSOR_FILTER_CHUNK);
    } catch {
      // The threads go on reading the database: slower, never wrong.
      return;
    }
    for (const row of rows) filter.add(cursorHash(row.cursor, row.size));
    if (rows.length < CURSOR_FILTER_CHUNK) filter.markComplete();
    else setImmediate(() => this.loadCursorFilter(rows.at(-1)!.no));
  }

  get isFinished(): boolean {
    return this.finished;
  }

  /** The processor's retry mode, as last built. */
  get mode(): RetryMode {
    return this.processor.policy.mode;
  }

  /** At-least-once pages may start before their start is committed (see the file comment). */
  private get startsEarly(): boolean {
    return this.processor.policy.mode === 'at-least-once';
  }

  /** Runs SQL writes inside the shared transaction; a failure stops the job. `events`: how many they record. */
  private write<T>(writes: () => T, events = 0): T | undefined {
    try {
      this.group.begin(events);
      const result = writes();
      this.hookCommit();
      return result;
    } catch (error) {
      this.group.abort(error);
      return undefined;
    }
  }

  /**
   * Like write(), for events whose statements the PageStore keeps for the commit: the write lock
   * is not taken (see GroupCommit), unless one of them must run now.
   */
  private record(writes: () => void, events: number): void {
    try {
      this.group.note(events);
      writes();
      if (this.awaitsCommit()) this.hookCommit();
    } catch (error) {
      this.group.abort(error);
    }
  }

  /** Something waits for the next commit: an answer to an enqueue, a start, a failure to report. */
  private awaitsCommit(): boolean {
    return this.acks.size > 0 || this.rejections.length > 0 || this.heldRuns.length > 0 || this.gaveUp.length > 0;
  }

  private hookCommit(): void {
    if (this.commitHooked) return;
    this.commitHooked = true;
    this.group.afterCommit(() => this.afterCommit());
  }

  /** Feeds a batch from a worker thread's channel. */
  onWorkerMessages(messages: WorkerMessage[], threadId: number): void {
    if (this.finished) return;
    // Between two batches is a safe place to commit: the scheduler's state is whole. The commit
    // runs what waited for it, which may finish the job.
    this.group.commitIfDue();
    if (this.finished) return;
    const now = Date.now();
    this.record(() => {
      for (const message of messages) this.onWorkerMessage(message, threadId, now);
    }, messages.length);
    this.dirty = true;
    this.pump();
  }

  /** `unsent`: read from a thread that stopped before sending it; nobody waits for an answer. */
  private onWorkerMessage(message: WorkerMessage, threadId: number, now: number, unsent = false): void {
    switch (message.t) {
      case 'started': {
        for (const no of message.pages) {
          const run = this.running.get(no);
          if (run && run.threadId === null) {
            this.placeOn(run, threadId);
            run.timedFrom = now;
            // Aborted while its task was on the way: the thread has not heard of it yet.
            if (run.abortedAs) this.pool.send(threadId, { t: 'abort', targets: [[run.no, run.attempt]], reason: run.abortReason });
          } else if (this.zombies.size > 0) {
            this.zombieStarted(no, threadId, now);
          }
        }
        break;
      }
      case 'enqueue':
        // Heard of already, from the thread's memory: only its parent's wait is left to answer.
        if (message.local !== null && this.enqueuesReadEarly.delete(message.local)) {
          if (!message.durable) this.ack(threadId, message.request);
          break;
        }
        this.onEnqueue(message, threadId, now, unsent);
        break;
      case 'revoked':
        this.revoking.delete(threadId);
        this.takeCredits(threadId, message.unused);
        for (const no of message.returned) this.undefer(no, now);
        break;
      case 'deferred-start': {
        const held = this.release(message.page);
        if (!held) break;
        // It started on the credit a page of its thread gave back just before in this batch.
        // Its row stays 'queued' until it ends: a write fewer, and after a crash a queued
        // page runs again anyway (at-least-once; at-most-once never holds children).
        this.takeCredits(threadId, 1);
        const run = this.startAttempt(held.page, now);
        this.placeOn(run, threadId);
        break;
      }
      case 'progress': {
        const run = this.current(message.page, message.attempt);
        if (run) {
          run.items += message.items;
          this.window.record(now, message.items, 0);
        }
        break;
      }
      case 'log':
        this.onLog(message);
        break;
      case 'log-sealed': {
        // Every child in it came before, and its row is in the group: gone once that commits.
        const { file } = message;
        this.group.afterCommit(() => removeChildLogs([file]));
        break;
      }
      case 'done':
      case 'failed':
        this.onAttemptEnd(message, threadId, now);
        break;
    }
  }

  /**
   * An attempt given up on before its task reached a thread (frozen behind a blocked one) has
   * started there after all: it is told to stop, and its thread is terminated if it does not.
   */
  private zombieStarted(no: number, threadId: number, now: number): void {
    for (const zombie of this.zombies.values()) {
      if (zombie.run.no !== no || zombie.threadId !== null) continue;
      zombie.threadId = threadId;
      if (zombie.killAt !== Number.POSITIVE_INFINITY) zombie.killAt = now + STUCK_GRACE_MS;
      // As checkStuck told the threads then, when this one had not heard of it.
      this.pool.send(threadId, { t: 'abort', targets: [[no, zombie.run.attempt]], reason: zombie.stuck ? 'page timed out' : 'its thread was blocked' });
    }
  }

  private current(no: number, attempt: number): RunningAttempt | undefined {
    const run = this.running.get(no);
    return run && run.attempt === attempt ? run : undefined;
  }

  /** `unsent`: read from a thread that stopped before sending it; nobody waits for an answer. */
  private onEnqueue(message: Extract<WorkerMessage, { t: 'enqueue' }>, threadId: number, now: number, unsent = false): void {
    const { local } = message;
    if (local !== null) {
      this.numbersHeld.set(threadId, (this.numbersHeld.get(threadId) ?? 1) - 1);
      if (message.started) this.takeCredits(threadId, 1);
    }
    const parent = this.current(message.page, message.attempt);
    if (!parent && !message.durable && !unsent) {
      this.rejections.push({
        threadId,
        request: message.request,
        code: 'STALE_ATTEMPT',
        message: `page ${message.page} attempt ${message.attempt} was already given up on (timed out or stopped); its next attempt enqueues instead`,
      });
      if (local !== null) this.refuse(local, threadId, 'its parent attempt was given up on');
      return;
    }
    if (!message.durable && !unsent) this.ack(threadId, message.request);
    if (parent) {
      if (message.ordinal < parent.children) {
        // A retried attempt repeating an enqueue its page already made: the chain goes on from
        // the page recorded the first time.
        if (local !== null) this.refuse(local, threadId, 'it repeats an enqueue its page made on an earlier attempt');
        return;
      }
      parent.children = message.ordinal + 1;
    } else {
      if (local !== null && this.refused.has(message.page)) {
        // Logged by its thread under a parent refused as a repeat (see below): a repeat's chain.
        this.refuse(local, threadId, `its parent, page ${message.page}, repeated another page's cursor`);
        return;
      }
      // Logged by its thread just as its parent's attempt was given up on (or started by a
      // thread that stopped before telling): the child is recorded, so the chain goes on from
      // it, and the parent's next attempt does not repeat it.
      this.lateChildren.set(message.page, Math.max(this.lateChildren.get(message.page) ?? 0, message.ordinal + 1));
    }
    const page: QueuedPage = { no: local ?? this.counts.next_page++, cursor: message.cursor, size: message.size, attempts: 0, retryBase: 0, children: 0, runAfter: null };
    // Start it at once when nothing is ahead of it (or its thread already did, on a credit);
    // then it is recorded as running from the start.
    const startNow = message.started || (local === null && this.startsEarly && this.queue.readyCount === 0 && this.room(now) > 0 && this.admit(page, now));
    // Before the insert commits: the filter holds at least every committed page. Its thread
    // added it already, as a rule: on the scheduler's thread, the busiest, the add cost 0.5 µs.
    if (!message.filtered) this.pool.cursorFilter?.add(cursorHash(page.cursor, page.size));
    // A durable child is in its thread's log already, and runs (or waits there) as it was
    // logged. Its insert can still find its cursor taken: another thread handed on the same new
    // cursor at the same moment, and the scheduler heard of that one first. Then it is refused
    // as any repeat is, and stopped; recovery's INSERT OR IGNORE skips its line, whose cursor is
    // the other page's.
    const inserted = this.pages.insert({ no: page.no, parent: message.page, ordinal: message.ordinal, cursor: page.cursor, size: page.size }, startNow ? now : null, message.durable);
    if (!inserted) {
      if (startNow && local === null) this.rate.settle(page.size ?? 1, 0);
      const original = this.pages.duplicateOf(page.cursor, page.size);
      this.pages.log({
        page: message.page,
        attempt: message.attempt,
        at: now,
        level: 'warn',
        message: `enqueueNextPage: cursor ${truncate(page.cursor)}${page.size !== null ? ` with size ${page.size}` : ''} is already page ${original}'s; not enqueued again`,
      });
      if (local !== null) this.refuse(local, threadId, `cursor ${truncate(page.cursor)} is already page ${original}'s`);
      return;
    }
    this.counts.pages_total++;
    this.counts.pages_queued++;
    if (message.started) {
      // Already running on that thread: record it, send nothing.
      this.placeOn(this.startAttempt(page, now), threadId);
    } else if (local !== null) {
      // Held by its thread until one of the thread's pages ends.
      this.hold(page.no, threadId, page);
    } else if (startNow) {
      this.startedRuns.push(this.startAttempt(page, now));
    } else {
      this.queue.add(page, now);
    }
  }

  private placeOn(run: RunningAttempt, threadId: number): void {
    run.threadId = threadId;
    this.runningOn.set(threadId, (this.runningOn.get(threadId) ?? 0) + 1);
  }

  /** A deferred child comes back to the scheduler's queue (revoked, or its thread stopped). */
  private undefer(no: number, now: number): void {
    const held = this.release(no);
    if (held) this.queue.add(held.page, now);
  }

  /** A child started on credit that is not a page after all: stop it and drop its messages. */
  private refuse(no: number, threadId: number, reason: string): void {
    this.refused.add(no);
    this.pool.send(threadId, { t: 'abort', targets: [[no, 1]], reason: `not a new page: ${reason}` });
  }

  private takeCredits(threadId: number, n: number): void {
    if (n === 0) return;
    this.credits.set(threadId, (this.credits.get(threadId) ?? 0) - n);
    this.creditsOut -= n;
  }

  /**
   * Keeps chains on their own thread, without a round trip: tops up each thread running pages
   * with page numbers for their children, and with credits (held slots) while there is room to
   * spare; takes both back when the queue needs the room or the limits say stop.
   */
  private manageCredits(now: number): void {
    if (!this.startsEarly) return;
    const waiting = this.queue.hasWaiting(now);
    const room = this.room(now);
    const stop = this.paused || this.stopping || this.cancelling || this.rate.limited;
    if (stop || (waiting && room <= 0) || room < 0) {
      if (this.creditsOut > 0 || this.deferred.size > 0) {
        for (const threadId of this.pool.threadIds()) {
          if (this.revoking.has(threadId) || (!this.credits.get(threadId) && !this.hasDeferred(threadId))) continue;
          this.revoking.add(threadId);
          this.pool.send(threadId, { t: 'revoke' });
        }
      }
      return;
    }
    // A thread with no page running cannot use credits (only pages enqueue): take them back.
    for (const [threadId, held] of this.credits) {
      if (held > 0 && !this.runningOn.get(threadId) && !this.revoking.has(threadId)) {
        this.revoking.add(threadId);
        this.pool.send(threadId, { t: 'revoke' });
      }
    }
    const allowed = this.allowedParallel(now);
    const cap = Math.min(MAX_CREDITS_PER_THREAD, allowed);
    // Credits skip the round trip. Once granted, a thread keeps a credit as its pages end, so
    // even one spare slot is worth granting: it will not come straight back.
    const batch = 1;
    let spare = waiting ? 0 : room;
    for (const threadId of this.pool.threadIds()) {
      // Only a thread running pages needs numbers or credits: its pages are the ones that enqueue.
      if (this.revoking.has(threadId) || !this.runningOn.get(threadId)) continue;
      const numbers = this.numbersHeld.get(threadId) ?? 0;
      const held = this.credits.get(threadId) ?? 0;
      const moreNumbers = numbers * 2 < NUMBERS_PER_THREAD ? NUMBERS_PER_THREAD - numbers : 0;
      // Children held there start as soon as their credits arrive, ahead of the usual top-up.
      const holding = this.heldOn(threadId);
      const topUp = held * 2 < cap ? cap - held : 0;
      const moreCredits = spare >= batch ? Math.min(Math.max(topUp, holding - held), spare) : 0;
      if (moreNumbers === 0 && moreCredits === 0) continue;
      const give = Math.max(moreNumbers, moreCredits - numbers);
      const grant = Array.from({ length: give }, () => this.counts.next_page++);
      this.pool.send(threadId, { t: 'grant', numbers: grant, credits: moreCredits });
      this.numbersHeld.set(threadId, numbers + give);
      this.credits.set(threadId, held + moreCredits);
      this.creditsOut += moreCredits;
      spare -= moreCredits;
    }
  }

  private hasDeferred(threadId: number): boolean {
    return this.heldOn(threadId) > 0;
  }

  /** Children the thread holds. */
  private heldOn(threadId: number): number {
    return this.heldCount.get(threadId) ?? 0;
  }

  private hold(no: number, threadId: number, page: QueuedPage): void {
    this.deferred.set(no, { threadId, page });
    this.heldCount.set(threadId, this.heldOn(threadId) + 1);
  }

  /** The held child, no longer held (started, or back to the queue). */
  private release(no: number): { threadId: number; page: QueuedPage } | undefined {
    const held = this.deferred.get(no);
    if (!held) return undefined;
    this.deferred.delete(no);
    this.heldCount.set(held.threadId, this.heldOn(held.threadId) - 1);
    return held;
  }

  /** A thread stopped: its credits are gone, and so are the pages it ran. */
  onThreadExit(threadId: number): void {
    if (this.finished) return;
    // What it never sent (a page blocked it first): children it started or committed (one may
    // be what blocked it), known and recorded now, then lost with its other pages below and run
    // again; pages that ended in its last turn, recorded as they ended.
    const unsent = this.pool.unsentMessages(threadId);
    if (unsent.length > 0) {
      const replayedAt = Date.now();
      // One at a time: a held child's start is known only once its enqueue is.
      this.record(() => {
        for (const message of unsent) if (!this.heardOf(message, threadId)) this.onWorkerMessage(message, threadId, replayedAt, true);
      }, unsent.length);
    }
    this.sayWhyTerminated(threadId);
    this.takeCredits(threadId, this.credits.get(threadId) ?? 0);
    this.credits.delete(threadId);
    this.beats.forget(threadId);
    this.numbersHeld.delete(threadId);
    this.revoking.delete(threadId);
    this.runningOn.delete(threadId);
    const now = Date.now();
    for (const [no, held] of [...this.deferred]) if (held.threadId === threadId) this.undefer(no, now);
    this.heldCount.delete(threadId);
    let letGo = false;
    for (const [key, zombie] of [...this.zombies]) {
      if (zombie.threadId !== threadId) continue;
      this.letGo(key, now);
      letGo = true;
    }
    // Slots freed by the pages that ended in its last turn, or by the stuck attempt.
    if (letGo || unsent.length > 0) {
      this.dirty = true;
      this.pump();
    }
    const lost: TaskPage[] = [];
    for (const run of this.running.values()) if (run.threadId === threadId) lost.push(taskPageOf(run));
    // Let what the thread sent before it stopped arrive first.
    if (lost.length > 0) setTimeout(() => this.onTaskLost(lost, new Error(`worker thread ${threadId} stopped`)), 25);
  }

  /**
   * A thread stopped: a stuck attempt that ran there and did not end when told records that its
   * thread was terminated (it ignored ctx.signal, or was still running when another stuck page's
   * thread was), rather than that it was aborted through ctx.signal.
   */
  private sayWhyTerminated(threadId: number): void {
    if (!this.pool.terminated.has(threadId)) return;
    const stuck: Zombie[] = [];
    for (const zombie of this.zombies.values()) if (zombie.threadId === threadId && zombie.stuck) stuck.push(zombie);
    if (stuck.length === 0) return;
    // Its own grace ran out (killAt is then infinite), or another's did first.
    this.record(() => {
      for (const zombie of stuck) this.sayTerminated(zombie, zombie.killAt === Number.POSITIVE_INFINITY ? 'ignored' : 'terminated-for-another');
    }, stuck.length);
  }

  /** Records, shows and reports a stuck attempt as stopped by its thread's termination. Call inside record(). */
  private sayTerminated({ stuck: said, run }: Zombie, how: 'ignored' | 'terminated-for-another'): void {
    if (!said) return;
    const error = stuckError(said.timeoutMs, how);
    this.pages.recordAttempt({ ...said.record, errorMessage: error.message });
    this.reportStuckGaveUp(attemptKey(run.no, run.attempt), error);
    // Timelines have shown it as aborted since: the same attempt again updates it there.
    const shown = said.shown;
    this.ended.push([shown[0], shown[1], shown[2], shown[3], shown[4], shown[5], shown[6], shown[7], error, shown[9]]);
    this.dirty = true;
  }

  /** Whether an unsent message reached the scheduler after all, just as its thread stopped. */
  private heardOf(message: UnsentMessage, threadId: number): boolean {
    switch (message.t) {
      case 'enqueue':
        // Read early: heard, and its mark is dropped with the message it stood for.
        return message.local !== null && (this.enqueuesReadEarly.delete(message.local) || this.running.has(message.local) || this.deferred.has(message.local));
      case 'deferred-start':
        return !this.deferred.has(message.page);
      case 'log': {
        // A line of an attempt given up on while it ran here (stuck, say, in the busy loop it
        // logged before) was not heard: its thread never sent it. These are the lines that tell why.
        const run = this.current(message.page, message.attempt);
        return run ? run.threadId !== threadId : this.zombies.get(attemptKey(message.page, message.attempt))?.threadId !== threadId;
      }
      default:
        return this.current(message.page, message.attempt)?.threadId !== threadId;
    }
  }

  private ack(threadId: number, request: number): void {
    let list = this.acks.get(threadId);
    if (!list) this.acks.set(threadId, (list = []));
    list.push(request);
  }

  private onLog(message: Extract<WorkerMessage, { t: 'log' }>): void {
    if (this.refused.has(message.page)) return;
    // One given up on still counts its lines: those it logs after, or its stopped thread never sent.
    const run = this.current(message.page, message.attempt) ?? this.zombies.get(attemptKey(message.page, message.attempt))?.run;
    let text = message.message.length > MAX_LOG_LINE_CHARS ? `${message.message.slice(0, MAX_LOG_LINE_CHARS)}… (truncated)` : message.message;
    let level = message.level;
    if (run && ++run.logLines > MAX_LOG_LINES_PER_ATTEMPT) {
      if (run.logLines > MAX_LOG_LINES_PER_ATTEMPT + 1) return;
      text = `more than ${MAX_LOG_LINES_PER_ATTEMPT} log lines: the rest of this attempt's lines are dropped`;
      level = 'warn';
    }
    this.pages.log({ page: message.page, attempt: message.attempt, at: message.at, level, message: text });
  }

  private onAttemptEnd(message: Extract<WorkerMessage, { t: 'done' | 'failed' }>, threadId: number, now: number): void {
    // Its slot stays with its thread, as a credit for the next child there.
    if (message.kept) this.takeCredits(threadId, -1);
    const run = this.current(message.page, message.attempt);
    if (!run) {
      // An attempt already given up on stopped by itself: its thread need not be terminated.
      this.letGo(attemptKey(message.page, message.attempt), now);
      this.refused.delete(message.page);
      return;
    }
    const { startedAt, endedAt } = message;
    // Literals, not spreads: this runs for every page, and spreading costs several times more.
    if (message.aborted && run.abortedAs) this.endAttempt(run, run.abortedAs, now, { startedAt, endedAt });
    else if (message.t === 'done') this.endAttempt(run, 'succeeded', now, { startedAt, endedAt, items: message.items });
    else this.endAttempt(run, 'failed', now, { startedAt, endedAt, error: message.error, nonRetryable: message.nonRetryable });
  }

  /**
   * Records how an attempt ended and what happens to its page next; the attempt's row, unless it
   * lives in its page's row. Call inside write().
   */
  private endAttempt(run: RunningAttempt, outcome: EndOutcome, now: number, detail: AttemptEnd = {}): AttemptRecord | null {
    this.running.delete(run.no);
    if (this.runningSuspect === run.no) this.runningSuspect = null;
    if (run.threadId !== null) this.runningOn.set(run.threadId, (this.runningOn.get(run.threadId) ?? 1) - 1);
    this.slots.release(run.slot);
    this.counts.pages_running--;
    const items = outcome === 'succeeded' ? (detail.items ?? run.items) : null;
    this.rate.settle(run.expectedItems, items ?? run.items);
    const endedAt = detail.endedAt ?? now;
    if (this.ended.length >= MAX_ACTIVITY_ENDED) {
      this.ended.shift();
      this.endedDropped++;
    }
    const startedAt = detail.startedAt ?? run.dispatchedAt;
    // Most pages succeed at once: their one attempt lives in the page's row (see the schema).
    const only = outcome === 'succeeded' && run.attempt === 1 ? { slot: run.slot, startedAt } : null;
    let record: AttemptRecord | null = null;
    if (!only) {
      record = {
        page: run.no,
        attempt: run.attempt,
        slot: run.slot,
        outcome,
        startedAt,
        endedAt,
        items,
        errorName: detail.error?.name ?? null,
        errorMessage: detail.error?.message ?? null,
        errorStack: detail.error?.stack ?? null,
      };
      this.pages.recordAttempt(record);
    }
    // What an attempt that did not succeed reported never counted: it leaves the items/s rate too.
    if (outcome !== 'succeeded' && run.items > 0) this.window.withdraw(now, run.items, run.dispatchedAt);
    let state: 'queued' | 'succeeded' | 'failed' = 'queued';
    let retryBase = run.retryBase;
    let runAfter: number | null = null;
    if (outcome === 'succeeded') {
      state = 'succeeded';
      this.counts.pages_succeeded++;
      this.counts.items += items!;
      this.window.record(now, items! - run.items, 1);
    } else if (outcome === 'failed' || outcome === 'stuck') {
      const decision = decideRetry(this.processor.policy, run.attempt - run.retryBase, { nonRetryable: detail.nonRetryable ?? false });
      if (decision.retry) {
        // A server that said when to come back (a 429's Retry-After) is not asked sooner.
        decision.delayMs = Math.max(decision.delayMs, detail.error?.retryAfterMs ?? 0);
        // A stuck attempt's thread may still be running it: retry only after it is stopped.
        runAfter = now + (outcome === 'stuck' ? Math.max(decision.delayMs, STUCK_GRACE_MS + HOUSEKEEPING_MS) : decision.delayMs);
      } else {
        state = 'failed';
        const gaveUp = { page: taskPageOf(run), error: detail.error ?? { name: 'Error', message: outcome } };
        if (outcome === 'stuck') this.stuckGaveUp.set(attemptKey(run.no, run.attempt), gaveUp);
        else this.gaveUp.push(gaveUp);
      }
    } else if (outcome === 'interrupted' && this.processor.policy.mode === 'at-most-once' && !detail.neverStarted) {
      state = 'failed';
      this.gaveUp.push({ page: taskPageOf(run), error: detail.error ?? { name: 'Interrupted', message: 'interrupted' } });
    } else {
      // Interrupted or cancelled by Baton: it runs again and this attempt does not count.
      retryBase++;
    }
    this.pages.end({ no: run.no, state, attempts: run.attempt, retryBase, children: run.children, items, runAfter, endedAt, only });
    this.ended.push([run.no, run.attempt, run.slot, outcome, run.cursor, startedAt, endedAt, items, detail.error ?? null, state === 'queued' && !this.cancelling]);
    // A suspect clears itself by ending on its own; called stuck or interrupted, it stays one.
    if (state !== 'queued' || outcome === 'failed') this.suspects.delete(run.no);
    if (state === 'queued') {
      this.counts.pages_queued++;
      const page: QueuedPage = { no: run.no, cursor: run.cursor, size: run.size, attempts: run.attempt, retryBase, children: run.children, runAfter };
      const key = attemptKey(run.no, run.attempt);
      // A stuck attempt's thread may still run it, and may still tell of children it started:
      // its retry waits until the attempt ends by itself or its thread is gone.
      if (this.zombies.has(key)) this.parked.set(key, page);
      else if (!this.cancelling) this.queue.add(page, now);
    } else if (state === 'failed') {
      this.counts.pages_failed++;
    }
    this.dirty = true;
    return record;
  }

  /** The parallelism allowed now. */
  private allowedParallel(now: number): number {
    return rampedParallel(this.maxParallel, this.rampup ?? undefined, now - this.runStartedAt);
  }

  /** Slots free for pages to start: neither running nor held as a thread's credit. */
  private room(now: number): number {
    if (this.paused || this.stopping || this.cancelling || this.finished) return 0;
    return this.allowedParallel(now) - this.running.size - this.creditsOut;
  }

  /** Charges the rate limit for a page about to start; false when the limit says wait. */
  private admit(page: QueuedPage, now: number): boolean {
    if (!this.rate.limited) return true;
    if (!this.rate.canStart(now)) return false;
    this.rate.start(page.size ?? 1);
    return true;
  }

  /** Starts what the limits allow, and sends what has started. */
  private pump(): void {
    if (this.finished) return;
    const now = Date.now();
    const room = this.room(now);
    const taken = room > 0 && !this.queue.isEmpty ? this.queue.take(now, room, (page) => this.admit(page, now)) : [];
    const pages = this.suspects.size > 0 ? this.holdSuspects(taken, now) : taken;
    if (pages.length > 0) {
      this.record(() => {
        for (const page of pages) {
          const run = this.startAttempt(page, now);
          this.pages.start(run.no, run.attempt, now);
          this.startedRuns.push(run);
        }
      }, pages.length);
    }
    // Credits first: a thread then has them before the pages sent next can enqueue.
    this.manageCredits(now);
    if (this.startedRuns.length > 0) {
      if (this.startsEarly) this.sendTasks(this.startedRuns);
      else {
        this.heldRuns.push(...this.startedRuns);
        this.hookCommit();
      }
      this.startedRuns = [];
    }
    this.armWakeTimer(now);
    this.maybeFinish();
  }

  private startAttempt(page: QueuedPage, now: number): RunningAttempt {
    const run: RunningAttempt = {
      no: page.no,
      attempt: page.attempts + 1,
      cursor: page.cursor,
      size: page.size,
      slot: this.slots.acquire(),
      dispatchedAt: now,
      timedFrom: now,
      retryBase: page.retryBase,
      children: this.childrenOf(page),
      items: 0,
      expectedItems: page.size ?? 1,
      threadId: null,
      logLines: 0,
      abortedAs: null,
      abortReason: '',
    };
    this.running.set(run.no, run);
    this.counts.pages_queued--;
    this.counts.pages_running++;
    this.counts.attempts++;
    const inFlight = this.running.size - this.endsReadEarly;
    if (inFlight > this.counts.max_in_flight) this.counts.max_in_flight = inFlight;
    this.dirty = true;
    return run;
  }

  private childrenOf(page: QueuedPage): number {
    const late = this.lateChildren.get(page.no);
    if (late === undefined) return page.children;
    this.lateChildren.delete(page.no);
    return Math.max(page.children, late);
  }

  /** Everything written so far is durable: answer enqueues and start held pages. */
  private afterCommit(): void {
    this.commitHooked = false;
    if (this.finished) return;
    for (const [threadId, requests] of this.acks) this.pool.send(threadId, { t: 'committed', requests });
    this.acks = new Map();
    for (const { threadId, request, code, message } of this.rejections) this.pool.send(threadId, { t: 'rejected', request, code, message });
    this.rejections = [];
    if (this.heldRuns.length > 0) {
      const runs = this.heldRuns.filter((run) => this.running.get(run.no) === run);
      this.heldRuns = [];
      this.sendTasks(runs);
    }
    this.reportGaveUp();
    this.pump();
  }

  /**
   * Groups pages into tasks: one page per task while few start at once, several when many
   * start together, which is what keeps dispatch cheap at high page rates.
   */
  private sendTasks(runs: RunningAttempt[]): void {
    if (runs.length === 0) return;
    const perTask = Math.max(1, Math.min(MAX_PAGES_PER_TASK, Math.ceil(runs.length / (this.pool.threadCount * 2))));
    const bundle = this.processor.bundle;
    for (let i = 0; i < runs.length; i += perTask) {
      const pages: TaskPage[] = [];
      for (let j = i; j < Math.min(i + perTask, runs.length); j++) {
        const run = runs[j]!;
        pages.push(taskPageOf(run));
      }
      this.pool.runPages(bundle, pages).catch((error: unknown) => {
        // Let outcomes the thread sent before it died arrive first.
        setTimeout(() => this.onTaskLost(pages, error), 25);
      });
    }
  }

  private onTaskLost(pages: TaskPage[], error: unknown): void {
    if (this.finished) return;
    const now = Date.now();
    this.write(() => {
      for (const [no, attempt] of pages) {
        const run = this.current(no, attempt);
        // Given up on already: its retry waits for the thread's exit (onThreadExit), which reads
        // what the thread never sent first; a task can be lost before its thread's exit is heard.
        if (!run) continue;
        if (error instanceof ProcessorLoadError) {
          this.endAttempt(run, 'failed', now, { error: { ...error.serialized, message: `the processor failed to load: ${error.serialized.message}` } });
        } else if (run.abortedAs) {
          this.endAttempt(run, run.abortedAs, now);
        } else if (run.threadId !== null && this.pool.terminated.has(run.threadId)) {
          this.endAttempt(run, 'interrupted', now, {
            error: this.interruption('its worker thread was terminated to stop a stuck page'),
          });
        } else if (run.threadId === null) {
          // Its code never ran (a thread tells of a task first): nothing to count against it.
          this.endAttempt(run, 'interrupted', now, neverStarted(`its worker thread stopped before the page started (${serializeError(error).message})`));
        } else {
          this.endAttempt(run, 'failed', now, { error: { name: 'WorkerExitError', message: `the worker thread running this page exited: ${serializeError(error).message}` } });
        }
      }
    });
    this.pump();
  }

  private reportGaveUp(): void {
    if (this.gaveUp.length === 0) return;
    const gaveUp = this.gaveUp;
    this.gaveUp = [];
    if (!this.processor.hasOnPageFailed) return;
    for (const { page, error } of gaveUp) {
      this.pendingSideTasks++;
      this.pool
        .reportPageFailed({ bundle: this.processor.bundle, page, error })
        .catch((failure: unknown) => {
          if (this.finished) return;
          this.write(() =>
            this.pages.log({
              page: page[0],
              attempt: page[1],
              at: Date.now(),
              level: 'error',
              // The hook's own error, or why it never ran (see PagePool.reportPageFailed).
              message: `onPageFailed ${failure instanceof ProcessorLoadError ? 'threw: ' : ""}${serializeError(failure).message}`,
            }),
          );
        })
        .finally(() => {
          this.pendingSideTasks--;
          this.pump();
        });
    }
  }

  private armWakeTimer(now: number): void {
    let next = Number.POSITIVE_INFINITY;
    if (this.room(now) > 0 || this.rampup) {
      const due = this.queue.nextDueAt();
      if (due !== null) next = Math.min(next, due);
      if (this.queue.readyCount > 0 && this.room(now) > 0 && this.rate.limited) {
        next = Math.min(next, now + Math.max(1, this.rate.msUntilAvailable(now)));
      }
      const ramp = msUntilNextRampStep(this.maxParallel, this.rampup ?? undefined, now - this.runStartedAt);
      if (ramp !== null && this.queue.readyCount > 0) next = Math.min(next, now + ramp);
    }
    if (next === this.wakeAt) return;
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.wakeTimer = null;
    this.wakeAt = next;
    if (next !== Number.POSITIVE_INFINITY) {
      this.wakeTimer = setTimeout(() => {
        this.wakeTimer = null;
        this.wakeAt = Number.POSITIVE_INFINITY;
        this.pump();
      }, Math.max(0, next - now));
    }
  }

  private doHousekeeping(): void {
    if (this.finished) return;
    const now = Date.now();
    let control: JobControl;
    try {
      control = this.jobs.readControl(this.no);
    } catch (error) {
      this.fail(translateSqliteError(error, this.db.name));
      return;
    }
    this.applyControl(control);
    this.readBeats(now);
    this.checkStuck(now);
    if (now - this.lastHeartbeat >= HEARTBEAT_EVERY_MS) this.saveCounters(now);
    if (now - this.lastUpdate >= UPDATE_EVERY_MS) this.emitUpdate(false);
  }

  private saveCounters(now: number): void {
    this.lastHeartbeat = now;
    // Kept for the commit: a heartbeat a few milliseconds late holds the write lock for less.
    this.record(() => this.jobs.writeCounters(this.no, this.counts, now, this.group), 1);
  }

  /** Applies what another process (or this one) wrote to the job's control columns. */
  private applyControl(control: JobControl): void {
    if (control.control_version === this.controlVersion || this.finished) return;
    this.controlVersion = control.control_version;
    const paused = control.paused === 1;
    if (paused !== this.paused) {
      this.paused = paused;
      if (!this.cancelling) this.setState(paused ? 'paused' : 'running');
    }
    const rateLimit = rateFromColumns(control.rate_items, control.rate_pages);
    // The pace shown (and the ETA) follows new limits from now on, not over the last 5 s.
    const was = { maxParallel: this.maxParallel, rateLimit: this.rateLimit ?? undefined };
    if (!sameLimits({ maxParallel: control.max_parallel, rateLimit: rateLimit ?? undefined }, was)) this.window.restart(Date.now());
    this.maxParallel = control.max_parallel;
    this.rateLimit = rateLimit;
    this.rate.set(this.rateLimit ?? undefined, Date.now());
    if (control.cancel_requested === 1 && !this.cancelling) void this.cancel();
    if (control.retry_requested > this.retryRequested) {
      this.retryRequested = control.retry_requested;
      // Asked by another process, which cannot receive the error: record it for `baton status`.
      void this.retryFailed().catch((error: unknown) => {
        if (!this.finished) this.write(() => this.jobs.setLastError(this.no, `retry-failed: ${serializeError(error).message}`));
      });
    }
    this.dirty = true;
    this.emitUpdate(true);
    this.pump();
  }

  /**
   * Why an attempt Baton cut short does not count, and what happens to its page: at-least-once,
   * it runs again (`how`); at-most-once, it may have done its work, so it fails as interrupted.
   */
  private interruption(cause: string, how = ''): SerializedError {
    const next = this.processor.policy.mode === 'at-most-once'
      ? 'at-most-once: it is not run again, and fails as interrupted'
      : `it runs again${how} and this attempt does not count`;
    return { name: 'Interrupted', message: `${cause}; ${next}` };
  }

  /** Reads the control columns now rather than at the next poll. */
  pollControl(): void {
    if (!this.finished) this.applyControl(this.jobs.readControl(this.no));
  }

  private checkStuck(now: number): void {
    const timeout = this.processor.pageTimeoutMs;
    const { stuck, ended } = this.stuckAttempts(now, timeout);
    if (stuck.length > 0) {
      const { blamed, frozen } = this.sortBlame(stuck, ended, now);
      this.write(() => {
        const zombie = (run: RunningAttempt): Zombie => ({ threadId: run.threadId, killAt: now + STUCK_GRACE_MS, run, stuck: null });
        for (const run of [...blamed, ...frozen]) this.zombies.set(attemptKey(run.no, run.attempt), zombie(run));
        for (const run of blamed) {
          // As if it stops when told; if it does not, its thread is terminated and the record says so.
          const record = this.endAttempt(run, 'stuck', now, { error: stuckError(timeout, 'aborted') });
          if (record) this.zombies.get(attemptKey(run.no, run.attempt))!.stuck = { record, shown: this.ended.at(-1)!, timeoutMs: timeout };
        }
        for (const run of frozen) {
          // One whose task never reached its thread never ran: it runs again whatever the mode.
          const end = run.threadId === null
            ? neverStarted('it never started: its task waited behind a page that blocks a worker thread')
            : { error: this.interruption('its worker thread was blocked by one of the pages it ran, not known which, and is stopped', ' (one suspect at a time)') };
          this.endAttempt(run, 'interrupted', now, end);
        }
      });
      const targets = (runs: RunningAttempt[]): [number, number][] => runs.map((run) => [run.no, run.attempt]);
      if (blamed.length > 0) this.pool.broadcast({ t: 'abort', targets: targets(blamed), reason: 'page timed out' });
      if (frozen.length > 0) this.pool.broadcast({ t: 'abort', targets: targets(frozen), reason: 'its thread was blocked' });
      this.pump();
    }
    for (const [key, zombie] of this.zombies) {
      if (now < zombie.killAt) continue;
      // It ignored its signal: stop its thread. Piscina starts a replacement; the thread's
      // other pages are interrupted and run again without counting the attempt. Its retry
      // waits for the thread's exit (onThreadExit).
      zombie.killAt = Number.POSITIVE_INFINITY;
      // A thread already gone (its exit came before this attempt was given up on) sends no exit.
      const gone = zombie.threadId === null || !this.pool.threadIds().includes(zombie.threadId);
      // Called stuck just after its thread was terminated for another page: that is what stopped it.
      if (gone && zombie.threadId !== null && this.pool.terminated.has(zombie.threadId)) this.record(() => this.sayTerminated(zombie, 'terminated-for-another'), 1);
      if (gone || !this.pool.terminateThread(zombie.threadId!)) {
        this.letGo(key, now);
        this.pump();
      }
    }
  }

  /** Attempts running past the timeout, and the attempts running threads noted as ended (by attemptKey). */
  private stuckAttempts(now: number, timeout: number): { stuck: RunningAttempt[]; ended: Set<string> } {
    const late: RunningAttempt[] = [];
    let anyBlocked: boolean | undefined;
    for (const run of this.running.values()) {
      if (now - run.timedFrom <= timeout || run.abortedAs) continue;
      // Never started (a thread tells of a task before any of its pages' code runs): its task
      // waits behind a page that blocks a thread (see sortBlame), or for a thread that is
      // starting. Called stuck then, it would start later with nobody to stop it if it ignored
      // its signal: unless a thread is blocked, its time limit begins when its thread tells of it.
      if (run.threadId === null && !(anyBlocked ??= this.pool.threadIds().some((threadId) => this.isBlocked(threadId, now)))) continue;
      late.push(run);
    }
    if (late.length === 0) return { stuck: [], ended: new Set() };
    const { ended, unread } = this.readRunningThreads(now);
    const stuck: RunningAttempt[] = [];
    for (const run of late) {
      if (run.threadId !== null) {
        // Its thread's buffer changed while it was read: judged at the next check.
        if (unread.has(run.threadId)) continue;
        // Ended on its thread in a turn the thread has not finished (another page may be
        // blocking it): not stuck while a page of that thread that has not ended can be blamed
        // instead; its end arrives with the batch, or from the thread's exit.
        if (ended.has(attemptKey(run.no, run.attempt)) && this.runsUnended(run.threadId, ended)) continue;
      }
      stuck.push(run);
    }
    return { stuck, ended };
  }

  /**
   * Splits the stuck attempts into those to call stuck and those only frozen behind another
   * page. On a blocked thread (see thread-beats.ts) that runs several pages, every page is late
   * because one of them holds the thread, and nothing tells which: all of them run again
   * without counting the attempt, as suspects, one at a time (holdSuspects).
   * When such a thread runs exactly one suspect, or one page, that one is called stuck and the
   * others run again; on a thread that is not blocked, each late page is stuck on its own. A
   * suspect stops being one when an attempt of it ends by itself. (A page that blocks its thread
   * while exactly one suspect runs there, and was never suspected itself, puts the blame on that
   * suspect once: it takes two pages that block threads.)
   */
  private sortBlame(stuck: RunningAttempt[], ended: Set<string>, now: number): { blamed: RunningAttempt[]; frozen: RunningAttempt[] } {
    const blamed: RunningAttempt[] = [];
    const frozen: RunningAttempt[] = [];
    const blocked = new Set<number>();
    for (const run of stuck) {
      if (run.threadId !== null && this.isBlocked(run.threadId, now)) blocked.add(run.threadId);
      // Never started, and a thread is blocked (stuckAttempts): its task waits behind that thread.
      else if (run.threadId === null) frozen.push(run);
      else blamed.push(run);
    }
    for (const threadId of blocked) {
      const onThread = [...this.running.values()].filter((run) => run.threadId === threadId && !run.abortedAs && !ended.has(attemptKey(run.no, run.attempt)));
      if (onThread.length < 2) {
        // Alone there: it blocks the thread, and its retries run one suspect at a time.
        const late = stuck.filter((run) => run.threadId === threadId);
        for (const run of late) this.suspects.add(run.no);
        blamed.push(...late);
        continue;
      }
      const suspected = onThread.filter((run) => this.suspects.has(run.no));
      if (suspected.length === 1) {
        // It stays a suspect.
        blamed.push(suspected[0]!);
        frozen.push(...onThread.filter((run) => run !== suspected[0]));
      } else {
        for (const run of onThread) this.suspects.add(run.no);
        frozen.push(...onThread);
      }
    }
    return { blamed, frozen };
  }

  /** Notes which threads' event loops have run since the last look (see isBlocked). */
  private readBeats(now: number): void {
    for (const threadId of this.pool.threadIds()) {
      const beats = this.pool.beatsOf(threadId);
      if (beats !== null) this.beats.note(threadId, beats, now);
    }
  }

  private isBlocked(threadId: number, now: number): boolean {
    return this.beats.isBlocked(threadId, now);
  }

  /** Lets one suspect start at a time (see sortBlame); the others wait, in memory. */
  private holdSuspects(pages: QueuedPage[], now: number): QueuedPage[] {
    const starting: QueuedPage[] = [];
    let free = this.runningSuspect === null || !this.running.has(this.runningSuspect);
    for (const page of pages) {
      if (!this.suspects.has(page.no)) {
        starting.push(page);
      } else if (free) {
        this.runningSuspect = page.no;
        free = false;
        starting.push(page);
      } else {
        if (this.rate.limited) this.rate.settle(page.size ?? 1, 0);
        this.queue.add({ ...page, runAfter: now + SUSPECT_WAIT_MS }, now);
      }
    }
    return starting;
  }

  /**
   * Reads what running threads have noted but not sent yet: takes the children they committed
   * or started and the starts of their held children as heard, and returns the attempts that
   * ended there (by attemptKey) and the threads that kept changing their buffer while it was
   * read.
   */
  private readRunningThreads(now: number): { ended: Set<string>; unread: Set<number> } {
    const ended = new Set<string>();
    const unread = new Set<number>();
    for (const threadId of this.pool.threadIds()) {
      const unsent = this.pool.peekUnsent(threadId);
      if (unsent === null) {
        unread.add(threadId);
        continue;
      }
      // Children the thread logged (started or held) and held children it started: heard of
      // now, in order, so that one blocking the thread can be blamed rather than the page that
      // enqueued it, whose end may wait in the same batch. A held child's start is checked as it
      // comes, since its enqueue may come just before it.
      const starts = new Set(unsent.filter((message) => message.t === 'deferred-start' || this.unheardStart(message, threadId)));
      for (const message of unsent) {
        if (message.t === 'done' || message.t === 'failed') ended.add(attemptKey(message.page, message.attempt));
      }
      if (starts.size > 0) {
        this.record(() => {
          // The ends noted before a start freed the slot it took; they are heard later, so the
          // count of pages in flight leaves them out meanwhile.
          let endsBefore = 0;
          try {
            for (const message of unsent) {
              if ((message.t === 'done' || message.t === 'failed') && this.current(message.page, message.attempt) !== undefined) endsBefore++;
              if (!starts.has(message) || !this.unheardStart(message, threadId)) continue;
              this.endsReadEarly = endsBefore;
              // As from a stopped thread's memory: a child not committed yet is recorded here,
              // and its parent's wait is answered when the enqueue itself comes.
              this.onWorkerMessage(message, threadId, now, true);
              if (message.t === 'enqueue') this.enqueuesReadEarly.add(message.local!);
            }
          } finally {
            this.endsReadEarly = 0;
          }
        }, starts.size);
      }
    }
    return { ended, unread };
  }

  /**
   * Whether a message read from a running thread's memory tells of a child's start that the
   * scheduler has not heard of: a child the thread logged or started itself (an enqueue
   * already heard has moved its parent's count of children past it), or the start of one it
   * held. A child started before its commit is recorded here then (see startThenCommit in
   * worker.ts): a thread it blocks must be known to run it, or its parent is blamed.
   */
  private unheardStart(message: UnsentMessage, threadId: number): boolean {
    if (message.t === 'deferred-start') return this.deferred.get(message.page)?.threadId === threadId;
    if (message.t !== 'enqueue' || !(message.durable || message.started) || message.local === null) return false;
    const parent = this.current(message.page, message.attempt);
    return parent !== undefined && parent.threadId === threadId && message.ordinal >= parent.children;
  }

  /**
   * Whether a page the thread runs has not ended, by what the scheduler has heard and the thread
   * has noted: one running, or one already given up on (stuck, its thread about to be stopped).
   */
  private runsUnended(threadId: number, ended: Set<string>): boolean {
    for (const zombie of this.zombies.values()) if (zombie.threadId === threadId) return true;
    for (const run of this.running.values()) {
      if (run.threadId === threadId && !ended.has(attemptKey(run.no, run.attempt))) return true;
    }
    return false;
  }

  /** A stuck attempt is no longer running anywhere: its retry joins the queue. */
  /** A stuck attempt that was its page's last has stopped: onPageFailed hears of it, with `error` if its thread was terminated. */
  private reportStuckGaveUp(key: string, error?: SerializedError): void {
    const gaveUp = this.stuckGaveUp.get(key);
    if (!gaveUp) return;
    this.stuckGaveUp.delete(key);
    this.gaveUp.push(error ? { page: gaveUp.page, error } : gaveUp);
    this.hookCommit();
  }

  private letGo(key: string, now: number): void {
    this.reportStuckGaveUp(key);
    this.zombies.delete(key);
    const page = this.parked.get(key);
    if (!page) return;
    this.parked.delete(key);
    if (!this.cancelling) this.queue.add(page, now);
  }

  private setState(state: JobState): void {
    if (this.state === state) return;
    this.state = state;
    this.write(() => this.jobs.setState(this.no, state, null));
    this.dirty = true;
  }

  /**
   * Rebuilds the processor (a fixed one repairs the job) and queues the failed pages again: all
   * of them, or only `page`.
   */
  async retryFailed(page?: number): Promise<number> {
    if (this.finished) throw new BatonError('JOB_FINISHED', `job "${this.jobId}" has ended in this process; retry it through Baton`);
    this.retrying = true;
    try {
      const processor = await this.rebuild();
      if (this.finished) return 0;
      this.processor = processor;
      const requeued =
        this.write(() => {
          const first = page ?? this.pages.firstFailed();
          const n = this.pages.requeueFailed(page);
          this.counts.pages_failed -= n;
          this.counts.pages_queued += n;
          if (first !== null) this.queue.reloadFrom(first);
          this.jobs.setLastError(this.no, null);
          this.jobs.writeCounters(this.no, this.counts, Date.now());
          return n;
        }) ?? 0;
      this.dirty = true;
      this.emitUpdate(true);
      return requeued;
    } finally {
      this.retrying = false;
      this.pump();
    }
  }

  /** Cancels for good: running pages are aborted, queued ones never start. */
  async cancel(): Promise<JobSummary> {
    if (!this.cancelling && !this.finished) {
      this.cancelling = true;
      // Shown at once; written with the end (finish), once the running pages are settled: a crash
      // meanwhile leaves the job running with its cancel requested, and the next process to take
      // it up settles those pages as after any crash, then ends it cancelled.
      this.state = 'cancelled';
      this.dirty = true;
      this.abortAll('cancelled', 'job cancelled');
      const deadline = Date.now() + CANCEL_GRACE_MS;
      while (this.running.size > 0 && Date.now() < deadline && !this.finished) await delay(20);
      const now = Date.now();
      this.write(() => {
        for (const run of [...this.running.values()]) this.endAttempt(run, 'cancelled', now);
      });
      await this.finish('cancelled');
    }
    return this.donePromise;
  }

  /**
   * Stops running the job in this process and releases it, so `baton resume` can take it up:
   * 'drain' lets running pages finish; 'now' aborts them and queues them again.
   */
  async stop(mode: StopMode): Promise<JobSummary> {
    if (this.finished) return this.donePromise;
    this.stopping = mode === 'now' || this.stopping === 'now' ? 'now' : 'drain';
    if (this.stopping === 'now') {
      const now = Date.now();
      this.abortAll('interrupted', 'runner stopped');
      this.write(() => {
        for (const run of [...this.running.values()]) {
          this.endAttempt(run, 'interrupted', now, { error: { name: 'Interrupted', message: 'the runner stopped at once while this page ran' } });
        }
      });
    }
    this.maybeFinish();
    return this.donePromise;
  }

  /** Aborts every running page; each ends with `outcome` when it notices. */
  private abortAll(outcome: EndOutcome, reason: string): void {
    for (const run of this.running.values()) {
      run.abortedAs = outcome;
      run.abortReason = reason;
    }
    this.pool.broadcast({ t: 'abort', targets: 'all', reason });
  }

  private maybeFinish(): void {
    if (this.finished || this.cancelling || this.running.size > 0 || this.retrying || this.deferred.size > 0) return;
    // Stopped at once, the stuck attempts are not waited for: their pages' hooks run as they are.
    if (this.stopping === 'now') for (const key of [...this.stuckGaveUp.keys()]) this.reportStuckGaveUp(key);
    // onPageFailed calls wait for the commit that records the failure, then run as tasks.
    if (this.pendingSideTasks > 0 || (this.gaveUp.length > 0 && this.processor.hasOnPageFailed)) return;
    // Nothing left to run: the job has ended, even if a pause or a stop came as its last pages ran.
    // Once the attempts given up on have stopped (within STUCK_GRACE_MS, then their threads are
    // terminated): what their threads never sent, their last log lines, is recorded then.
    if (this.queue.isEmpty && this.parked.size === 0) {
      if (this.zombies.size === 0 || this.stopping === 'now') void this.finish(this.counts.pages_failed > 0 ? 'failed' : 'succeeded');
    } else if (this.stopping) void this.finish(null);
  }

  /** Ends the run here: the job's final state, or null to leave it resumable. */
  private async finish(state: JobState | null): Promise<void> {
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.housekeeping);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    const now = Date.now();
    let snapshot: JobSnapshot | null = null;
    let activity: JobActivity | null = null;
    try {
      this.group.begin();
      if (state !== null) {
        this.state = state;
        this.jobs.setState(this.no, state, now);
      }
      this.jobs.writeCounters(this.no, this.counts, now);
      // With the end, in one commit: a reader in another process never finds the owner gone
      // before its last activity (it would report the job's row instead, without the last ends).
      snapshot = this.snapshot();
      activity = this.takeActivity(snapshot);
      this.jobs.writeLive(this.no, activity.seq, now, JSON.stringify(activity));
      this.jobs.release(this.no, this.owner);
      // The end must be durable before anyone hears of it.
      this.group.commit();
    } catch (error) {
      this.group.abort(error);
    }
    this.stopListening();
    // Acks still owed (a stop at once) are moot: their pages were interrupted. The pool lets
    // what the threads printed arrive before it stops them.
    await this.pool.destroy().catch(() => {});
    this.settleChildLogs();
    if (this.failure !== null) {
      this.rejectDone(this.failure);
      return;
    }
    if (snapshot && activity) {
      this.emit('update', snapshot);
      this.emit('activity', activity);
    }
    this.resolveDone(this.summary());
  }

  /**
   * The child logs of this run, now that its threads are stopped. An ended job heard of every
   * child in them (a child's enqueue comes before its parent's end), and no line of it matters
   * any more: every file of the job goes. A stopped run may not have heard of some (a thread
   * stopped with its batch unsent): those rows are written now, as the next resume would, unless
   * a resume has taken the job meanwhile (it read the files then). Left in place if that fails:
   * the next resume reads them.
   */
  private settleChildLogs(): void {
    const run = this.pool.childLogRun;
    if (this.failure !== null || run === null) return;
    try {
      if (jobHasEnded(this.state)) {
        removeChildLogs(childLogFiles(this.logDir, this.logKey));
        return;
      }
      if (this.jobs.getByNo(this.no).owner !== null) return;
      this.group.begin();
      const folded = foldChildLogs(this.pages, this.logDir, this.logKey, run);
      this.group.commit();
      removeChildLogs(folded);
    } catch {
      // Kept for the next resume, which reads them again.
    }
  }

  /** A write or commit failed: stop everything; what was committed stays resumable. */
  private fail(error: unknown): void {
    if (this.failure !== null) return;
    this.failure = error;
    if (this.finished) return;
    this.finished = true;
    clearInterval(this.housekeeping);
    if (this.wakeTimer) clearTimeout(this.wakeTimer);
    this.stopListening();
    try {
      this.jobs.release(this.no, this.owner);
    } catch {
      // The database is what failed; the stale heartbeat frees the job soon anyway.
    }
    void this.pool.destroy().catch(() => {});
    this.rejectDone(error);
  }

  /**
   * Sends the snapshot to `update` listeners, and the activity (snapshot, running attempts,
   * attempts ended since last time) to `activity` listeners and, for other processes, to the
   * job_live row.
   */
  private emitUpdate(force: boolean): void {
    const now = Date.now();
    if (!force && !this.dirty && now - this.lastActivity < ACTIVITY_IDLE_MS) return;
    this.dirty = false;
    this.lastUpdate = now;
    this.lastActivity = now;
    const snapshot = this.snapshot();
    if (this.listenerCount('update') > 0) this.emit('update', snapshot);
    const activity = this.takeActivity(snapshot);
    if (this.listenerCount('activity') > 0) this.emit('activity', activity);
    // Serialized before, and kept for the commit: an activity can be a few hundred kilobytes,
    // and the write lock held meanwhile sends the threads' children to the scheduler.
    const json = JSON.stringify(activity);
    this.record(() => this.jobs.writeLive(this.no, activity.seq, now, json, this.group), 1);
  }

  private takeActivity(snapshot: JobSnapshot): JobActivity {
    const running: AttemptInfo[] = [];
    for (const run of this.running.values()) {
      if (running.length >= MAX_ACTIVITY_RUNNING) break;
      running.push({
        page: run.no,
        attempt: run.attempt,
        slot: run.slot,
        outcome: 'running',
        cursor: JSON.parse(run.cursor) as unknown,
        startedAt: run.dispatchedAt,
        endedAt: null,
        items: run.items,
        error: null,
        runsAgain: false,
      });
    }
    const ended = this.ended.map(([page, attempt, slot, outcome, cursor, startedAt, endedAt, items, error, runsAgain]): AttemptInfo => ({
      page,
      attempt,
      slot,
      outcome,
      cursor: JSON.parse(cursor) as unknown,
      startedAt,
      endedAt,
      items,
      error: error ? { name: error.name, message: error.message, stack: error.stack ?? null } : null,
      runsAgain,
    }));
    const activity: JobActivity = {
      jobId: this.jobId,
      seq: ++this.activitySeq,
      snapshot,
      running,
      runningDropped: this.running.size - running.length,
      ended,
      endedDropped: this.endedDropped,
    };
    this.ended = [];
    this.endedDropped = 0;
    return activity;
  }

  summary(): JobSummary {
    // Once the Baton has closed its database, what was last read of the job's row stands.
    if (this.db.open) this.lastRow = summarize(this.jobs.getByNo(this.no));
    else if (this.lastRow === null) throw new BatonError('BATON_CLOSED', `the Baton that ran job "${this.jobId}" is closed: open a new one with Baton.open(), and read the job with baton.status()`);
    // The process running it is this one until it finishes, whatever the row said when read.
    const { runBy: _, ...summary } = this.lastRow!;
    return {
      ...summary,
      state: this.state,
      paused: this.paused,
      live: !this.finished,
      ...(this.finished ? {} : { runBy: { pid: process.pid, host: thisHost } }),
      pages: {
        total: this.counts.pages_total,
        queued: this.counts.pages_queued,
        running: this.counts.pages_running,
        succeeded: this.counts.pages_succeeded,
        failed: this.counts.pages_failed,
      },
      items: this.counts.items,
      attempts: this.counts.attempts,
      maxInFlight: this.counts.max_in_flight,
      limits: { maxParallel: this.maxParallel, ...(this.rateLimit ? { rateLimit: { ...this.rateLimit } } : {}) },
      estimatedTotalItems: this.processor.estimatedTotalItems,
    };
  }

  snapshot(): JobSnapshot {
    const now = Date.now();
    const summary = this.summary();
    let runningItems = 0;
    for (const run of this.running.values()) runningItems += run.items;
    const throughput = this.window.rates(now);
    const itemsLive = summary.items + runningItems;
    const estimate = estimateProgress(itemsLive, summary.estimatedTotalItems, throughput.itemsPerSecond);
    // Once the run is over the rate of its last seconds means nothing (see etaOfStoppedJob).
    const etaSeconds = summary.live ? estimate.etaSeconds : etaOfStoppedJob(summary.state);
    return { ...summary, throughput, itemsLive, inFlight: this.running.size, effectiveParallel: this.allowedParallel(now), percent: percentDone(summary.state, itemsLive, summary.estimatedTotalItems), etaSeconds };
  }
}

/** The task entry that runs (or ran) this attempt. */
function taskPageOf(run: RunningAttempt): TaskPage {
  return [run.no, run.attempt, run.cursor, run.size, run.children];
}

/** How an attempt whose code never ran ends: interrupted, and run again whatever the mode. */
function neverStarted(cause: string): AttemptEnd {
  return { error: { name: 'Interrupted', message: `${cause}; it runs again and this attempt does not count` }, neverStarted: true };
}

function rateFromColumns(items: number | null, pages: number | null): RateLimitSetting | null {
  if (items === null && pages === null) return null;
  return { ...(items !== null ? { itemsPerSecond: items } : {}), ...(pages !== null ? { pagesPerSecond: pages } : {}) };
}

function truncate(text: string, max = 200): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
