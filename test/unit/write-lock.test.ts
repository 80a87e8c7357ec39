import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { WriteLock } from '../../runner/store/write-lock.js';

// A thread that takes the lock, marks word 1 of `flags` while it holds it, and lets go after `holdMs`.
const holder = `
const { workerData, parentPort } = require('node:worker_threads');
const word = new Int32Array(workerData.lock);
const flags = new Int32Array(workerData.flags);
if (Atomics.compareExchange(word, 0, 0, 1) !== 0) throw new Error('lock not free');
Atomics.store(flags, 0, 1);
parentPort.postMessage('holding');
const until = Date.now() + workerData.holdMs;
while (Date.now() < until);
Atomics.store(flags, 0, 2);
if (Atomics.exchange(word, 0, 0) === 2) Atomics.notify(word, 0);
`;

function holdOnAnotherThread(lock: WriteLock, holdMs: number): Promise<{ flags: Int32Array; worker: Worker }> {
  const flags = new Int32Array(new SharedArrayBuffer(4));
  const worker = new Worker(holder, { eval: true, workerData: { lock: lock.buffer, flags: flags.buffer, holdMs } });
  return new Promise((resolve, reject) => {
    worker.once('message', () => resolve({ flags, worker }));
    worker.once('error', reject);
  });
}

describe('WriteLock', () => {
  it('is taken by one holder at a time, and free again once released', () => {
    const lock = new WriteLock();
    const same = new WriteLock(lock.buffer);
    expect(lock.tryAcquire()).toBe(true);
    expect(same.tryAcquire()).toBe(false);
    lock.release();
    expect(same.tryAcquire()).toBe(true);
  });

  it('waits for a holder on another thread to let go', async () => {
    const lock = new WriteLock();
    const { flags, worker } = await holdOnAnotherThread(lock, 50);
    expect(lock.tryAcquire()).toBe(false);
    lock.acquire(10_000);
    // Acquired only after the other thread was done with it.
    expect(Atomics.load(flags, 0)).toBe(2);
    lock.release();
    await worker.terminate();
  });

  it('takes the lock anyway past its wait, when the holder never lets go (a thread terminated mid-commit)', () => {
    const lock = new WriteLock();
    lock.tryAcquire();
    lock.acquire(5);
    expect(lock.tryAcquire()).toBe(false);
    lock.release();
    expect(lock.tryAcquire()).toBe(true);
  });

  it('waits a while for a holder that may step aside, and takes the lock once it does', async () => {
    const lock = new WriteLock();
    const { flags, worker } = await holdOnAnotherThread(lock, 30);
    expect(lock.acquireWithin(10_000)).toBe(true);
    expect(Atomics.load(flags, 0)).toBe(2);
    lock.release();
    await worker.terminate();
  });

  it('gives up without taking the lock when its holder keeps it past the wait', async () => {
    const lock = new WriteLock();
    const { flags, worker } = await holdOnAnotherThread(lock, 300);
    expect(lock.acquireWithin(5)).toBe(false);
    // Still the holder's: neither this side nor anyone else took it.
    expect(Atomics.load(flags, 0)).toBe(1);
    expect(lock.tryAcquire()).toBe(false);
    await new Promise<void>((resolve) => worker.once('exit', () => resolve()));
    expect(lock.tryAcquire()).toBe(true);
  });

  it('spins for 200 µs before it marks the lock contended and sleeps, since a thread\'s commit takes about 20 µs', async () => {
    // The holder lets go only once this side has marked the lock contended, and notes when
    // that was; this side notes when it began to wait. Both clocks are the wall clock in ms.
    const watcher = `
      const { workerData, parentPort } = require('node:worker_threads');
      const word = new Int32Array(workerData.lock);
      const times = new Float64Array(workerData.times);
      const now = () => performance.timeOrigin + performance.now();
      parentPort.on('message', () => {
        Atomics.compareExchange(word, 0, 0, 1);
        parentPort.postMessage('holding');
        while (Atomics.load(word, 0) !== 2);
        times[1] = now();
        Atomics.exchange(word, 0, 0);
        Atomics.notify(word, 0);
      });
    `;
    const lock = new WriteLock();
    const times = new Float64Array(new SharedArrayBuffer(16));
    const worker = new Worker(watcher, { eval: true, workerData: { lock: lock.buffer, times: times.buffer } });
    const waited: number[] = [];
    try {
      for (let round = 0; round < 3; round++) {
        await new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage('hold');
        });
        times[0] = performance.timeOrigin + performance.now();
        lock.acquire(10_000);
        lock.release();
        waited.push(times[1]! - times[0]!);
      }
    } finally {
      await worker.terminate();
    }
    // A lower bound the code sets, not a timing: a loaded machine only makes it longer. Without
    // the spin, the lock is marked within microseconds.
    for (const ms of waited) expect(ms).toBeGreaterThanOrEqual(0.2);
  });

  it('tells worker threads whether they may write, through the shared memory', () => {
    const lock = new WriteLock();
    const seen = new WriteLock(lock.buffer);
    expect(seen.threadsMayWrite).toBe(true);
    lock.threadsMayWrite = false;
    expect(seen.threadsMayWrite).toBe(false);
  });
});
