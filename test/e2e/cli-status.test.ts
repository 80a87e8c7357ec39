import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { JobStatus, JobSummary } from '../../runner/protocol.js';
import { fixture, tempDir, waitFor } from '../helpers.js';
import { lines, runCli, startCli, statusOf } from './cli-helpers.js';

describe('baton status', () => {
  it('lists the jobs of the database as a table, and as JSON with --json', async () => {
    const dir = tempDir();
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":100}', '--job', 'first'], dir)).code).toBe(0);
    const failing = JSON.stringify({ failuresFile: join(dir, 'failures.jsonl') });
    expect((await runCli(['run', fixture('always-fails.ts'), '--args', failing, '--job', 'second'], dir)).code).toBe(1);

    const table = await runCli(['status'], dir);
    expect(table.code).toBe(0);
    const [header, ...rows] = lines(table.stdout);
    expect(header).toMatch(/^JOB +STATE +LIVE +PAGES +FAILED +ITEMS +STARTED$/);
    expect(rows).toHaveLength(2);
    expect(rows[0]).toMatch(/^first +succeeded +no +10\/10 +0 +100 +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
    expect(rows[1]).toMatch(/^second +failed +no +2\/3 +1 +20 +/);

    const json = await runCli(['status', '--json'], dir);
    expect(json.code).toBe(0);
    const jobs = JSON.parse(json.stdout) as JobSummary[];
    expect(jobs.map((job) => [job.jobId, job.state, job.live])).toEqual([
      ['first', 'succeeded', false],
      ['second', 'failed', false],
    ]);
  });

  it("shows one job's summary, limits and failures (page, cursor, attempts, error)", async () => {
    const dir = tempDir();
    const failing = JSON.stringify({ failuresFile: join(dir, 'failures.jsonl') });
    expect((await runCli(['run', fixture('always-fails.ts'), '--args', failing, '--job', 'shown', '--parallel', '4'], dir)).code).toBe(1);

    const text = await runCli(['status', 'shown'], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^state +failed$/m);
    expect(text.stdout).toMatch(/^pages +3 total: 2 ok, 1 failed$/m);
    expect(text.stdout).toMatch(/^limits +max parallel 4$/m);
    expect(text.stdout).toMatch(/page 2 +cursor 1 +3 attempts +DatabaseGoneError: page 1 cannot reach the database \(attempt 3\)/);
    // Under it, what its last attempt logged.
    const failure = lines(text.stdout).findIndex((line) => line.includes('DatabaseGoneError'));
    expect(lines(text.stdout).slice(failure + 1)).toEqual(["      info   connecting to { host: 'db.internal', port: 5432 }", '      warn   no route to host, attempt 3']);

    const json = await runCli(['status', 'shown', '--json'], dir);
    const status = JSON.parse(json.stdout) as JobStatus;
    expect(status).toMatchObject({ jobId: 'shown', state: 'failed', live: false, limits: { maxParallel: 4 }, pages: { failed: 1 } });
    expect(status.failures.map((f) => [f.page, f.cursor, f.attempts, f.error.name])).toEqual([[2, 1, 3, 'DatabaseGoneError']]);
    // What the text shows under the failure, as data: its last attempt's last lines.
    const [failure0] = (status as JobStatus & { failures: { lastLog: unknown }[] }).failures;
    expect(failure0!.lastLog).toEqual([
      { attempt: 3, at: expect.any(Number), level: 'info', message: "connecting to { host: 'db.internal', port: 5432 }" },
      { attempt: 3, at: expect.any(Number), level: 'warn', message: 'no route to host, attempt 3' },
    ]);
  });

  it('says when nobody runs an unfinished job (its process was killed), and the command that goes on works', async () => {
    const dir = tempDir();
    const db = join(dir, 'jobs', 'baton.db');
    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":50,"chains":2,"pages":40}', '--parallel', '2', '--job', 'K', '--db', db], dir);
    await waitFor(async () => (await statusOf('K', dir, db).catch(() => null))?.live === true, 20_000, 'job K to run');
    runner.child.kill('SIGKILL');
    await runner.exited;

    const text = await runCli(['status', 'K', '--db', db], dir);
    expect(text.code).toBe(0);
    const command = /^state +running, and no process runs it: `(baton resume K --db \S+)` goes on$/m.exec(text.stdout);
    expect(command, text.stdout).not.toBeNull();
    // Nobody runs it: no process is named.
    expect(text.stdout).not.toMatch(/^run by/m);
    expect((await statusOf('K', dir, db)).runBy).toBeUndefined();
    const resumed = await runCli([...command![1]!.split(' ').slice(1), '--json'], dir);
    expect(resumed.code).toBe(0);
    expect(JSON.parse(resumed.stdout)).toMatchObject({ jobId: 'K', state: 'succeeded', pages: { succeeded: 80 } });
  });

  it('says there are no jobs, and creates no database, where there is none', async () => {
    const dir = tempDir();
    const text = await runCli(['status'], dir);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(/^no jobs yet/);
    expect((await runCli(['status', '--json'], dir)).stdout).toBe('[]\n');
    expect(existsSync(join(dir, '.baton'))).toBe(false);
  });
});

describe('commands about an unknown job', () => {
  const commands = [['status'], ['pause'], ['resume'], ['cancel'], ['retry-failed'], ['limits']];

  it('name the job in one line and exit 2, with or without a database', async () => {
    const empty = tempDir();
    const withJobs = tempDir();
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'known'], withJobs)).code).toBe(0);
    for (const dir of [empty, withJobs]) {
      for (const command of commands) {
        const result = await runCli([...command, 'no-such-job'], dir);
        expect(result.code, `${command.join(' ')} in ${dir === empty ? 'an empty folder' : 'a folder with jobs'}`).toBe(2);
        expect(lines(result.stderr)).toHaveLength(1);
        expect(result.stderr).toMatch(/^baton: no job "no-such-job"/);
      }
    }
    // The known job is offered as a hint; the empty folder got no database.
    expect((await runCli(['pause', 'no-such-job'], withJobs)).stderr).toContain('known');
    expect(existsSync(join(empty, '.baton'))).toBe(false);
  });

  it('refuse to pause, resume or cancel a job that has ended, in one line that says what applies to it', async () => {
    const dir = tempDir();
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'over'], dir)).code).toBe(0);
    for (const command of ['pause', 'cancel', 'resume']) {
      const result = await runCli([command, 'over'], dir);
      expect([result.code, result.stderr]).toEqual([2, `baton: job "over" has already ended (succeeded); there is nothing to ${command}\n`]);
    }
    const failuresFile = join(dir, 'failures.jsonl');
    expect((await runCli(['run', fixture('always-fails.ts'), '--args', JSON.stringify({ failuresFile }), '--job', 'broke'], dir)).code).toBe(1);
    const resumeFailed = await runCli(['resume', 'broke'], dir);
    expect([resumeFailed.code, resumeFailed.stderr]).toEqual([2, 'baton: job "broke" has already ended (failed): run its failed pages again with `baton retry-failed broke`\n']);
    const cancelFailed = await runCli(['cancel', 'broke'], dir);
    expect([cancelFailed.code, cancelFailed.stderr]).toEqual([2, 'baton: job "broke" has already ended (failed); there is nothing to cancel\n']);
  });
});
