/**
 * The worker-thread entry that Piscina loads. It runs page tasks for one job: loads the
 * processor bundle, builds each page's context and reports everything over its channel.
 */
import { MessageChannel, parentPort, receiveMessageOnPort, threadId, workerData } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { formatWithOptions, type InspectOptions } from 'node:util';
import { serializeError, type SerializedError } from '../errors.js';
import { findNonJson, type JsonValue } from '../json-value.js';
import { unknownKeyMessage, type KeySet } from '../known-keys.js';
import { busyMoreThan } from '../thread-load.js';
import { cursorHash } from './cursor-filter.js';
import { DirectEnqueue } from './direct-enqueue.js';
import { createUnsentBuffer, UnsentMessages, type UnsentEnqueue } from './unsent-messages.js';
import { encode, type WireMessage } from './wire.js';
import { PROCESSOR_MARK, type PageContext, type PageProcessorDefinition, type PageSpec } from '../processor-api.js';
import {
  BEAT_MS,
  type ChannelOpenMessage,
  type DescribeResult,
  type DescribeTask,
  type LogLevel,
  type PageFailedTask,
  type PagesTask,
  type SchedulerMessage,
  type TaskPage,
  type WorkerBootData,
  type WorkerMessage,
  type WorkerTask,
} from './worker-messages.js';

// Stack traces of TypeScript processors point at the user's lines (bundles carry inline maps).
process.setSourceMapsEnabled(true);

const boot = workerData as WorkerBootData;
const args = deepFreeze(JSON.parse(boot.argsJson) as JsonValue);

/** A task's answer when the processor itself is at fault, so the scheduler can word the error. */
export interface TaskFailure {
  ok: false;
  error: SerializedError;
}

// One long-lived channel per thread: creating a MessagePort per task costs two thirds of
// Piscina's dispatch rate (DESIGN.md §8).
const channel = new MessageChannel();
const unsent = new UnsentMessages(createUnsentBuffer());
const beats = new Int32Array(new SharedArrayBuffer(4));
// Only a thread whose event loop runs bumps it: the scheduler tells a blocked thread by it.
setInterval(() => Atomics.add(beats, 0, 1), BEAT_MS).unref();
const open: ChannelOpenMessage = { batonChannel: channel.port2, threadId, unsent: unsent.buffer, beats: beats.buffer as SharedArrayBuffer };
parentPort!.postMessage(open, [channel.port2]);
channel.port1.on('message', (message: SchedulerMessage) => onSchedulerMessage(message));

// A stray rejection in user code must not take the thread, and every page on it, down.
process.on('unhandledRejection', (reason) => {
  const error = serializeError(reason);
  process.emitWarning(`unhandled rejection in a page processor: ${error.message}`);
});

let outbox: WireMessage[] = [];
/**
 * When the outbox goes: after this run of the thread's code (a microtask), at the end of the
 * event loop's turn, or after a while (nothing in it is waited for).
 */
let flushScheduled: 'no' | 'microtask' | 'turn' | 'later' = 'no';
const pendingProgress = new Set<PageRun>();

/** A batch this big goes at once: the scheduler starts on it while this thread goes on. */
const FLUSH_AT = 64;

/**
 * Whether this thread was busy more than 80% of the last 50 ms: its turns are then long, and what
 * it sends should not wait for their end (see holdFor).
 */
const busyNow = busyMoreThan(0.8, 50);

/**
 * How long what nobody waits for may stay in the outbox (see nobodyWaits). A chain over a fast API
 * ends and enqueues its pages one at a time, each in a turn of its own, and every batch of one
 * cost this thread a `postMessage` (about 45 µs on two cores, mostly waking the scheduler's
 * thread) and woke the scheduler. Held 3 ms, ten or so go together (docs/performance.md).
 */
const HOLD_MS = 3;

/**
 * Whether the scheduler can hear of it late: a page's end whose slot stays with this thread, a
 * child already logged here, a log line, progress. Not a slot given back (the scheduler may
 * have a page for it) nor an enqueue it must commit (the page waits for the answer).
 */
function nobodyWaits(message: WorkerMessage): boolean {
  switch (message.t) {
    case 'done':
    case 'failed':
      return message.kept;
    case 'enqueue':
      return message.durable;
    case 'log':
    case 'progress':
    case 'deferred-start':
      return true;
    default:
      return false;
  }
}

/**
 * How long a message may wait in the outbox: HOLD_MS when nobody waits for it; otherwise to the
 * end of this turn of the event loop, since pages waiting on timers end one timer callback at a
 * time, and a batch each cost this thread about 10 µs (and woke the scheduler's thread as often):
 * a turn's ends go in one. Not while this thread is busy (its turns are long: the scheduler would
 * hear late of slots it could fill elsewhere), nor at all while the scheduler is near saturation
 * and does not let threads write (it waits for what it is told: no-op pages ran 10% slower with
 * their ends held to the end of the turn), nor when a page waits for the answer.
 */
function holdFor(message: WorkerMessage, urgent: boolean): 'later' | 'turn' | null {
  if (urgent || directEnqueue()?.mayTry !== true) return null;
  if (nobodyWaits(message)) return 'later';
  return busyNow() ? null : 'turn';
}

/** `urgent`: a page waits for the scheduler's answer. */
function send(message: WorkerMessage, urgent = false): void {
  outbox.push(encode(message));
  schedule(message, urgent);
}

/** When the outbox goes, now that it holds `message`. */
function schedule(message: WorkerMessage, urgent: boolean): void {
  if (outbox.length >= FLUSH_AT) {
    flush();
    return;
  }
  if (flushScheduled === 'microtask') return;
  const hold = holdFor(message, urgent);
  if (hold !== null && noteWhileHeld(message)) {
    if (hold === 'later' && flushScheduled === 'no') {
      flushScheduled = 'later';
      setTimeout(flushSoon, HOLD_MS);
    } else if (hold === 'turn' && flushScheduled !== 'turn') {
      flushScheduled = 'turn';
      setImmediate(flushSoon);
    }
    return;
  }
  flushScheduled = 'microtask';
  // A microtask, not the next turn: everything sent in this run of the thread goes in one
  // batch, and the scheduler hears of an enqueue without waiting for the event loop.
  queueMicrotask(flushSoon);
}

/**
 * Notes what the scheduler must not lose if a page blocks the thread before the batch goes in
 * shared memory (unsent-messages.ts); whether the message may then wait (see schedule).
 */
function noteWhileHeld(message: WorkerMessage): boolean {
  switch (message.t) {
    case 'done':
    case 'failed':
    case 'deferred-start':
      return unsent.add(message);
    case 'log':
      // Noted (or sent at once) by sendLog, whenever its batch goes.
      return true;
    case 'enqueue':
      // Noted by enqueueNextPage when it matters (a child started or logged here).
      return message.durable;
    case 'progress':
      // Counted again from the page's end; a page that has not ended runs again.
      return true;
    default:
      return false;
  }
}

/** Batches posted on the channel, counted as the scheduler counts those it receives (unsent-messages.ts). */
let batchesPosted = 0;

function flushSoon(): void {
  if (flushScheduled === 'no') return;
  flushScheduled = 'no';
  flush();
}

/** `take`: also handle what the scheduler sent meanwhile (not from inside a page's call, where it could start other pages). */
function flush(take = true): void {
  settleCommits(false);
  for (const run of pendingProgress) run.progressMessage = null;
  pendingProgress.clear();
  if (outbox.length === 0) return;
  const batch = outbox;
  outbox = [];
  unsent.posting(++batchesPosted);
  channel.port1.postMessage(batch);
  // Every enqueue noted there was in this batch.
  unsent.clear();
  if (take) takeSchedulerMessages();
}

let direct: DirectEnqueue | null | undefined;

/** This thread's child log (and a connection to read while the cursor filter loads), opened on first use; null if it cannot. */
function directEnqueue(): DirectEnqueue | null {
  if (direct === undefined) {
    try {
      direct = boot.direct ? new DirectEnqueue(boot.direct, logSealed) : null;
    } catch {
      // The scheduler's path works without it.
      direct = null;
    }
  }
  return direct;
}

/**
 * The file is sealed inside the append of its last line, before that child's enqueue is in the
 * outbox: the scheduler, which deletes the file once what came before this message is committed,
 * must hear of the child first.
 */
function logSealed(file: string): void {
  process.nextTick(() => send({ t: 'log-sealed', file }));
}

let taking = false;

/**
 * Handles what the scheduler has sent without waiting for the event loop. Pages here end in
 * bursts (timers that fall due together), and a message waits for the whole burst otherwise:
 * an acknowledged enqueue would hold its page that long.
 */
function takeSchedulerMessages(): void {
  if (taking) return;
  taking = true;
  try {
    for (let received = receiveMessageOnPort(channel.port1); received; received = receiveMessageOnPort(channel.port1)) {
      onSchedulerMessage(received.message as SchedulerMessage);
    }
  } finally {
    taking = false;
  }
}

interface LoadedProcessor {
  definition: PageProcessorDefinition;
  nonRetryable: Set<string>;
}

const processors = new Map<string, Promise<LoadedProcessor>>();

function loadProcessor(bundle: string): Promise<LoadedProcessor> {
  let loaded = processors.get(bundle);
  if (!loaded) {
    loaded = import(pathToFileURL(bundle).href).then(
      (module: { default?: unknown }) => {
        const definition = checkDefinition(module.default);
        return { definition, nonRetryable: new Set(definition.retry?.nonRetryable ?? []) };
      },
      (error: unknown) => {
        const { name, message } = serializeError(error);
        // The error's kind (TypeError) tells a bug from a failed check such as a missing setting.
        const kind = name && name !== 'Error' ? `${name}: ` : '';
        throw Object.assign(new Error(`threw while loading: ${kind}${message}`, { cause: error }), { stack: (error as Error)?.stack });
      },
    );
    processors.set(bundle, loaded);
  }
  return loaded;
}

const DEFINITION_KEYS: KeySet<PageProcessorDefinition> = { name: true, initialPages: true, retry: true, pageTimeoutMs: true, estimateTotalItems: true, run: true, onPageFailed: true };

function checkDefinition(value: unknown): PageProcessorDefinition {
  if (value === undefined) {
    throw new Error('has no default export: export default definePageProcessor({ ... })');
  }
  if (typeof value !== 'object' || value === null) {
    throw new Error(`default export is a ${value === null ? 'null' : typeof value}, not a page processor: export default definePageProcessor({ ... })`);
  }
  const definition = value as Partial<PageProcessorDefinition> & { [PROCESSOR_MARK]?: unknown };
  if (typeof definition.run !== 'function') {
    throw new Error('default export has no run(ctx) function: definePageProcessor({ async run(ctx) { ... } })');
  }
  // definePageProcessor's own mark is no option of the user's.
  const { [PROCESSOR_MARK]: _mark, ...options } = definition;
  const unknown = unknownKeyMessage('definePageProcessor', options, DEFINITION_KEYS);
  if (unknown !== null) throw new Error(`has an unknown option: ${unknown}`);
  return definition as PageProcessorDefinition;
}

/**
 * The pages of one Piscina task and the children they start on credit: the task resolves when
 * all have ended, so Piscina counts this thread as busy for as long as they run.
 */
interface TaskGroup {
  open: number;
  ended: () => void;
}

interface PageRun {
  no: number;
  attempt: number;
  group: TaskGroup;
  /** Started on a credit: its slot belongs to this thread. */
  onCredit: boolean;
  /** Set once the bundle has loaded; always set by the time user code runs. */
  processor: LoadedProcessor | null;
  /** Children recorded by earlier attempts: enqueues below this ordinal are repeats. */
  recorded: number;
  cursorJson: string;
  size: number | null;
  /** Made on first use of ctx.signal: most pages never look at it, and it is not free. */
  controller: AbortController | null;
  abortReason: unknown;
  items: number;
  ordinal: number;
  progressMessage: Extract<WorkerMessage, { t: 'progress' }> | null;
  /** run() has returned or thrown: an enqueue now would come from code it left running. */
  ended: boolean;
  /** The enqueue that made this page, when this thread started it (null: the scheduler did). */
  origin: ChildRecord | null;
}

/**
 * Whether a child this thread started is durable yet: logged here, or acknowledged by the
 * scheduler. Until then its own children are not logged here, since the scheduler
 * may still refuse it (a cursor already a page's) and its children would point at no page.
 */
interface ChildRecord {
  committed: boolean;
}

/** Whether the page is durable (in the database or this thread's log), so that a child of it may be logged here. */
function isRecorded(run: PageRun): boolean {
  return run.origin === null || run.origin.committed;
}

/** Attempts running on this thread, by `${page}/${attempt}`. */
const runs = new Map<string, PageRun>();
/** Page numbers granted for children this thread's pages enqueue (see 'grant'). */
let numbers: number[] = [];
/** Credits: slots this thread owns and may start children in at once. */
let credits = 0;
/** Whether pages ending on a credit give it back to this thread (until the scheduler revokes). */
let owning = false;
/** Pages running on a credit: their slots come back to this thread when they end. */
let onCredit = 0;
/** Children held until a page of this thread ends and frees its slot. */
let deferred: { page: TaskPage; processor: LoadedProcessor; group: TaskGroup; origin: ChildRecord }[] = [];

/**
 * Whether this thread is saturated, as CPU-bound pages keep it: then a child started here would
 * wait for the pages ahead of it, and the scheduler's dispatch to the least busy thread is
 * better. The bar is near full: one chain of I/O-bound pages at a few thousand a second keeps its
 * thread 70-90% busy, and each move to the other thread costs the chain a round trip through the
 * scheduler (at 80%, a chain over a local HTTP API moved about 200 times in 14,000 pages, at 95%
 * about 30, and ran 25-40% faster in four runs of each). The window is long: on a shared machine
 * a thread stalls for tens of milliseconds now and then (descheduled, collecting garbage), and
 * over 50 ms that looked saturated and moved the chain (over 250 ms, the HTTP chain at P = 128
 * kept 0.88 of p-limit's rate against 0.81, in five alternating pairs).
 */
const saturated = busyMoreThan(0.95, 250);

function threadIsBusy(): boolean {
  return boot.threads > 1 && saturated();
}

let nextRequest = 1;
/** Enqueues waiting for the scheduler's answer; `origin` is the child's record, committed once acknowledged. */
const requests = new Map<number, { resolve: () => void; reject: (error: Error) => void; origin: ChildRecord; key: number }>();
/**
 * Cursors (with their size, by cursorHash) this thread has sent to the scheduler and not yet
 * heard committed, by how many times: not yet readable in the database, but a child repeating
 * one must not start. Two cursors with one hash only send a child the scheduler's way.
 */
const pending = new Map<number, number>();

/** Settles a request the scheduler answered; its cursor is in the database or refused now. */
function answered(id: number): { resolve: () => void; reject: (error: Error) => void; origin: ChildRecord } | undefined {
  const request = requests.get(id);
  if (!request) return undefined;
  requests.delete(id);
  const left = (pending.get(request.key) ?? 1) - 1;
  if (left > 0) pending.set(request.key, left);
  else pending.delete(request.key);
  return request;
}

/**
 * Whether a child's cursor may already be a page's, so that it must wait for the scheduler's
 * word before it runs: one this thread sent and the scheduler has not acknowledged, one another
 * thread sent (the job's cursor filter holds those too), or one in the database.
 */
function mayRepeat(key: number, cursor: string, size: number | null): boolean {
  if (pending.has(key)) return true;
  return directEnqueue()?.mayBeTaken(cursor, size, key) ?? false;
}

function onSchedulerMessage(message: SchedulerMessage): void {
  switch (message.t) {
    case 'committed':
      for (const id of message.requests) {
        const request = answered(id);
        if (request) {
          request.origin.committed = true;
          request.resolve();
        }
      }
      break;
    case 'rejected': {
      const error = Object.assign(new Error(message.message), { code: message.code });
      answered(message.request)?.reject(error);
      break;
    }
    case 'grant':
      numbers.push(...message.numbers);
      credits += message.credits;
      if (message.credits > 0) owning = true;
      startHeld();
      break;
    case 'revoke': {
      const returned = deferred.map((child) => child.page[0]);
      for (const child of deferred) if (--child.group.open === 0) child.group.ended();
      send({ t: 'revoked', unused: credits, returned });
      credits = 0;
      owning = false;
      deferred = [];
      flush();
      break;
    }
    case 'flush-output': {
      const { reply } = message;
      void outputWritten().then(() => {
        reply.postMessage(true);
        reply.close();
      });
      break;
    }
    case 'abort': {
      const reason = new DOMException(message.reason, 'AbortError');
      if (message.targets === 'all') {
        for (const run of runs.values()) abortRun(run, reason);
      } else {
        for (const [no, attempt] of message.targets) {
          const run = runs.get(`${no}/${attempt}`);
          if (run) abortRun(run, reason);
          else dropDeferred(no);
        }
      }
      break;
    }
  }
}

/**
 * Resolves once the main thread has what this thread's console wrote so far. A worker's stdout
 * and stderr reach it as messages, one write at a time: the next write waits in the stream until
 * the main thread asks for more, and a write's callback runs only then, after all before it.
 */
function outputWritten(): Promise<unknown> {
  const written = (stream: NodeJS.WritableStream) => new Promise<void>((resolve) => stream.write('', () => resolve()));
  return Promise.all([written(process.stdout), written(process.stderr)]);
}

function abortRun(run: PageRun, reason: unknown): void {
  if (run.abortReason !== undefined) return;
  run.abortReason = reason;
  run.controller?.abort(reason);
}

function signalOf(run: PageRun): AbortSignal {
  if (!run.controller) {
    run.controller = new AbortController();
    if (run.abortReason !== undefined) run.controller.abort(run.abortReason);
  }
  return run.controller.signal;
}

function checkPageSpec(spec: unknown, what: string): [cursorJson: string, size: number | null] {
  if (typeof spec !== 'object' || spec === null || !('cursor' in spec)) {
    throw new TypeError(`${what} must be an object { cursor, size? }, got ${describe(spec)}`);
  }
  const misspelt = unknownKeyMessage(what, spec, PAGE_SPEC_KEYS);
  if (misspelt !== null) throw new TypeError(misspelt);
  const { cursor, size } = spec as PageSpec;
  const notJson = findNonJson(cursor, 'cursor');
  if (notJson) throw new TypeError(`${what}: cursor must be a JSON value, but ${notJson}`);
  if (size !== undefined && (!Number.isInteger(size) || size < 0)) {
    throw new TypeError(`${what}: size must be an integer >= 0 or left out, got ${describe(size)}`);
  }
  return [JSON.stringify(cursor), size ?? null];
}

const PAGE_SPEC_KEYS: KeySet<PageSpec> = { cursor: true, size: true };

function describe(value: unknown): string {
  if (value === undefined) return 'undefined';
  // JSON would say null for these.
  if (typeof value === 'number' && !Number.isFinite(value)) return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/** As console.log formats, but on one line, since a log line is shown as one. */
const LOG_FORMAT: InspectOptions = { breakLength: Number.POSITIVE_INFINITY, depth: 4, colors: false };

/**
 * Sends a page's log line, noted in shared memory until its batch goes, whenever that is: a page
 * that logs and then blocks the thread (a busy loop that ignores ctx.signal) keeps the batch from
 * ever leaving, even one due at the end of this run of code (a microtask), and its last lines are
 * what tell why it was stuck. The scheduler reads them when it terminates the thread. A line that
 * does not fit beside what is noted already goes at once, with the batch before it. Only pages
 * that log pay for it.
 */
function sendLog(message: Extract<WorkerMessage, { t: 'log' }>): void {
  const noted = unsent.add(message);
  send(message);
  if (!noted) flush(false);
}

function createContext(run: PageRun, cursorJson: string, size: number | null): PageContext {
  const log = (level: LogLevel, values: unknown[]) =>
    sendLog({ t: 'log', page: run.no, attempt: run.attempt, level, message: formatWithOptions(LOG_FORMAT, ...values), at: Date.now() });
  return {
    jobId: boot.jobId,
    page: Object.freeze({ id: run.no, cursor: JSON.parse(cursorJson) as JsonValue, size: size ?? undefined, attempt: run.attempt }),
    args,
    get signal() {
      return signalOf(run);
    },
    enqueueNextPage(next) {
      let cursor: string;
      let nextSize: number | null;
      try {
        [cursor, nextSize] = checkPageSpec(next, 'enqueueNextPage');
      } catch (error) {
        return Promise.reject(error);
      }
      if (run.ended) {
        // A call nobody awaited (a timer, a forgotten `await`): the page is over, and its
        // record with it. Said in its log too, since such a rejection is rarely caught.
        const message = `enqueueNextPage({ cursor: ${cursor} }) came after run() of page ${run.no} had ended, so nothing was enqueued: await it inside run(), before run() returns`;
        log('error', [message]);
        return Promise.reject(new Error(message));
      }
      const ordinal = run.ordinal++;
      // Keep the child on this thread, so it starts without a round trip through the scheduler:
      // at once on a credit, or in the slot of this thread's next page to end. Not when it
      // repeats this page's own cursor (a paginator stuck on its last page), nor when the thread
      // is busy with CPU work (the scheduler sends it to a free thread instead).
      const repeats = cursor === run.cursorJson && nextSize === run.size;
      // Held children wait for a credit to come back, so hold one only while pages here run on credits.
      // Nor when an earlier attempt of this page already made this enqueue: the scheduler answers
      // it from the record, and the chain goes on from the child recorded then.
      const keep =
        numbers.length > 0 &&
        (credits > 0 || (owning && onCredit > deferred.length)) &&
        ordinal >= run.recorded &&
        !repeats &&
        run.abortReason === undefined &&
        !threadIsBusy();
      let local = keep ? numbers.shift()! : null;
      let started = local !== null && credits > 0;
      const startedAt = started ? Date.now() : null;
      // Committed here when it can be: the page need not wait for the scheduler's round trip.
      // A child starting at once whose cursor is certainly new starts first (startThenCommit);
      // any other is committed before it starts, so that one repeating a page's cursor never runs.
      const key = cursorHash(cursor, nextSize);
      const direct = directEnqueue();
      if (started && direct?.mayTry === true && isRecorded(run) && !mayRepeat(key, cursor, nextSize)) {
        const enqueue: UnsentEnqueue = { t: 'enqueue', page: run.no, attempt: run.attempt, ordinal, cursor, size: nextSize, request: 0, local, started, durable: false, filtered: true };
        // Not noted (its JSON too big for the buffer): committed first, below.
        if (unsent.add(enqueue)) return startThenCommit(run, enqueue, startedAt!, key, direct);
      }
      const outcome = local !== null && isRecorded(run) ? (direct?.tryCommit({ no: local, parent: run.no, ordinal, cursor, size: nextSize, startedAt }, key) ?? 'unsettled') : 'unsettled';
      const durable = outcome === 'committed';
      if (local !== null && !durable && mayRepeat(key, cursor, nextSize)) {
        // It may repeat a page: the scheduler decides (and words the warning) before it runs.
        numbers.unshift(local);
        local = null;
        started = false;
      }
      const child: TaskPage | null = local !== null ? [local, 1, cursor, nextSize, 0] : null;
      const origin: ChildRecord = { committed: durable };
      const request = durable ? 0 : nextRequest++;
      if (!durable) {
        pending.set(key, (pending.get(key) ?? 0) + 1);
        // Other threads see it on its way to the scheduler, and let the scheduler decide a repeat.
        direct?.noteSent(key);
      }
      // In the filter now: logged here (tryCommit adds it), or noted just above.
      const filtered = direct !== null;
      const enqueue: UnsentEnqueue = { t: 'enqueue', page: run.no, attempt: run.attempt, ordinal, cursor, size: nextSize, request, local, started, durable, filtered };
      const acknowledged = durable ? Promise.resolve() : new Promise<void>((resolve, reject) => requests.set(request, { resolve, reject, origin, key }));
      // Noted until its batch goes: the scheduler must learn of a child this thread logged or
      // started even if a page blocks this thread first (the child started below, say).
      const noted = (durable || started) && unsent.add(enqueue);
      // The page waits for the scheduler's answer; or, logged here, the child is in this
      // thread's log, and only a batch in flight tells the scheduler of it if it cannot be noted.
      send(enqueue, !durable);
      // Not noted (its JSON too big for the buffer): sent now, before the child can block the thread.
      if ((durable || started) && !noted) flush(false);
      if (child) {
        if (started) startOnCredit(child, run.processor!, run.group, origin);
        else {
          run.group.open++;
          deferred.push({ page: child, processor: run.processor!, group: run.group, origin });
        }
      }
      return acknowledged;
    },
    reportProgress(items) {
      if (!Number.isFinite(items) || items < 0) {
        throw new TypeError(`reportProgress(items): items must be a number >= 0, got ${describe(items)}`);
      }
      run.items += items;
      if (run.progressMessage) {
        run.progressMessage.items += items;
      } else {
        run.progressMessage = { t: 'progress', page: run.no, attempt: run.attempt, items };
        pendingProgress.add(run);
        send(run.progressMessage);
      }
    },
    log: {
      info: (...values) => log('info', values),
      warn: (...values) => log('warn', values),
      error: (...values) => log('error', values),
    },
  };
}

/** Records (log lines) of children that started first (see startThenCommit), in the order they started. */
const unsettled: (() => UnsentEnqueue)[] = [];

/**
 * A child that starts at once on a credit, with a cursor no page has (the job's cursor filter, or
 * the database while the filter loads, says so for certain), starts before its record (its
 * line in this thread's child log; the name is from when that was a commit). At-least-once
 * allows it (only that mode grants credits): until the record its parent is still running in
 * SQLite, so a crash runs both again. The record is written on a process.nextTick queued after
 * the child's first synchronous run, so after the ticks that run queued: Node writes an HTTP
 * request on one, and the child's round trip then covers its record (as a commit, a fifth of
 * each step of a chain bound by its fetch). Until then its enqueue keeps its place in the
 * outbox, and nothing leaves before it is settled (the scheduler hears of the child before
 * anything the child sends); it is noted in shared memory as one for the scheduler to record,
 * should the child block the thread first (the scheduler then records it, and takes the
 * thread's later word of it as that child). A child of this child enqueued before the record
 * takes the scheduler's path: its parent is not recorded yet.
 */
function startThenCommit(run: PageRun, enqueue: UnsentEnqueue, startedAt: number, key: number, direct: DirectEnqueue): Promise<void> {
  const { local, ordinal, cursor, size } = enqueue;
  // Before it starts: another thread handing on the same cursor now sends it to the scheduler.
  direct.claim(key);
  const box = outbox;
  const at = box.push(encode(enqueue)) - 1;
  const origin: ChildRecord = { committed: false };
  // The task is not over until the commit is settled.
  run.group.open++;
  const acknowledged = new Promise<void>((resolve, reject) => {
    unsettled.push(() => {
      const outcome = direct.tryCommit({ no: local!, parent: run.no, ordinal, cursor, size, startedAt }, key, true);
      enqueue.durable = outcome === 'committed';
      origin.committed = enqueue.durable;
      if (enqueue.durable) resolve();
      else {
        // The scheduler no longer lets threads write, or the log failed: the scheduler records
        // the child, or aborts it if another thread started the same cursor just now.
        enqueue.request = nextRequest++;
        pending.set(key, (pending.get(key) ?? 0) + 1);
        requests.set(enqueue.request, { resolve, reject, origin, key });
      }
      unsent.update(enqueue);
      // Nothing is sent before the commits are settled, so the outbox is still the one reserved in.
      box[at] = encode(enqueue);
      if (--run.group.open === 0) run.group.ended();
      return enqueue;
    });
  });
  startOnCredit([local!, 1, cursor, size, 0], run.processor!, run.group, origin);
  process.nextTick(settleCommits, true);
  return acknowledged;
}

/** `send`: arrange for the settled enqueues to go (not from flush, which sends them now). */
function settleCommits(send: boolean): void {
  while (unsettled.length > 0) {
    const enqueue = unsettled.shift()!();
    if (send) schedule(enqueue, !enqueue.durable);
  }
}

function isNonRetryable(error: unknown, processor: LoadedProcessor): boolean {
  if (!(error instanceof Error)) return false;
  return (error as { nonRetryable?: unknown }).nonRetryable === true || error.name === 'NonRetryableError' || processor.nonRetryable.has(error.name);
}

function registerRun([no, attempt, cursorJson, size, recorded]: TaskPage, processor: LoadedProcessor | null, group: TaskGroup, origin: ChildRecord | null = null): PageRun {
  const run: PageRun = { no, attempt, group, onCredit: false, processor, recorded, cursorJson, size, controller: null, abortReason: undefined, items: 0, ordinal: 0, progressMessage: null, ended: false, origin };
  runs.set(`${no}/${attempt}`, run);
  group.open++;
  return run;
}

function startOnCredit(page: TaskPage, processor: LoadedProcessor, group: TaskGroup, origin: ChildRecord): void {
  credits--;
  onCredit++;
  const child = registerRun(page, processor, group, origin);
  child.onCredit = true;
  void runPage(child, page);
}

/** A page ended: its credit, if it ran on one, comes back to this thread (the scheduler is told). */
function giveBackSlot(run: PageRun): boolean {
  if (!run.onCredit) return false;
  onCredit--;
  if (owning) credits++;
  return owning;
}

async function runPage(run: PageRun, [no, attempt, cursorJson, size]: TaskPage): Promise<void> {
  const processor = run.processor!;
  const startedAt = Date.now();
  try {
    const result = await processor.definition.run(createContext(run, cursorJson, size));
    const returned = result && typeof result === 'object' ? result.items : undefined;
    // As reportProgress would: a count that is no count is a bug to show, not to drop.
    if (returned !== undefined && (typeof returned !== 'number' || !Number.isFinite(returned) || returned < 0)) {
      throw new TypeError(`run() returned { items: ${describe(returned)} }: items must be a number >= 0, or left out to count what reportProgress reported`);
    }
    const items = returned ?? run.items;
    send({ t: 'done', page: no, attempt, items, aborted: run.abortReason !== undefined, kept: giveBackSlot(run), startedAt, endedAt: Date.now() });
  } catch (error) {
    send({
      t: 'failed',
      page: no,
      attempt,
      error: serializeError(error),
      nonRetryable: isNonRetryable(error, processor),
      aborted: run.abortReason !== undefined,
      kept: giveBackSlot(run),
      startedAt,
      endedAt: Date.now(),
    });
  } finally {
    run.ended = true;
    runs.delete(`${no}/${attempt}`);
    // A child held here takes the credit that just came back.
    startHeld();
    if (--run.group.open === 0) run.group.ended();
  }
}

/** Starts held children while there are credits for them. */
function startHeld(): void {
  while (credits > 0 && deferred.length > 0) {
    const next = deferred.shift()!;
    send({ t: 'deferred-start', page: next.page[0] });
    next.group.open--;
    startOnCredit(next.page, next.processor, next.group, next.origin);
  }
}

function dropDeferred(no: number): void {
  const index = deferred.findIndex((child) => child.page[0] === no);
  if (index < 0) return;
  const [child] = deferred.splice(index, 1);
  if (--child!.group.open === 0) child!.group.ended();
}

async function runPages(task: PagesTask): Promise<number | TaskFailure> {
  let ended!: () => void;
  const allEnded = new Promise<void>((resolve) => (ended = resolve));
  const group: TaskGroup = { open: 0, ended };
  // Registered before they are announced, so an abort that follows the announcement finds them.
  const pageRuns = task.pages.map((page) => registerRun(page, null, group));
  // Sent before user code runs, so the scheduler knows this thread even if a page never yields.
  send({ t: 'started', pages: task.pages.map((page) => page[0]) });
  flush();
  try {
    const processor = await loadProcessor(task.bundle);
    for (const run of pageRuns) run.processor = processor;
  } catch (error) {
    for (const run of pageRuns) runs.delete(`${run.no}/${run.attempt}`);
    return { ok: false, error: serializeError(error) };
  }
  for (let i = 0; i < pageRuns.length; i++) void runPage(pageRuns[i]!, task.pages[i]!);
  await allEnded;
  // The scheduler learns of pages' ends from the channel, not from the task's answer (the two
  // are separate ports).
  flush();
  return task.pages.length;
}

async function describeProcessor(task: DescribeTask): Promise<DescribeResult | TaskFailure> {
  try {
    const { definition } = await loadProcessor(task.bundle);
    // The scheduler puts "processor <file>" before these: each reads on from there.
    let initialPages: [string, number | null][] | null = null;
    if (task.withInitialPages) {
      const initial = definition.initialPages;
      const given = typeof initial === 'function' ? await callUserHook('initialPages', () => initial(args)) : (initial ?? [{ cursor: null }]);
      if (!Array.isArray(given)) throw new TypeError(`has bad initialPages: they must be an array of { cursor, size? } or a function returning one, got ${describe(given)}`);
      initialPages = given.map((spec, i) => {
        try {
          return checkPageSpec(spec, `initialPages[${i}]`);
        } catch (error) {
          throw new TypeError(`has a bad initial page: ${(error as Error).message}`);
        }
      });
    }
    let estimateTotalItems: number | null = null;
    const estimateOf = definition.estimateTotalItems;
    if (estimateOf) {
      const estimate = await callUserHook('estimateTotalItems', () => estimateOf(args));
      if (!Number.isFinite(estimate) || estimate < 0) throw new TypeError(`has a bad estimate: estimateTotalItems must return a number >= 0, got ${describe(estimate)}`);
      estimateTotalItems = estimate;
    }
    return {
      name: typeof definition.name === 'string' ? definition.name : null,
      retry: definition.retry ?? null,
      pageTimeoutMs: definition.pageTimeoutMs ?? null,
      initialPages,
      estimateTotalItems,
      hasOnPageFailed: typeof definition.onPageFailed === 'function',
    };
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

/** Runs one of the processor's own functions; what it throws names the function and keeps its stack. */
async function callUserHook<T>(name: string, call: () => T | Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (error) {
    const { message } = serializeError(error);
    throw Object.assign(new Error(`threw in ${name}(args): ${message}; fix it and run again`, { cause: error }), { stack: (error as Error)?.stack });
  }
}

async function reportPageFailed(task: PageFailedTask): Promise<true | TaskFailure> {
  try {
    const { definition } = await loadProcessor(task.bundle);
    const [no, attempt, cursorJson, size] = task.page;
    await definition.onPageFailed?.({
      jobId: boot.jobId,
      page: { id: no, attempt, cursor: JSON.parse(cursorJson) as JsonValue, size: size ?? undefined },
      args,
      error: task.error,
    });
    return true;
  } catch (error) {
    return { ok: false, error: serializeError(error) };
  }
}

export default function handleTask(task: WorkerTask): Promise<unknown> {
  switch (task.kind) {
    case 'pages':
      return runPages(task);
    case 'describe':
      return describeProcessor(task);
    case 'page-failed':
      return reportPageFailed(task);
  }
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}
