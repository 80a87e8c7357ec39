import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { CURSOR_FILTER_BITS, CursorFilter, cursorHash } from '../../runner/pool/cursor-filter.js';

const cursors = (n: number, prefix = 'c') => Array.from({ length: n }, (_, i) => JSON.stringify([prefix, i]));

describe('CursorFilter', () => {
  it('has every cursor it was given, with its size', () => {
    const filter = CursorFilter.create(2 ** 16);
    const added = cursors(5_000);
    added.forEach((cursor, i) => filter.add(cursorHash(cursor, i % 2 === 0 ? null : i)));
    added.forEach((cursor, i) => expect(filter.mayHave(cursorHash(cursor, i % 2 === 0 ? null : i))).toBe(true));
  });

  it('says "certainly not" for nearly every cursor it was not given, while it is sparse', () => {
    const filter = CursorFilter.create(2 ** 20);
    for (const cursor of cursors(10_000)) filter.add(cursorHash(cursor, null));
    // 10,000 cursors in 2^20 bits, three bits in one word each: 44 of these 100,000 come out
    // maybe (the hash is fixed, so always the same 44).
    const falsePositives = cursors(100_000, 'other').filter((cursor) => filter.mayHave(cursorHash(cursor, null))).length;
    expect(falsePositives).toBeLessThan(100);
  });

  it('tells a size of null from 0 and from another size, and a cursor from its neighbours', () => {
    const filter = CursorFilter.create(2 ** 20);
    filter.add(cursorHash('"a"', null));
    expect(filter.mayHave(cursorHash('"a"', null))).toBe(true);
    expect(filter.mayHave(cursorHash('"a"', 0))).toBe(false);
    expect(filter.mayHave(cursorHash('"a"', 10))).toBe(false);
    expect(filter.mayHave(cursorHash('"b"', null))).toBe(false);
    expect(filter.mayHave(cursorHash('"a" ', null))).toBe(false);
  });

  it('is complete only once marked so', () => {
    const filter = CursorFilter.create(2 ** 10);
    expect(filter.complete).toBe(false);
    filter.markComplete();
    expect(filter.complete).toBe(true);
  });

  it('is shared: what another thread adds to the same memory is seen here', async () => {
    const filter = CursorFilter.create(2 ** 16);
    const source = `
      const { workerData, parentPort } = require('node:worker_threads');
      const words = new Int32Array(workerData.buffer);
      // Marks the whole filter complete and sets every bit: the crudest add there is.
      for (let i = 0; i < words.length; i++) Atomics.store(words, i, -1);
      Atomics.store(words, 0, 1);
      parentPort.postMessage('done');
    `;
    const worker = new Worker(source, { eval: true, workerData: { buffer: filter.buffer } });
    await new Promise((resolve) => worker.once('message', resolve));
    await worker.terminate();
    expect(filter.complete).toBe(true);
    expect(filter.mayHave(cursorHash('"anything"', null))).toBe(true);
  });

  it('holds a power of two of bits, 8 MiB by default', () => {
    expect(CursorFilter.create().buffer.byteLength).toBe(4 + CURSOR_FILTER_BITS / 8);
    expect(CURSOR_FILTER_BITS / 8).toBe(8 * 1024 * 1024);
    expect(() => new CursorFilter(new SharedArrayBuffer(4 + 12))).toThrow('a cursor filter holds a power of two of bits, got 96');
  });
});
