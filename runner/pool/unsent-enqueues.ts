/**
 * The enqueues a worker thread has made but not yet sent, kept in memory it shares with the
 * scheduler. A child started on a credit runs before its enqueue is sent (worker.ts,
 * startThenCommit), and the thread's outbox waits for that enqueue, so a child that blocks its
 * thread at once (a busy loop before its first await) keeps every enqueue in the outbox from
 * leaving, some of them children the thread committed itself: when the scheduler terminates the
 * thread, it reads them here, so those children are known, recorded and run.
 *
 * The writer is the worker thread; the scheduler reads only once the thread has stopped, so
 * nothing here needs more than a length written last.
 */
import type { WorkerMessage } from './worker-messages.js';

export type UnsentEnqueue = Extract<WorkerMessage, { t: 'enqueue' }>;

/** Room for the JSON of the enqueues in flight at once: a few, with cursors of any usual size. */
const TEXT_BYTES = 64 * 1024;

export function createUnsentBuffer(): SharedArrayBuffer {
  return new SharedArrayBuffer(4 + TEXT_BYTES);
}

/** The worker thread's side. */
export class UnsentEnqueues {
  private readonly length: Int32Array;
  private readonly text: Uint8Array;
  private readonly encoder = new TextEncoder();
  /** In the order added, each with where its line ends: one JSON line each. */
  private readonly entries: { enqueue: UnsentEnqueue; end: number }[] = [];

  constructor(readonly buffer: SharedArrayBuffer) {
    this.length = new Int32Array(buffer, 0, 1);
    this.text = new Uint8Array(buffer, 4);
  }

  /** Keeps the enqueue readable until `clear`; false (and nothing kept) when it does not fit. */
  add(enqueue: UnsentEnqueue): boolean {
    const end = this.append(enqueue, this.entries.at(-1)?.end ?? 0);
    if (end < 0) return false;
    this.entries.push({ enqueue, end });
    Atomics.store(this.length, 0, end);
    return true;
  }

  /** Writes the enqueue again as it is now (decided: durable, or waiting for the scheduler). */
  update(enqueue: UnsentEnqueue): void {
    const at = this.entries.findIndex((entry) => entry.enqueue === enqueue);
    if (at >= 0) this.rewriteFrom(at);
  }

  /** Everything noted has been sent. */
  clear(): void {
    this.entries.length = 0;
    Atomics.store(this.length, 0, 0);
  }

  /** Usually the last one (children started inside children are decided first): one line. */
  private rewriteFrom(at: number): void {
    let end = this.entries[at - 1]?.end ?? 0;
    Atomics.store(this.length, 0, end);
    for (const entry of this.entries.slice(at)) {
      const next = this.append(entry.enqueue, end);
      // Grown past the room left: keep what fits (the rest is sent soon anyway).
      if (next < 0) {
        this.entries.length = this.entries.indexOf(entry);
        break;
      }
      end = entry.end = next;
    }
    Atomics.store(this.length, 0, end);
  }

  /** Writes the enqueue's line at `start`, past what the reader sees; where it ends, or -1. */
  private append(enqueue: UnsentEnqueue, start: number): number {
    const line = `${JSON.stringify(enqueue)}\n`;
    const { read, written } = this.encoder.encodeInto(line, this.text.subarray(start));
    return read < line.length ? -1 : start + written;
  }
}

/** The scheduler's side: what a stopped thread had not sent. */
export function readUnsentEnqueues(buffer: SharedArrayBuffer): UnsentEnqueue[] {
  const length = Atomics.load(new Int32Array(buffer, 0, 1), 0);
  if (length === 0) return [];
  // A copy: TextDecoder does not read shared memory.
  const text = new TextDecoder().decode(new Uint8Array(buffer, 4, length).slice());
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as UnsentEnqueue);
}
