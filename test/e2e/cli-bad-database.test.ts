import { fork } from 'node:child_process';
import { copyFileSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { fixture, root, tempDir, waitFor } from '../helpers.js';
import { lines, runCli, startCli, statusOf } from './cli-helpers.js';

/** A job database with a succeeded job `ok` and a failed job `broke`, closed (its WAL folded in). */
async function jobDatabase(dir: string): Promise<string> {
  const db = join(dir, 'jobs.db');
  expect((await runCli(['run', fixture('counts-to.ts'), '--args', '{"total":100}', '--job', 'ok', '--db', db], dir)).code).toBe(0);
  const failuresFile = join(dir, 'failures.jsonl');
  expect((await runCli(['run', fixture('always-fails.ts'), '--args', JSON.stringify({ failuresFile }), '--job', 'broke', '--db', db], dir)).code).toBe(1);
  expect(existsSync(`${db}-wal`)).toBe(false);
  return db;
}

/** Scribbles over the jobs table and every page after it; the header and baton_meta stay, so the file still opens. */
function damage(db: string, copy: string): Buffer {
  const file = new Database(db, { readonly: true });
  const pageSize = Number(file.pragma('page_size', { simple: true }));
  const jobsRoot = Number(file.prepare("SELECT rootpage FROM sqlite_master WHERE name = 'jobs'").pluck().get());
  file.close();
  copyFileSync(db, copy);
  const bytes = readFileSync(copy);
  for (let i = (jobsRoot - 1) * pageSize; i < bytes.length; i++) bytes[i] = 0x5a;
  writeFileSync(copy, bytes);
  return bytes;
}

const READ_AND_CONTROL = [['status'], ['status', 'ok'], ['status', 'ok', '--json'], ['pause', 'ok'], ['resume', 'ok'], ['cancel', 'ok'], ['limits', 'ok'], ['limits', 'ok', '--parallel', '3'], ['retry-failed', 'broke']];

describe('a database that is damaged, locked or no file at all', () => {
  it('damaged: every read and control command says so in one line with exit 2, and leaves the file as it was', async () => {
    const dir = tempDir();
    const damaged = join(dir, 'damaged.db');
    const bytes = damage(await jobDatabase(dir), damaged);
    for (const command of READ_AND_CONTROL) {
      const result = await runCli([...command, '--db', 'damaged.db'], dir);
      expect([result.code, result.stderr], command.join(' ')).toEqual([
        2,
        'baton: damaged.db is not a usable SQLite database (database disk image is malformed): move it aside or pass --db with another file; Baton has not changed it\n',
      ]);
    }
    expect(readFileSync(damaged).equals(bytes)).toBe(true);
  });

  it('locked by another program: a control command says so in one line with exit 2, and works once released', async () => {
    const dir = tempDir();
    const db = await jobDatabase(dir);
    // An unfinished job, paused by Ctrl-C: two pages a second keep it running until then.
    const paused = startCli(['run', fixture('sleeps.ts'), '--args', '{"ms":1,"pages":40}', '--rate-pages', '2', '--job', 'paused', '--db', db], dir);
    await waitFor(async () => (await statusOf('paused', dir, db).catch(() => null))?.live, 20_000, 'job paused to run');
    paused.child.kill('SIGINT');
    expect((await paused.exited).code).toBe(130);
    const holder = fork(join(root, 'test/support/hold-lock.mjs'), [db], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => holder.once('message', resolve));
      for (const command of [['pause', 'paused'], ['retry-failed', 'broke']]) {
        const result = await runCli([...command, '--db', 'jobs.db'], dir);
        expect([result.code, result.stderr], command.join(' ')).toEqual([
          2,
          'baton: jobs.db is locked by another process: close the program holding a write transaction on it, or pass --db with another file\n',
        ]);
      }
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    expect((await runCli(['pause', 'paused', '--db', 'jobs.db'], dir)).code).toBe(0);
  });

  it('a path through a file, or a device: says which in one line with exit 2', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'not a folder\n');
    const through = await runCli(['run', fixture('counts-to.ts'), '--db', 'notes.txt/sub/b.db'], dir);
    expect([through.code, through.stderr]).toEqual([2, 'baton: notes.txt/sub/b.db cannot be created: notes.txt is a file, not a folder; pass --db with a path under a folder\n']);
    for (const command of [['status'], ['status', 'ok'], ['run', fixture('counts-to.ts')]]) {
      const device = await runCli([...command, '--db', '/dev/null'], dir);
      expect(device.code, command.join(' ')).toBe(2);
      expect(lines(device.stderr), command.join(' ')).toEqual(["baton: /dev/null is not a regular file (a device, pipe or socket): pass --db with a file's path, such as .baton/baton.db"]);
    }
  });
});
