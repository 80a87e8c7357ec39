import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PagePool } from '../../runner/pool/page-pool.js';
import type { TaskPage } from '../../runner/pool/worker-messages.js';
import { openDatabase } from '../../runner/store/database.js';
import { WriteLock } from '../../runner/store/write-lock.js';
import { tempDir } from '../helpers.js';

const PROCESSOR = `export default { async run() { return { items: 1 }; } };`;

let pool: PagePool | undefined;
afterEach(async () => {
  await pool?.destroy();
  pool = undefined;
});

/** A pool of one real worker thread over a job's database, with a bundle whose pages end at once. */
async function startPool(): Promise<{ pool: PagePool; bundle: string }> {
  const dir = tempDir();
  const file = join(dir, 'baton.db');
  const db = openDatabase(file);
  db.prepare(
    "INSERT INTO jobs (no, id, name, processor, args, state, max_parallel, retry, page_timeout_ms, durability, created_at, started_at) VALUES (1, 'j', 'j', 'p', '{}', 'running', 8, '{}', 60000, 'normal', 0, 0)",
  ).run();
  db.close();
  const bundle = join(dir, 'ends-at-once.mjs');
  writeFileSync(bundle, PROCESSOR);
  const lock = new WriteLock();
  pool = new PagePool({ boot: { jobId: 'j', argsJson: '{}', threads: 1, direct: { file, jobId: 'j', synchronous: 'NORMAL', lock: lock.buffer } }, threads: 1 });
  return { pool, bundle };
}

const page = (no: number): TaskPage => [no, 1, String(no), null, 0];

describe('PagePool', () => {
  it("reports a thread's exit only once Piscina sends it no more tasks, so pages dispatched then run on its replacement", async () => {
    const { pool, bundle } = await startPool();
    await pool.runPages(bundle, [page(1)]);
    const [threadId] = pool.threadIds();
    // What a job does when a thread it stopped is gone: its pages' retries go out at once.
    const retried = new Promise<void>((resolve, reject) => {
      pool.onThreadExit(() => pool.runPages(bundle, [page(2)]).then(resolve, reject));
    });
    expect(pool.terminateThread(threadId!)).toBe(true);
    await expect(retried).resolves.toBeUndefined();
    expect(pool.threadIds()).not.toContain(threadId);
  });
});
