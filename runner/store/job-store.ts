/**
 * Job rows: creation, ownership (which live process runs a job), the control columns other
 * processes write to steer a running job, and the read models for status and the panel.
 */
import { hostname } from 'node:os';
import { BatonError } from '../errors.js';
import type { AttemptInfo, AttemptOutcome, JobState, JobSummary, LogLine, PageFailureInfo, PageRecord, PageState } from '../protocol.js';
import type { DatabaseLabel, SqliteDatabase } from './database.js';
import type { GroupCommit } from './group-commit.js';

/** A row of the jobs table. */
export interface JobRow extends JobCounters {
  no: number;
  id: string;
  name: string;
  processor: string;
  bundle: string | null;
  args: string;
  state: JobState;
  paused: number;
  max_parallel: number;
  rampup: string | null;
  rate_items: number | null;
  rate_pages: number | null;
  threads: number | null;
  retry: string;
  page_timeout_ms: number;
  estimate_total: number | null;
  durability: string;
  created_at: number;
  started_at: number;
  ended_at: number | null;
  owner: string | null;
  owner_pid: number | null;
  owner_host: string | null;
  heartbeat_at: number | null;
  control_version: number;
  cancel_requested: number;
  retry_requested: number;
  last_error: string | null;
}

export type NewJobRow = Pick<
  JobRow,
  | 'id'
  | 'name'
  | 'processor'
  | 'bundle'
  | 'args'
  | 'state'
  | 'paused'
  | 'max_parallel'
  | 'rampup'
  | 'rate_items'
  | 'rate_pages'
  | 'threads'
  | 'retry'
  | 'page_timeout_ms'
  | 'estimate_total'
  | 'durability'
  | 'created_at'
  | 'started_at'
>;

/** The control columns, as the owner polls them. */
export interface JobControl {
  control_version: number;
  paused: number;
  max_parallel: number;
  rate_items: number | null;
  rate_pages: number | null;
  cancel_requested: number;
  retry_requested: number;
}

export interface JobCounters {
  pages_total: number;
  pages_queued: number;
  pages_running: number;
  pages_succeeded: number;
  pages_failed: number;
  items: number;
  attempts: number;
  max_in_flight: number;
  next_page: number;
}

/** A heartbeat older than this means the owner is gone, even on another host. */
export const OWNER_STALE_MS = 15_000;
export const HEARTBEAT_EVERY_MS = 2_000;

/** This machine's name, as the jobs table records owners. */
export const thisHost = hostname();

function processAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Whether the row's owner is a live process, judged from this host. */
export function ownerIsLive(row: Pick<JobRow, 'owner' | 'owner_pid' | 'owner_host' | 'heartbeat_at'>, now = Date.now()): boolean {
  if (row.owner === null || row.heartbeat_at === null) return false;
  if (now - row.heartbeat_at > OWNER_STALE_MS) return false;
  if (row.owner_host === thisHost && row.owner_pid !== null) return processAlive(row.owner_pid);
  return true;
}

export function summarize(row: JobRow, now = Date.now()): JobSummary {
  const rateLimit = row.rate_items !== null || row.rate_pages !== null
    ? { ...(row.rate_items !== null ? { itemsPerSecond: row.rate_items } : {}), ...(row.rate_pages !== null ? { pagesPerSecond: row.rate_pages } : {}) }
    : undefined;
  const live = ownerIsLive(row, now);
  return {
    jobId: row.id,
    name: row.name,
    processor: row.processor,
    state: row.state,
    live,
    ...(live && row.owner_pid !== null && row.owner_host !== null ? { runBy: { pid: row.owner_pid, host: row.owner_host } } : {}),
    pages: {
      total: row.pages_total,
      queued: row.pages_queued,
      running: row.pages_running,
      succeeded: row.pages_succeeded,
      failed: row.pages_failed,
    },
    items: row.items,
    attempts: row.attempts,
    maxInFlight: row.max_in_flight,
    limits: { maxParallel: row.max_parallel, ...(rateLimit ? { rateLimit } : {}) },
    paused: row.paused === 1,
    estimatedTotalItems: row.estimate_total,
    lastError: row.last_error,
    startedAt: new Date(row.started_at).toISOString(),
    ...(row.ended_at !== null ? { endedAt: new Date(row.ended_at).toISOString() } : {}),
    ...(row.ended_at === null && !live && row.heartbeat_at !== null ? { lastRunAt: new Date(row.heartbeat_at).toISOString() } : {}),
  };
}

export class JobStore {
  private readonly byId;
  private readonly byNo;
  private readonly all;
  private readonly control;
  private readonly counters;
  private readonly live;
  private readonly bumpControl;

  constructor(
    private readonly db: SqliteDatabase,
    /** For the commands its errors suggest. */
    private readonly label: DatabaseLabel = { shown: 'this database', flag: '' },
  ) {
    this.byId = db.prepare<[string], JobRow>('SELECT * FROM jobs WHERE id = ?');
    this.byNo = db.prepare<[number], JobRow>('SELECT * FROM jobs WHERE no = ?');
    this.all = db.prepare<[], JobRow>('SELECT * FROM jobs ORDER BY no');
    this.control = db.prepare<[number], JobControl>(
      'SELECT control_version, paused, max_parallel, rate_items, rate_pages, cancel_requested, retry_requested FROM jobs WHERE no = ?',
    );
    this.counters = db.prepare(
      `UPDATE jobs SET pages_total = @pages_total, pages_queued = @pages_queued, pages_running = @pages_running,
        pages_succeeded = @pages_succeeded, pages_failed = @pages_failed, items = @items, attempts = @attempts,
        max_in_flight = @max_in_flight, next_page = @next_page, heartbeat_at = @heartbeat_at WHERE no = @no`,
    );
    this.live = db.prepare('INSERT OR REPLACE INTO job_live (job, seq, at, activity) VALUES (?, ?, ?, ?)');
    this.bumpControl = (set: string) => db.prepare(`UPDATE jobs SET ${set}, control_version = control_version + 1 WHERE id = @id`);
  }

  get(id: string): JobRow | undefined {
    return this.byId.get(id);
  }

  getByNo(no: number): JobRow {
    const row = this.byNo.get(no);
    if (!row) throw new Error(`job #${no} vanished from the database`);
    return row;
  }

  /** Throws JOB_NOT_FOUND with the ids that do exist. */
  require(id: string): JobRow {
    const row = this.get(id);
    if (row) return row;
    const known = this.all.all().slice(-5).map((job) => job.id);
    const hint = known.length > 0 ? `known jobs include ${known.join(', ')}; see \`baton status${this.label.flag}\`` : `it has no jobs yet; start one with \`baton run <processor>${this.label.flag}\``;
    throw new BatonError('JOB_NOT_FOUND', `no job "${id}" in ${this.label.shown}: ${hint}`);
  }

  list(): JobRow[] {
    return this.all.all();
  }

  insert(row: NewJobRow): number {
    const columns = Object.keys(row);
    const result = this.db
      .prepare(`INSERT INTO jobs (${columns.join(', ')}) VALUES (${columns.map((c) => `@${c}`).join(', ')})`)
      .run(row);
    return Number(result.lastInsertRowid);
  }

  /**
   * Makes this process the job's owner unless another live process is. Atomic: two processes
   * racing for one job cannot both win.
   */
  claim(no: number, owner: string): void {
    this.db
      .transaction(() => {
        const row = this.getByNo(no);
        if (row.owner !== null && row.owner !== owner && ownerIsLive(row)) {
          const ago = row.heartbeat_at !== null ? `, heartbeat ${Math.round((Date.now() - row.heartbeat_at) / 1000)}s ago` : '';
          throw new BatonError(
            'JOB_LOCKED',
            `job "${row.id}" is already running in process ${row.owner_pid} on ${row.owner_host}${ago}: pause it there with \`baton pause ${row.id}${this.label.flag}\`, or wait for it to end`,
          );
        }
        this.db
          .prepare('UPDATE jobs SET owner = ?, owner_pid = ?, owner_host = ?, heartbeat_at = ? WHERE no = ?')
          .run(owner, process.pid, thisHost, Date.now(), no);
      })
      .immediate();
  }

  /** Lets the job go; heartbeat_at stays, as when it last ran (JobSummary.lastRunAt). */
  release(no: number, owner: string): void {
    this.db.prepare('UPDATE jobs SET owner = NULL, owner_pid = NULL, owner_host = NULL, heartbeat_at = ? WHERE no = ? AND owner = ?').run(Date.now(), no, owner);
  }

  readControl(no: number): JobControl {
    const control = this.control.get(no);
    if (!control) throw new Error(`job #${no} vanished from the database`);
    return control;
  }

  /** With `later`, the write is kept for the group's next commit (see GroupCommit.defer). */
  writeCounters(no: number, counters: JobCounters, heartbeatAt: number, later?: GroupCommit): void {
    const row = { ...counters, heartbeat_at: heartbeatAt, no };
    if (later) later.defer(this.counters, [row]);
    else this.counters.run(row);
  }

  setState(no: number, state: JobState, endedAt: number | null): void {
    this.db.prepare('UPDATE jobs SET state = ?, ended_at = ? WHERE no = ?').run(state, endedAt, no);
  }

  /** A job-level error that no caller could receive (a retry-failed asked for by another process). */
  setLastError(no: number, message: string | null): void {
    this.db.prepare('UPDATE jobs SET last_error = ? WHERE no = ?').run(message, no);
  }

  setDefinition(no: number, fields: { name: string; bundle: string; retry: string; page_timeout_ms: number; estimate_total: number | null }): void {
    this.db
      .prepare('UPDATE jobs SET name = @name, bundle = @bundle, retry = @retry, page_timeout_ms = @page_timeout_ms, estimate_total = @estimate_total WHERE no = @no')
      .run({ ...fields, no });
  }

  // Control writes: any process may make them; the owner polls control_version to see them.

  setPaused(id: string, paused: boolean): void {
    this.bumpControl('paused = @paused').run({ id, paused: paused ? 1 : 0 });
  }

  setLimits(id: string, limits: { maxParallel?: number; rateItems?: number | null; ratePages?: number | null }): void {
    const row = this.require(id);
    // Such a job never runs again, so its limits would limit nothing; a failed one may (retry-failed).
    if (row.state === 'succeeded' || row.state === 'cancelled') {
      throw new BatonError('JOB_FINISHED', `job "${id}" has already ended (${row.state}): its limits apply to nothing any more`);
    }
    this.bumpControl('max_parallel = @max_parallel, rate_items = @rate_items, rate_pages = @rate_pages').run({
      id,
      max_parallel: limits.maxParallel ?? row.max_parallel,
      rate_items: limits.rateItems === undefined ? row.rate_items : limits.rateItems,
      rate_pages: limits.ratePages === undefined ? row.rate_pages : limits.ratePages,
    });
  }

  requestCancel(id: string): void {
    this.bumpControl('cancel_requested = 1').run({ id });
  }

  requestRetryFailed(id: string): void {
    this.bumpControl('retry_requested = retry_requested + 1').run({ id });
  }

  // Read models.

  /** One page's state, or null when the job has no such page. */
  pageState(no: number, page: number): PageState | null {
    return this.db.prepare<[number, number], PageState>('SELECT state FROM pages WHERE job = ? AND no = ?').pluck().get(no, page) ?? null;
  }

  failures(no: number, limit = 1000): PageFailureInfo[] {
    const rows = this.db
      .prepare(
        `SELECT p.no, p.cursor, p.size, p.attempts, a.outcome, a.error_name, a.error_message, a.error_stack, a.ended_at
         FROM pages p LEFT JOIN attempts a ON a.job = p.job AND a.page = p.no AND a.attempt = p.attempts
         WHERE p.job = ? AND p.state = 'failed' ORDER BY p.no LIMIT ?`,
      )
      .all(no, limit) as {
      no: number;
      cursor: string;
      size: number | null;
      attempts: number;
      outcome: AttemptOutcome | null;
      error_name: string | null;
      error_message: string | null;
      error_stack: string | null;
      ended_at: number | null;
    }[];
    return rows.map((row) => ({
      page: row.no,
      cursor: JSON.parse(row.cursor) as unknown,
      size: row.size,
      attempts: row.attempts,
      outcome: row.outcome ?? 'failed',
      error: { name: row.error_name ?? 'Error', message: row.error_message ?? '(no error recorded)', stack: row.error_stack },
      endedAt: new Date(row.ended_at ?? 0).toISOString(),
    }));
  }

  pages(no: number, options: { state?: PageState; after?: number; limit?: number } = {}): PageRecord[] {
    const state = options.state !== undefined ? 'AND state = @state' : '';
    const rows = this.db
      .prepare(
        `SELECT no, parent, cursor, size, state, attempts, items, started_at, ended_at FROM pages
         WHERE job = @job AND no > @after ${state} ORDER BY no LIMIT @limit`,
      )
      .all({ job: no, after: options.after ?? 0, limit: options.limit ?? 1000, ...(options.state !== undefined ? { state: options.state } : {}) }) as {
      no: number;
      parent: number;
      cursor: string;
      size: number | null;
      state: PageState;
      attempts: number;
      items: number | null;
      started_at: number | null;
      ended_at: number | null;
    }[];
    return rows.map((row) => ({
      page: row.no,
      parent: row.parent === 0 ? null : row.parent,
      cursor: JSON.parse(row.cursor) as unknown,
      size: row.size,
      state: row.state,
      attempts: row.attempts,
      items: row.items,
      startedAt: row.started_at,
      endedAt: row.ended_at,
    }));
  }

  attempts(no: number, options: { page?: number; limit?: number; endedAfter?: number; startedBefore?: number } = {}): AttemptInfo[] {
    // Attempts with a row of their own, and the only attempts that pages keep in their own row.
    const filters = (page: string, ended: string, started: string): { sql: string; params: number[] } => {
      const sql: string[] = [];
      const params: number[] = [];
      if (options.page !== undefined) {
        sql.push(`AND ${page} = ?`);
        params.push(options.page);
      }
      if (options.endedAfter !== undefined) {
        sql.push(`AND ${ended} > ?`);
        params.push(options.endedAfter);
      }
      if (options.startedBefore !== undefined) {
        sql.push(`AND ${started} < ?`);
        params.push(options.startedBefore);
      }
      return { sql: sql.join(' '), params };
    };
    const own = filters('a.page', 'a.ended_at', 'a.started_at');
    const kept = filters('p.no', 'p.ended_at', 'p.started_at');
    const rows = this.db
      .prepare(
        // runs_again: a later attempt started, or the page waits to run again in a job that has not ended.
        `SELECT a.page, a.attempt, a.slot, a.outcome, a.started_at, a.ended_at, a.items, a.error_name, a.error_message, a.error_stack, p.cursor,
           a.outcome != 'succeeded' AND (p.attempts > a.attempt OR (p.state = 'queued' AND j.state NOT IN ('succeeded', 'failed', 'cancelled'))) AS runs_again
         FROM attempts a JOIN pages p ON p.job = a.job AND p.no = a.page JOIN jobs j ON j.no = a.job WHERE a.job = ? ${own.sql}
         UNION ALL
         SELECT p.no, 1, p.slot, 'succeeded', p.started_at, p.ended_at, p.items, NULL, NULL, NULL, p.cursor, 0
         FROM pages p WHERE p.job = ? AND p.slot IS NOT NULL ${kept.sql}
         ORDER BY 5 DESC LIMIT ?`,
      )
      .all(no, ...own.params, no, ...kept.params, options.limit ?? 1000) as {
      runs_again: 0 | 1;
      cursor: string;
      page: number;
      attempt: number;
      slot: number;
      outcome: AttemptOutcome;
      started_at: number;
      ended_at: number | null;
      items: number | null;
      error_name: string | null;
      error_message: string | null;
      error_stack: string | null;
    }[];
    return rows.map((row) => ({
      page: row.page,
      attempt: row.attempt,
      slot: row.slot,
      outcome: row.outcome,
      cursor: JSON.parse(row.cursor) as unknown,
      startedAt: row.started_at,
      endedAt: row.ended_at,
      items: row.items,
      error: row.error_message !== null ? { name: row.error_name ?? 'Error', message: row.error_message, stack: row.error_stack } : null,
      runsAgain: row.runs_again === 1,
    }));
  }

  /** Publishes a running job's activity for other processes; with `later`, at the group's next commit. */
  writeLive(no: number, seq: number, at: number, activity: string, later?: GroupCommit): void {
    if (later) later.defer(this.live, [no, seq, at, activity]);
    else this.live.run(no, seq, at, activity);
  }

  /** The last activity a running job's owner published, if newer than `afterSeq`. */
  readLive(no: number, afterSeq: number): { seq: number; at: number; activity: string } | undefined {
    return this.db.prepare<[number, number], { seq: number; at: number; activity: string }>('SELECT seq, at, activity FROM job_live WHERE job = ? AND seq > ?').get(no, afterSeq);
  }

  logs(no: number, page: number, attempt?: number): LogLine[] {
    const rows = (
      attempt === undefined
        ? this.db.prepare('SELECT page, attempt, at, level, message FROM logs WHERE job = ? AND page = ? ORDER BY rowid').all(no, page)
        : this.db.prepare('SELECT page, attempt, at, level, message FROM logs WHERE job = ? AND page = ? AND attempt = ? ORDER BY rowid').all(no, page, attempt)
    ) as LogLine[];
    return rows;
  }
}
