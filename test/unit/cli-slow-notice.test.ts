import { Writable } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { SLOW_START_MS, STALLED_START_MS, stalledNote, withSlowNotice } from '../../runner/cli/slow-notice.js';

function sink(): { out: Writable; text: () => string } {
  let text = '';
  const out = new Writable({
    write(chunk: Buffer, _encoding, done) {
      text += chunk.toString();
      done();
    },
  });
  return { out, text: () => text };
}

describe('withSlowNotice', () => {
  beforeEach(() => vi.useFakeTimers());
  afterEach(() => vi.useRealTimers());

  it('says what is going on once the work has lasted a second, and resolves as the work does', async () => {
    const { out, text } = sink();
    let finish!: (value: string) => void;
    const result = withSlowNotice(new Promise<string>((resolve) => (finish = resolve)), 'starting: bundling p.ts…', out);
    await vi.advanceTimersByTimeAsync(SLOW_START_MS - 1);
    expect(text()).toBe('');
    await vi.advanceTimersByTimeAsync(1);
    expect(text()).toBe('starting: bundling p.ts…\n');
    finish('job');
    await expect(result).resolves.toBe('job');
  });

  it('says later what may hang, and how to get out, when the work has not settled after STALLED_START_MS', async () => {
    const { out, text } = sink();
    let finish!: (value: string) => void;
    const stalled = stalledNote('starting', 'hang.ts');
    const result = withSlowNotice(new Promise<string>((resolve) => (finish = resolve)), 'starting: bundling hang.ts…', out, SLOW_START_MS, stalled);
    await vi.advanceTimersByTimeAsync(STALLED_START_MS - 1);
    expect(text()).toBe('starting: bundling hang.ts…\n');
    await vi.advanceTimersByTimeAsync(1);
    expect(text()).toBe(`starting: bundling hang.ts…\n${stalled}\n`);
    expect(stalled).toBe("still starting after 15s: hang.ts's top-level code (a connect that never ends?), its initialPages or its estimateTotalItems has not settled; Ctrl-C stops, and no job starts");
    finish('job');
    await expect(result).resolves.toBe('job');
  });

  it('stays silent for work done sooner, and passes its failure on', async () => {
    const { out, text } = sink();
    await expect(withSlowNotice(Promise.resolve(1), 'never shown', out)).resolves.toBe(1);
    await expect(withSlowNotice(Promise.reject(new Error('no such file')), 'never shown', out)).rejects.toThrow('no such file');
    await vi.advanceTimersByTimeAsync(SLOW_START_MS * 2);
    expect(text()).toBe('');
  });
});
