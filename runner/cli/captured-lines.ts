/**
 * Takes over a stream's `write` so that what others write (a processor's console.log, which
 * worker threads pipe into process.stdout) arrives as whole lines: for the progress bar to print
 * above itself instead of after it on its own line, or, with --json, to go to stderr.
 */

import { StringDecoder } from 'node:string_decoder';

type Write = NodeJS.WritableStream['write'];

export interface CapturedLines {
  /** The stream's own write, for whoever must bypass the capture (the bar itself). */
  readonly write: (text: string) => void;
  /** Gives the stream its write back; returns what was written after the last newline. */
  release(): string;
}

/** From now on, `onLines` gets what is written to `stream`, one or more whole lines at a time. */
export function captureLines(stream: NodeJS.WriteStream, onLines: (lines: string) => void): CapturedLines {
  const own = Object.prototype.hasOwnProperty.call(stream, 'write') ? stream.write : undefined;
  const original = stream.write.bind(stream) as (text: string) => boolean;
  let partial = '';
  // A character split between two chunks is decoded once both have come.
  const decoder = new StringDecoder('utf8');
  const capture = (chunk: unknown, encoding?: unknown, callback?: unknown): boolean => {
    const done = typeof encoding === 'function' ? encoding : callback;
    partial += typeof chunk === 'string' ? chunk : decoder.write(Buffer.from(chunk as Uint8Array));
    const end = partial.lastIndexOf('\n');
    if (end !== -1) {
      const lines = partial.slice(0, end + 1);
      partial = partial.slice(end + 1);
      onLines(lines);
    }
    if (typeof done === 'function') process.nextTick(done as () => void);
    return true;
  };
  stream.write = capture as Write as typeof stream.write;
  return {
    write: (text) => void original(text),
    release() {
      if (own) stream.write = own;
      else delete (stream as { write?: unknown }).write;
      const rest = partial + decoder.end();
      partial = '';
      return rest;
    },
  };
}
