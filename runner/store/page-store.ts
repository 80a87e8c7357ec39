/**
 * The page and attempt writes of the scheduler's group commits, and the queries that rebuild a
 * job's in-memory state when it resumes.
 */
import type { AttemptOutcome, PageState } from '../protocol.js';
import type { LogLevel } from '../pool/worker-messages.js';
import type { Statement } from 'better-sqlite3';
import type { SqliteDatabase } from './database.js';

/** The part of GroupCommit a PageStore writes through. */
export interface WriteGroup {
  defer(statement: Statement, params: unknown[]): void;
  begin(writes?: number, soon?: boolean): void;
  flush(): void;
}

export interface NewPage {
  no: number;
  parent: number;
  ordinal: number;
  cursor: string;
  size: number | null;
}

/** A queued page as the scheduler keeps it in memory. */
export interface QueuedPage {
  no: number;
  cursor: string;
  size: number | null;
  attempts: number;
  retryBase: number;
  children: number;
  runAfter: number | null;
}

export interface PageEnd {
  no: number;
  state: PageState;
  attempts: number;
  retryBase: number;
  children: number;
  items: number | null;
  runAfter: number | null;
  endedAt: number;
  /**
   * The attempt that just ended, when it is the page's first and it succeeded: it is kept in the
   * page's row instead of a row of its own.
   */
  only: { slot: number; startedAt: number } | null;
}

export interface AttemptRecord {
  page: number;
  attempt: number;
  slot: number;
  outcome: AttemptOutcome;
  startedAt: number;
  endedAt: number;
  items: number | null;
  errorName: string | null;
  errorMessage: string | null;
  errorStack: string | null;
}

export interface LogRecord {
  page: number;
  attempt: number;
  at: number;
  level: LogLevel;
  message: string;
}

interface QueuedRow {
  no: number;
  cursor: string;
  size: number | null;
  attempts: number;
  retry_base: number;
  children: number;
  run_after: number | null;
}

const toQueued = (row: QueuedRow): QueuedPage => ({
  no: row.no,
  cursor: row.cursor,
  size: row.size,
  attempts: row.attempts,
  retryBase: row.retry_base,
  children: row.children,
  runAfter: row.run_after,
});

export class PageStore {
  private readonly insertStmt;
  private readonly duplicateStmt;
  private readonly hasStmt;
  private readonly sameStmt;
  private readonly startStmt;
  private readonly endStmt;
  private readonly attemptStmt;
  private readonly logStmt;
  private readonly queuedStmt;

  /**
   * With `group`, writes that nothing reads back at once (a page's start and end, attempts, log
   * lines) are kept to run at the group's commit, and every other statement runs inside the
   * group, after them. Without it, each runs at once.
   */
  constructor(
    private readonly db: SqliteDatabase,
    private readonly job: number,
    private readonly group: WriteGroup | null = null,
  ) {
    this.insertStmt = db.prepare(
      'INSERT OR IGNORE INTO pages (job, no, parent, ordinal, cursor, size, state, attempts, started_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.duplicateStmt = db.prepare<[number, string, number | null], number>('SELECT no FROM pages WHERE job = ? AND cursor = ? AND ifnull(size, -1) = ifnull(?, -1)').pluck();
    this.hasStmt = db.prepare<[number, number], number>('SELECT 1 FROM pages WHERE job = ? AND no = ?').pluck();
    this.sameStmt = db.prepare<[number, number, number | null, number | null], number>('SELECT 1 FROM pages WHERE job = ? AND no = ? AND parent = ? AND ordinal = ?').pluck();
    this.startStmt = db.prepare("UPDATE pages SET state = 'running', attempts = ?, started_at = ? WHERE job = ? AND no = ?");
    this.endStmt = db.prepare(
      'UPDATE pages SET state = ?, attempts = ?, retry_base = ?, children = ?, items = ?, run_after = ?, ended_at = ?, slot = ?, started_at = ifnull(?, started_at) WHERE job = ? AND no = ?',
    );
    this.attemptStmt = db.prepare(
      'INSERT OR REPLACE INTO attempts (job, page, attempt, slot, outcome, started_at, ended_at, items, error_name, error_message, error_stack) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)',
    );
    this.logStmt = db.prepare('INSERT INTO logs (job, page, attempt, at, level, message) VALUES (?, ?, ?, ?, ?, ?)');
    this.queuedStmt = db.prepare<[number, number, number], QueuedRow>(
      "SELECT no, cursor, size, attempts, retry_base, children, run_after FROM pages WHERE job = ? AND no >= ? AND state = 'queued' ORDER BY no LIMIT ?",
    );
  }

  private keep(statement: Statement, params: unknown[]): void {
    if (this.group) this.group.defer(statement, params);
    else statement.run(...params);
  }

  /** Before a statement that must run now: inside the group, after the writes kept. `soon`: see GroupCommit.begin. */
  private now(soon = true): void {
    this.group?.begin(0, soon);
  }

  /** Before a read: the writes kept so far must be in the database. */
  private read(): void {
    this.group?.flush();
  }

  /**
   * Inserts a page, queued or, when `startedAt` is given, already running its first attempt.
   * Returns false when its cursor and size are already another page's. A page whose number is
   * already this very page (same parent and ordinal) counts as inserted: the scheduler read of it
   * from its thread's memory, and its thread logged it too. `logged`: its thread's log holds it
   * already, so nothing waits for this commit.
   */
  insert(page: NewPage, startedAt: number | null = null, logged = false): boolean {
    this.now(!logged);
    const state = startedAt === null ? 'queued' : 'running';
    if (this.insertStmt.run(this.job, page.no, page.parent, page.ordinal, page.cursor, page.size, state, startedAt === null ? 0 : 1, startedAt).changes === 1) return true;
    return this.sameStmt.get(this.job, page.no, page.parent, page.ordinal) !== undefined;
  }

  /** The page that already holds this cursor and size. */
  duplicateOf(cursor: string, size: number | null): number | undefined {
    this.read();
    return this.duplicateStmt.get(this.job, cursor, size);
  }

  start(no: number, attempt: number, at: number): void {
    this.keep(this.startStmt, [attempt, at, this.job, no]);
  }

  end(page: PageEnd): void {
    this.keep(this.endStmt, [
      page.state,
      page.attempts,
      page.retryBase,
      page.children,
      page.items,
      page.runAfter,
      page.endedAt,
      page.only?.slot ?? null,
      page.only?.startedAt ?? null,
      this.job,
      page.no,
    ]);
  }

  recordAttempt(a: AttemptRecord): void {
    this.keep(this.attemptStmt, [this.job, a.page, a.attempt, a.slot, a.outcome, a.startedAt, a.endedAt, a.items, a.errorName, a.errorMessage, a.errorStack]);
  }

  log(line: LogRecord): void {
    this.keep(this.logStmt, [this.job, line.page, line.attempt, line.at, line.level, line.message]);
  }

  /** Queued pages from page number `from` on, in order. */
  queued(from: number, limit: number): QueuedPage[] {
    this.read();
    return this.queuedStmt.all(this.job, from, limit).map(toQueued);
  }

  /** Up to `limit` pages' cursors and sizes after page `after`, in page order. */
  cursorsAfter(after: number, limit: number): { no: number; cursor: string; size: number | null }[] {
    this.read();
    return this.db
      .prepare<[number, number, number], { no: number; cursor: string; size: number | null }>('SELECT no, cursor, size FROM pages WHERE job = ? AND no > ? ORDER BY no LIMIT ?')
      .all(this.job, after, limit);
  }

  /** Pages in 'running' state: what was running when the last owner stopped or crashed. */
  running(): (QueuedPage & { startedAt: number | null })[] {
    this.read();
    const rows = this.db
      .prepare("SELECT no, cursor, size, attempts, retry_base, children, run_after, started_at FROM pages WHERE job = ? AND state = 'running'")
      .all(this.job) as (QueuedRow & { started_at: number | null })[];
    return rows.map((row) => ({ ...toQueued(row), startedAt: row.started_at }));
  }

  /**
   * Pages that may run again (queued, or failed and retried later) count the children they
   * already enqueued from the child rows: a page that was running at a crash, or one its thread
   * started while its row still said 'queued', then does not enqueue those children again.
   */
  adoptChildren(): number {
    this.now();
    return this.db
      .prepare(
        `UPDATE pages SET children = c.n
         FROM (SELECT parent, max(ordinal) + 1 AS n FROM pages WHERE job = ? AND parent != 0 GROUP BY parent) AS c
         WHERE pages.job = ? AND pages.no = c.parent AND pages.state != 'succeeded' AND pages.children < c.n`,
      )
      .run(this.job, this.job).changes;
  }

  /** Page counts by state, and items of succeeded pages. */
  counts(): { state: PageState; n: number; items: number }[] {
    this.read();
    return this.db
      .prepare<[number], { state: PageState; n: number; items: number }>('SELECT state, count(*) AS n, ifnull(sum(items), 0) AS items FROM pages WHERE job = ? GROUP BY state')
      .all(this.job);
  }

  /** Attempts recorded: rows in attempts, and pages that keep their only attempt themselves. */
  attemptTotal(): number {
    this.read();
    return (
      this.db
        .prepare<[number, number], number>('SELECT (SELECT count(*) FROM attempts WHERE job = ?) + (SELECT count(*) FROM pages WHERE job = ? AND slot IS NOT NULL)')
        .pluck()
        .get(this.job, this.job) ?? 0
    );
  }

  /** Whether the job has a page of this number. */
  has(no: number): boolean {
    this.read();
    return this.hasStmt.get(this.job, no) !== undefined;
  }

  maxPageNo(): number {
    this.read();
    return this.db.prepare<[number], number | null>('SELECT max(no) FROM pages WHERE job = ?').pluck().get(this.job) ?? 0;
  }

  /** The lowest failed page number, or null. */
  firstFailed(): number | null {
    this.read();
    return this.db.prepare<[number], number | null>("SELECT min(no) FROM pages WHERE job = ? AND state = 'failed'").pluck().get(this.job) ?? null;
  }

  /** Puts failed pages (all, or one) back in the queue with a fresh attempt budget; returns how many. */
  requeueFailed(page?: number): number {
    this.now();
    const one = page !== undefined ? 'AND no = ?' : '';
    return this.db
      .prepare(`UPDATE pages SET state = 'queued', retry_base = attempts, run_after = NULL WHERE job = ? AND state = 'failed' ${one}`)
      .run(this.job, ...(page !== undefined ? [page] : [])).changes;
  }

  /** Marks the given pages 'failed' in one statement (at-most-once pages found running). */
  failPages(nos: number[], at: number): void {
    this.now();
    this.db
      .prepare("UPDATE pages SET state = 'failed', ended_at = ? WHERE job = ? AND no IN (SELECT value FROM json_each(?))")
      .run(at, this.job, JSON.stringify(nos));
  }

  /** Puts the given pages back to 'queued' and does not count their last attempt. */
  requeuePages(nos: number[]): void {
    this.now();
    this.db
      .prepare("UPDATE pages SET state = 'queued', retry_base = retry_base + 1, run_after = NULL WHERE job = ? AND no IN (SELECT value FROM json_each(?))")
      .run(this.job, JSON.stringify(nos));
  }
}
