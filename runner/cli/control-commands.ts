/**
 * `baton pause | cancel | limits | resume | retry-failed <job>`: they act through the database,
 * so they steer a job that another process runs; `resume` and `retry-failed` run it here when
 * none does.
 */
import { Baton } from '../engine/baton.js';
import { checkRateLimit, type RateLimit } from '../engine/options.js';
import { BatonError } from '../errors.js';
import { jobHasEnded } from '../protocol.js';
import { dbSuffix, parseParallelOption, parseRateOptions, parseThreadsOption, requireDatabaseFor, type DbOption } from './cli-options.js';
import { formatCount, formatLimits } from './format-summary.js';
import { followJob, jobView } from './follow-job.js';
import { withSlowNotice } from './slow-notice.js';

/** Options of the commands that may run the job in this process. */
export interface RunHereOptions extends DbOption {
  json?: boolean;
  threads?: string;
}

async function openFor(jobId: string, options: DbOption): Promise<Baton> {
  return Baton.open({ db: requireDatabaseFor(jobId, options) });
}

function say(line: string): void {
  process.stdout.write(`${line}\n`);
}

/** `baton pause <job>`: no new page starts, wherever the job runs. */
export async function pauseCommand(jobId: string, options: DbOption): Promise<number> {
  const baton = await openFor(jobId, options);
  try {
    await baton.pause(jobId);
    say(
      baton.isLive(jobId)
        ? `paused job ${jobId}: its running pages finish and no new page starts; continue with \`baton resume ${jobId}${dbSuffix(options)}\``
        : `paused job ${jobId}; no process runs it now, and \`baton resume ${jobId}${dbSuffix(options)}\` runs it again`,
    );
    return 0;
  } finally {
    await baton.close();
  }
}

/** `baton cancel <job>`: ends the job for good, wherever it runs. */
export async function cancelCommand(jobId: string, options: DbOption): Promise<number> {
  const baton = await openFor(jobId, options);
  try {
    const live = baton.isLive(jobId);
    await baton.cancel(jobId);
    say(live ? `asked the process running job ${jobId} to cancel it; its running pages are aborted` : `cancelled job ${jobId}`);
    return 0;
  } finally {
    await baton.close();
  }
}

/** The options of `baton limits`. */
export interface LimitsCommandOptions extends DbOption {
  /** --parallel or --max-parallel. */
  parallel?: string;
  /** false with --no-rate: no rate limit at all. */
  rate?: string | false;
  ratePages?: string;
  /** Both --rate and --no-rate were given (commander keeps only the last). */
  rateAndNoRate?: boolean;
}

/**
 * `baton limits <job>`: shows a job's limits, or changes them wherever it runs (the process
 * running it reads them within a second). A rate given alone keeps the other kind of rate.
 */
export async function limitsCommand(jobId: string, options: LimitsCommandOptions): Promise<number> {
  const maxParallel = options.parallel !== undefined ? parseParallelOption(options.parallel) : undefined;
  if (options.rateAndNoRate) throw new BatonError('INVALID_OPTION', '--no-rate removes every rate limit: give it without --rate, or --rate without it');
  // Commander gives --no-rate as rate: false.
  const noRate = options.rate === false;
  if (noRate && options.ratePages !== undefined) throw new BatonError('INVALID_OPTION', '--no-rate removes every rate limit: give it without --rate-pages');
  const rate = parseRateOptions(typeof options.rate === 'string' ? options.rate : undefined, options.ratePages);
  const baton = await openFor(jobId, options);
  try {
    const status = await baton.status(jobId);
    if (maxParallel === undefined && rate === undefined && !noRate) {
      say(`job ${jobId}: ${formatLimits(status.limits, true)}`);
      return 0;
    }
    if (jobHasEnded(status.state)) throw new BatonError('JOB_FINISHED', `job "${jobId}" has already ended (${status.state}); its limits no longer matter`);
    const rateLimit: RateLimit | null | undefined = noRate ? null : rate && checkRateLimit({ ...status.limits.rateLimit, ...rate });
    await baton.setLimits(jobId, { ...(maxParallel !== undefined ? { maxParallel } : {}), ...(rateLimit !== undefined ? { rateLimit } : {}) });
    const limits = (await baton.status(jobId)).limits;
    say(
      baton.isLive(jobId)
        ? `job ${jobId}: ${formatLimits(limits, true)}; the process running it applies them within a second`
        : `job ${jobId}: ${formatLimits(limits, true)}; no process runs it now, and they apply when it runs again`,
    );
    return 0;
  } finally {
    await baton.close();
  }
}

/** `baton resume <job>`: unpauses it in its live process, or runs it here to the end. */
export async function resumeCommand(jobId: string, options: RunHereOptions): Promise<number> {
  const threads = options.threads !== undefined ? parseThreadsOption(options.threads) : undefined;
  const baton = await openFor(jobId, options);
  const view = jobView(options.json ?? false);
  try {
    if (baton.isLive(jobId)) {
      const wasPaused = (await baton.status(jobId)).paused;
      await baton.unpause(jobId);
      say(wasPaused ? `resumed job ${jobId} in the process that runs it` : `job ${jobId} is already running in another process; nothing to resume`);
      return 0;
    }
    const job = await withSlowNotice(baton.resume(jobId, threads !== undefined ? { threads } : {}), `resuming ${jobId}: bundling its processor, then its estimateTotalItems…`);
    await job.resume();
    return await followJob(baton, job, { json: options.json ?? false, suffix: dbSuffix(options), view, again: true });
  } finally {
    view.stop();
    await baton.close();
  }
}

/** `baton retry-failed <job>`: asks its live process, or runs the failed pages here to the end. */
export async function retryFailedCommand(jobId: string, options: RunHereOptions): Promise<number> {
  const baton = await openFor(jobId, options);
  const view = jobView(options.json ?? false);
  try {
    const result = await withSlowNotice(baton.retryFailed(jobId), `retrying ${jobId}: bundling its processor, then its estimateTotalItems…`);
    if (!result.ranHere) {
      say(`asked the process running job ${jobId} to rebuild its processor and run its failed pages again; follow it with \`baton status ${jobId}${dbSuffix(options)}\``);
      return 0;
    }
    const before = result.job.snapshot();
    if (!options.json) {
      say(`running ${result.requeued} failed page${result.requeued === 1 ? '' : 's'} of job ${jobId} again`);
      // Retrying is asking the job to run: a paused one runs on to its end, what it had not run yet included.
      const rest = before.pages.queued - result.requeued;
      if (before.paused && rest > 0) say(`job ${jobId} was paused: it runs on, with the ${formatCount(rest)} page${rest === 1 ? '' : 's'} it had not run yet; Ctrl-C pauses it again`);
    }
    if (before.paused) await result.job.resume();
    return await followJob(baton, result.job, { json: options.json ?? false, suffix: dbSuffix(options), view, again: true });
  } finally {
    view.stop();
    await baton.close();
  }
}
