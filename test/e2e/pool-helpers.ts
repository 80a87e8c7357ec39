/** A real PagePool for the tests that drive one directly, without a job runner around it. */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CursorFilter } from '../../runner/pool/cursor-filter.js';
import { PagePool } from '../../runner/pool/page-pool.js';
import type { TaskPage } from '../../runner/pool/worker-messages.js';
import { childLogDir } from '../../runner/store/child-log.js';
import { openDatabase } from '../../runner/store/database.js';
import { WriteLock } from '../../runner/store/write-lock.js';
import { tempDir } from '../helpers.js';

/**
 * A pool of worker threads (one unless told) for job 'j' of a fresh database (its threads open
 * the file to commit children), with `source` written as the processor bundle the pages run.
 * `cursorsComplete`: the job's cursor filter is trusted, as a job's runner marks it once it has
 * added the job's pages.
 */
export function startPagePool(source: string, threadsMayWrite = true, { threads = 1, cursorsComplete = false } = {}): { pool: PagePool; bundle: string } {
  const dir = tempDir();
  const file = join(dir, 'baton.db');
  const db = openDatabase(file);
  db.prepare(
    "INSERT INTO jobs (no, id, name, processor, args, state, max_parallel, retry, page_timeout_ms, durability, created_at, started_at) VALUES (1, 'j', 'j', 'p', '{}', 'running', 8, '{}', 60000, 'normal', 0, 0)",
  ).run();
  db.close();
  const bundle = join(dir, 'processor.mjs');
  writeFileSync(bundle, source);
  const lock = new WriteLock();
  lock.threadsMayWrite = threadsMayWrite;
  const cursors = CursorFilter.create(2 ** 10);
  if (cursorsComplete) cursors.markComplete();
  const pool = new PagePool({ boot: { jobId: 'j', argsJson: '{}', threads, direct: { file, jobId: 'j', logDir: childLogDir(file), logRun: 'test', synchronous: 'NORMAL', lock: lock.buffer, cursors: cursors.buffer } }, threads });
  return { pool, bundle };
}

/** Page `no`'s first attempt, with its cursor the number as JSON. */
export const firstAttempt = (no: number): TaskPage => [no, 1, String(no), null, 0];
