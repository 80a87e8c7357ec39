import { fork } from 'node:child_process';
import { existsSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobStatus } from '../../runner/protocol.js';
import { fixture, root, tempDir, waitFor } from '../helpers.js';
import { lines, problems, runCli, startCli, statusOf } from './cli-helpers.js';

describe('baton run', () => {
  it('exits 0 and prints a summary when every page succeeds', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":200}', '--job', 'counted'], dir);
    expect(problems(result.stderr)).toEqual([]);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^job counted succeeded: 200 items, 20 pages \(20 ok\), 20 attempts, /m);
  });

  it('counts one page, item and attempt in the singular, in the summary and in status', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":1}', '--job', 'one'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^job one succeeded: 1 item, 1 page \(1 ok\), 1 attempt, /m);
    expect((await runCli(['status', 'one'], dir)).stdout).toMatch(/^attempts +1 \(at most 1 page at once\)$/m);
  });

  it('notes a job that had no pages to run, though it succeeded', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('no-pages.ts'), '--job', 'empty'], dir);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^job empty succeeded: 0 items, 0 pages \(0 ok\), 0 attempts, /m);
    expect(result.stderr).toBe("baton: note: job empty had no pages to run: its processor's initialPages gave none\n");
  });

  it('exits 1 and lists the failing page with its cursor, attempts and error on stderr', async () => {
    const dir = tempDir();
    const args = JSON.stringify({ failuresFile: join(dir, 'failures.jsonl') });
    const result = await runCli(['run', fixture('always-fails.ts'), '--args', args, '--job', 'broken'], dir);
    expect(result.code).toBe(1);
    expect(result.stdout).toMatch(/^job broken failed: 20 items, 3 pages \(2 ok, 1 failed\)/m);
    expect(result.stderr).toContain('1 page failed for good:');
    expect(result.stderr).toMatch(/page 2 +cursor 1 +3 attempts +DatabaseGoneError: page 1 cannot reach the database \(attempt 3\)/);
    // Under it, what its last attempt logged, as `baton status` shows it.
    const failure = lines(result.stderr).findIndex((line) => /^ +page 2 /.test(line));
    expect(lines(result.stderr).slice(failure + 1, failure + 3)).toEqual(["      info   connecting to { host: 'db.internal', port: 5432 }", '      warn   no route to host, attempt 3']);
    expect(result.stderr).toContain('baton retry-failed broken');
  });

  it('prints the final status as JSON with --json, with state, pages and failures', async () => {
    const dir = tempDir();
    const args = JSON.stringify({ failuresFile: join(dir, 'failures.jsonl') });
    const result = await runCli(['run', fixture('always-fails.ts'), '--args', args, '--job', 'as-json', '--json'], dir);
    expect(result.code).toBe(1);
    const status = JSON.parse(result.stdout) as JobStatus;
    expect(status).toMatchObject({
      jobId: 'as-json',
      state: 'failed',
      pages: { total: 3, succeeded: 2, failed: 1, queued: 0, running: 0 },
      items: 20,
    });
    expect(status.failures).toHaveLength(1);
    expect(status.failures[0]).toMatchObject({ cursor: 1, attempts: 3, error: { name: 'DatabaseGoneError' } });
    expect(status.failures[0]!.error.message).toContain('cannot reach the database');
  });

  it("shows every line a processor prints, on stdout and stderr, the last pages' lines included", async () => {
    const dir = tempDir();
    const expected = (verb: string) => [0, 1, 2, 3, 4].flatMap((page) => [0, 1, 2].map((line) => `${verb} by page ${page}, line ${line}`));
    for (let run = 0; run < 3; run++) {
      const result = await runCli(['run', fixture('prints.ts'), '--job', `prints-${run}`, '--threads', '1'], dir);
      expect(result.code).toBe(0);
      expect(lines(result.stdout).filter((line) => line.startsWith('printed')).sort()).toEqual(expected('printed').sort());
      expect(lines(result.stderr).filter((line) => line.startsWith('warned')).sort()).toEqual(expected('warned').sort());
    }
  });

  it('keeps stdout for the JSON alone with --json: what the processor prints, as it loads or as its pages run, goes to stderr', async () => {
    const dir = tempDir();
    const processor = join(dir, 'loud.ts');
    const marker = join(dir, 'broken');
    writeFileSync(marker, '');
    writeFileSync(
      processor,
      `import { existsSync } from 'node:fs';
import { definePageProcessor, NonRetryableError } from 'baton';
console.log('printed as the processor loads');
export default definePageProcessor<number>({
  initialPages: [{ cursor: 0 }, { cursor: 1 }, { cursor: 2 }],
  async run(ctx) {
    console.log('printed by page ' + ctx.page.cursor);
    if (ctx.page.cursor === 1 && existsSync(${JSON.stringify(marker)})) throw new NonRetryableError('broken');
  },
});
`,
    );
    const run = await runCli(['run', processor, '--job', 'quiet', '--json'], dir);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toMatchObject({ jobId: 'quiet', state: 'failed' });
    // Each worker thread loads the processor: its line comes once a thread.
    const printed = (stderr: string) => [...new Set(lines(stderr).filter((line) => line.startsWith('printed')))].sort();
    expect(printed(run.stderr)).toEqual(['printed as the processor loads', 'printed by page 0', 'printed by page 1', 'printed by page 2']);
    unlinkSync(marker);
    const retried = await runCli(['retry-failed', 'quiet', '--json'], dir);
    expect(retried.code).toBe(0);
    expect(JSON.parse(retried.stdout)).toMatchObject({ jobId: 'quiet', state: 'succeeded' });
    expect(printed(retried.stderr)).toEqual(['printed as the processor loads', 'printed by page 1']);
  });

  it('says what it is doing when the start takes a while (a slow estimateTotalItems), instead of sitting silent', async () => {
    const dir = tempDir();
    const slow = await runCli(['run', fixture('slow-estimate.ts'), '--args', '{"ms":1500}', '--job', 'slow'], dir);
    expect(slow.code).toBe(0);
    expect(lines(slow.stderr)).toEqual([`starting: bundling ${fixture('slow-estimate.ts')} and loading it, then its initialPages and estimateTotalItems…`]);
  });

  it("never glues a line the processor left without a newline to its own progress lines, when piped", async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('prints-partial.ts'), '--args', '{"pages":30,"ms":100}', '--parallel', '2', '--job', 'partial'], dir);
    expect(result.code).toBe(0);
    const mixed = lines(result.stdout).filter((line) => line.includes('partial-') && /partial (running|succeeded)|job partial/.test(line));
    expect(mixed).toEqual([]);
    // Every piece the processor wrote is there, none lost.
    const written = lines(result.stdout).filter((line) => line.startsWith('partial-')).join('');
    expect(written.match(/partial-\d+/g)?.sort()).toEqual(Array.from({ length: 30 }, (_, n) => `partial-${n}`).sort());
  });

  it('says so when Ctrl-C comes while the job is starting, and exits 130', async () => {
    const dir = tempDir();
    const starting = startCli(['run', fixture('slow-estimate.ts'), '--args', '{"ms":10000}', '--job', 'early'], dir);
    await waitFor(() => starting.stderr().includes('starting: bundling'), 20_000, 'the start to be slow');
    starting.child.kill('SIGINT');
    const stopped = await starting.exited;
    expect(stopped.code).toBe(130);
    expect(lines(stopped.stderr).at(-1)).toBe(`baton: stopped by Ctrl-C while starting ${fixture('slow-estimate.ts')}: no job was started; a job already recorded stays resumable (\`baton status\`)`);
  });

  it('prints plain progress lines and a final summary when stdout is not a terminal', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":300,"delayMs":20}', '--parallel', '2', '--job', 'plain'], dir);
    expect(result.code).toBe(0);
    // No cursor movement or colours: every line stands alone in a log file.
    expect(result.stdout).not.toContain('\u001b');
    const progress = lines(result.stdout).filter((line) => line.startsWith('plain '));
    expect(progress.length).toBeGreaterThanOrEqual(2);
    for (const line of progress) {
      expect(line).toMatch(/^plain (running|succeeded) [\d,]+\/300 items \([\d.]+%\) [\d,.]+ items\/s pages [\d,]+\/[\d,]+ ended \([\d,]+ ok, [\d,]+ failed\), [\d,]+ running/);
    }
    expect(progress.at(-1)).toMatch(/^plain succeeded 300\/300 items \(100\.0%\)/);
    expect(lines(result.stdout).at(-1)).toMatch(/^job plain succeeded: 300 items/);
  });

  it('passes --parallel, --rate and --rampup on to the job as its limits', async () => {
    const dir = tempDir();
    const result = await runCli(
      ['run', fixture('counts-to.ts'), '--args', '{"total":50}', '--parallel', '3', '--rate', '5000', '--rate-pages', '200', '--rampup', '1:1:100', '--threads', '1', '--job', 'limited', '--json'],
      dir,
    );
    expect(result.code).toBe(0);
    const status = JSON.parse(result.stdout) as JobStatus;
    expect(status.limits).toEqual({ maxParallel: 3, rateLimit: { itemsPerSecond: 5000, pagesPerSecond: 200 } });
    expect(status.state).toBe('succeeded');
  });

  it('writes its database to --db when given, and to .baton/baton.db under the current folder otherwise', async () => {
    const dir = tempDir();
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'here'], dir)).code).toBe(0);
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'there', '--db', 'elsewhere/jobs.db'], dir)).code).toBe(0);
    const here = JSON.parse((await runCli(['status', '--json'], dir)).stdout) as { jobId: string }[];
    const there = JSON.parse((await runCli(['status', '--json', '--db', join(dir, 'elsewhere', 'jobs.db')], dir)).stdout) as { jobId: string }[];
    expect(here.map((job) => job.jobId)).toEqual(['here']);
    expect(there.map((job) => job.jobId)).toEqual(['there']);
  });
});

describe('baton run --job naming an unfinished job', () => {
  it('refuses another processor or other args in one line naming the job\'s own, and resumes it given the same ones', async () => {
    const dir = tempDir();
    const args = '{"ms":1,"pages":40}';
    // Two pages a second: the job is still running when Ctrl-C pauses it.
    const first = startCli(['run', fixture('sleeps.ts'), '--args', args, '--rate-pages', '2', '--job', 'reused', '--db', 'jobs.db'], dir);
    await waitFor(async () => (await statusOf('reused', dir, 'jobs.db').catch(() => null))?.live, 20_000, 'job reused to run');
    first.child.kill('SIGINT');
    expect((await first.exited).code).toBe(130);

    const other = await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'reused', '--db', 'jobs.db'], dir);
    expect(other.code).toBe(2);
    expect(problems(other.stderr)).toEqual([
      `baton: job "reused" runs processor ${fixture('sleeps.ts')}, not ${fixture('counts-to.ts')}, and has args ${args}, not {"total":10}: ` +
        'to go on with that job, `baton resume reused --db jobs.db`; to start yours, give it another job id (--job)',
    ]);
    const otherArgs = await runCli(['run', fixture('sleeps.ts'), '--args', '{"ms":1,"pages":5}', '--job', 'reused', '--db', 'jobs.db'], dir);
    expect(otherArgs.code).toBe(2);
    expect(problems(otherArgs.stderr)).toEqual([
      `baton: job "reused" has args ${args}, not {"ms":1,"pages":5}: to go on with that job, \`baton resume reused --db jobs.db\`; to start yours, give it another job id (--job)`,
    ]);
    expect((await statusOf('reused', dir, 'jobs.db')).pages.total).toBeLessThan(40);

    // The same args, their keys in another order, go on with the job (faster, as asked).
    const same = await runCli(['run', fixture('sleeps.ts'), '--args', '{"pages":40,"ms":1}', '--rate-pages', '1000', '--job', 'reused', '--db', 'jobs.db'], dir);
    expect(same.code).toBe(0);
    expect(same.stdout).toMatch(/^job reused succeeded: 40 items, 40 pages \(40 ok\)/m);
  });
});

describe('baton run refusing bad input', () => {
  it('stops on a database another program keeps locked, says so in one line with how to go on, and that command finishes the job', async () => {
    const dir = tempDir();
    const db = join(dir, 'jobs.db');
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":20,"chains":2,"pages":200}', '--parallel', '2', '--job', 'locked-out', '--db', db], dir);
    await waitFor(async () => ((await statusOf('locked-out', dir, db).catch(() => null))?.pages.succeeded ?? 0) >= 10, 20_000, 'the job to make progress');
    // Held past the runner's busy timeout (5 s): its next commit gives up. The job would need
    // 4 s to finish, time enough for the holder to start on a loaded machine.
    const holder = fork(join(root, 'test/support/hold-lock.mjs'), [db], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => holder.once('message', resolve));
      const result = await runner.exited;
      expect(result.code).toBe(2);
      expect(lines(result.stderr).at(-1)).toBe(
        'baton: job locked-out stopped: jobs.db is locked by another process: close the program holding a write transaction on it, or pass --db with another file; ' +
          `what it committed is kept, and \`baton resume locked-out --db ${db}\` goes on once that is fixed`,
      );
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    const resumed = await runCli(['resume', 'locked-out', '--db', 'jobs.db'], dir);
    expect(resumed.code).toBe(0);
    expect(resumed.stdout).toMatch(/^job locked-out succeeded: 400 items, 400 pages \(400 ok\)/m);
  }, 60_000);

  it('answers --args that is not JSON with one line naming the problem and the fix, and exit 2', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('counts-to.ts'), '--args', '{total: 10}'], dir);
    expect(result.code).toBe(2);
    expect(lines(result.stderr)).toHaveLength(1);
    expect(result.stderr).toMatch(/^baton: --args must be JSON, such as --args '\{"total":1000\}'/);
    expect(result.stderr).not.toMatch(/\n\s+at /);
    expect(result.stdout).toBe('');
  });

  it('refuses --args given twice rather than running with the last one, and starts no job', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--args', '{"size":2}', '--db', 'jobs.db'], dir);
    expect([result.code, result.stderr]).toEqual([2, `baton: --args was given 2 times; give it once, with every argument in one JSON object, such as --args '{"total":1000,"dryRun":true}'\n`]);
    expect(existsSync(join(dir, 'jobs.db'))).toBe(false);
  });

  it('answers an out-of-range option with one line naming the option', async () => {
    const dir = tempDir();
    const parallel = await runCli(['run', fixture('counts-to.ts'), '--parallel', '0'], dir);
    expect(parallel.code).toBe(2);
    expect(parallel.stderr).toBe('baton: --parallel must be an integer >= 1, got "0"\n');
    const cores = availableParallelism();
    const threads = await runCli(['run', fixture('counts-to.ts'), '--threads', '1000'], dir);
    expect([threads.code, threads.stderr]).toEqual([2, `baton: --threads must be at most ${4 * cores} (4 per core, and this machine has ${cores} core${cores === 1 ? '' : 's'}), got "1000"\n`]);
    const huge = await runCli(['run', fixture('counts-to.ts'), '--parallel', '1e9'], dir);
    expect([huge.code, huge.stderr]).toEqual([2, 'baton: --parallel must be at most 1000000 (more pages in flight than one process can hold), got "1e9"\n']);
    const rampup = await runCli(['run', fixture('counts-to.ts'), '--rampup', 'fast'], dir);
    expect(rampup.code).toBe(2);
    expect(rampup.stderr).toMatch(/^baton: --rampup must be FROM:STEP:MS, such as 1:1:2000, got "fast"\n$/);
    const above = await runCli(['run', fixture('counts-to.ts'), '--rampup', '20:1:100'], dir);
    expect([above.code, above.stderr]).toEqual([
      2,
      'baton: --rampup FROM must be at most --parallel (8, the default), got 20: the ramp would start at the limit and do nothing; lower --rampup FROM or raise --parallel\n',
    ]);
  });

  it('names a processor file that does not exist, in one line', async () => {
    const dir = tempDir();
    const result = await runCli(['run', 'missing-processor.ts'], dir);
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toHaveLength(1);
    expect(problems(result.stderr)[0]).toMatch(/^baton: processor missing-processor\.ts does not exist/);
  });

  it('points at the file and line of a syntax error', async () => {
    const dir = tempDir();
    const result = await runCli(['run', fixture('syntax-error.ts')], dir);
    expect(result.code).toBe(2);
    expect(problems(result.stderr)).toHaveLength(1);
    expect(problems(result.stderr)[0]).toMatch(/^baton: processor .*syntax-error\.ts does not build: .*syntax-error\.ts:6:\d+: /);
  });

  it('says in one line that spec files are not supported yet', async () => {
    const dir = tempDir();
    const result = await runCli(['run', 'nightly.batch.yaml'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^baton: nightly\.batch\.yaml: spec files .* are not supported yet; run a page processor \(\.ts, \.mts, \.cts, \.js, \.mjs or \.cjs\) instead\n$/);
  });

  it('calls a JSON file that is no spec (package.json) what it is: not a processor', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'package.json'), '{}');
    const result = await runCli(['run', 'package.json'], dir);
    expect(result.code).toBe(2);
    expect(result.stderr).toBe('baton: processor package.json is not a TypeScript or JavaScript file: a processor is a .ts, .mts, .cts, .js, .mjs or .cjs file that exports definePageProcessor({ ... })\n');
  });
});

describe('baton usage', () => {
  it('answers unknown commands and options, and missing arguments, in one baton: line with where to see the options, and exit 2', async () => {
    const dir = tempDir();
    const expectations: [string[], string][] = [
      [['frobnicate'], "baton: unknown command 'frobnicate': see `baton --help`\n"],
      [['help', 'frobnicate'], "baton: unknown command 'frobnicate': see `baton --help`\n"],
      [['run', fixture('counts-to.ts'), '--frobnicate'], "baton: unknown option '--frobnicate': see `baton run --help`\n"],
      [['run', fixture('counts-to.ts'), '--paralel', '2'], "baton: unknown option '--paralel' (did you mean --parallel?): see `baton run --help`\n"],
      [['run'], "baton: missing required argument 'processor': see `baton run --help`\n"],
      [['limits', 'j', '--rate'], "baton: option '--rate <n>' argument missing: see `baton limits --help`\n"],
    ];
    for (const [args, stderr] of expectations) {
      const result = await runCli(args, dir);
      expect([result.code, result.stderr], args.join(' ')).toEqual([2, stderr]);
    }
  });

  it('takes --max-parallel as another name for --parallel, and refuses --rate with --no-rate', async () => {
    const dir = tempDir();
    const run = await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":20}', '--max-parallel', '3', '--job', 'named', '--json'], dir);
    expect(run.code).toBe(0);
    expect((JSON.parse(run.stdout) as JobStatus).limits.maxParallel).toBe(3);
    for (const flags of [['--rate', '5', '--no-rate'], ['--no-rate', '--rate', '5']]) {
      const both = await runCli(['limits', 'named', ...flags], dir);
      expect([both.code, both.stderr], flags.join(' ')).toEqual([2, 'baton: --no-rate removes every rate limit: give it without --rate, or --rate without it\n']);
    }
  });

  it('prints the package version with --version and the commands with --help', async () => {
    const dir = tempDir();
    const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
    const shown = await runCli(['--version'], dir);
    expect(shown).toMatchObject({ code: 0, stdout: `${version}\n` });
    const help = await runCli(['--help'], dir);
    expect(help.code).toBe(0);
    for (const command of ['run', 'resume', 'status', 'pause', 'cancel', 'retry-failed', 'new']) expect(help.stdout).toContain(`  ${command} `);
  });
});
