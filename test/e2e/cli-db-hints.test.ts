import { existsSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { fixture, tempDir, waitFor } from '../helpers.js';
import { runCli, startCli, statusOf } from './cli-helpers.js';

describe('the commands an error suggests, with a database given by --db', () => {
  it('name that database, so that following them acts on the same jobs', async () => {
    const dir = tempDir();
    const db = ['--db', 'jobs.db'];
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'known', ...db], dir)).code).toBe(0);

    const unknown = await runCli(['status', 'ghost', ...db], dir);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toBe('baton: no job "ghost" in jobs.db: known jobs include known; see `baton status --db jobs.db`\n');

    const failuresFile = join(dir, 'failures.jsonl');
    expect((await runCli(['run', fixture('always-fails.ts'), '--args', JSON.stringify({ failuresFile }), '--job', 'broke', ...db], dir)).code).toBe(1);
    const resumeFailed = await runCli(['resume', 'broke', ...db], dir);
    expect(resumeFailed.code).toBe(2);
    expect(resumeFailed.stderr).toContain('`baton retry-failed broke --db jobs.db`');

    const runner = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":200,"pages":200}', '--parallel', '1', '--job', 'busy', ...db], dir);
    await waitFor(async () => (await statusOf('busy', dir, 'jobs.db').catch(() => null))?.live, 20_000, 'job busy to run');
    const twice = await runCli(['run', fixture('sleeps.ts'), '--args', '{"ms":200,"pages":200}', '--job', 'busy', ...db], dir);
    expect(twice.code).toBe(2);
    expect(twice.stderr).toMatch(/^baton: job "busy" is already running in process \d+ on .*: pause it there with `baton pause busy --db jobs\.db`, or wait for it to end\n$/m);
    expect((await runCli(['cancel', 'busy', ...db], dir)).code).toBe(0);
    expect((await runner.exited).code).toBe(1);
  });

  it('refuse to serve the panel for a --db that names no file, and create nothing there', async () => {
    const dir = tempDir();
    const missing = await runCli(['ui', '--port', '0', '--db', 'typo/jobs.db'], dir);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toBe('baton: --db typo/jobs.db: there is no Baton database at typo/jobs.db; pass the file your jobs were run with, or leave --db out for .baton/baton.db\n');
    expect(existsSync(join(dir, 'typo'))).toBe(false);
  });

  it('treat an empty file as no database: they say so, and leave it empty', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'empty.db'), '');
    const db = ['--db', 'empty.db'];
    const listed = await runCli(['status', ...db], dir);
    expect(listed.code).toBe(0);
    expect(listed.stdout).toBe('no jobs yet: empty.db is an empty file, not a Baton database; start a job with `baton run <processor>`\n');
    expect((await runCli(['status', '--json', ...db], dir)).stdout).toBe('[]\n');
    const one = await runCli(['pause', 'nightly', ...db], dir);
    expect(one.code).toBe(2);
    expect(one.stderr).toBe('baton: no job "nightly": empty.db is an empty file, not a Baton database; pass --db with the file the job was run with, or start a job with `baton run <processor>`\n');
    const ui = await runCli(['ui', '--port', '0', ...db], dir);
    expect(ui.code).toBe(2);
    expect(ui.stderr).toBe('baton: --db empty.db: empty.db is an empty file, not a Baton database; pass the file your jobs were run with, or leave --db out for .baton/baton.db\n');
    expect(statSync(join(dir, 'empty.db')).size).toBe(0);
    // A run may make it a database, as it would a missing file.
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'first', ...db], dir)).code).toBe(0);
    expect((await runCli(['status', 'first', ...db], dir)).stdout).toMatch(/^state +succeeded/m);
  });

  it('leave --db out for the default database', async () => {
    const dir = tempDir();
    expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":10}', '--job', 'known'], dir)).code).toBe(0);
    const unknown = await runCli(['pause', 'ghost'], dir);
    expect(unknown.stderr).toBe('baton: no job "ghost" in .baton/baton.db: known jobs include known; see `baton status`\n');
  });
});
