// The controls and queries take the keys and values they document, and refuse the rest
// (INVALID_OPTION), as start and setLimits do: a misspelt key must not quietly mean "all".
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { fixture, tempDir, waitFor } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

async function open(): Promise<Baton> {
  baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
  return baton;
}

/** What a caller written in JavaScript can pass where the types allow only the documented shape. */
const loose = <T>(value: unknown): T => value as T;

/** A job that ended failed: page 2 (cursor 1) failed after 3 attempts, pages 1 and 3 succeeded. */
async function failedJob(b: Baton, jobId = 'failed'): Promise<{ attempts: number }> {
  const job = await b.start({ processor: fixture('always-fails.ts'), args: { failuresFile: join(tempDir(), 'failures.jsonl') }, jobId });
  const summary = await job.done;
  expect(summary).toMatchObject({ state: 'failed', pages: { failed: 1, succeeded: 2 } });
  return { attempts: summary.attempts };
}

describe('retryFailed', () => {
  it('refuses a misspelt key rather than run every failed page again, through the Baton and the job handle', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('always-fails.ts'), args: { failuresFile: join(tempDir(), 'failures.jsonl') }, jobId: 'typo' });
    const { attempts } = await job.done;
    const message = 'retryFailed has no option "pag": the options are page';
    await expect(b.retryFailed('typo', loose({ pag: 2 }))).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
    await expect(job.retryFailed(loose({ pag: 2 }))).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
    // Nothing ran again.
    expect(await b.status('typo')).toMatchObject({ state: 'failed', attempts, pages: { failed: 1 } });
    expect(await b.attempts('typo')).toHaveLength(attempts);
  });

  it.each([
    [{ page: 'abc' }, 'page must be an integer >= 1, got "abc"'],
    [{ page: 1.5 }, 'page must be an integer >= 1, got 1.5'],
    [5, 'retryFailed takes an object { page? }, got 5'],
  ])('refuses %j, saying what it takes', async (options, message) => {
    const b = await open();
    await failedJob(b);
    await expect(b.retryFailed('failed', loose(options))).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it('of a job another Baton runs, with no failed page, rejects with NO_FAILED_PAGES: the job has not ended', async () => {
    const db = join(tempDir(), 'shared.db');
    const owner = await Baton.open({ db });
    try {
      const job = await owner.start({ processor: fixture('sleeps.ts'), args: { ms: 200, pages: 50 }, jobId: 'busy', maxParallel: 1 });
      const other = await Baton.open({ db });
      try {
        await expect(other.retryFailed('busy')).rejects.toMatchObject({ code: 'NO_FAILED_PAGES', message: `job "busy" has no failed pages to run again; it runs in process ${process.pid}` });
      } finally {
        await other.close();
      }
      await job.cancel();
    } finally {
      await owner.close({ stop: 'now' });
    }
  });

  it('refuses a page that does not exist, or did not fail, naming the failed pages, and runs nothing', async () => {
    const b = await open();
    const { attempts } = await failedJob(b);
    const see = expect.stringMatching(/ \(see `baton status failed --db .*baton\.db`\)$/);
    await expect(b.retryFailed('failed', { page: 999 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/^page 999: job "failed" has no page 999; only a failed page runs again, and its failed pages are 2 \(see /),
    });
    await expect(b.retryFailed('failed', { page: 1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/^page 1: page 1 of job "failed" has succeeded, not failed; only a failed page runs again, and its failed pages are 2 \(see /),
    });
    await expect(b.retryFailed('failed', { page: 1 })).rejects.toMatchObject({ message: see });
    expect(await b.status('failed')).toMatchObject({ state: 'failed', attempts, live: false, pages: { failed: 1 } });
    // The job is not left claimed: the failed page itself still runs again.
    const result = await b.retryFailed('failed', { page: 2 });
    expect(result).toMatchObject({ ranHere: true, requeued: 1 });
    if (result.ranHere) expect(await result.job.done).toMatchObject({ state: 'failed', attempts: attempts + 3 });
  });

  it('on a handle whose job has ended, and on one whose job still runs, refuses a page that is not failed', async () => {
    const b = await open();
    const ended = await b.start({ processor: fixture('always-fails.ts'), args: { failuresFile: join(tempDir(), 'failures.jsonl') }, jobId: 'ended' });
    await ended.done;
    await expect(ended.retryFailed({ page: 3 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^page 3: page 3 of job "ended" has succeeded, not failed/) });
    expect(ended.active).toBe(false);

    const running = await b.start({ processor: fixture('fails-beside-sleeper.ts'), args: { ms: 60_000 }, jobId: 'running' });
    await waitFor(async () => (await b.status('running')).pages.failed === 1, 20_000, 'page 1 to fail');
    await expect(running.retryFailed({ page: 2 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: expect.stringMatching(/^page 2: page 2 of job "running" is (running|queued), not failed; only a failed page runs again, and its failed pages are 1 /),
    });
    await expect(running.retryFailed({ page: 7 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^page 7: job "running" has no page 7;/) });
    expect(await running.retryFailed({ page: 1 })).toBe(1);
    expect(running.active).toBe(true);
  });
});

describe('pages, attempts and logs', () => {
  it.each([
    [{ stat: 'failed' }, 'pages has no option "stat": the options are state, after, limit'],
    [{ state: 'bogus' }, 'state must be one of queued, running, succeeded, failed, got "bogus"'],
    [{ limit: Number.NaN }, 'limit must be an integer >= 1, got NaN'],
    [{ after: 'x' }, 'after must be an integer >= 0, got "x"'],
  ])('pages refuses %j, where it returned every page, none, or a raw SQLite error', async (query, message) => {
    const b = await open();
    await failedJob(b);
    await expect(b.pages('failed', loose(query))).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it.each([
    [{ pag: 2 }, 'attempts has no option "pag": the options are page, limit, endedAfter, startedBefore'],
    [{ endedAfter: new Date(0).toISOString() }, 'endedAfter must be a time in epoch milliseconds, such as Date.now() - 60000, got "1970-01-01T00:00:00.000Z" (use Date.parse(text))'],
    [{ startedBefore: new Date(0) }, 'startedBefore must be a time in epoch milliseconds, such as Date.now() - 60000, got "1970-01-01T00:00:00.000Z" (use date.getTime())'],
    [{ limit: Number.NaN }, 'limit must be an integer >= 1, got NaN'],
  ])('attempts refuses %j, where it returned every attempt or none', async (query, message) => {
    const b = await open();
    await failedJob(b);
    await expect(b.attempts('failed', loose(query))).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
  });

  it('still answers the queries they document', async () => {
    const b = await open();
    await failedJob(b);
    expect((await b.pages('failed', { state: 'failed' })).map((p) => p.page)).toEqual([2]);
    expect((await b.pages('failed', { after: 1, limit: 1 })).map((p) => p.page)).toEqual([2]);
    expect((await b.attempts('failed', { page: 2 })).map((a) => a.attempt)).toEqual([3, 2, 1]);
    expect(await b.attempts('failed', { endedAfter: Date.now() + 60_000 })).toEqual([]);
    expect((await b.logs('failed', 2, 1)).map((line) => line.message)).toEqual(['connecting to { host: \'db.internal\', port: 5432 }', 'no route to host, attempt 1']);
  });

  it('logs refuses a page the job does not have, rather than answer no lines', async () => {
    const b = await open();
    await failedJob(b);
    await expect(b.logs('failed', 999)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'page 999: job "failed" has no page 999; baton.pages("failed") lists them' });
    expect(await b.logs('failed', 1)).toEqual([]);
  });

  it('logs refuses a page or attempt that is not a number', async () => {
    const b = await open();
    await failedJob(b);
    await expect(b.logs('failed', loose('2'))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'page must be an integer >= 1, got "2"' });
    await expect(b.logs('failed', 2, 0)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'attempt must be an integer >= 1, got 0' });
  });
});

describe('stop and close', () => {
  it("refuse a mode that is not 'drain' or 'now', and leave the job running", async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 60_000 }, jobId: 'stopping' });
    await expect(job.stop(loose('nwo'))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: `stop must be 'drain' or 'now', got "nwo"` });
    await expect(b.close(loose({ stop: 'nwo' }))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: `stop must be 'drain' or 'now', got "nwo"` });
    await expect(b.close(loose({ mode: 'now' }))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'close has no option "mode": the options are stop' });
    expect(job.active).toBe(true);
    expect(b.isLive('stopping')).toBe(true);
    expect(await job.stop('now')).toMatchObject({ state: 'running', live: false });
  });

  it('leave a stopped job cancellable through its handle, as baton.cancel does, and refuse once the Baton is closed', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 60_000 }, jobId: 'stopped' });
    expect(await job.stop('now')).toMatchObject({ state: 'running', live: false });
    expect(await job.cancel()).toMatchObject({ jobId: 'stopped', state: 'cancelled' });
    expect((await b.status('stopped')).state).toBe('cancelled');
    await expect(job.cancel()).rejects.toMatchObject({ code: 'JOB_FINISHED' });

    const other = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 60_000 }, jobId: 'closed-then-cancelled' });
    await b.close({ stop: 'now' });
    await expect(other.cancel()).rejects.toMatchObject({ code: 'BATON_CLOSED' });
  });

  it("leave a job's snapshot readable after the Baton is closed: where it stood when it stopped", async () => {
    const b = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 60_000 }, jobId: 'closed' });
    await b.close({ stop: 'now' });
    expect(job.snapshot()).toMatchObject({ jobId: 'closed', state: 'running', live: false, pages: { running: 0 } });
  });
});

describe('resume', () => {
  it('refuses a misspelt or mistyped option, before anything runs, even for a job running here', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 200, pages: 50 }, jobId: 'r', maxParallel: 1 });
    await expect(b.resume('r', loose({ thread: 2 }))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'resume has no option "thread": the options are threads' });
    await expect(b.resume('r', loose(4))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'resume takes an object { threads? }, got 4' });
    await expect(b.resume('r', loose({ threads: 'x' }))).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^threads must be an integer/) });
    expect(await b.resume('r', { threads: 1 })).toBe(job);
    await job.cancel();
  });
});

describe('start with the id of a job running here', () => {
  it('applies paused and the limits given, and refuses threads and rampup, which applied when it started', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 200, pages: 50 }, jobId: 'again', maxParallel: 1 });
    await expect(b.start({ processor: fixture('sleeps.ts'), jobId: 'again', threads: 1 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'job "again" already runs here: threads apply when a job starts or resumes; leave it out to go on with it, or give another jobId',
    });
    await expect(b.start({ processor: fixture('sleeps.ts'), jobId: 'again', threads: 1, rampup: { from: 1, step: 1, everyMs: 1000 } })).rejects.toMatchObject({
      message: expect.stringMatching(/^job "again" already runs here: threads and rampup apply when/),
    });
    expect(await b.start({ processor: fixture('sleeps.ts'), jobId: 'again', paused: true, maxParallel: 2 })).toBe(job);
    expect(job.snapshot()).toMatchObject({ paused: true, limits: { maxParallel: 2 } });
    await b.start({ processor: fixture('sleeps.ts'), jobId: 'again', paused: false });
    expect(job.snapshot().paused).toBe(false);
    await job.cancel();
  });
});

describe('setLimits', () => {
  it('refuses a job that succeeded or was cancelled, whose limits apply to nothing, and keeps its record; a failed one takes them for its retry', async () => {
    const b = await open();
    const done = await b.start({ processor: fixture('counts-to.ts'), args: { total: 3 }, jobId: 'done', maxParallel: 4 });
    expect((await done.done).state).toBe('succeeded');
    const refusal = { code: 'JOB_FINISHED', message: 'job "done" has already ended (succeeded): its limits apply to nothing any more' };
    await expect(b.setLimits('done', { maxParallel: 2 })).rejects.toMatchObject(refusal);
    await expect(done.setLimits({ maxParallel: 2 })).rejects.toMatchObject(refusal);
    expect((await b.status('done')).limits).toEqual({ maxParallel: 4 });

    await failedJob(b);
    await b.setLimits('failed', { maxParallel: 2 });
    expect((await b.status('failed')).limits).toEqual({ maxParallel: 2 });
  });
});

describe('rateLimit', () => {
  it('refuses {} and [] in start and setLimits, rather than take them for no limit: only null removes one', async () => {
    const b = await open();
    const removing = 'rateLimit must set itemsPerSecond, pagesPerSecond or both, got {}; pass rateLimit: null to remove the rate limit';
    // @ts-expect-error {} sets no rate: a type error in TypeScript, and refused at run time for JavaScript
    await expect(b.start({ processor: fixture('plain.js'), rateLimit: {} })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: removing });
    await expect(b.start({ processor: fixture('plain.js'), rateLimit: loose([]) })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: 'rateLimit must be { itemsPerSecond?, pagesPerSecond? }, got []',
    });
    expect(await b.jobs()).toEqual([]);

    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 60_000 }, jobId: 'limited', rateLimit: { pagesPerSecond: 15 } });
    // @ts-expect-error {} sets no rate: a type error in TypeScript, and refused at run time for JavaScript
    await expect(job.setLimits({ rateLimit: {} })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: removing });
    await expect(b.setLimits('limited', { rateLimit: loose([]) })).rejects.toMatchObject({ code: 'INVALID_OPTION' });
    expect(job.snapshot().limits).toEqual({ maxParallel: 8, rateLimit: { pagesPerSecond: 15 } });
    await job.stop('now');
    // @ts-expect-error {} sets no rate: a type error in TypeScript, and refused at run time for JavaScript
    await expect(b.setLimits('limited', { rateLimit: {} })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: removing });
    expect((await b.status('limited')).limits).toEqual({ maxParallel: 8, rateLimit: { pagesPerSecond: 15 } });
    await b.setLimits('limited', { rateLimit: null });
    expect((await b.status('limited')).limits).toEqual({ maxParallel: 8 });
  });
});

describe('circular values', () => {
  it('in args: INVALID_JSON_VALUE naming the path, not a stack overflow', async () => {
    const b = await open();
    const args: Record<string, unknown> = { a: 1 };
    args.self = args;
    await expect(b.start({ processor: fixture('plain.js'), args: loose(args) })).rejects.toMatchObject({
      code: 'INVALID_JSON_VALUE',
      message: 'args must be a JSON value, but args.self refers back to args (a cycle: JSON cannot hold one; copy the values instead)',
    });
    expect(await b.jobs()).toEqual([]);
  });

  it('in an initial cursor: the processor is refused, naming the path', async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('circular-cursor.ts'), args: { where: 'initial' } })).rejects.toMatchObject({
      code: 'PROCESSOR_INVALID',
      message:
        'processor test/fixtures/circular-cursor.ts has a bad initial page: initialPages[0]: cursor must be a JSON value, but cursor.self.back refers back to cursor (a cycle: JSON cannot hold one; copy the values instead)',
    });
  });

  it('in a cursor handed to enqueueNextPage: the call rejects, naming the path', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('circular-cursor.ts'), args: { where: 'enqueue' }, jobId: 'enqueues-cycle' });
    expect(await job.done).toMatchObject({ state: 'failed', pages: { total: 1, failed: 1 } });
    const [failure] = (await b.status('enqueues-cycle')).failures;
    expect(failure!.error.message).toBe('enqueueNextPage: cursor must be a JSON value, but cursor.self.back refers back to cursor (a cycle: JSON cannot hold one; copy the values instead)');
  });
});
