/**
 * How worker messages travel over a thread's channel. Nearly every message is a page's enqueue
 * or its end, and structured clone writes and reads an object's keys with every one of them:
 * those two go as tuples, which the scheduler reads in well under half the time (measured with
 * v8.deserialize: 0.9 µs a page instead of 2.2) and its main thread is where the time goes.
 * Everything else goes as it is.
 */
import type { WorkerMessage } from './worker-messages.js';

type EnqueueMessage = Extract<WorkerMessage, { t: 'enqueue' }>;
type DoneMessage = Extract<WorkerMessage, { t: 'done' }>;

const ENQUEUE = 1;
const DONE = 2;

type EnqueueWire = [
  tag: typeof ENQUEUE,
  page: number,
  attempt: number,
  ordinal: number,
  cursor: string,
  size: number | null,
  request: number,
  local: number | null,
  started: boolean,
  durable: boolean,
  filtered: boolean,
];
type DoneWire = [tag: typeof DONE, page: number, attempt: number, items: number, aborted: boolean, kept: boolean, startedAt: number, endedAt: number];

export type WireMessage = EnqueueWire | DoneWire | Exclude<WorkerMessage, EnqueueMessage | DoneMessage>;

export function encode(message: WorkerMessage): WireMessage {
  switch (message.t) {
    case 'enqueue':
      return [ENQUEUE, message.page, message.attempt, message.ordinal, message.cursor, message.size, message.request, message.local, message.started, message.durable, message.filtered];
    case 'done':
      return [DONE, message.page, message.attempt, message.items, message.aborted, message.kept, message.startedAt, message.endedAt];
    default:
      return message;
  }
}

export function decode(wire: WireMessage): WorkerMessage {
  if (!Array.isArray(wire)) return wire;
  if (wire[0] === ENQUEUE) {
    const [, page, attempt, ordinal, cursor, size, request, local, started, durable, filtered] = wire;
    return { t: 'enqueue', page, attempt, ordinal, cursor, size, request, local, started, durable, filtered };
  }
  const [, page, attempt, items, aborted, kept, startedAt, endedAt] = wire;
  return { t: 'done', page, attempt, items, aborted, kept, startedAt, endedAt };
}

export function decodeBatch(batch: WireMessage[]): WorkerMessage[] {
  return batch.map(decode);
}
