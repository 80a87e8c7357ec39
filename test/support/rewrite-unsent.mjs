// A worker thread that keeps changing its unsent notes for `ms`, as a busy worker thread does:
// adds, rewrites the first of two lines with a cursor of another length (so the line after it
// moves), and clears, then starts over. workerData: { buffer, ms }. Posts how many rounds it made.
import { parentPort, workerData } from 'node:worker_threads';
import { UnsentMessages } from '../../dist/runner/pool/unsent-messages.js';

const { buffer, ms } = workerData;
const writer = new UnsentMessages(buffer);
const enqueue = (page, cursor) => ({ t: 'enqueue', page, attempt: 1, ordinal: 0, cursor, size: null, request: 0, local: 100 + page, started: true, durable: false });
let rounds = 0;
const until = performance.now() + ms;
while (performance.now() < until) {
  const first = enqueue(1, JSON.stringify('a'.repeat(rounds % 40)));
  writer.add(first);
  writer.add(enqueue(2, JSON.stringify('b'.repeat(40 - (rounds % 40)))));
  first.cursor = JSON.stringify('c'.repeat(80 - (rounds % 40)));
  first.durable = true;
  writer.update(first);
  writer.clear();
  rounds++;
}
parentPort.postMessage(rounds);
