import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { WriteLock } from '../../runner/store/write-lock.js';
import { waitFor } from '../helpers.js';

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

  it('spins through a holder\'s short commit rather than sleeping, so that holder has no one to wake', async () => {
    // Word 0 of `flags`: 1 when this side is about to wait; word 1: what the holder's release found
    // (1 held, 2 someone asleep on it), or 0 before it let go. The holder lets go about 20 µs after
    // this side starts to wait, well within the 200 µs spin, unless either thread loses its core
    // meanwhile (one try in ten, beside two CPU burners on two cores): hence up to 300 tries.
    const shortHolder = `
      const { workerData, parentPort } = require('node:worker_threads');
      const word = new Int32Array(workerData.lock);
      const flags = new Int32Array(workerData.flags);
      parentPort.on('message', () => {
        Atomics.store(flags, 1, 0);
        Atomics.compareExchange(word, 0, 0, 1);
        parentPort.postMessage('holding');
        while (Atomics.load(flags, 0) !== 1);
        const until = performance.now() + 0.02;
        while (performance.now() < until);
        const found = Atomics.exchange(word, 0, 0);
        if (found === 2) Atomics.notify(word, 0);
        Atomics.store(flags, 1, found);
      });
    `;
    const lock = new WriteLock();
    const flags = new Int32Array(new SharedArrayBuffer(8));
    const worker = new Worker(shortHolder, { eval: true, workerData: { lock: lock.buffer, flags: flags.buffer } });
    const found: number[] = [];
    try {
      for (let round = 0; round < 300 && !found.includes(1); round++) {
        Atomics.store(flags, 0, 0);
        await new Promise((resolve) => {
          worker.once('message', resolve);
          worker.postMessage('hold');
        });
        Atomics.store(flags, 0, 1);
        lock.acquire(10_000);
        lock.release();
        await waitFor(() => Atomics.load(flags, 1) !== 0, 5_000, "the holder's release");
        found.push(Atomics.load(flags, 1));
      }
    } finally {
      await worker.terminate();
    }
    // Without the spin, this side marks the lock contended and sleeps at once: always 2.
    expect(found).toContain(1);
  });

  it('tells worker threads whether they may write, through the shared memory', () => {
    const lock = new WriteLock();
    const seen = new WriteLock(lock.buffer);
    expect(seen.threadsMayWrite).toBe(true);
    lock.threadsMayWrite = false;
    expect(seen.threadsMayWrite).toBe(false);
  });
});
