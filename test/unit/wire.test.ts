import { serialize } from 'node:v8';
import { describe, expect, it } from 'vitest';
import type { WorkerMessage } from '../../runner/pool/worker-messages.js';
import { decode, decodeBatch, encode } from '../../runner/pool/wire.js';

const enqueue: WorkerMessage = { t: 'enqueue', page: 12, attempt: 2, ordinal: 0, cursor: '{"after":41}', size: 100, request: 7, local: null, started: false, durable: false, filtered: false };
const done: WorkerMessage = { t: 'done', page: 12, attempt: 2, items: 100, aborted: false, kept: true, startedAt: 1_764_480_000_000, endedAt: 1_764_480_000_020 };
const log: WorkerMessage = { t: 'log', page: 12, attempt: 2, level: 'warn', message: 'slow page', at: 1_764_480_000_010 };

describe('the channel wire format', () => {
  it('sends enqueues and page ends as tuples, under half the bytes of the objects', () => {
    for (const message of [enqueue, done]) {
      expect(Array.isArray(encode(message))).toBe(true);
      expect(serialize(encode(message)).length).toBeLessThan(serialize(message).length / 2);
    }
  });

  it('gives back the message that was sent', () => {
    const started: WorkerMessage = { ...enqueue, local: 40, started: true, size: null, durable: true, filtered: true };
    for (const message of [enqueue, started, done, { ...done, aborted: true, kept: false }, log]) expect(decode(encode(message))).toEqual(message);
  });

  it('passes other messages through as they are, so a progress message can still grow before its batch goes', () => {
    const progress: WorkerMessage = { t: 'progress', page: 3, attempt: 1, items: 5 };
    expect(encode(progress)).toBe(progress);
    expect(encode(log)).toBe(log);
  });

  it('decodes a batch in order', () => {
    expect(decodeBatch([encode(log), encode(enqueue), encode(done)])).toEqual([log, enqueue, done]);
  });
});
