#!/usr/bin/env node
/**
 * The `baton` command. It parses the command line and calls the commands in cli/; it holds no
 * engine logic. Exit codes: 0 success, 1 a job that did not succeed (or an unexpected error),
 * 2 bad input (usage, options, processor, unknown job), 130 stopped by Ctrl-C, 143 by SIGTERM,
 * 129 by SIGHUP (resumable).
 */
import { Command, CommanderError, Option } from 'commander';
import { PROCESSOR_FILES } from './build/build-processor.js';
import { DEFAULT_DB } from './engine/options.js';
import { cancelCommand, limitsCommand, pauseCommand, resumeCommand, retryFailedCommand } from './cli/control-commands.js';
import { newCommand } from './cli/new-command.js';
import { packageVersion } from './cli/package-version.js';
import { EXIT_INPUT_ERROR, formatParserError, reportError } from './cli/report-error.js';
import { runCommand } from './cli/run-command.js';
import { statusCommand } from './cli/status-command.js';
import { uiCommand } from './cli/ui-command.js';
import { DEFAULT_TEMPLATE, listTemplates } from './scaffold.js';

function dbOption(): Option {
  return new Option('--db <path>', `the SQLite file (default: ${DEFAULT_DB})`);
}

function jsonOption(what: string): Option {
  return new Option('--json', what);
}

/** Keeps every value of a repeated option, for the command to judge. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function buildProgram(setExitCode: (code: number) => void): Command {
  const program = new Command('baton')
    .description('Run many like operations safely: pipelined pages on a worker-thread pool with durable SQLite state.')
    .version(packageVersion(), '-v, --version', 'print the version')
    .exitOverride()
    .showSuggestionAfterError();

  program
    .command('run')
    .description('start a job from a page processor and run it here to the end')
    .argument('<processor>', `the processor file (${PROCESSOR_FILES})`)
    .addOption(new Option('--args <json>', 'JSON arguments for the processor, such as \'{"total":1000}\'').argParser(collect))
    .option('--max-parallel, --parallel <n>', 'pages in flight at most, up to 1000000 (default: 8)')
    .option('--rampup <from:step:ms>', 'grow parallelism from FROM by STEP every MS, such as 1:1:2000')
    .option('--rate <n>', 'items per second at most')
    .option('--rate-pages <n>', 'pages per second at most')
    .option('--job <id>', 'the job id (default: generated); an unfinished job with this id, processor and args is resumed')
    .option('--threads <n>', 'worker threads, at most 4 per core (default: available parallelism)')
    .addOption(new Option('--durability <mode>', 'normal survives a crash; full also a power cut (default: normal)').choices(['normal', 'full']))
    .addOption(jsonOption('print the final status as JSON instead of progress'))
    .addOption(dbOption())
    .action(async (processor: string, options) => setExitCode(await runCommand(processor, options)));

  program
    .command('resume')
    .description('resume a paused or stopped job: in the process running it, or here to the end')
    .argument('<job>', 'the job id')
    .option('--threads <n>', 'worker threads, when it runs here; at most 4 per core')
    .addOption(jsonOption('print the final status as JSON instead of progress'))
    .addOption(dbOption())
    .action(async (job: string, options) => setExitCode(await resumeCommand(job, options)));

  program
    .command('status')
    .description('list jobs, or show one job with its failed pages')
    .argument('[job]', 'the job id')
    .addOption(jsonOption('print JSON'))
    .addOption(dbOption())
    .action(async (job: string | undefined, options) => setExitCode(await statusCommand(job, options)));

  program
    .command('pause')
    .description('pause a job wherever it runs: running pages finish, no new page starts')
    .argument('<job>', 'the job id')
    .addOption(dbOption())
    .action(async (job: string, options) => setExitCode(await pauseCommand(job, options)));

  program
    .command('cancel')
    .description('cancel a job for good wherever it runs')
    .argument('<job>', 'the job id')
    .addOption(dbOption())
    .action(async (job: string, options) => setExitCode(await cancelCommand(job, options)));

  // Commander keeps only the last of --rate and --no-rate; their events tell that both came.
  const rateFlags = new Set<string>();
  program
    .command('limits')
    .description('show a job\'s limits, or change them wherever it runs')
    .argument('<job>', 'the job id')
    .option('--max-parallel, --parallel <n>', 'pages in flight at most')
    .option('--rate <n>', 'items per second at most')
    .option('--rate-pages <n>', 'pages per second at most')
    .option('--no-rate', 'no rate limit')
    .addOption(dbOption())
    .on('option:rate', () => rateFlags.add('--rate'))
    .on('option:no-rate', () => rateFlags.add('--no-rate'))
    .action(async (job: string, options) => setExitCode(await limitsCommand(job, { ...options, rateAndNoRate: rateFlags.size === 2 })));

  program
    .command('retry-failed')
    .description("rebuild the processor and run a job's failed pages again")
    .argument('<job>', 'the job id')
    .addOption(jsonOption('print the final status as JSON instead of progress'))
    .addOption(dbOption())
    .action(async (job: string, options) => setExitCode(await retryFailedCommand(job, options)));

  program
    .command('ui')
    .description('show the progress panel in a browser: served on 127.0.0.1, at an address with a secret token')
    .option('--port <n>', 'the port (default: 7788; 0 picks a free one)')
    .addOption(dbOption())
    .action(async (options) => setExitCode(await uiCommand(options)));

  const templates = listTemplates();
  program
    .command('new')
    .description('write a new page processor from a template')
    .argument('<name>', 'the processor name; writes <name>.ts (a name ending in .ts or .js is used as is)')
    .addOption(
      new Option('--template <id>', `${templates.map((t) => `${t.id}: ${t.title}`).join('; ')}`).choices(templates.map((t) => t.id)).default(DEFAULT_TEMPLATE),
    )
    .option('--dir <dir>', 'the folder to write in (default: the current folder)')
    .addOption(dbOption().hideHelp())
    .action((name: string, options) => setExitCode(newCommand(name, options)));

  for (const command of [program, ...program.commands]) {
    const help = command === program ? 'baton --help' : `baton ${command.name()} --help`;
    command.configureOutput({ outputError: (text, write) => write(formatParserError(text, help)) });
  }
  return program;
}

async function main(argv: string[]): Promise<number> {
  let exitCode = 0;
  const program = buildProgram((code) => (exitCode = code));
  // Commander answers `help <unknown>` with the general help alone, as if it were not a mistake.
  const [, , first, second] = argv;
  if (first === 'help' && second !== undefined && second !== 'help' && !second.startsWith('-') && !program.commands.some((command) => command.name() === second || command.aliases().includes(second))) {
    process.stderr.write(`baton: unknown command '${second}': see \`baton --help\`\n`);
    return EXIT_INPUT_ERROR;
  }
  try {
    await program.parseAsync(argv);
    return exitCode;
  } catch (error) {
    // Commander has printed its message (formatParserError), or the help or version, already.
    if (error instanceof CommanderError) return error.exitCode === 0 ? 0 : EXIT_INPUT_ERROR;
    return reportError(error);
  }
}

function flushed(stream: NodeJS.WriteStream): Promise<void> {
  return new Promise((resolve) => stream.write('', () => resolve()));
}

// A reader that goes away (`baton run … | head -1`, a pager quit early) must not take the job
// down with an unhandled EPIPE: what is written from then on is dropped, and the job runs on.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (error: NodeJS.ErrnoException) => {
    if (error.code !== 'EPIPE') throw error;
  });
}

const code = await main(process.argv);
await Promise.all([flushed(process.stdout), flushed(process.stderr)]);
process.exit(code);
