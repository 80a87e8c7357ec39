/**
 * The jobs the extension's own runner runs, as opposed to a terminal's `baton run`: what a
 * restart of the runner would stop, and the jobs whose end the user should hear of. Pure:
 * job-notices.ts and commands.ts show the messages.
 */
import type { JobProcess } from '../runner/protocol.js';
import { formatCount, isEnded, sameProcess, type JobView } from './job-format.js';

/** Jobs that `runner` runs now. */
export function jobsRunBy(jobs: readonly JobView[], runner: JobProcess | undefined): JobView[] {
  if (!runner) return [];
  return jobs.filter((job) => job.live && sameProcess(job.runBy, runner));
}

/** "job a", "jobs a and b", "jobs a, b, c and 2 more". */
export function jobList(jobs: readonly Pick<JobView, 'jobId'>[]): string {
  const ids = jobs.map((job) => job.jobId);
  if (ids.length === 1) return `job ${ids[0]}`;
  const shown = ids.length > 4 ? [...ids.slice(0, 3), `${ids.length - 3} more`] : ids;
  return `jobs ${shown.slice(0, -1).join(', ')} and ${shown.at(-1)}`;
}

/** Asked before a restart of the runner stops `jobs` (it runs them); null when it stops none. */
export function restartWarning(jobs: readonly JobView[], why: string | null): string | null {
  if (jobs.length === 0) return null;
  const them = jobs.length === 1 ? 'it' : 'them';
  return `${why !== null ? `${why} ` : ''}Restarting the Baton runner stops the ${jobList(jobs)} it runs; Resume Job runs ${them} on afterwards.`;
}

/** Said when the runner died while it ran `jobs`; `restarting`: the client starts it again. */
export function runnerDiedMessage(jobs: readonly JobView[], restarting: boolean): string {
  const died = restarting ? 'The Baton runner stopped unexpectedly and restarts' : 'The Baton runner stopped unexpectedly too often and was not restarted';
  const fix = restarting ? 'the Baton output says why' : 'see the Baton output, then run "Baton: Restart Runner"';
  if (jobs.length === 0) return `${died} (${fix}).`;
  const them = jobs.length === 1 ? 'it' : 'them';
  return `${died}; the ${jobList(jobs)} it ran stopped with it: Resume Job runs ${them} on (${fix}).`;
}

export interface EndNotice {
  severity: 'info' | 'warning';
  message: string;
  actions: ('Show Panel' | 'Retry Failed Pages')[];
}

/** What the user hears when a job the runner ran ends; null for a cancelled one (someone chose that). */
export function endNotice(job: JobView): EndNotice | null {
  const pages = job.pages;
  const items = `${formatCount(job.items)} item${job.items === 1 ? '' : 's'}`;
  if (job.state === 'succeeded') {
    return { severity: 'info', message: `Baton: job ${job.jobId} succeeded: ${formatCount(pages.succeeded)} page${pages.succeeded === 1 ? '' : 's'}, ${items}.`, actions: ['Show Panel'] };
  }
  if (job.state === 'failed') {
    const failed = `${formatCount(pages.failed)} of ${formatCount(pages.total)} page${pages.total === 1 ? '' : 's'} failed`;
    return { severity: 'warning', message: `Baton: job ${job.jobId} ended with ${failed} (${items} done).`, actions: ['Show Panel', 'Retry Failed Pages'] };
  }
  return null;
}

/**
 * Follows the job list for jobs the runner runs, and tells which of them have ended since the
 * last list. A job counts once it was seen running there: an old job that ended long ago, or a
 * terminal's, is never reported.
 */
export class RunnerJobEnds {
  private readonly running = new Set<string>();

  /** Jobs seen running in `runner` that `jobs` shows ended. */
  update(jobs: readonly JobView[], runner: JobProcess | undefined): JobView[] {
    for (const job of jobsRunBy(jobs, runner)) if (!isEnded(job)) this.running.add(job.jobId);
    const ended: JobView[] = [];
    for (const job of jobs) {
      if (this.running.has(job.jobId) && isEnded(job)) {
        this.running.delete(job.jobId);
        ended.push(job);
      }
    }
    return ended;
  }

  /** The runner stopped: what it ran stopped with it, and ends later elsewhere, if at all. */
  forget(): void {
    this.running.clear();
  }
}
