/**
 * The enqueues a worker thread has made but not yet sent, kept in memory it shares with the
 * scheduler. A child started on a credit runs before its enqueue is sent (worker.ts,
 * startThenCommit), so a child that blocks its thread at once (a busy loop before its first
 * await) would keep that enqueue from ever leaving: when the scheduler terminates the thread, it
 * reads them here, so the child, not only its parent, is known, recorded and run again.
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
  private readonly unsent = new Set<UnsentEnqueue>();

  constructor(readonly buffer: SharedArrayBuffer) {
    this.length = new Int32Array(buffer, 0, 1);
    this.text = new Uint8Array(buffer, 4);
  }

  /** Keeps the enqueue readable until `sent`; false (and nothing kept) when it does not fit. */
  add(enqueue: UnsentEnqueue): boolean {
    this.unsent.add(enqueue);
    if (this.write()) return true;
    this.unsent.delete(enqueue);
    this.write();
    return false;
  }

  sent(enqueue: UnsentEnqueue): void {
    if (this.unsent.delete(enqueue)) this.write();
  }

  private write(): boolean {
    if (this.unsent.size === 0) {
      Atomics.store(this.length, 0, 0);
      return true;
    }
    const json = JSON.stringify([...this.unsent]);
    // Unreadable while being written: a failed write overwrites the text it does not replace.
    Atomics.store(this.length, 0, 0);
    const { read, written } = this.encoder.encodeInto(json, this.text);
    if (read < json.length) return false;
    Atomics.store(this.length, 0, written);
    return true;
  }
}

/** The scheduler's side: what a stopped thread had not sent. */
export function readUnsentEnqueues(buffer: SharedArrayBuffer): UnsentEnqueue[] {
  const length = Atomics.load(new Int32Array(buffer, 0, 1), 0);
  if (length === 0) return [];
  // A copy: TextDecoder does not read shared memory.
  const bytes = new Uint8Array(buffer, 4, length).slice();
  return JSON.parse(new TextDecoder().decode(bytes)) as UnsentEnqueue[];
}
