import { Worker } from 'node:worker_threads';
import { describe, expect, it } from 'vitest';
import { createUnsentBuffer, peekUnsentMessages, readUnsentMessages, UnsentMessages, type UnsentEnqueue, type UnsentMessage } from '../../runner/pool/unsent-messages.js';

const enqueue = (page: number, cursor = '"next"'): UnsentEnqueue => ({ t: 'enqueue', page, attempt: 1, ordinal: 0, cursor, size: null, request: 0, local: 100 + page, started: true, durable: false, filtered: true });

describe('unsent messages in shared memory', () => {
  it('shows the reader what the writer has not sent, as last decided, and nothing once all is sent', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentMessages(buffer);
    expect(readUnsentMessages(buffer, 0)).toEqual([]);
    const first = enqueue(1);
    const second = enqueue(2, '{"after":"é ✓"}');
    expect(writer.add(first)).toBe(true);
    expect(writer.add(second)).toBe(true);
    expect(readUnsentMessages(buffer, 0)).toEqual([first, second]);
    // Decided out of order: the first committed by its thread, the second left to the scheduler.
    first.durable = true;
    writer.update(first);
    second.request = 12345;
    writer.update(second);
    expect(readUnsentMessages(buffer, 0)).toEqual([
      { ...enqueue(1), durable: true },
      { ...enqueue(2, '{"after":"é ✓"}'), request: 12345 },
    ]);
    writer.clear();
    expect(readUnsentMessages(buffer, 0)).toEqual([]);
  });

  it('keeps page ends and log lines in the order they were sent, among the enqueues', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentMessages(buffer);
    const sent: UnsentMessage[] = [
      { t: 'log', page: 1, attempt: 1, level: 'warn', message: 'slow', at: 5 },
      enqueue(1),
      { t: 'done', page: 1, attempt: 1, items: 10, aborted: false, kept: true, startedAt: 1, endedAt: 6 },
      { t: 'failed', page: 2, attempt: 3, error: { name: 'Error', message: 'boom', stack: 'Error: boom' }, nonRetryable: false, aborted: false, kept: false, startedAt: 2, endedAt: 7 },
    ];
    for (const message of sent) expect(writer.add(message)).toBe(true);
    expect(readUnsentMessages(buffer, 0)).toEqual(sent);
  });

  it('refuses a message that does not fit, and keeps the others readable', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentMessages(buffer);
    const small = enqueue(1);
    expect(writer.add(small)).toBe(true);
    expect(writer.add(enqueue(2, JSON.stringify('x'.repeat(70_000))))).toBe(false);
    expect(readUnsentMessages(buffer, 0)).toEqual([small]);
  });

  it('reads nothing once the batch carrying the notes arrived, though the thread stopped before it cleared them', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentMessages(buffer);
    const line: UnsentMessage = { t: 'log', page: 1, attempt: 1, level: 'info', message: 'fetched', at: 5 };
    writer.add(line);
    writer.posting(1);
    // Terminated between postMessage and clear: batch 1 arrived, or it did not.
    expect(readUnsentMessages(buffer, 1)).toEqual([]);
    expect(peekUnsentMessages(buffer, 1)).toEqual([]);
    expect(readUnsentMessages(buffer, 0)).toEqual([line]);
    // Cleared, then noted anew: not posted yet, so unsent whatever arrived before.
    writer.clear();
    writer.add(line);
    expect(readUnsentMessages(buffer, 1)).toEqual([line]);
    writer.posting(2);
    expect(readUnsentMessages(buffer, 1)).toEqual([line]);
    expect(readUnsentMessages(buffer, 2)).toEqual([]);
  });

  it('lets the scheduler peek while the thread runs, and not in the middle of a change', () => {
    const buffer = createUnsentBuffer();
    const writer = new UnsentMessages(buffer);
    const first = enqueue(1);
    writer.add(first);
    expect(peekUnsentMessages(buffer, 0)).toEqual([first]);
    // The writer halfway through rewriting or clearing: the version it bumps is odd meanwhile.
    const version = new Int32Array(buffer, 4, 1);
    Atomics.add(version, 0, 1);
    expect(peekUnsentMessages(buffer, 0)).toBeNull();
    // A stopped thread changes nothing any more: the text up to the length is whole.
    expect(readUnsentMessages(buffer, 0)).toEqual([first]);
    Atomics.add(version, 0, 1);
    writer.clear();
    expect(peekUnsentMessages(buffer, 0)).toEqual([]);
  });

  it('never shows a torn note to the scheduler while another thread rewrites and clears them', async () => {
    const buffer = createUnsentBuffer();
    const writer = new Worker(new URL('../support/rewrite-unsent.mjs', import.meta.url), { workerData: { buffer, ms: 400 } });
    const rounds = new Promise<number>((resolve, reject) => {
      writer.once('message', resolve);
      writer.once('error', reject);
    });
    let done = false;
    void rounds.finally(() => (done = true));
    let peeks = 0;
    // Each peek is a snapshot the writer really had: nothing, the first line, both lines, or both
    // after the first was rewritten. A copy taken while lines moved would not parse, or mix them.
    while (!done) {
      // Now and then a turn of the event loop, to hear the writer's end.
      if (peeks % 64 === 63) await new Promise((resolve) => setImmediate(resolve));
      let seen: UnsentMessage[] | null;
      try {
        seen = peekUnsentMessages(buffer, 0);
      } catch (error) {
        throw new Error(`peek ${peeks} read a torn note: ${String(error)}`);
      }
      peeks++;
      if (seen === null) continue;
      expect(seen.length).toBeLessThanOrEqual(2);
      if (seen[0]?.t === 'enqueue' && seen[0].durable) expect(JSON.parse(seen[0].cursor)).toMatch(/^c+$/);
      if (seen[0]?.t === 'enqueue' && !seen[0].durable) expect(JSON.parse(seen[0].cursor)).toMatch(/^a*$/);
      if (seen[1]?.t === 'enqueue') expect(JSON.parse(seen[1].cursor)).toMatch(/^b+$/);
    }
    expect(await rounds).toBeGreaterThan(1000);
    expect(peeks).toBeGreaterThan(1000);
  });
});
