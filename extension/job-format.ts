/**
 * How jobs read in the tree view, the status bar and quick picks. Pure: no 'vscode' here, so
 * that vitest can test it; the view modules turn these into TreeItems and StatusBarItems.
 */
import { jobHasEnded, type JobProcess, type JobSnapshot, type JobSummary } from '../runner/protocol.js';

/** A job as the runner sends it: live jobs come as snapshots, with rates and estimates. */
export type JobView = JobSummary & Partial<Pick<JobSnapshot, 'throughput' | 'percent' | 'etaSeconds' | 'inFlight' | 'itemsLive'>>;

/** The job has ended for good (it may still have failed pages to retry). */
export function isEnded(job: JobSummary): boolean {
  return jobHasEnded(job.state);
}

/** Not ended, and no process runs it: a runner stopped or died under it; Resume runs it again. */
export function isStopped(job: JobSummary): boolean {
  return !isEnded(job) && !job.live;
}

/** Percent done (0..100), when it can be known: from the processor's estimate of its items. */
export function percentDone(job: JobView): number | null {
  if (job.state === 'succeeded') return 100;
  if (typeof job.percent === 'number') return clampPercent(job.percent);
  const items = job.itemsLive ?? job.items;
  if (job.estimatedTotalItems && job.estimatedTotalItems > 0) return clampPercent((items / job.estimatedTotalItems) * 100);
  return null;
}

function clampPercent(value: number): number {
  return Math.max(0, Math.min(100, value));
}

/** "42%", or "99%" for 99.6 so that a job shows 100% only once done. */
export function formatPercent(percent: number): string {
  return `${percent >= 100 ? 100 : Math.min(99, Math.round(percent))}%`;
}

/** 1234 → "1,234"; 12345 → "12.3k"; 1234567 → "1.2M". */
export function formatCount(value: number): string {
  if (value >= 999_950) return `${(value / 1_000_000).toFixed(1)}M`;
  if (value >= 10_000) return `${(value / 1000).toFixed(1)}k`;
  return Math.round(value).toLocaleString('en-US');
}

/** The word for a job's state, with "stopped" for an unfinished job nobody runs. */
export function stateLabel(job: JobSummary): string {
  if (isStopped(job)) return job.paused ? 'paused (stopped)' : 'stopped';
  return job.state;
}

/** When a job started, short: "14:05" today, else "Nov 24 14:05". */
export function startedLabel(startedAt: string, now = new Date()): string {
  const started = new Date(startedAt);
  if (Number.isNaN(started.getTime())) return '';
  const time = `${String(started.getHours()).padStart(2, '0')}:${String(started.getMinutes()).padStart(2, '0')}`;
  if (started.toDateString() === now.toDateString()) return time;
  return `${started.toLocaleString('en-US', { month: 'short' })} ${started.getDate()} ${time}`;
}

/** The tree item's description: state, % done (or pages done) and failed pages. */
export function jobDescription(job: JobView): string {
  const parts = [stateLabel(job)];
  const percent = percentDone(job);
  const done = job.pages.succeeded + job.pages.failed;
  if (percent !== null && job.state !== 'succeeded') parts.push(formatPercent(percent));
  else if (job.state !== 'succeeded') parts.push(`${formatCount(done)}/${formatCount(job.pages.total)} pages`);
  if (job.pages.failed > 0) parts.push(`${formatCount(job.pages.failed)} failed`);
  if (job.live && job.state === 'running' && job.throughput && job.throughput.itemsPerSecond > 0) parts.push(`${formatCount(job.throughput.itemsPerSecond)} items/s`);
  return parts.join(' · ');
}

/** The tree item's tooltip, as Markdown lines; `runner`: the process of this window's runner. */
export function jobTooltip(job: JobView, runner?: JobProcess): string {
  const lines = [
    `**${job.jobId}**: ${stateLabel(job)}${job.lastError ? ` (${job.lastError})` : ''}`,
    '',
    `processor \`${job.name}\` (${job.processor})`,
    ...(job.runBy ? [`run by: ${runByLabel(job.runBy, runner)}`] : []),
    `pages: ${job.pages.succeeded} succeeded, ${job.pages.failed} failed, ${job.pages.running} running, ${job.pages.queued} queued, ${job.pages.total} in all`,
    `items: ${formatCount(job.itemsLive ?? job.items)}${job.estimatedTotalItems ? ` of about ${formatCount(job.estimatedTotalItems)}` : ''}`,
    `max parallel: ${job.limits.maxParallel}${job.limits.rateLimit ? `, rate limit ${describeRate(job.limits.rateLimit)}` : ''}`,
    `started ${job.startedAt}${job.endedAt ? `, ended ${job.endedAt}` : ''}`,
  ];
  return lines.join('  \n');
}

/** Whether two processes are one (JobSummary.runBy names one by pid and host). */
export function sameProcess(a: JobProcess | undefined, b: JobProcess | undefined): boolean {
  return a !== undefined && b !== undefined && a.pid === b.pid && a.host === b.host;
}

/** Who runs a job: this window's runner, or another process (a terminal's `baton run`, another window). */
export function runByLabel(runBy: JobProcess, runner?: JobProcess): string {
  if (sameProcess(runBy, runner)) return "this window's Baton runner";
  return `process ${runBy.pid} on ${runBy.host} (a terminal's \`baton run\`, or another window)`;
}

function describeRate(rate: { itemsPerSecond?: number; pagesPerSecond?: number }): string {
  return [rate.itemsPerSecond ? `${rate.itemsPerSecond} items/s` : '', rate.pagesPerSecond ? `${rate.pagesPerSecond} pages/s` : ''].filter(Boolean).join(', ');
}

/** The codicon for a job's state (https://microsoft.github.io/vscode-codicons). */
export function jobIcon(job: JobSummary): { id: string; color: string | null } {
  if (isStopped(job)) return { id: 'debug-stop', color: 'charts.yellow' };
  switch (job.state) {
    case 'running':
      return { id: 'sync~spin', color: null };
    case 'paused':
      return { id: 'debug-pause', color: 'charts.yellow' };
    case 'queued':
      return { id: 'clock', color: null };
    case 'succeeded':
      return { id: 'pass', color: 'charts.green' };
    case 'failed':
      return { id: 'error', color: 'charts.red' };
    case 'cancelled':
      return { id: 'circle-slash', color: null };
  }
}

/** What can be done to a job now; the tree's menus match these words in its contextValue. */
export interface JobActions {
  canPause: boolean;
  canResume: boolean;
  canRetry: boolean;
  canCancel: boolean;
}

export function jobActions(job: JobSummary): JobActions {
  const ended = isEnded(job);
  return {
    canPause: !ended && !job.paused,
    canResume: !ended && (job.paused || !job.live),
    canRetry: job.pages.failed > 0 && job.state !== 'cancelled',
    canCancel: !ended,
  };
}

/** The tree item's contextValue: "batonJob" and the actions it allows, such as "batonJob canPause canCancel". */
export function jobContextValue(job: JobSummary): string {
  const actions = jobActions(job);
  return ['batonJob', ...Object.entries(actions).filter(([, allowed]) => allowed).map(([name]) => name)].join(' ');
}

/** Newest first: the order of the tree and of quick picks. */
export function newestFirst<T extends JobSummary>(jobs: readonly T[]): T[] {
  return [...jobs].sort((a, b) => b.startedAt.localeCompare(a.startedAt) || b.jobId.localeCompare(a.jobId));
}

export interface StatusBarView {
  text: string;
  tooltip: string;
  /** The job a click opens in the panel. */
  jobId: string;
}

/**
 * The status bar item while jobs run (or are paused) in a live process: progress and items/s of
 * the newest, and how many run. Null when none does: the item hides.
 */
export function statusBarView(jobs: readonly JobView[]): StatusBarView | null {
  const live = newestFirst(jobs.filter((job) => job.live && !isEnded(job)));
  const running = live.filter((job) => job.state !== 'paused');
  const shown = running[0] ?? live[0];
  if (!shown) return null;
  const percent = percentDone(shown);
  const progress = percent !== null ? formatPercent(percent) : `${formatCount(shown.pages.succeeded)} pages`;
  const parts: string[] = [];
  if (live.length > 1) parts.push(`${live.length} jobs`);
  let icon = '$(sync~spin)';
  if (running.length > 0) {
    const rate = running.reduce((sum, job) => sum + (job.throughput?.itemsPerSecond ?? 0), 0);
    parts.push(progress, `${formatCount(rate)} items/s`);
  } else {
    icon = '$(debug-pause)';
    parts.push('paused', progress);
  }
  const tooltip = live.map((job) => `${job.jobId}: ${jobDescription(job)}`).join('\n');
  return { text: `${icon} Baton ${parts.join(' · ')}`, tooltip: `${tooltip}\nClick to open the Baton panel`, jobId: shown.jobId };
}
