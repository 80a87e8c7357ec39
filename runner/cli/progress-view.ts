/**
 * The live view of a job the CLI runs: a bar on a terminal, a plain line about once a second
 * otherwise, nothing with --json (stdout is then the JSON alone).
 */
import cliProgress from 'cli-progress';
import type { JobSnapshot } from '../protocol.js';
import { captureLines, type CapturedLines } from './captured-lines.js';
import { formatBarText, formatProgressLine, progressFraction, renderBar } from './format-summary.js';

/** 'bar' on a terminal, 'lines' when piped, 'none' for --json. */
export type ProgressMode = 'bar' | 'lines' | 'none';

export interface ProgressView {
  /** A new snapshot of the job. */
  update(snapshot: JobSnapshot): void;
  /** A message for the user between progress updates. */
  note(text: string): void;
  /** Ends the view; the bar's last state stays on screen. */
  stop(): void;
}

/** Plain lines are at most this often, unless the job's state changes. */
const LINE_EVERY_MS = 1_000;
const BAR_WIDTH = 24;

/** The view for this output: a bar on a terminal, lines when piped, none for --json. */
export function progressMode(json: boolean, stream: NodeJS.WriteStream = process.stdout): ProgressMode {
  if (json) return 'none';
  return stream.isTTY ? 'bar' : 'lines';
}

/** A live view of a job in the given mode, written to `stream`. */
export function createProgressView(mode: ProgressMode, stream: NodeJS.WriteStream = process.stdout): ProgressView {
  switch (mode) {
    case 'bar':
      return new BarView(stream);
    case 'lines':
      return new LinesView(stream);
    case 'none':
      return new JsonView(stream);
  }
}

/** With --json, stdout carries the JSON alone: messages, and what the processor prints, go to stderr. */
class JsonView implements ProgressView {
  private captured: CapturedLines | null;

  constructor(stream: NodeJS.WriteStream) {
    this.captured = captureLines(stream, (lines) => void process.stderr.write(lines));
  }

  update(): void {}

  note(text: string): void {
    process.stderr.write(`${text}\n`);
  }

  stop(): void {
    const rest = this.captured?.release() ?? '';
    this.captured = null;
    if (rest !== '') process.stderr.write(`${rest}\n`);
  }
}

class LinesView implements ProgressView {
  private lastAt = 0;
  private lastState: string | null = null;
  private last: JobSnapshot | null = null;
  private printedLast = true;
  /**
   * What the processor prints goes on in whole lines, so that one it leaves without a newline
   * (process.stdout.write) is not glued to the next progress line.
   */
  private captured: CapturedLines | null;

  constructor(stream: NodeJS.WriteStream) {
    let own: CapturedLines | null = null;
    own = captureLines(stream, (lines) => own?.write(lines));
    this.captured = own;
  }

  private write(text: string): void {
    this.captured?.write(text);
  }

  update(snapshot: JobSnapshot): void {
    this.last = snapshot;
    const now = Date.now();
    if (snapshot.state === this.lastState && now - this.lastAt < LINE_EVERY_MS) {
      this.printedLast = false;
      return;
    }
    this.lastAt = now;
    this.lastState = snapshot.state;
    this.printedLast = true;
    this.write(`${formatProgressLine(snapshot)}\n`);
  }

  note(text: string): void {
    this.write(`${text}\n`);
  }

  stop(): void {
    if (this.captured === null) return;
    // The counts at the end, if the last update was not printed.
    if (this.last && !this.printedLast) this.write(`${formatProgressLine(this.last)}\n`);
    this.printedLast = true;
    const captured = this.captured;
    this.captured = null;
    const rest = captured.release();
    if (rest !== '') captured.write(`${rest}\n`);
  }
}

/** Save and restore the cursor: cli-progress brackets its bar with them (see BarView). */
const CURSOR_SAVE = '\u001b7';
const CURSOR_RESTORE = '\u001b8';
/** Back to the line's start, and clear the line. */
const CLEAR_LINE = '\r\u001b[2K';
/** Line wrapping on and off: cli-progress turns it off while the bar shows, and a long line printed above it must wrap, not be cut. */
const WRAP_ON = '\u001b[?7h';
const WRAP_OFF = '\u001b[?7l';

/**
 * The bar stays on the terminal's last line, and what the processor prints (console.log and
 * console.error of its pages, which worker threads pipe into this process's stdout and stderr)
 * goes above it, line by line, instead of after the bar on its line.
 */
class BarView implements ProgressView {
  private readonly bar: cliProgress.SingleBar;
  private active = false;
  private line = '';
  private captured: CapturedLines[] = [];

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar({
      stream: this.barStream(),
      format: (_options, _params, payload: { line?: string }) => payload.line ?? '',
      hideCursor: true,
      // The engine sends at most ~4 updates a second.
      fps: 4,
      gracefulExit: false,
      // Lines printed above the bar clear its line: it must be drawn again even if unchanged.
      forceRedraw: true,
    });
  }

  update(snapshot: JobSnapshot): void {
    this.line = `${renderBar(progressFraction(snapshot), BAR_WIDTH)} ${formatBarText(snapshot)}`;
    if (!this.active) {
      this.active = true;
      this.capture();
      this.bar.start(1, 0, { line: this.line });
    } else {
      this.bar.update(0, { line: this.line });
    }
  }

  note(text: string): void {
    // Leave the bar's line as it is, write below it; the next update draws a fresh bar.
    this.stop();
    this.stream.write(`${text}\n`);
  }

  stop(): void {
    if (!this.active) return;
    this.active = false;
    this.bar.stop();
    for (const captured of this.captured) {
      // A line printed without its newline yet: shown as it is, on a line of its own.
      const rest = captured.release();
      if (rest !== '') captured.write(`${rest}\n`);
    }
    this.captured = [];
  }

  /**
   * Where the bar draws: the terminal, through its own write (stdout's is captured meanwhile),
   * without the cursor save and restore. The bar moves down as lines are printed above it, and
   * restoring the cursor at its end would bring it back to where the bar began.
   */
  private barStream(): NodeJS.WriteStream {
    // The bar draws only between start and stop, while stdout is captured (see update and stop).
    const write = (chunk: string, ...rest: unknown[]): boolean => {
      this.captured[0]!.write(chunk === CURSOR_SAVE || chunk === CURSOR_RESTORE ? '' : chunk);
      const done = rest.find((value) => typeof value === 'function') as (() => void) | undefined;
      if (done) process.nextTick(done);
      return true;
    };
    return new Proxy(this.stream, { get: (target, property) => (property === 'write' ? write : Reflect.get(target, property, target)) });
  }

  /** Prints what others write to the terminal above the bar (stderr too when it is the same terminal). */
  private capture(): void {
    const stdout = captureLines(this.stream, (lines) => this.printAbove(stdout, lines));
    this.captured = [stdout];
    if (process.stderr.isTTY && this.stream === process.stdout) {
      const stderr = captureLines(process.stderr, (lines) => this.printAbove(stderr, lines));
      this.captured.push(stderr);
    }
  }

  /** `lines` on `out` in place of the bar, which is drawn again below them. */
  private printAbove(out: CapturedLines, lines: string): void {
    const terminal = this.captured[0]!;
    terminal.write(`${CLEAR_LINE}${WRAP_ON}`);
    out.write(lines);
    terminal.write(WRAP_OFF);
    this.bar.render();
  }
}
