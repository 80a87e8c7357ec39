import { unlinkSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, sleep, tempDir, waitFor } from '../helpers.js';
import { runCli, startCli, statusOf } from './cli-helpers.js';

/** The counters of a job run by another process reach the database with its heartbeat (~2 s). */
const HEARTBEAT_MS = 2_000;

describe('controlling a job another process runs', () => {
  it('pauses it from a second process, resumes it, and a cancel ends the first process with a non-zero exit', async () => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":200,"chains":2,"pages":100}', '--parallel', '2', '--job', 'J'], dir);
    await waitFor(async () => {
      const status = await statusOf('J', dir).catch(() => null);
      return status?.live && status.pages.running > 0;
    }, 20_000, 'job J to run pages');

    const pause = await runCli(['pause', 'J'], dir);
    expect(pause.code).toBe(0);
    expect(pause.stdout).toContain('paused job J');

    // Paused, its running pages drain and no new page starts: attempts stop growing.
    const paused = await waitFor(async () => {
      const status = await statusOf('J', dir);
      return status.state === 'paused' && status.pages.running === 0 ? status : null;
    }, 20_000, 'job J to be paused with nothing running');
    expect(paused.live).toBe(true);
    // Which process runs it: the CLI's `baton run`, on this machine.
    expect(paused.runBy).toEqual({ pid: runner.child.pid, host: hostname() });
    await sleep(HEARTBEAT_MS + 500);
    const later = await statusOf('J', dir);
    expect(later.state).toBe('paused');
    expect(later.attempts).toBe(paused.attempts);
    expect(runner.child.exitCode).toBeNull();
    // Paused, it has no pace to show: no rate, no ETA.
    const shown = (await runCli(['status', 'J'], dir)).stdout;
    expect(shown).toMatch(/^state +paused \(a live process runs it\)$/m);
    expect(shown).not.toMatch(/^(rate|eta) /m);
    expect(shown).toMatch(new RegExp(`^run by +process ${runner.child.pid} on ${hostname()}$`, 'm'));

    const resume = await runCli(['resume', 'J'], dir);
    expect(resume.code).toBe(0);
    expect(resume.stdout).toContain('resumed job J in the process that runs it');
    await waitFor(async () => (await statusOf('J', dir)).attempts > later.attempts, 20_000, 'job J to start pages again');

    const cancel = await runCli(['cancel', 'J'], dir);
    expect(cancel.code).toBe(0);
    const ended = await runner.exited;
    expect(ended.code).toBe(1);
    expect(ended.stdout).toMatch(/^job J cancelled: /m);
    expect(ended.stderr).toContain('job J was cancelled');
    expect((await statusOf('J', dir)).state).toBe('cancelled');
    // Its pages that never ran are "not run" in the run's summary and in status alike.
    const [, total, pages] = /^job J cancelled: [\d,]+ items?, ([\d,]+) pages? \(([^)]+ not run)\)/m.exec(ended.stdout) ?? [];
    expect(pages).toBeDefined();
    expect((await runCli(['status', 'J'], dir)).stdout).toMatch(new RegExp(`^pages +${total} total: ${pages}$`, 'm'));
  });

  it('shows its pace, and shows and changes its limits from a second process, which the running process applies', async () => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":200,"chains":2,"pages":150}', '--parallel', '2', '--job', 'L'], dir);
    await waitFor(async () => (await statusOf('L', dir).catch(() => null))?.live, 20_000, 'job L to run');

    expect((await runCli(['limits', 'L'], dir)).stdout).toBe('job L: max parallel 2, no rate limit\n');
    // Its pace, from what its process publishes.
    expect((await runCli(['status', 'L'], dir)).stdout).toMatch(/^rate +[\d,.]+ items\/s, [\d,.]+ pages\/s, \d+ running$/m);
    expect(JSON.parse((await runCli(['status', 'L', '--json'], dir)).stdout)).toMatchObject({
      live: true,
      throughput: { itemsPerSecond: expect.any(Number), pagesPerSecond: expect.any(Number) },
      inFlight: expect.any(Number),
      etaSeconds: null,
      failures: [],
    });
    const raised = await runCli(['limits', 'L', '--parallel', '6', '--rate', '1000'], dir);
    expect(raised.code).toBe(0);
    expect(raised.stdout).toBe('job L: max parallel 6, 1,000 items/s; the process running it applies them within a second\n');
    await waitFor(async () => (await statusOf('L', dir)).maxInFlight >= 5, 20_000, 'job L to run more pages at once');
    // A rate given alone keeps the other kind.
    await runCli(['limits', 'L', '--rate-pages', '40'], dir);
    expect((await statusOf('L', dir)).limits).toEqual({ maxParallel: 6, rateLimit: { itemsPerSecond: 1000, pagesPerSecond: 40 } });
    await runCli(['limits', 'L', '--no-rate'], dir);
    expect((await statusOf('L', dir)).limits).toEqual({ maxParallel: 6 });

    const refused = await runCli(['limits', 'L', '--parallel', '0'], dir);
    expect([refused.code, refused.stderr]).toEqual([2, 'baton: --parallel must be an integer >= 1, got "0"\n']);
    expect((await runCli(['cancel', 'L'], dir)).code).toBe(0);
    await runner.exited;
    const ended = await runCli(['limits', 'L', '--parallel', '3'], dir);
    expect([ended.code, ended.stderr]).toEqual([2, 'baton: job "L" has already ended (cancelled); its limits no longer matter\n']);
  });

  it('pauses on Ctrl-C and exits 130 leaving the job resumable; resume in a new process runs it to success', async () => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":200,"chains":2,"pages":40}', '--parallel', '2', '--job', 'S'], dir);
    await waitFor(() => /^S running .* pages \d+\/\d+ ended \(.*\), [1-9]\d* running/m.test(runner.stdout()), 20_000, 'a progress line with pages running');
    runner.child.kill('SIGINT');
    const stopped = await runner.exited;
    expect(stopped.code, `signal ${stopped.signal}; stdout:\n${stopped.stdout}\nstderr:\n${stopped.stderr}`).toBe(130);
    expect(stopped.stdout).toContain('pausing: running pages finish; Ctrl-C again to stop at once');
    expect(stopped.stderr).toMatch(/job S paused after \d+\/\d+ pages succeeded, \d+ items: resume it with `baton resume S`/);

    const between = await statusOf('S', dir);
    expect(between).toMatchObject({ state: 'paused', live: false, pages: { running: 0 } });
    // When its process let it go: as the paused job's elapsed time ends there.
    expect(Date.parse(between.lastRunAt!)).toBeGreaterThanOrEqual(Date.parse(between.startedAt));
    expect((await runCli(['status', 'S'], dir)).stdout).toMatch(/^last ran +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/m);
    expect(between.pages.succeeded).toBeLessThan(80);

    const resumed = await runCli(['resume', 'S'], dir);
    expect(resumed.code).toBe(0);
    // The counts are the job's; the time is only this run's, and says so.
    expect(resumed.stdout).toMatch(/^job S succeeded: 80 items, 80 pages \(80 ok\), \d+ attempts, [\d.]+m?s this run$/m);
    expect(await statusOf('S', dir)).toMatchObject({ state: 'succeeded', pages: { succeeded: 80, failed: 0 }, failures: [] });
  });

  it('stops at once on a second Ctrl-C, leaving the aborted pages queued to run again', async () => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":5000,"chains":2,"pages":2}', '--parallel', '2', '--job', 'T'], dir);
    await waitFor(() => /^T running .* [1-9] running/m.test(runner.stdout()), 20_000, 'pages running');
    runner.child.kill('SIGINT');
    await waitFor(() => runner.stdout().includes('pausing:'), 10_000, 'the pausing message').catch((error: Error) => {
      throw new Error(`${error.message}; exit ${runner.child.exitCode} ${runner.child.signalCode}; stdout:\n${runner.stdout()}\nstderr:\n${runner.stderr()}`);
    });
    runner.child.kill('SIGINT');
    const stopped = await runner.exited;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('stopping at once');
    // Aborted pages ran no further: nothing succeeded, and they are queued again.
    expect(await statusOf('T', dir)).toMatchObject({ state: 'paused', live: false, pages: { running: 0, succeeded: 0 } });
  });
});

describe('baton run stopped from outside', () => {
  it('says, on a second Ctrl-C of an at-most-once job, that its running pages fail as interrupted, and counts them as failed', async () => {
    const dir = tempDir();
    const log = join(dir, 'runs.log');
    const runner = startCli(['run', fixture('logs-runs-at-most-once.ts'), '--args', JSON.stringify({ log, chains: 2, pages: 3, ms: 4000 }), '--parallel', '2', '--job', 'M'], dir);
    // Both, with their children enqueued (queued pages keep the job from ending): two are to fail as interrupted.
    await waitFor(() => /^M running .*pages 0\/4 ended.*, 2 running/m.test(runner.stdout()), 20_000, 'both chains running, their next pages enqueued');
    runner.child.kill('SIGINT');
    await waitFor(() => runner.stdout().includes('pausing:'), 10_000, 'the pausing message');
    runner.child.kill('SIGINT');
    const stopped = await runner.exited;
    expect(stopped.code).toBe(130);
    expect(stopped.stdout).toContain('stopping at once: running pages are aborted and, at-most-once, fail as interrupted (retry-failed runs them again)');
    expect(stopped.stderr).toMatch(/job M paused after 0\/\d+ pages succeeded \(2 failed: `baton status M`\), 0 items/);
    expect(await statusOf('M', dir)).toMatchObject({ pages: { failed: 2, succeeded: 0 } });
  });

  it.each([
    ['SIGHUP', 'its terminal closed', 129],
    ['SIGTERM', 'a service manager stopping it', 143],
  ] as const)('stops at once on %s (%s), leaving the job resumable, and exits %i, so a script can tell it from Ctrl-C', async (signal, _why, code) => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":5000,"chains":2,"pages":2}', '--parallel', '2', '--job', 'H'], dir);
    await waitFor(() => /^H running .* [1-9] running/m.test(runner.stdout()), 20_000, 'pages running');
    runner.child.kill(signal);
    const stopped = await runner.exited;
    expect([stopped.code, stopped.signal]).toEqual([code, null]);
    expect(stopped.stdout).toContain('stopping at once: running pages are aborted and run again on resume');
    expect(stopped.stderr).toMatch(/job H stopped after 0\/\d+ pages succeeded, 0 items: resume it with `baton resume H`/);
    expect(await statusOf('H', dir)).toMatchObject({ state: 'running', live: false, pages: { running: 0, succeeded: 0 } });
  });

  it('runs the job to its end when the reader of its output goes away (| head -1)', async () => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":100,"chains":2,"pages":15}', '--parallel', '2', '--job', 'P'], dir);
    await waitFor(() => runner.stdout().length > 0, 20_000, 'the first line');
    // As `head -1` does after its line: the pipe's reading end closes.
    runner.child.stdout!.destroy();
    const ended = await runner.exited;
    expect(ended.stderr).not.toMatch(/EPIPE|Unhandled/);
    expect(ended.code).toBe(0);
    expect(await statusOf('P', dir)).toMatchObject({ state: 'succeeded', pages: { succeeded: 30 } });
  });

  it('does not suggest retry-failed for a cancelled job, which never runs again', async () => {
    const dir = tempDir();
    const runner = startCli(['run', fixture('fails-beside-sleeper.ts'), '--args', '{"ms":30000}', '--job', 'C'], dir);
    await waitFor(async () => ((await statusOf('C', dir).catch(() => null))?.pages.failed ?? 0) > 0, 20_000, 'a failed page');
    expect((await runCli(['cancel', 'C'], dir)).code).toBe(0);
    const ended = await runner.exited;
    expect(ended.code).toBe(1);
    expect(ended.stderr).toContain('job C was cancelled; pages that had not run never will');
    expect(ended.stderr).not.toContain('retry-failed');
  });
});

describe('baton retry-failed', () => {
  it('asks the process running a job to retry its failed pages, and says when there are none, as for a job nobody runs', async () => {
    const dir = tempDir();
    const marker = join(dir, 'broken');
    writeFileSync(marker, '');
    const runner = startCli(['run', fixture('fails-beside-chain.ts'), '--args', JSON.stringify({ marker, pages: 200, ms: 100 }), '--parallel', '2', '--job', 'L'], dir);
    await waitFor(async () => (await statusOf('L', dir).catch(() => null))?.live === true, 20_000, 'job L to run');
    await waitFor(async () => (await statusOf('L', dir)).pages.failed > 0, 20_000, 'the failed page');
    unlinkSync(marker);
    const asked = await runCli(['retry-failed', 'L'], dir);
    expect(asked.code).toBe(0);
    expect(asked.stdout).toBe('asked the process running job L to rebuild its processor and run its failed pages again; follow it with `baton status L`\n');
    await waitFor(async () => (await statusOf('L', dir)).pages.failed === 0, 20_000, 'the retried page to succeed');
    const none = await runCli(['retry-failed', 'L'], dir);
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^baton: job "L" has no failed pages to run again; it runs in process \d+\n$/);
    expect((await runCli(['cancel', 'L'], dir)).code).toBe(0);
    await runner.exited;
  });

  it('runs the failed pages of a job nobody runs to the end, once the cause is fixed', async () => {
    const dir = tempDir();
    const marker = join(dir, 'broken');
    writeFileSync(marker, '');
    const args = JSON.stringify({ marker });
    const first = await runCli(['run', fixture('cli-fails-until-fixed.ts'), '--args', args, '--job', 'R'], dir);
    expect(first.code).toBe(1);
    expect(first.stderr).toMatch(/page 2 +cursor 1 +2 attempts +Error: page 1 is broken/);

    unlinkSync(marker);
    const retry = await runCli(['retry-failed', 'R'], dir);
    // Once in six full runs it exited by a signal under load: say which, with what it printed.
    expect(retry.code, `signal ${retry.signal}; stdout: ${retry.stdout}; stderr: ${retry.stderr}`).toBe(0);
    expect(retry.stdout).toContain('running 1 failed page of job R again');
    expect(retry.stdout).toMatch(/^job R succeeded: 30 items, 3 pages \(3 ok\), \d+ attempts, [\d.]+m?s this run$/m);
    expect(await statusOf('R', dir)).toMatchObject({ state: 'succeeded', items: 30, pages: { succeeded: 3, failed: 0 }, failures: [] });
  });

  it('says that a paused job runs on with the pages it had not run yet, and runs it to the end', async () => {
    const dir = tempDir();
    const marker = join(dir, 'broken');
    writeFileSync(marker, '');
    const runner = startCli(['run', fixture('fails-beside-chain.ts'), '--args', JSON.stringify({ marker, pages: 30, ms: 200 }), '--parallel', '2', '--job', 'Q'], dir);
    await waitFor(async () => ((await statusOf('Q', dir).catch(() => null))?.pages.failed ?? 0) > 0, 20_000, 'the failed page');
    runner.child.kill('SIGINT');
    expect((await runner.exited).code).toBe(130);
    const paused = await statusOf('Q', dir);
    expect(paused).toMatchObject({ state: 'paused', pages: { failed: 1 } });
    unlinkSync(marker);
    const retried = await runCli(['retry-failed', 'Q'], dir);
    expect(retried.code).toBe(0);
    expect(retried.stdout).toContain('running 1 failed page of job Q again\n');
    expect(retried.stdout).toContain(`job Q was paused: it runs on, with the ${paused.pages.queued} page${paused.pages.queued === 1 ? '' : 's'} it had not run yet; Ctrl-C pauses it again\n`);
    expect(await statusOf('Q', dir)).toMatchObject({ state: 'succeeded', pages: { succeeded: 31, failed: 0 } });
  });

  it('exits 1 with the failures again when the pages still fail', async () => {
    const dir = tempDir();
    const marker = join(dir, 'broken');
    writeFileSync(marker, '');
    const args = JSON.stringify({ marker });
    expect((await runCli(['run', fixture('cli-fails-until-fixed.ts'), '--args', args, '--job', 'still'], dir)).code).toBe(1);
    const retry = await runCli(['retry-failed', 'still', '--json'], dir);
    expect(retry.code).toBe(1);
    const status = JSON.parse(retry.stdout) as { state: string; failures: { cursor: unknown }[] };
    expect(status.state).toBe('failed');
    expect(status.failures.map((f) => f.cursor)).toEqual([1]);
  });
});
