import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { captureLines } from '../../runner/cli/captured-lines.js';

/** A real stream standing in for the terminal, with what reached it. */
function terminal(): { stream: NodeJS.WriteStream; reached: () => string } {
  const stream = new PassThrough();
  let reached = '';
  stream.on('data', (chunk: Buffer) => (reached += chunk.toString('utf8')));
  return { stream: stream as unknown as NodeJS.WriteStream, reached: () => reached };
}

describe('captureLines', () => {
  it('hands over what is written as whole lines, joining a line written in parts', () => {
    const { stream } = terminal();
    const lines: string[] = [];
    captureLines(stream, (text) => lines.push(text));
    stream.write('one, ');
    stream.write('still one\ntwo\nthree');
    expect(lines).toEqual(['one, still one\ntwo\n']);
    stream.write(' ends here\n');
    expect(lines).toEqual(['one, still one\ntwo\n', 'three ends here\n']);
  });

  it('decodes a character split between two buffers once both have come', () => {
    const { stream } = terminal();
    const lines: string[] = [];
    captureLines(stream, (text) => lines.push(text));
    const bytes = Buffer.from('prix: 5 €\n');
    stream.write(bytes.subarray(0, bytes.length - 2));
    stream.write(bytes.subarray(bytes.length - 2));
    expect(lines).toEqual(['prix: 5 €\n']);
  });

  it("writes past the capture with its own write, and once released gives the stream's write back with the unfinished line", async () => {
    const { stream, reached } = terminal();
    const lines: string[] = [];
    const captured = captureLines(stream, (text) => lines.push(text));
    captured.write('the bar\n');
    await new Promise<void>((resolve) => stream.write('half a line', () => resolve()));
    expect(captured.release()).toBe('half a line');
    stream.write('after\n');
    await new Promise((resolve) => setImmediate(resolve));
    expect(reached()).toBe('the bar\nafter\n');
    expect(lines).toEqual([]);
  });
});
