import { describe, expect, it } from 'vitest';
import { createUnsentBuffer, readUnsentEnqueues, UnsentEnqueues, type UnsentEnqueue } from '../../runner/pool/unsent-enqueues.js';

const enqueue = (page: number, cursor = '"next"'): UnsentEnqueue => ({ t: 'enqueue', page, attempt: 1, ordinal: 0, cursor, size: null, request: 0, local: 100 + page, started: true, durable: false });

describe('unsent enqueues in shared memory', () => {
  it('shows the reader what the writer has not sent, as last decided, and nothing once all is sent', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentEnqueues(buffer);
    expect(readUnsentEnqueues(buffer)).toEqual([]);
    const first = enqueue(1);
    const second = enqueue(2, '{"after":"é ✓"}');
    expect(writer.add(first)).toBe(true);
    expect(writer.add(second)).toBe(true);
    expect(readUnsentEnqueues(buffer)).toEqual([first, second]);
    // Decided out of order: the first committed by its thread, the second left to the scheduler.
    first.durable = true;
    writer.update(first);
    second.request = 12345;
    writer.update(second);
    expect(readUnsentEnqueues(buffer)).toEqual([
      { ...enqueue(1), durable: true },
      { ...enqueue(2, '{"after":"é ✓"}'), request: 12345 },
    ]);
    writer.clear();
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
