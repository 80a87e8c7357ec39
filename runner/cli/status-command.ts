/** `baton status [job]`: the jobs in the database, or one job with its failures. */
import { Baton } from '../engine/baton.js';
import type { JobSnapshot, JobStatus, LogLine, PageFailureInfo } from '../protocol.js';
import { shownPath } from '../store/database.js';
import { dbPath, dbSuffix, holdsDatabase, noDatabaseAt, quoteArg, requireDatabaseFor, type DbOption } from './cli-options.js';
import { FAILURE_LOG_LINES, FAILURES_SHOWN, formatJobStatus, formatJobsTable, lastAttemptLog } from './format-summary.js';

/** The options of `baton status`. */
export interface StatusCommandOptions extends DbOption {
  json?: boolean;
}

/** A failure in `baton status <job> --json`: with what its last attempt logged last, as the text shows under it. */
export interface FailureJson extends PageFailureInfo {
  /** The last lines (up to FAILURE_LOG_LINES) its last attempt logged, oldest first: `{ attempt, at, level, message }`. */
  lastLog: Omit<LogLine, 'page'>[];
}

/** The latest activity the process running the job published (about four a second). */
function latestSnapshot(baton: Baton, jobId: string): Promise<JobSnapshot> {
  return new Promise((resolve, reject) => {
    let stop: (() => void) | undefined;
    let heard = false;
    // The first call may come before watch() returns.
    stop = baton.watch(
      jobId,
      (activity) => {
        if (heard) return;
        heard = true;
        resolve(activity.snapshot);
        stop?.();
      },
      (problem) => {
        if (!problem || heard) return;
        heard = true;
        reject(problem);
        stop?.();
      },
    );
    if (heard) stop();
  });
}

/** What each of `failures` logged, by page: often the why behind its error. */
export async function failureLogs(baton: Baton, jobId: string, failures: readonly PageFailureInfo[]): Promise<Map<number, LogLine[]>> {
  const logs = new Map<number, LogLine[]>();
  for (const failure of failures) logs.set(failure.page, await baton.logs(jobId, failure.page));
  return logs;
}

/** Prints the jobs, or one job; resolves with the exit code. Never creates a database. */
export async function statusCommand(jobId: string | undefined, options: StatusCommandOptions): Promise<number> {
  const file = jobId === undefined ? dbPath(options) : requireDatabaseFor(jobId, options);
  if (jobId === undefined && !holdsDatabase(file)) {
    // Listing must not create a database where there is none, nor turn an empty file into one.
    process.stdout.write(options.json ? '[]\n' : `no jobs yet: ${noDatabaseAt(file)}; start a job with \`baton run <processor>\`\n`);
    return 0;
  }
  const baton = await Baton.open({ db: file });
  try {
    if (jobId === undefined) {
      const jobs = await baton.jobs();
      if (options.json) process.stdout.write(`${JSON.stringify(jobs, null, 2)}\n`);
      else if (jobs.length === 0) process.stdout.write(`no jobs yet in ${shownPath(file)}; start one with \`baton run <processor>\`\n`);
      else process.stdout.write(`${formatJobsTable(jobs).join('\n')}\n`);
      return 0;
    }
    const status = await baton.status(jobId);
    // A running job's counts reach the database with its heartbeat (every 2 s); what its process
    // publishes four times a second is fresher, and has its pace (throughput, ETA).
    const live = status.live ? await latestSnapshot(baton, jobId) : undefined;
    const shown: JobStatus = live ? { ...status, ...live, failures: status.failures } : status;
    // What the failed pages logged: often the why behind their error. The text shows the first
    // FAILURES_SHOWN failures; JSON has every failure, so each gets its lines.
    const logs = await failureLogs(baton, jobId, options.json ? status.failures : status.failures.slice(0, FAILURES_SHOWN));
    if (options.json) {
      const failures: FailureJson[] = shown.failures.map((failure) => ({
        ...failure,
        lastLog: lastAttemptLog(logs.get(failure.page) ?? [])
          .slice(-FAILURE_LOG_LINES)
          .map(({ attempt, at, level, message }) => ({ attempt, at, level, message })),
      }));
      process.stdout.write(`${JSON.stringify({ ...shown, failures }, null, 2)}\n`);
      return 0;
    }
    process.stdout.write(`${formatJobStatus(shown, `baton resume ${quoteArg(jobId)}${dbSuffix(options)}`, (page) => logs.get(page) ?? [], live).join('\n')}\n`);
    return 0;
  } finally {
    await baton.close();
  }
}
