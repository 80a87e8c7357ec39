/**
 * Runs a job in this process to its end, as `baton run`, `resume` and `retry-failed` do: the
 * live view, Ctrl-C handling, the final summary and the exit code.
 */
import { constants } from 'node:os';
import type { Baton } from '../engine/baton.js';
import type { Job } from '../engine/job.js';
import { BatonError } from '../errors.js';
import { jobHasEnded, type JobSummary } from '../protocol.js';
import type { RetryMode } from '../processor-api.js';
import { FAILURES_SHOWN, formatCount, formatCounted, formatFailures, formatSummary } from './format-summary.js';
import { createProgressView, progressMode, type ProgressView } from './progress-view.js';
import { failureLogs } from './status-command.js';

export interface FollowOptions {
  /** Print the final JobStatus as JSON on stdout instead of progress and a summary. */
  json: boolean;
  /** Appended to suggested commands (`--db …` when the user gave one). */
  suffix: string;
  /** The live view, which the caller sets up before the job starts (see jobView); stopped here once the job is done. */
  view: ProgressView;
  /** The job ran before (resume, retry-failed): the summary's time covers this run only, and says so. */
  again?: boolean;
}

/**
 * The live view for a command that runs a job here. Set up before the job starts: with --json it
 * keeps stdout for the JSON from then on, what the processor prints as it loads included.
 */
export function jobView(json: boolean): ProgressView {
  return createProgressView(progressMode(json));
}

/** Exit codes of commands that run a job. */
export const EXIT_SUCCEEDED = 0;
export const EXIT_NOT_SUCCEEDED = 1;
/** Stopped by Ctrl-C; the job is resumable (128 + SIGINT, as shells report it). */
export const EXIT_INTERRUPTED = 130;

/** Stopped by `signal`, the job resumable: 128 + its number, as shells report it (SIGTERM 143, SIGHUP 129). */
export function exitAfter(signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): number {
  return 128 + constants.signals[signal];
}


/**
 * Follows `job` until it ends or a signal stops it. Resolves with the exit code. The first
 * Ctrl-C pauses the job and lets running pages finish; a second one, or SIGTERM, stops them at
 * once. Either way the job stays resumable with `baton resume`.
 */
export async function followJob(baton: Baton, job: Job, options: FollowOptions): Promise<number> {
  const startedAt = Date.now();
  const { view } = options;
  const onUpdate = view.update.bind(view);
  job.on('update', onUpdate);

  // What the signals started: a drain (first Ctrl-C), a stop at once (second Ctrl-C, SIGTERM).
  const stops: { draining: Promise<void> | null; now: Promise<void> | null } = { draining: null, now: null };
  // The last signal decides the exit code, so a script can tell SIGTERM from a user's Ctrl-C.
  let signalled: 'SIGINT' | 'SIGTERM' | 'SIGHUP' = 'SIGINT';
  const stopNow = (signal: 'SIGINT' | 'SIGTERM' | 'SIGHUP'): void => {
    signalled = signal;
    if (stops.now) return;
    view.note(stopAtOnceNote(job.mode));
    stops.now = handled(baton.close({ stop: 'now' }));
  };
  const onSigint = (): void => {
    if (stops.draining || stops.now) {
      stopNow('SIGINT');
      return;
    }
    view.note('pausing: running pages finish; Ctrl-C again to stop at once');
    stops.draining = handled(
      (async () => {
        await job.pause();
        await baton.close();
      })(),
    );
  };
  const onSigterm = (): void => stopNow('SIGTERM');
  // A closed terminal (or SSH session): as SIGTERM, rather than dying like kill -9.
  const onSighup = (): void => stopNow('SIGHUP');
  process.on('SIGINT', onSigint);
  process.on('SIGTERM', onSigterm);
  process.on('SIGHUP', onSighup);
  // Only now the first line: whoever reads it may press Ctrl-C at once.
  view.update(job.snapshot());

  let summary: JobSummary;
  try {
    summary = await job.done;
    await Promise.all([stops.draining, stops.now]);
  } catch (error) {
    throw stoppedBy(error, job.id, options.suffix);
  } finally {
    // From here on a signal ends the process as usual.
    process.off('SIGINT', onSigint);
    process.off('SIGTERM', onSigterm);
    process.off('SIGHUP', onSighup);
    job.off('update', onUpdate);
    view.stop();
  }

  if (stops.draining || stops.now) {
    if (options.json) process.stdout.write(`${JSON.stringify(summary, null, 2)}\n`);
    if (jobHasEnded(summary.state)) {
      // The job ended as the signal came; the database is closed, so no failure details.
      if (!options.json) process.stdout.write(`${formatSummary(summary, Date.now() - startedAt, options.again)}\n`);
      return summary.state === 'succeeded' ? EXIT_SUCCEEDED : EXIT_NOT_SUCCEEDED;
    }
    const failed = summary.pages.failed > 0 ? ` (${formatCount(summary.pages.failed)} failed: \`baton status ${summary.jobId}${options.suffix}\`)` : '';
    process.stderr.write(
      `job ${summary.jobId} ${summary.paused ? 'paused' : 'stopped'} after ${formatCount(summary.pages.succeeded)}/${formatCount(summary.pages.total)} pages succeeded${failed}, ${formatCounted(summary.items, 'item')}: ` +
        `resume it with \`baton resume ${summary.jobId}${options.suffix}\`\n`,
    );
    return exitAfter(signalled);
  }

  const status = await baton.status(job.id);
  if (options.json) {
    process.stdout.write(`${JSON.stringify(status, null, 2)}\n`);
    return status.state === 'succeeded' ? EXIT_SUCCEEDED : EXIT_NOT_SUCCEEDED;
  }
  process.stdout.write(`${formatSummary(status, Date.now() - startedAt, options.again)}\n`);
  // Succeeded, but with nothing run: most likely args that matched nothing, or a bug in initialPages.
  if (status.pages.total === 0) process.stderr.write(`baton: note: job ${status.jobId} had no pages to run: its processor's initialPages gave none\n`);
  if (status.state === 'succeeded') return EXIT_SUCCEEDED;

  // What the failed pages logged, as `baton status` shows it: often the why behind the error.
  const logs = await failureLogs(baton, job.id, status.failures.slice(0, FAILURES_SHOWN));
  const problems = formatFailures(status, FAILURES_SHOWN, (page) => logs.get(page) ?? []);
  if (status.state === 'cancelled') problems.unshift(`job ${status.jobId} was cancelled; pages that had not run never will`);
  if (status.lastError) problems.push(`last error: ${status.lastError}`);
  // A cancelled job never runs again, its failed pages included.
  if (status.pages.failed > 0 && status.state !== 'cancelled') {
    problems.push(`after a fix, run the failed pages again with \`baton retry-failed ${status.jobId}${options.suffix}\`; details: \`baton status ${status.jobId}${options.suffix}\``);
  }
  if (problems.length > 0) process.stderr.write(`${problems.join('\n')}\n`);
  return EXIT_NOT_SUCCEEDED;
}

/** What a stop at once does to the pages running: they run again, or at-most-once they fail. */
export function stopAtOnceNote(mode: RetryMode): string {
  return mode === 'at-most-once'
    ? 'stopping at once: running pages are aborted and, at-most-once, fail as interrupted (retry-failed runs them again)'
    : 'stopping at once: running pages are aborted and run again on resume';
}

/**
 * The job stopped on an error of its database (locked past the busy timeout, the disk full):
 * the error's line also says that nothing committed is lost and how to go on.
 */
function stoppedBy(error: unknown, jobId: string, suffix: string): unknown {
  if (!(error instanceof BatonError)) return error;
  return new BatonError(error.code, `job ${jobId} stopped: ${error.message}; what it committed is kept, and \`baton resume ${jobId}${suffix}\` goes on once that is fixed`, { cause: error });
}

/** Marks a promise as handled now; it is awaited (and its error thrown) once the job is done. */
function handled<T>(promise: Promise<T>): Promise<T> {
  promise.catch(() => {});
  return promise;
}
