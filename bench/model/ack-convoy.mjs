// A model of the enqueue's wait, without SQLite or Baton: one chain of 20 ms pages on a worker
// thread, P slots, each page awaiting its enqueue's acknowledgement before its 20 ms; a "main
// thread" that spends COST µs on every message and COMMIT µs on each commit, and acknowledges
// per the POLICY:
//   imm    all pending enqueues at setImmediate (Baton's group commit)
//   eager  after every batch that holds an enqueue
//   ahead  drains the channel, reads enqueues first, commits, then the other messages
// Prints throughput as a share of P / 20.6 ms and the wait's distribution. It reproduces
// Baton's shortfall (imm: about 82% at P = 128 and 92% at P = 32 with COST 12, COMMIT 30) and shows
// that pages acknowledged together keep ending together. See docs/performance.md.
//   node bench/model/ack-convoy.mjs [P=128] [COST=12] [COMMIT=30] [POLICY=imm]
import { Worker, receiveMessageOnPort } from 'node:worker_threads';

const [P = 128, COST = 12, COMMIT = 30] = process.argv.slice(2, 5).map(Number);
const POLICY = process.argv[5] ?? 'imm';
const PAGES = 30_000;

const worker = new Worker(
  `
const { parentPort, workerData, MessageChannel, receiveMessageOnPort } = require('node:worker_threads');
const { P, PAGES } = workerData;
const channel = new MessageChannel();
parentPort.postMessage({ port: channel.port2 }, [channel.port2]);
const port = channel.port1;
const waits = [];
const pending = new Map();
let id = 0, running = 0, done = 0, started = 0, outbox = [], scheduled = false, waitingForSlot = null;
const onAck = (m) => { for (const r of m.acks) { const p = pending.get(r); pending.delete(r); waits.push(performance.now() - p.t); p.resolve(); } };
// Like Baton's worker: one batch per microtask, and acknowledgements taken whenever it sends.
function flush() { scheduled = false; const batch = outbox; outbox = []; port.postMessage(batch); for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) onAck(r.message); }
function send(m) { outbox.push(m); if (!scheduled) { scheduled = true; queueMicrotask(flush); } }
port.on('message', onAck);
async function page() {
  running++; started++;
  if (started < PAGES) { if (running < P) queueMicrotask(page); else waitingForSlot = page; }
  const r = ++id, t = performance.now();
  await new Promise((resolve) => { pending.set(r, { t, resolve }); send({ t: 'enqueue', r }); });
  await new Promise((resolve) => setTimeout(resolve, 20));
  running--; done++;
  send({ t: 'done' });
  if (waitingForSlot) { const next = waitingForSlot; waitingForSlot = null; next(); }
  if (done >= PAGES) parentPort.postMessage({ waits });
}
setTimeout(page, 50);
`,
  { eval: true, workerData: { P, PAGES } },
);

const spin = (us) => {
  const until = performance.now() + us / 1000;
  while (performance.now() < until);
};
let port;
let startedAt = 0;
let acks = [];
let open = false;
let scheduled = false;
let commits = 0;
function commit() {
  if (open) {
    spin(COMMIT);
    commits++;
    open = false;
  }
  const requests = acks;
  acks = [];
  if (requests.length > 0) port.postMessage({ acks: requests });
}
function commitSoon() {
  if (scheduled) return;
  scheduled = true;
  setImmediate(() => {
    scheduled = false;
    commit();
  });
}
function read(messages) {
  for (const message of messages) {
    spin(COST);
    open = true;
    if (message.t === 'enqueue') acks.push(message.r);
  }
}

worker.on('message', (message) => {
  if (message.port) {
    port = message.port;
    startedAt = performance.now();
    port.on('message', (batch) => {
      if (POLICY === 'ahead') {
        let all = batch;
        for (let r = receiveMessageOnPort(port); r; r = receiveMessageOnPort(port)) all = all.concat(r.message);
        const enqueues = all.filter((m) => m.t === 'enqueue');
        read(enqueues);
        if (enqueues.length > 0) commit();
        read(all.filter((m) => m.t !== 'enqueue'));
        commitSoon();
      } else {
        read(batch);
        if (POLICY === 'eager' && acks.length > 0) commit();
        else commitSoon();
      }
    });
    return;
  }
  const waits = message.waits.sort((a, b) => a - b);
  const q = (p) => waits[Math.floor(p * (waits.length - 1))].toFixed(2);
  const rate = PAGES / ((performance.now() - startedAt) / 1000);
  const mean = waits.reduce((a, b) => a + b, 0) / waits.length;
  console.log(`P ${P}, ${COST} µs a message, ${COMMIT} µs a commit, ${POLICY}: ${((rate / ((P * 1000) / 20.6)) * 100).toFixed(1)}% of the bound, ${commits} commits, wait p50 ${q(0.5)} p90 ${q(0.9)} mean ${mean.toFixed(2)} ms`);
  process.exit(0);
});
