/** `baton run <processor>`: starts a job and runs it here to the end. */
import { PROCESSOR_FILES } from '../build/build-processor.js';
import { Baton } from '../engine/baton.js';
import { checkRampupWithin, DEFAULT_MAX_PARALLEL, type StartOptions } from '../engine/options.js';
import { BatonError } from '../errors.js';
import type { Durability } from '../store/database.js';
import { dbPath, dbSuffix, parseArgsOption, parseJobOption, parseParallelOption, parseRampupOption, parseRateOptions, parseThreadsOption, type DbOption } from './cli-options.js';
import { EXIT_INTERRUPTED, followJob, jobView } from './follow-job.js';
import { SLOW_START_MS, stalledNote, withSlowNotice } from './slow-notice.js';

/** The options of `baton run`, as commander reads them (strings). */
export interface RunCommandOptions extends DbOption {
  /** Every --args given, in order (see parseArgsOption). */
  args?: string[];
  /** --parallel or --max-parallel. */
  parallel?: string;
  rampup?: string;
  rate?: string;
  ratePages?: string;
  job?: string;
  json?: boolean;
  threads?: string;
  durability?: Durability;
}

const SPEC_FILE = /\.batch\.(ya?ml|json)$/i;

/** Reads the command line into start options; throws a BatonError naming a bad option. */
export function runStartOptions(processor: string, options: RunCommandOptions): StartOptions {
  if (SPEC_FILE.test(processor)) {
    throw new BatonError('INVALID_OPTION', `${processor}: spec files (.batch.yaml, .batch.json) are not supported yet; run a page processor (${PROCESSOR_FILES}) instead`);
  }
  const rateLimit = parseRateOptions(options.rate, options.ratePages);
  const maxParallel = options.parallel !== undefined ? parseParallelOption(options.parallel) : undefined;
  const rampup = options.rampup !== undefined ? parseRampupOption(options.rampup) : undefined;
  // As the engine checks it (fillStartOptions), in the command line's words.
  if (rampup !== undefined && (maxParallel !== undefined || options.job === undefined)) {
    checkRampupWithin(rampup, maxParallel ?? DEFAULT_MAX_PARALLEL, maxParallel === undefined, { from: '--rampup FROM', maxParallel: '--parallel' });
  }
  return {
    processor,
    ...(options.args !== undefined ? { args: parseArgsOption(options.args) } : {}),
    ...(options.job !== undefined ? { jobId: parseJobOption(options.job) } : {}),
    ...(maxParallel !== undefined ? { maxParallel } : {}),
    ...(rampup !== undefined ? { rampup } : {}),
    ...(rateLimit !== undefined ? { rateLimit } : {}),
    ...(options.threads !== undefined ? { threads: parseThreadsOption(options.threads) } : {}),
  };
}

/** Resolves with the exit code: 0 when every page succeeded. */
export async function runCommand(processor: string, options: RunCommandOptions): Promise<number> {
  const start = runStartOptions(processor, options);
  const baton = await Baton.open({ db: dbPath(options), ...(options.durability !== undefined ? { durability: options.durability } : {}) });
  const view = jobView(options.json ?? false);
  // Ctrl-C before the job has started (a slow bundle or estimate): nothing to pause yet.
  const stopStarting = (): void => {
    process.stderr.write(`baton: stopped by Ctrl-C while starting ${processor}: no job was started; a job already recorded stays resumable (\`baton status${dbSuffix(options)}\`)\n`);
    process.exit(EXIT_INTERRUPTED);
  };
  process.once('SIGINT', stopStarting);
  try {
    const job = await withSlowNotice(
      baton.start(start),
      `starting: bundling ${processor} and loading it, then its initialPages and estimateTotalItems…`,
      process.stderr,
      SLOW_START_MS,
      stalledNote('starting', processor),
    ).finally(() => process.off('SIGINT', stopStarting));
    // `--job` naming a paused job resumes it; running it is what the user asked for.
    if (job.snapshot().paused) await job.resume();
    return await followJob(baton, job, { json: options.json ?? false, suffix: dbSuffix(options), view });
  } finally {
    view.stop();
    await baton.close();
  }
}
