/**
 * Which job a job command acts on: the one it was given (a tree item, a job id), else one the
 * user picks among those the action fits. Pure: commands.ts shows the quick pick.
 */
import { isStopped, jobActions, jobDescription, newestFirst, type JobView } from './job-format.js';

/** The job commands that act on one job. */
export type JobAction = 'pause' | 'resume' | 'retry' | 'cancel' | 'show';

/**
 * The job id a command was given: a job id, or an object with a `jobId` (a JobSummary, the
 * tree's items, `{ jobId }` from another extension or a test). Undefined when none was.
 */
export function jobIdOf(argument: unknown): string | undefined {
  if (typeof argument === 'string' && argument !== '') return argument;
  if (typeof argument === 'object' && argument !== null) {
    const jobId = (argument as { jobId?: unknown }).jobId;
    if (typeof jobId === 'string' && jobId !== '') return jobId;
  }
  return undefined;
}

/** Jobs the action fits, newest first, those a live process runs before the others. */
export function jobsFor(action: JobAction, jobs: readonly JobView[]): JobView[] {
  const fits = jobs.filter((job) => {
    const actions = jobActions(job);
    switch (action) {
      case 'pause':
        return actions.canPause;
      case 'resume':
        return actions.canResume;
      case 'retry':
        return actions.canRetry;
      case 'cancel':
        return actions.canCancel;
      case 'show':
        return true;
    }
  });
  const sorted = newestFirst(fits);
  return [...sorted.filter((job) => job.live), ...sorted.filter((job) => !job.live)];
}

/** A quick pick entry for a job. */
export interface JobPickItem {
  label: string;
  description: string;
  detail: string;
  jobId: string;
}

/** `shownPath` words a processor's absolute path as the window shows files (relative to its folder). */
export function jobPickItems(jobs: readonly JobView[], shownPath: (path: string) => string = (path) => path): JobPickItem[] {
  return jobs.map((job) => ({
    label: job.jobId,
    description: jobDescription(job),
    detail: `${job.name} · ${shownPath(job.processor)}${isStopped(job) ? ' · no process runs it now' : ''}`,
    jobId: job.jobId,
  }));
}

const PLACEHOLDER: Record<JobAction, string> = {
  pause: 'Pause which job?',
  resume: 'Resume which job?',
  retry: 'Retry the failed pages of which job?',
  cancel: 'Cancel which job?',
  show: 'Show which job?',
};

export function pickPlaceholder(action: JobAction): string {
  return PLACEHOLDER[action];
}

/** What to say when no job fits. */
export function noJobMessage(action: JobAction): string {
  switch (action) {
    case 'pause':
      return 'No Baton job to pause: none is running.';
    case 'resume':
      return 'No Baton job to resume: none is paused or stopped.';
    case 'retry':
      return 'No Baton job has failed pages to retry.';
    case 'cancel':
      return 'No Baton job to cancel: every job has ended.';
    case 'show':
      return 'No Baton jobs yet: run one with "Baton: Run Batch".';
  }
}
