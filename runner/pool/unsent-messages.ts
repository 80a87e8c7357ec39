/**
 * What a worker thread has told nobody yet, kept in memory it shares with the scheduler, so that
 * a page that blocks the thread cannot take it along:
 * - enqueues whose child started or was committed by the thread: a child started on a credit
 *   runs before its enqueue is sent (it waits in the thread's outbox), so a child that blocks
 *   its thread at once (a busy loop before its first await) would keep it from leaving;
 * - while the thread holds what it sends (worker.ts, schedule: to the end of a turn of its event
 *   loop, or a few milliseconds), the pages that ended or started meanwhile: a page whose timer
 *   fires after theirs may block the thread before the batch goes;
 * - every log line, whenever its batch goes (worker.ts, sendLog): a page that logs and then
 *   blocks the thread keeps even a batch due at the end of that run of code from leaving, and
 *   its last lines are what tell why it was stuck.
 * When the scheduler terminates the thread it reads them here: those children are recorded and
 * run, those pages are recorded as they ended instead of running again, and the lines are
 * recorded with their attempts (a stuck one's included).
 *
 * The scheduler also reads it while the thread runs, for pages past their timeout: one that
 * ended in a turn its thread never finished is not stuck. The writer appends past the length it
 * then stores; anything else (clearing, rewriting a line) it does between two steps of a version
 * (odd meanwhile), and a reader that saw the version odd or moved reads again.
 */
import type { WorkerMessage } from './worker-messages.js';

export type UnsentEnqueue = Extract<WorkerMessage, { t: 'enqueue' }>;
export type UnsentMessage = Extract<WorkerMessage, { t: 'enqueue' | 'done' | 'failed' | 'log' | 'deferred-start' }>;

/** Room for the JSON of what one batch holds: a few enqueues, a few hundred page ends. */
const TEXT_BYTES = 64 * 1024;

/**
 * Int32 slots before the text: the length of the text, the version, and the number of the batch
 * that carried what is noted, once it was handed to postMessage (0 before): a thread stopped
 * between posting and clearing must not have its lines read again as never sent.
 */
const LENGTH = 0;
const VERSION = 1;
const POSTED_IN = 2;
const HEADER_SLOTS = 3;
const HEADER_BYTES = 4 * HEADER_SLOTS;

export function createUnsentBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(HEADER_BYTES + TEXT_BYTES);
}

/** The worker thread's side. */
export class UnsentMessages {
  private readonly header: Int32Array;
  private readonly text: Uint8Array;
  private readonly encoder = new TextEncoder();
  /** In the order added, each with where its line ends: one JSON line each. */
  private readonly entries: { message: UnsentMessage; end: number }[] = [];

  constructor(readonly buffer: SharedArrayBuffer) {
    this.header = new Int32Array(buffer, 0, HEADER_SLOTS);
    this.text = new Uint8Array(buffer, HEADER_BYTES);
  }

  /** Keeps the message readable until `clear`; false (and nothing kept) when it does not fit. */
  add(message: UnsentMessage): boolean {
    const end = this.append(message, this.entries.at(-1)?.end ?? 0);
    if (end < 0) return false;
    this.entries.push({ message, end });
    Atomics.store(this.header, LENGTH, end);
    return true;
  }

  /** Writes the enqueue again as it is now (decided: durable, or waiting for the scheduler). */
  update(enqueue: UnsentEnqueue): void {
    const at = this.entries.findIndex((entry) => entry.message === enqueue);
    if (at >= 0) this.rewriteFrom(at);
  }

  /** What is noted goes in batch number `batch` (counted from 1), posted next. */
  posting(batch: number): void {
    if (this.entries.length > 0) Atomics.store(this.header, POSTED_IN, batch);
  }

  /** Everything noted has been sent. */
  clear(): void {
    if (this.entries.length === 0) return;
    this.entries.length = 0;
    // What is written next goes over the lines a reader may be copying.
    Atomics.add(this.header, VERSION, 1);
    Atomics.store(this.header, LENGTH, 0);
    Atomics.store(this.header, POSTED_IN, 0);
    Atomics.add(this.header, VERSION, 1);
  }

  /** Usually the last one (children started inside children are decided first): one line. */
  private rewriteFrom(at: number): void {
    let end = this.entries[at - 1]?.end ?? 0;
    Atomics.add(this.header, VERSION, 1);
    Atomics.store(this.header, LENGTH, end);
    for (const entry of this.entries.slice(at)) {
      const next = this.append(entry.message, end);
      // Grown past the room left: keep what fits (the rest is sent soon anyway).
      if (next < 0) {
        this.entries.length = this.entries.indexOf(entry);
        break;
      }
      end = entry.end = next;
    }
    Atomics.store(this.header, LENGTH, end);
    Atomics.add(this.header, VERSION, 1);
  }

  /** Writes the message's line at `start`, past what the reader sees; where it ends, or -1. */
  private append(message: UnsentMessage, start: number): number {
    const line = `${JSON.stringify(message)}\n`;
    const { read, written } = this.encoder.encodeInto(line, this.text.subarray(start));
    return read < line.length ? -1 : start + written;
  }
}

/**
 * The scheduler's side: what a stopped thread had not sent, in the order it was sent.
 * `received` is how many batches arrived from the thread: if the one carrying these did, they
 * were sent after all.
 */
export function readUnsentMessages(buffer: SharedArrayBuffer, received: number): UnsentMessage[] {
  if (wasReceived(buffer, received)) return [];
  // Whatever the thread was doing when it stopped, the text up to the length is whole.
  return parse(copy(buffer));
}

function wasReceived(buffer: SharedArrayBuffer, received: number): boolean {
  const postedIn = Atomics.load(new Int32Array(buffer, 0, HEADER_SLOTS), POSTED_IN);
  return postedIn !== 0 && postedIn <= received;
}

/**
 * What a running thread had not sent a moment ago; null when it kept changing it while this read
 * (the caller asks again later).
 */
export function peekUnsentMessages(buffer: SharedArrayBuffer, received: number): UnsentMessage[] | null {
  const header = new Int32Array(buffer, 0, HEADER_SLOTS);
  for (let tries = 0; tries < 3; tries++) {
    const version = Atomics.load(header, VERSION);
    if (version % 2 === 1) continue;
    const sent = wasReceived(buffer, received);
    const bytes = copy(buffer);
    if (Atomics.load(header, VERSION) === version) return sent ? [] : parse(bytes);
  }
  return null;
}

function copy(buffer: SharedArrayBuffer): Uint8Array {
  const length = Atomics.load(new Int32Array(buffer, 0, HEADER_SLOTS), LENGTH);
  // A copy: TextDecoder does not read shared memory.
  return new Uint8Array(buffer, HEADER_BYTES, length).slice();
}

function parse(bytes: Uint8Array): UnsentMessage[] {
  if (bytes.length === 0) return [];
  return new TextDecoder()
    .decode(bytes)
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as UnsentMessage);
}
