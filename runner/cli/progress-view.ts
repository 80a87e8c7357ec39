/**
 * The live view of a job the CLI runs: a bar on a terminal, a plain line about once a second
 * otherwise, nothing with --json (stdout is then the JSON alone).
 */
import cliProgress from 'cli-progress';
import type { JobSnapshot } from '../protocol.js';
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
      // stdout carries only the JSON; messages go to stderr.
      return { update() {}, note: (text) => void process.stderr.write(`${text}\n`), stop() {} };
  }
}

class LinesView implements ProgressView {
  private lastAt = 0;
  private lastState: string | null = null;
  private last: JobSnapshot | null = null;
  private printedLast = true;

  constructor(private readonly stream: NodeJS.WriteStream) {}

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
    this.stream.write(`${formatProgressLine(snapshot)}\n`);
  }

  note(text: string): void {
    this.stream.write(`${text}\n`);
  }

  stop(): void {
    // The counts at the end, if the last update was not printed.
    if (this.last && !this.printedLast) this.stream.write(`${formatProgressLine(this.last)}\n`);
    this.printedLast = true;
  }
}

class BarView implements ProgressView {
  private readonly bar: cliProgress.SingleBar;
  private active = false;
  private line = '';

  constructor(private readonly stream: NodeJS.WriteStream) {
    this.bar = new cliProgress.SingleBar({
      stream,
      format: (_options, _params, payload: { line?: string }) => payload.line ?? '',
      hideCursor: true,
      // The engine sends at most ~4 updates a second.
      fps: 4,
      gracefulExit: false,
    });
  }

  update(snapshot: JobSnapshot): void {
    this.line = `${renderBar(progressFraction(snapshot), BAR_WIDTH)} ${formatBarText(snapshot)}`;
    if (!this.active) {
      this.active = true;
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
  }
}
