/**
 * A Piscina pool for one job, plus the long-lived channel each of its threads opened. Pages go
 * out as tasks; their events come back as batches of WorkerMessages tagged with the thread.
 */
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { compiledEntry } from '../compiled-entry.js';
import type { SerializedError } from '../errors.js';
import type {
  ChannelOpenMessage,
  DescribeResult,
  PageFailedTask,
  SchedulerMessage,
  TaskPage,
  WorkerBootData,
  WorkerMessage,
} from './worker-messages.js';
import { CursorFilter } from './cursor-filter.js';
import { peekUnsentMessages, readUnsentMessages, type UnsentMessage } from './unsent-messages.js';
import { decodeBatch, type WireMessage } from './wire.js';

export interface PagePoolOptions {
  boot: WorkerBootData;
  threads: number;
}

/** Receives every batch a thread sends over its channel. */
export type WorkerMessageHandler = (messages: WorkerMessage[], threadId: number) => void;

/** What a task answers when the processor failed to load in the worker. */
interface TaskFailure {
  ok: false;
  error: SerializedError;
}

function isTaskFailure(value: unknown): value is TaskFailure {
  return typeof value === 'object' && value !== null && (value as TaskFailure).ok === false;
}

/** How many threads an onPageFailed call is tried on when the one it waits on stops. */
const HOOK_TRIES = 3;

export class ProcessorLoadError extends Error {
  constructor(readonly serialized: SerializedError) {
    super(serialized.message);
  }
}

/** How long stopping a pool waits for its threads' console output (see flushOutput). */
const FLUSH_OUTPUT_MS = 500;

export class PagePool {
  private readonly piscina: Piscina;
  private readonly channels = new Map<number, MessagePort>();
  private readonly unsent = new Map<number, SharedArrayBuffer>();
  /** Batches received from each thread, to tell what its unsent buffer holds that did arrive. */
  private readonly received = new Map<number, number>();
  private readonly beats = new Map<number, Int32Array>();
  /** Threads this pool terminated on purpose (for a stuck page). */
  readonly terminated = new Set<number>();
  private handler: WorkerMessageHandler = () => {};
  private exitHandler: (threadId: number) => void = () => {};
  private destroyed = false;

  /** The job's cursor filter, shared with the threads; null when they never commit themselves. */
  readonly cursorFilter: CursorFilter | null;
  /** The run whose child logs the threads write (see child-log.ts); null when they never log. */
  readonly childLogRun: string | null;

  constructor(private readonly options: PagePoolOptions) {
    this.cursorFilter = options.boot.direct ? new CursorFilter(options.boot.direct.cursors) : null;
    this.childLogRun = options.boot.direct?.logRun ?? null;
    this.piscina = new Piscina({
      filename: compiledEntry(import.meta.url, 'worker-entry.cjs'),
      minThreads: options.threads,
      maxThreads: options.threads,
      // The scheduler bounds pages in flight itself; Piscina only spreads tasks over threads.
      concurrentTasksPerWorker: 1024,
      idleTimeout: Number.POSITIVE_INFINITY,
      // Threads must keep reading their channel while pages await; never park them in Atomics.wait.
      atomics: 'disabled',
      workerData: options.boot,
    });
    this.piscina.on('message', (message: unknown) => {
      if (typeof message === 'object' && message !== null && 'batonChannel' in message) this.addChannel(message as ChannelOpenMessage);
    });
    // Errors of threads without tasks; tasks' own errors reach their promises.
    this.piscina.on('error', () => {});
  }

  private addChannel({ batonChannel, threadId, unsent, beats }: ChannelOpenMessage): void {
    this.channels.set(threadId, batonChannel);
    this.unsent.set(threadId, unsent);
    this.beats.set(threadId, new Int32Array(beats));
    const worker = this.piscina.threads.find((thread) => thread.threadId === threadId);
    this.received.set(threadId, 0);
    batonChannel.on('message', (batch: WireMessage[]) => {
      this.received.set(threadId, this.received.get(threadId)! + 1);
      this.handler(decodeBatch(batch), threadId);
    });
    batonChannel.on('close', () => {
      this.channels.delete(threadId);
      const exited = () => {
        try {
          if (!this.destroyed) this.exitHandler(threadId);
        } finally {
          this.unsent.delete(threadId);
          this.received.delete(threadId);
          this.beats.delete(threadId);
        }
      };
      // The channel can close before Piscina hears of the exit, and until then it may still
      // hand the thread a task (the retries the exit releases, say), which is then lost: report
      // the exit after Piscina's own handler has dropped the thread.
      if (worker && this.piscina.threads.includes(worker)) worker.once('exit', exited);
      else exited();
    });
  }

  /** What a thread had not sent when it stopped (see unsent-messages.ts). */
  unsentMessages(threadId: number): UnsentMessage[] {
    const buffer = this.unsent.get(threadId);
    return buffer ? readUnsentMessages(buffer, this.received.get(threadId) ?? 0) : [];
  }

  /** How many times the thread's event loop has shown it is not blocked (every BEAT_MS); null before its channel opens. */
  beatsOf(threadId: number): number | null {
    const beats = this.beats.get(threadId);
    return beats ? Atomics.load(beats, 0) : null;
  }

  /** What a running thread has not sent yet; null when it could not be read just now. */
  peekUnsent(threadId: number): UnsentMessage[] | null {
    const buffer = this.unsent.get(threadId);
    return buffer ? peekUnsentMessages(buffer, this.received.get(threadId) ?? 0) : [];
  }

  /** Where channel messages go; set once the job's runner exists (no page runs before). */
  onMessages(handler: WorkerMessageHandler): void {
    this.handler = handler;
  }

  /** Hears of a thread that stopped (terminated, or crashed); Piscina replaces it. */
  onThreadExit(handler: (threadId: number) => void): void {
    this.exitHandler = handler;
  }

  /** Threads whose channel is open, that is, threads that can run pages now. */
  threadIds(): number[] {
    return [...this.channels.keys()];
  }

  get threadCount(): number {
    return this.options.threads;
  }

  send(threadId: number, message: SchedulerMessage): void {
    this.channels.get(threadId)?.postMessage(message);
  }

  broadcast(message: SchedulerMessage): void {
    for (const port of this.channels.values()) port.postMessage(message);
  }

  /** Resolves when the pages' outcomes have been sent; rejects if the thread died. */
  async runPages(bundle: string, pages: TaskPage[]): Promise<void> {
    const result: unknown = await this.piscina.run({ kind: 'pages', bundle, pages });
    if (isTaskFailure(result)) throw new ProcessorLoadError(result.error);
  }

  async describe(bundle: string, withInitialPages: boolean): Promise<DescribeResult> {
    const result: unknown = await this.piscina.run({ kind: 'describe', bundle, withInitialPages });
    if (isTaskFailure(result)) throw new ProcessorLoadError(result.error);
    return result as DescribeResult;
  }

  /**
   * Runs onPageFailed on some thread. The hook's own error comes back as a ProcessorLoadError. A
   * task that fails otherwise lost its thread (stopped for a stuck page it was queued behind, or
   * crashed): the hook may never have run, so it runs again on another, up to HOOK_TRIES times.
   */
  async reportPageFailed(task: Omit<PageFailedTask, 'kind'>): Promise<void> {
    for (let tries = 1; ; tries++) {
      let result: unknown;
      try {
        result = await this.piscina.run({ kind: 'page-failed', ...task });
      } catch (error) {
        if (tries < HOOK_TRIES && !this.destroyed) continue;
        throw new Error(`did not run: its worker thread stopped ${tries} times (${(error as Error).message})`, { cause: error });
      }
      if (isTaskFailure(result)) throw new ProcessorLoadError(result.error);
      return;
    }
  }

  /** Terminates the thread; Piscina fails its tasks and starts a replacement. */
  terminateThread(threadId: number): boolean {
    const worker = this.piscina.threads.find((thread) => thread.threadId === threadId);
    if (!worker) return false;
    this.terminated.add(threadId);
    void worker.terminate();
    return true;
  }

  /**
   * Waits until the main thread has what every thread's console wrote, at most `withinMs` (a
   * thread blocked by a page cannot answer). A thread's last lines are otherwise lost when it is
   * terminated: its stdout sends a write only once the main thread has taken the one before.
   */
  async flushOutput(withinMs: number): Promise<void> {
    if (this.channels.size === 0) return;
    const replies: MessagePort[] = [];
    const answers = [...this.channels.values()].map((port) => {
      const { port1, port2 } = new MessageChannel();
      replies.push(port1);
      const message: SchedulerMessage = { t: 'flush-output', reply: port2 };
      port.postMessage(message, [port2]);
      return new Promise<void>((resolve) => port1.once('message', () => resolve()));
    });
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<void>((resolve) => (timer = setTimeout(resolve, withinMs)));
    await Promise.race([Promise.all(answers), late]);
    clearTimeout(timer);
    // An open port keeps the process alive: close the ones whose thread never answered.
    for (const port of replies) port.close();
  }

  /** Stops every thread, once what they printed has reached the main thread (see flushOutput). */
  async destroy(): Promise<void> {
    if (this.destroyed) return this.piscina.destroy();
    this.destroyed = true;
    await this.flushOutput(FLUSH_OUTPUT_MS);
    for (const port of this.channels.values()) port.close();
    this.channels.clear();
    await this.piscina.destroy();
  }
}
