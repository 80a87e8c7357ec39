/**
 * How the CLI shows jobs: progress lines, the final summary, failures, the jobs table. Pure
 * functions of the engine's snapshots, so they are tested without running anything.
 */
import { jobHasEnded, type JobSnapshot, type JobStatus, type JobSummary, type LogLine, type PageFailureInfo } from '../protocol.js';

const COUNT = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });

/** 12345 -> "12,345". */
export function formatCount(n: number): string {
  return COUNT.format(n);
}

/** 1 -> "1 page", 1200 -> "1,200 pages". */
export function formatCounted(n: number, noun: string): string {
  return `${formatCount(n)} ${noun}${n === 1 ? '' : 's'}`;
}

/** A rate: one decimal below 10, whole numbers above. */
export function formatRate(perSecond: number): string {
  return perSecond > 0 && perSecond < 10 ? perSecond.toFixed(1) : formatCount(Math.round(perSecond));
}

/** Seconds as "40ms", "0.4s", "12s", "3m 04s", "2h 05m". */
export function formatDuration(seconds: number): string {
  if (!Number.isFinite(seconds) || seconds < 0) return '?';
  if (seconds < 0.1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 10) return `${seconds.toFixed(1)}s`;
  if (seconds < 60) return `${Math.round(seconds)}s`;
  const whole = Math.round(seconds);
  if (whole < 3600) return `${Math.floor(whole / 60)}m ${String(whole % 60).padStart(2, '0')}s`;
  return `${Math.floor(whole / 3600)}h ${String(Math.floor((whole % 3600) / 60)).padStart(2, '0')}m`;
}

/** An ISO time as local "YYYY-MM-DD HH:MM:SS". */
export function formatTime(iso: string): string {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return iso;
  const p = (n: number) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:${p(d.getSeconds())}`;
}

/** How far the job is, 0..1: by items when the total is estimated, else by pages. */
export function progressFraction(s: JobSnapshot): number {
  if (s.percent !== null) return Math.min(1, Math.max(0, s.percent / 100));
  if (s.pages.total === 0) return 0;
  return Math.min(1, (s.pages.succeeded + s.pages.failed) / s.pages.total);
}

/** A bar of `width` cells filled to `fraction`. */
export function renderBar(fraction: number, width: number): string {
  const filled = Math.round(Math.min(1, Math.max(0, fraction)) * width);
  return '█'.repeat(filled) + '░'.repeat(width - filled);
}

function itemsPart(s: JobSnapshot, withPercent = true): string {
  if (s.estimatedTotalItems !== null) {
    const percent = s.percent !== null && withPercent ? ` (${s.percent.toFixed(1)}%)` : '';
    return `${formatCount(s.itemsLive)}/${formatCounted(s.estimatedTotalItems, 'item')}${percent}`;
  }
  return formatCounted(s.itemsLive, 'item');
}

function etaPart(s: JobSnapshot): string {
  return s.etaSeconds !== null && s.state === 'running' ? ` ETA ${formatDuration(s.etaSeconds)}` : '';
}

/**
 * One plain progress line, for output that is not a terminal:
 * `prices running 12,345/100,000 items (12.3%) 2,345 items/s pages 40/100 ended (38 ok, 2 failed), 8 running`.
 * Ended, not done: a failed page counts toward the total it has left, but says so.
 */
export function formatProgressLine(s: JobSnapshot): string {
  const ended = s.pages.succeeded + s.pages.failed;
  return (
    `${s.jobId} ${s.state} ${itemsPart(s)} ${formatRate(s.throughput.itemsPerSecond)} items/s ` +
    `pages ${formatCount(ended)}/${formatCount(s.pages.total)} ended (${formatCount(s.pages.succeeded)} ok, ${formatCount(s.pages.failed)} failed), ${formatCount(s.pages.running)} running` +
    etaPart(s)
  );
}

/** The text beside the live bar on a terminal. */
export function formatBarText(s: JobSnapshot): string {
  const head = s.percent !== null ? `${s.percent.toFixed(1)}%` : `${formatCount(s.pages.succeeded + s.pages.failed)}/${formatCount(s.pages.total)} pages`;
  const state = s.state === 'running' ? '' : ` ${s.state.toUpperCase()} |`;
  return (
    `${head} |${state} ${itemsPart(s, false)} | ${formatRate(s.throughput.itemsPerSecond)} items/s | ` +
    `pages ${formatCount(s.pages.succeeded)} ok, ${formatCount(s.pages.running)} running, ${formatCount(s.pages.queued)} queued, ${formatCount(s.pages.failed)} failed | ` +
    `in flight ${s.inFlight}/${s.effectiveParallel}` +
    (s.etaSeconds !== null && s.state === 'running' ? ` | ETA ${formatDuration(s.etaSeconds)}` : '')
  );
}

/**
 * The line printed when a run ends: `job x succeeded: 1,000 items, 100 pages (100 ok), 100 attempts, 1.2s`.
 * The counts are the job's; the time is this run's, labelled so when the job ran before.
 */
export function formatSummary(summary: JobSummary, elapsedMs: number, again = false): string {
  return (
    `job ${summary.jobId} ${summary.state}: ${formatCounted(summary.items, 'item')}, ` +
    `${formatCounted(summary.pages.total, 'page')} (${endedPages(summary.pages)}), ${formatCounted(summary.attempts, 'attempt')}, ${formatDuration(elapsedMs / 1000)}${again ? ' this run' : ''}`
  );
}

/** An ended job's pages: `3 ok, 1 failed, 6 not run`; those still queued or running never ran. */
function endedPages(pages: JobSummary['pages']): string {
  const parts = [`${formatCount(pages.succeeded)} ok`];
  if (pages.failed > 0) parts.push(`${formatCount(pages.failed)} failed`);
  const left = pages.queued + pages.running;
  if (left > 0) parts.push(`${formatCount(left)} not run`);
  return parts.join(', ');
}

/** A cursor as JSON, cut to `max` characters. */
export function formatCursor(cursor: unknown, max = 60): string {
  const text = JSON.stringify(cursor) ?? String(cursor);
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** One failed page: `page 2  cursor 1  3 attempts  DatabaseGoneError: cannot reach the database`. */
export function formatFailure(failure: PageFailureInfo): string {
  const message = failure.error.message.replace(/\s+/g, ' ').trim();
  const outcome = failure.outcome !== 'failed' ? ` (${failure.outcome})` : '';
  const attempts = `${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'}`;
  return `page ${failure.page}  cursor ${formatCursor(failure.cursor)}  ${attempts}${outcome}  ${failure.error.name}: ${message}`;
}

/** How many failed pages `baton status <job>` and `baton run` list. */
export const FAILURES_SHOWN = 20;

/** How many of a failed attempt's log lines `baton status <job>` shows under it: the last ones. */
export const FAILURE_LOG_LINES = 3;

/** The log lines of a page's last attempt (the one whose error a failure shows). */
export function lastAttemptLog(logs: readonly LogLine[]): LogLine[] {
  const last = Math.max(...logs.map((line) => line.attempt));
  return logs.filter((line) => line.attempt === last);
}

/**
 * The log lines of a page's last attempt, the last `FAILURE_LOG_LINES` of them, one line each
 * and cut to 200 characters: `info  fetched 500 rows`, after `… 4 earlier lines` if any.
 */
export function formatLastAttemptLog(logs: readonly LogLine[]): string[] {
  const lines = lastAttemptLog(logs);
  const shown = lines.slice(-FAILURE_LOG_LINES).map((line) => {
    const message = line.message.replace(/\s+/g, ' ').trim();
    return `${line.level.padEnd(5)}  ${message.length > 200 ? `${message.slice(0, 199)}…` : message}`;
  });
  const earlier = lines.length - shown.length;
  return earlier > 0 ? [`… ${formatCount(earlier)} earlier line${earlier === 1 ? '' : 's'}`, ...shown] : shown;
}

/**
 * The failures block: a heading and up to `limit` pages, then how many more. `logsOf`, when
 * given, has a failed page's log lines, shown under it (its last attempt's).
 */
export function formatFailures(status: Pick<JobStatus, 'failures' | 'pages'>, limit = FAILURES_SHOWN, logsOf?: (page: number) => readonly LogLine[]): string[] {
  const total = Math.max(status.pages.failed, status.failures.length);
  if (total === 0) return [];
  const lines = [`${formatCount(total)} page${total === 1 ? '' : 's'} failed for good:`];
  for (const failure of status.failures.slice(0, limit)) {
    lines.push(`  ${formatFailure(failure)}`);
    for (const line of formatLastAttemptLog(logsOf?.(failure.page) ?? [])) lines.push(`      ${line}`);
  }
  if (total > Math.min(limit, status.failures.length)) lines.push(`  … and ${formatCount(total - Math.min(limit, status.failures.length))} more (\`baton status <job> --json\` lists them all)`);
  return lines;
}

/** Rows of text in aligned columns; the last column is not padded. */
export function formatTable(rows: string[][]): string[] {
  const widths: number[] = [];
  for (const row of rows) row.forEach((cell, i) => (widths[i] = Math.max(widths[i] ?? 0, cell.length)));
  return rows.map((row) => row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '));
}

/** `baton status` without a job: one row per job; LIVE names the process that runs it (`baton status <job>` adds its host). */
export function formatJobsTable(jobs: JobSummary[]): string[] {
  const rows = [['JOB', 'STATE', 'LIVE', 'PAGES', 'FAILED', 'ITEMS', 'STARTED']];
  for (const job of jobs) {
    rows.push([
      job.jobId,
      job.state,
      job.live ? (job.runBy ? `pid ${job.runBy.pid}` : 'yes') : 'no',
      `${formatCount(job.pages.succeeded)}/${formatCount(job.pages.total)}`,
      formatCount(job.pages.failed),
      formatCount(job.items),
      formatTime(job.startedAt),
    ]);
  }
  return formatTable(rows);
}

/** A limit as it was set, not rounded as a measured rate is: 0.0001 pages/s stays 0.0001. */
const setting = new Intl.NumberFormat('en-US', { maximumFractionDigits: 10 });

/** `max parallel 8, 5,000 items/s`, or `…, no rate limit`. */
export function formatLimits(limits: JobSummary['limits'], sayNoRate = false): string {
  const parts = [`max parallel ${setting.format(limits.maxParallel)}`];
  if (sayNoRate && limits.rateLimit?.itemsPerSecond === undefined && limits.rateLimit?.pagesPerSecond === undefined) parts.push('no rate limit');
  if (limits.rateLimit?.itemsPerSecond !== undefined) parts.push(`${setting.format(limits.rateLimit.itemsPerSecond)} items/s`);
  if (limits.rateLimit?.pagesPerSecond !== undefined) parts.push(`${setting.format(limits.rateLimit.pagesPerSecond)} pages/s`);
  return parts.join(', ');
}

/** While a rampup holds a running job below its max parallel: how many pages may run at once now. */
function rampingUp(status: JobStatus, live: JobSnapshot | undefined): string {
  if (!live || live.state !== 'running' || live.paused || live.effectiveParallel >= status.limits.maxParallel) return '';
  return ` (ramping up: ${formatCounted(live.effectiveParallel, 'page')} at once now)`;
}

/** What `baton status <job>` says of its state: whether a process runs it, and how to go on when none does. */
function describeState(status: JobStatus, resumeCommand: string): string {
  if (status.live) return `${status.state} (a live process runs it${status.paused && status.state !== 'paused' ? ', paused' : ''})`;
  // An ended job keeps its paused flag, but nothing of it runs any more to be paused.
  if (jobHasEnded(status.state)) return status.state;
  const paused = status.paused && status.state !== 'paused' ? ' (paused)' : '';
  // An unfinished job that no process runs was stopped, or its process was killed.
  return `${status.state}${paused}, and no process runs it: \`${resumeCommand}\` goes on`;
}

function unfinishedPages(pages: JobSummary['pages']): string {
  return `${formatCount(pages.succeeded)} ok, ${formatCount(pages.failed)} failed, ${formatCount(pages.running)} running, ${formatCount(pages.queued)} queued`;
}

/** A running job's pace, from the activity its process publishes: `rate` and, when the total is estimated, `eta`. */
function formatPace(live: JobSnapshot): string[][] {
  const { itemsPerSecond, pagesPerSecond } = live.throughput;
  const rows = [['rate', `${formatRate(itemsPerSecond)} items/s, ${formatRate(pagesPerSecond)} pages/s, ${formatCount(live.inFlight)} running`]];
  if (live.etaSeconds !== null) rows.push(['eta', `${formatDuration(live.etaSeconds)} at this rate`]);
  return rows;
}

/**
 * `baton status <job>`: the job's summary, limits and failures, with what the failed pages
 * logged (`logsOf`) and, for a job running now, its pace (`live`). `resumeCommand` is how to go
 * on with an unfinished job that no process runs.
 */
export function formatJobStatus(
  status: JobStatus,
  resumeCommand = `baton resume ${status.jobId}`,
  logsOf?: (page: number) => readonly LogLine[],
  live?: JobSnapshot,
): string[] {
  const { pages } = status;
  const state = describeState(status, resumeCommand);
  const items = status.estimatedTotalItems !== null
    ? `${formatCount(status.items)} of about ${formatCount(status.estimatedTotalItems)} (${Math.min(100, (status.items / Math.max(1, status.estimatedTotalItems)) * 100).toFixed(1)}%)`
    : formatCount(status.items);
  const rows = [
    ['job', `${status.jobId} (${status.name})`],
    ['processor', status.processor],
    ['state', state],
    ['pages', `${formatCount(pages.total)} total: ${jobHasEnded(status.state) ? endedPages(pages) : unfinishedPages(pages)}`],
    ['items', items],
    ['attempts', `${formatCount(status.attempts)} (at most ${formatCounted(status.maxInFlight, 'page')} at once)`],
    ['limits', formatLimits(status.limits) + rampingUp(status, live)],
    ['started', formatTime(status.startedAt)],
  ];
  if (status.endedAt) rows.push(['ended', `${formatTime(status.endedAt)} (${formatDuration((Date.parse(status.endedAt) - Date.parse(status.startedAt)) / 1000)})`]);
  if (status.runBy) rows.push(['run by', `process ${status.runBy.pid} on ${status.runBy.host}`]);
  if (status.lastRunAt) rows.push(['last ran', formatTime(status.lastRunAt)]);
  // A paused job's last rate and ETA would read as if it were moving on.
  if (live && live.state === 'running' && !live.paused) rows.push(...formatPace(live));
  if (status.lastError) rows.push(['last error', status.lastError]);
  return [...formatTable(rows), ...formatFailures(status, FAILURES_SHOWN, logsOf)];
}
