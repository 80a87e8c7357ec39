import { describe, expect, it } from 'vitest';
import { createUnsentBuffer, readUnsentEnqueues, UnsentEnqueues, type UnsentEnqueue } from '../../runner/pool/unsent-enqueues.js';

const enqueue = (page: number, cursor = '"next"'): UnsentEnqueue => ({ t: 'enqueue', page, attempt: 1, ordinal: 0, cursor, size: null, request: 0, local: 100 + page, started: true, durable: false });

describe('unsent enqueues in shared memory', () => {
  it('shows the reader what the writer has not sent, and nothing once it is sent', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentEnqueues(buffer);
    expect(readUnsentEnqueues(buffer)).toEqual([]);
    const first = enqueue(1);
    const second = enqueue(2, '{"after":"é ✓"}');
    expect(writer.add(first)).toBe(true);
    expect(writer.add(second)).toBe(true);
    expect(readUnsentEnqueues(buffer)).toEqual([first, second]);
    writer.sent(first);
    expect(readUnsentEnqueues(buffer)).toEqual([second]);
    writer.sent(second);
    expect(readUnsentEnqueues(buffer)).toEqual([]);
  });

  it('refuses an enqueue that does not fit, and keeps the others readable', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentEnqueues(buffer);
    const small = enqueue(1);
    expect(writer.add(small)).toBe(true);
    expect(writer.add(enqueue(2, JSON.stringify('x'.repeat(70_000))))).toBe(false);
    expect(readUnsentEnqueues(buffer)).toEqual([small]);
  });
});
