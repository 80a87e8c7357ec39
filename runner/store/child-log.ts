/**
 * A worker thread's child log: the children it starts or holds on its own, appended to a file
 * beside the job's database before their parents' `enqueueNextPage` resolves. One `write` of a
 * line (about 3 µs here) instead of a transaction on the shared database (30 to 40 µs on the
 * chain's thread, which at P = 128 kept a chain from its bound; see docs/performance.md). The
 * scheduler writes each child's row when it hears of it, in its group commit; a sealed file is
 * deleted once that commit is done; whatever is left (a crash, a thread terminated before it
 * sent) is copied into the database before the job runs again, and when its run ends.
 *
 * A line survives what a database row with `synchronous = NORMAL` survives: any crash of the
 * process (the page cache keeps it). With `durability: 'full'` each line is synced, as each
 * commit then is.
 */
import { randomBytes } from 'node:crypto';
import { closeSync, fdatasyncSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { threadId } from 'node:worker_threads';
import { BatonError, isBatonError } from '../errors.js';
import type { NewPage, PageStore } from './page-store.js';

/** A child as its thread logged it: a page row, and when it started (null: held for a slot). */
export interface LoggedChild extends NewPage {
  startedAt: number | null;
}

/** Lines to a file before the thread starts the next: the scheduler deletes each sealed one. */
export const SEGMENT_LINES = 65_536;

/** Where a database's child logs go: beside it, as SQLite's own -wal and -shm files are. */
export function childLogDir(dbFile: string): string {
  return `${dbFile}-children`;
}

/**
 * What names a job's logs: its number and when it was created, so that a database made anew
 * where one was deleted (its logs left behind) never takes the old job's lines for its own.
 */
export function childLogKey(job: { no: number; created_at: number }): string {
  return `${job.no}.${job.created_at}`;
}

/** Names one run of a job in this process (one pool): its files are the run's to settle when it ends. */
export function childLogRun(): string {
  return `${process.pid}.${randomBytes(4).toString('hex')}`;
}

export interface ChildLogOptions {
  dir: string;
  /** The job's childLogKey. */
  job: string;
  /** The run's: its pool's threads' files all carry it (see childLogRun). */
  run: string;
  /** Sync each line (durability 'full'). */
  sync: boolean;
  /** Called with a file once the thread has moved on to the next: nothing more is written to it. */
  onSealed: (file: string) => void;
  segmentLines?: number;
}

/** The thread's side: appends, and moves to a new file every SEGMENT_LINES lines. */
export class ChildLogWriter {
  private fd: number | null = null;
  private file = '';
  private lines = 0;
  private segment = 0;
  private readonly prefix: string;
  private readonly segmentLines: number;

  constructor(private readonly options: ChildLogOptions) {
    // Unique to this thread of this run; every file of the job, or of the run, is read back by its prefix.
    this.prefix = `${options.job}-${options.run}-${threadId}`;
    this.segmentLines = options.segmentLines ?? SEGMENT_LINES;
  }

  /**
   * Throws when the line could not be written whole: the caller leaves the child to the
   * scheduler, and writes no more here (a part of a line, left last, reads as never written).
   */
  append(child: LoggedChild): void {
    const fd = this.fd ?? this.open();
    const line = Buffer.from(`${JSON.stringify([child.no, child.parent, child.ordinal, child.cursor, child.size, child.startedAt])}\n`);
    // A file takes a write whole unless the disk is full.
    if (writeSync(fd, line) !== line.length) throw new Error(`${this.file}: short write (is the disk full?)`);
    if (this.options.sync) fdatasyncSync(fd);
    if (++this.lines >= this.segmentLines) this.seal();
  }

  close(): void {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }

  private open(): number {
    mkdirSync(this.options.dir, { recursive: true });
    this.file = join(this.options.dir, `${this.prefix}-${this.segment++}.log`);
    this.fd = openSync(this.file, 'a');
    this.lines = 0;
    return this.fd;
  }

  private seal(): void {
    this.close();
    this.options.onSealed(this.file);
  }
}

/**
 * The job's log files in `dir`, or only those of one run (`run`), in no particular order: a row
 * does not depend on another's.
 */
export function childLogFiles(dir: string, job: string, run?: string): string[] {
  const prefix = run === undefined ? `${job}-` : `${job}-${run}-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (error) {
    // No folder, or a file in its place (a thread could write nothing there): no logs.
    const code = (error as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw error;
  }
  return names
    .filter((name) => name.startsWith(prefix) && name.endsWith('.log'))
    .map((name) => join(dir, name));
}

/**
 * The children in a file. A last line without its newline was being written when the process
 * stopped: its parent's enqueue never resolved, and its parent runs again. Any other line that
 * does not read is damage, named with the fix.
 */
export function readChildLog(file: string): LoggedChild[] {
  const text = readFileSync(file, 'utf8');
  const lines = text.split('\n');
  // Whole lines only: the last element is '' after a final newline, or a torn line.
  lines.pop();
  return lines.map((line, index) => {
    try {
      const [no, parent, ordinal, cursor, size, startedAt] = JSON.parse(line) as [number, number, number, string, number | null, number | null];
      if (![no, parent, ordinal].every(Number.isSafeInteger) || typeof cursor !== 'string') throw new Error('not a child');
      return { no, parent, ordinal, cursor, size, startedAt };
    } catch {
      throw new BatonError(
        'DB_CORRUPT',
        `line ${index + 1} of the child log ${file} is damaged: move the file aside and run again (the pages it names then run again from their parents); Baton has not changed it`,
      );
    }
  });
}

/**
 * Writes every child the job's logs hold (or one run's: `run`) that the database lacks (a row it
 * has is left as it is).
 * Run it inside the caller's transaction; delete the files it returns once that has committed.
 */
export function foldChildLogs(pages: PageStore, dir: string, job: string, run?: string): string[] {
  const files = childLogFiles(dir, job, run);
  for (const file of files) {
    for (const child of readChildLog(file)) pages.insert(child, child.startedAt);
  }
  return files;
}

/** What the job's logs hold that the database lacks: pages that foldChildLogs would write. */
export interface UnfoldedChildren {
  /** Started by their thread: written as running, and settled as cut off. */
  running: number;
  queued: number;
  /** The highest page number among them (0 when none). */
  lastNo: number;
}

/**
 * Counts, without writing, the children foldChildLogs would write: those whose number and whose
 * cursor no page has, each once. For the status of a job whose process died (a resume folds
 * them). A damaged file is left out here; resuming names it with the fix.
 */
export function unfoldedChildren(pages: PageStore, dir: string, job: string): UnfoldedChildren {
  const unfolded: UnfoldedChildren = { running: 0, queued: 0, lastNo: 0 };
  const nos = new Set<number>();
  const cursors = new Set<string>();
  for (const file of childLogFiles(dir, job)) {
    let children: LoggedChild[];
    try {
      children = readChildLog(file);
    } catch (error) {
      if (isBatonError(error, 'DB_CORRUPT')) continue;
      throw error;
    }
    for (const child of children) {
      const cursor = JSON.stringify([child.cursor, child.size]);
      if (nos.has(child.no) || cursors.has(cursor) || pages.has(child.no) || pages.duplicateOf(child.cursor, child.size) !== undefined) continue;
      nos.add(child.no);
      cursors.add(cursor);
      if (child.startedAt === null) unfolded.queued++;
      else unfolded.running++;
      unfolded.lastNo = Math.max(unfolded.lastNo, child.no);
    }
  }
  return unfolded;
}

export function removeChildLogs(files: string[]): void {
  for (const file of files) rmSync(file, { force: true });
}
