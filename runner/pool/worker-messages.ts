/**
 * Messages between the scheduler (main thread) and the worker threads. Tasks travel as Piscina
 * tasks; everything that happens while a page runs travels over one long-lived MessagePort per
 * worker thread, batched, and is matched by page number and attempt.
 */
import type { SerializedError } from '../errors.js';
import type { RetryOptions } from '../processor-api.js';
import type { DirectEnqueueTarget } from './direct-enqueue.js';

/** Data every worker of a job's pool starts with (Piscina's workerData). */
export interface WorkerBootData {
  jobId: string;
  /** The job's args as JSON, parsed once per thread. */
  argsJson: string;
  /** Threads in the pool: with one, starting children on credit never costs parallelism. */
  threads: number;
  /** Where a thread may commit its pages' children itself (see direct-enqueue.ts); null: never. */
  direct: DirectEnqueueTarget | null;
}

/** Sent once by each worker on parentPort when it starts: its end of the page channel. */
export interface ChannelOpenMessage {
  batonChannel: import('node:worker_threads').MessagePort;
  threadId: number;
  /** What the thread has not sent yet, for the scheduler to read if the thread stops (see unsent-messages.ts). */
  unsent: SharedArrayBuffer;
  /** A counter the thread's event loop bumps every BEAT_MS: still, the thread is blocked. */
  beats: SharedArrayBuffer;
}

/** How often a worker thread's event loop shows it is not blocked (see ChannelOpenMessage.beats). */
export const BEAT_MS = 50;

/**
 * A page as it travels in a task: [page number, attempt, cursor JSON, size or null, children
 * already recorded (enqueues with a lower ordinal repeat an earlier attempt's)].
 */
export type TaskPage = [no: number, attempt: number, cursorJson: string, size: number | null, children: number];

/** Load the processor and report its definition; compute initial pages for a new job. */
export interface DescribeTask {
  kind: 'describe';
  bundle: string;
  withInitialPages: boolean;
}

export interface DescribeResult {
  name: string | null;
  retry: RetryOptions | null;
  pageTimeoutMs: number | null;
  /** [cursor JSON, size or null] for each initial page, when asked for. */
  initialPages: [string, number | null][] | null;
  estimateTotalItems: number | null;
  hasOnPageFailed: boolean;
}

/** Run these pages concurrently on one thread. Outcomes come back over the channel. */
export interface PagesTask {
  kind: 'pages';
  bundle: string;
  pages: TaskPage[];
}

/** Call the processor's onPageFailed for a page that gave up. */
export interface PageFailedTask {
  kind: 'page-failed';
  bundle: string;
  page: TaskPage;
  error: SerializedError;
}

export type WorkerTask = DescribeTask | PagesTask | PageFailedTask;

export type LogLevel = 'info' | 'warn' | 'error';

/** Worker to scheduler, over the channel. Always sent in arrays. */
export type WorkerMessage =
  /** These pages began to run on this thread (sent before any user code runs). */
  | { t: 'started'; pages: number[] }
  /**
   * `local`: the number this thread gave the child, or null (the scheduler numbers it). With a
   * number, `started` says the thread started it at once on a credit; otherwise the thread
   * holds it (deferred) and starts it when one of its own pages ends. `durable`: the thread
   * logged the child itself (with a local number only; see child-log.ts), nothing waits for an
   * answer, and the scheduler writes its row.
   * `filtered`: the thread added the cursor to the job's cursor filter (a durable child's always is).
   */
  | { t: 'enqueue'; page: number; attempt: number; ordinal: number; cursor: string; size: number | null; request: number; local: number | null; started: boolean; durable: boolean; filtered: boolean }
  /** A child log this thread has moved on from: its children's enqueues came before this (see child-log.ts). */
  | { t: 'log-sealed'; file: string }
  /** A held child started on the credit a page of this thread just gave back (sent right after that page's end). */
  | { t: 'deferred-start'; page: number }
  /** Answer to a revoke: the credits this thread had not used, and the deferred children it gives back. */
  | { t: 'revoked'; unused: number; returned: number[] }
  | { t: 'progress'; page: number; attempt: number; items: number }
  | { t: 'log'; page: number; attempt: number; level: LogLevel; message: string; at: number }
  /** `kept`: the page ran on a credit, and the thread keeps that credit (its slot) for the next child. */
  | { t: 'done'; page: number; attempt: number; items: number; aborted: boolean; kept: boolean; startedAt: number; endedAt: number }
  | {
      t: 'failed';
      page: number;
      attempt: number;
      error: SerializedError;
      /** NonRetryableError, or a name listed in retry.nonRetryable. */
      nonRetryable: boolean;
      aborted: boolean;
      kept: boolean;
      startedAt: number;
      endedAt: number;
    };

/** Scheduler to worker, over the channel. */
export type SchedulerMessage =
  /** These enqueue requests are durably committed (or were duplicates of committed pages). */
  | { t: 'committed'; requests: number[] }
  | { t: 'rejected'; request: number; code: string; message: string }
  /** Abort these attempts' signals ([page, attempt] pairs, or all), if they run on this thread. */
  | { t: 'abort'; targets: [page: number, attempt: number][] | 'all'; reason: string }
  /**
   * Page numbers for the children this thread's pages enqueue, and credits: slots this thread
   * owns, to start children at once, without a round trip. A page started on a credit gives it
   * back to the thread when it ends; a child held for want of a credit starts in it then.
   */
  | { t: 'grant'; numbers: number[]; credits: number }
  /** Give back unused credits and deferred children; the thread answers with 'revoked'. */
  | { t: 'revoke' }
  /**
   * Post on `reply` once the main thread has all this thread's console wrote so far (before the
   * pool stops: what a thread still holds when it is terminated is lost).
   */
  | { t: 'flush-output'; reply: import('node:worker_threads').MessagePort };
