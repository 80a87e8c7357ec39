import { fork } from 'node:child_process';
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import type { JsonValue } from '../../runner/json-value.js';
import { Baton } from '../../runner/index.js';
import { fixture, root, tempDir } from '../helpers.js';

let baton: Baton | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

async function open(db = join(tempDir(), 'baton.db')): Promise<Baton> {
  baton = await Baton.open({ db });
  return baton;
}

describe('a broken processor', () => {
  it('that does not exist: names the file and how to make one', async () => {
    const b = await open();
    await expect(b.start({ processor: join(root, 'test/fixtures/nope.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_NOT_FOUND',
      message: 'processor test/fixtures/nope.ts does not exist: check the path, or create one with `baton new <name>`',
    });
    expect(await b.jobs()).toEqual([]);
  });

  it('that is not code (a .txt file): says what a processor is', async () => {
    const dir = tempDir();
    writeFileSync(join(dir, 'notes.txt'), 'export default 1\n');
    const b = await open(join(dir, 'baton.db'));
    await expect(b.start({ processor: join(dir, 'notes.txt') })).rejects.toMatchObject({
      code: 'PROCESSOR_INVALID',
      message: expect.stringMatching(/ is not a TypeScript or JavaScript file: a processor is a \.ts, \.mts, \.cts, \.js, \.mjs or \.cjs file that exports definePageProcessor\(\{ \.\.\. \}\)$/),
    });
    expect(await b.jobs()).toEqual([]);
  });

  it("with a syntax error: gives esbuild's file:line:column", async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('syntax-error.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_BUILD_FAILED',
      message: expect.stringMatching(/^processor test\/fixtures\/syntax-error\.ts does not build: test\/fixtures\/syntax-error\.ts:6:\d+: Expected "\)" but found "}"; fix it and run again$/),
      // The same place, for an editor to go to.
      location: { file: fixture('syntax-error.ts'), line: 6, column: 3 },
    });
  });

  it("with a TypeScript type-annotation error: gives esbuild's file:line:column", async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('type-syntax-error.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_BUILD_FAILED',
      message: expect.stringContaining('test/fixtures/type-syntax-error.ts:3:13: Unexpected "="'),
    });
  });

  it('without a default export: says what to export', async () => {
    const b = await open();
    const error = await b.start({ processor: fixture('no-default-export.ts') }).catch((thrown: unknown) => thrown);
    expect(error).toMatchObject({
      code: 'PROCESSOR_INVALID',
      message: 'processor test/fixtures/no-default-export.ts has no default export: export default definePageProcessor({ ... })',
    });
    // No line is at fault.
    expect(error).not.toHaveProperty('location');
  });

  it('without run(): says what to add', async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('no-run.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_INVALID',
      message: 'processor test/fixtures/no-run.ts default export has no run(ctx) function: definePageProcessor({ async run(ctx) { ... } })',
    });
  });

  it('that throws while loading: gives its error', async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('throws-on-load.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_INVALID',
      message: 'processor test/fixtures/throws-on-load.ts threw while loading: DATABASE_URL is not set (at test/fixtures/throws-on-load.ts:3:7)',
      location: { file: fixture('throws-on-load.ts'), line: 3, column: 7 },
    });
  });

  it('that throws while loading in a module of its own: names the error and where it threw', async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('imports-broken-module.ts') })).rejects.toMatchObject({
      code: 'PROCESSOR_INVALID',
      message: expect.stringMatching(
        /^processor test\/fixtures\/imports-broken-module\.ts threw while loading: TypeError: Cannot read properties of undefined \(reading 'port'\) \(at test\/fixtures\/lib\/reads-missing-setting\.ts:3:\d+\)$/,
      ),
      location: { file: fixture('lib/reads-missing-setting.ts'), line: 3, column: expect.any(Number) },
    });
  });

  it.each([
    ['initialPages throws', /^threw in initialPages\(args\): connect ECONNREFUSED 127\.0\.0\.1:5432 \(at test\/fixtures\/bad-setup\.ts:\d+:\d+\); fix it and run again$/],
    ['initialPages is not an array', 'has bad initialPages: they must be an array of { cursor, size? } or a function returning one, got {"cursor":1}'],
    ['an initial cursor is not JSON', 'has a bad initial page: initialPages[1]: cursor must be a JSON value, but cursor is a Map'],
    ['an initial page has a misspelt key', 'has a bad initial page: initialPages[0] has no option "sise": the options are cursor, size'],
    ['estimateTotalItems throws', /^threw in estimateTotalItems\(args\): Cannot read properties of undefined \(reading 'count'\) \(at test\/fixtures\/bad-setup\.ts:\d+:\d+\); fix it and run again$/],
    ['the estimate is negative', 'has a bad estimate: estimateTotalItems must return a number >= 0, got -1'],
    ['the estimate is NaN', 'has a bad estimate: estimateTotalItems must return a number >= 0, got NaN'],
  ] as [string, string | RegExp][])('whose setup goes wrong (%s): says where, and starts no job', async (broken, message) => {
    const b = await open();
    await expect(b.start({ processor: fixture('bad-setup.ts'), args: { broken } })).rejects.toMatchObject({
      code: 'PROCESSOR_INVALID',
      // What threw in the user's code also says where.
      message: typeof message === 'string' ? `processor test/fixtures/bad-setup.ts ${message}` : expect.stringMatching(new RegExp(`^processor test/fixtures/bad-setup\\.ts ${message.source.slice(1)}`)),
    });
    expect(await b.jobs()).toEqual([]);
  });

  it('that was moved away from a stopped job: says to put it back, keeps the job, and goes on once it is back', async () => {
    const dir = tempDir();
    const processor = join(dir, 'moved.js');
    copyFileSync(fixture('plain.js'), processor);
    const b = await open(join(dir, 'baton.db'));
    await (await b.start({ processor, jobId: 'moved', paused: true })).stop();
    renameSync(processor, `${processor}.bak`);
    await expect(b.resume('moved')).rejects.toMatchObject({
      code: 'PROCESSOR_NOT_FOUND',
      message: `job "moved" runs processor ${processor}, which no longer exists: put it back there (Baton builds it again to go on), then run the command again; the job's pages are kept`,
    });
    expect(await b.status('moved')).toMatchObject({ state: 'paused', live: false });
    renameSync(`${processor}.bak`, processor);
    const job = await b.resume('moved');
    await job.resume();
    expect(await job.done).toMatchObject({ state: 'succeeded', items: 10 });
  });

  it('that no longer builds when its failed pages are retried: rejects and keeps the failures', async () => {
    const dir = tempDir();
    const processor = join(dir, 'fails.ts');
    writeFileSync(processor, readFileSync(fixture('always-fails.ts'), 'utf8'));
    const b = await open(join(dir, 'baton.db'));
    const job = await b.start({ processor, args: { failuresFile: join(dir, 'failures') }, jobId: 'rebuild' });
    expect((await job.done).state).toBe('failed');
    writeFileSync(processor, 'export default {{');
    await expect(job.retryFailed()).rejects.toMatchObject({ code: 'PROCESSOR_BUILD_FAILED' });
    expect(await b.status('rebuild')).toMatchObject({ state: 'failed', pages: { failed: 1 }, failures: [expect.objectContaining({ cursor: 1 })] });
  });
});

describe('a page that hands Baton a bad value', () => {
  it.each([
    ['a misspelt key in enqueueNextPage', 'TypeError', 'enqueueNextPage has no option "sise": the options are cursor, size'],
    ['reportProgress(NaN)', 'TypeError', 'reportProgress(items): items must be a number >= 0, got NaN'],
    ['returned items negative', 'TypeError', 'run() returned { items: -3 }: items must be a number >= 0, or left out to count what reportProgress reported'],
    ['returned items a string', 'TypeError', 'run() returned { items: "7" }: items must be a number >= 0, or left out to count what reportProgress reported'],
  ])('fails the page, saying what to change (%s)', async (mode, name, message) => {
    const b = await open();
    const job = await b.start({ processor: fixture('bad-page-values.ts'), args: { mode }, jobId: 'bad-value' });
    expect(await job.done).toMatchObject({ state: 'failed', items: 0, pages: { total: 1, failed: 1 } });
    const [failure] = (await b.status('bad-value')).failures;
    expect(failure!.error).toMatchObject({ name, message });
  });
});

describe('bad options', () => {
  it.each([
    [{ maxParallel: 0 }, 'maxParallel must be an integer >= 1, got 0'],
    [{ threads: 1.5 }, 'threads must be an integer >= 1, got 1.5'],
    [{ jobId: 'has space' }, 'jobId must be 1-128 letters, digits, \'.\', \'_\' or \'-\', starting with a letter or digit, got "has space"'],
    [{ rampup: { from: 0, step: 1, everyMs: 10 } }, 'rampup.from must be an integer >= 1, got 0'],
    [{ rateLimit: { pagesPerSecond: 0 } }, 'rateLimit.pagesPerSecond must be a number > 0, got 0'],
  ])('%j is refused with a message that starts with the option name', async (options, message) => {
    const b = await open();
    await expect(b.start({ processor: fixture('plain.js'), ...options })).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
  });

  describe('a misspelt option, which would otherwise be ignored in silence, is refused with the options there are', () => {
    it.each([
      [{ maxParalel: 4 }, 'start has no option "maxParalel": the options are processor, args, jobId, maxParallel, rampup, rateLimit, paused, threads'],
      [{ rateLimit: { itemPerSecond: 10 } }, 'rateLimit has no option "itemPerSecond": the options are itemsPerSecond, pagesPerSecond'],
      [{ rampup: { from: 1, step: 1, every: 10 } }, 'rampup has no option "every": the options are from, step, everyMs'],
    ])('in start options: %j', async (options, message) => {
      const b = await open();
      await expect(b.start({ processor: fixture('plain.js'), ...(options as object) })).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
      expect(await b.jobs()).toEqual([]);
    });

    it('in Baton.open and setLimits, for a running job and one that is not', async () => {
      await expect(Baton.open({ database: 'x.db' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'Baton.open has no option "database": the options are db, durability, busyTimeoutMs' });
      const b = await open();
      const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 5_000 }, jobId: 'limits' });
      const message = 'setLimits has no option "parallel": the options are maxParallel, rateLimit';
      await expect(job.setLimits({ parallel: 2 } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
      await job.stop('now');
      await expect(b.setLimits('limits', { parallel: 2 } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message });
      expect((await b.status('limits')).limits).toEqual({ maxParallel: 8 });
    });

    it.each([
      ['misspelt-option.ts', 'processor test/fixtures/misspelt-option.ts has an unknown option: definePageProcessor has no option "pageTimeoutMS": the options are name, initialPages, retry, pageTimeoutMs, estimateTotalItems, run, onPageFailed'],
      ['misspelt-retry.ts', 'processor test/fixtures/misspelt-retry.ts: retry has no option "maxAttempt": the options are mode, maxAttempts, initialDelayMs, backoffFactor, maxDelayMs, nonRetryable'],
    ])('in a processor: %s', async (file, message) => {
      const b = await open();
      await expect(b.start({ processor: fixture(file) })).rejects.toMatchObject({ code: 'PROCESSOR_INVALID', message });
      expect(await b.jobs()).toEqual([]);
    });
  });

  it('refuses args that are not JSON', async () => {
    const b = await open();
    await expect(b.start({ processor: fixture('plain.js'), args: { since: new Date(0) } as never })).rejects.toMatchObject({
      code: 'INVALID_JSON_VALUE',
      message: 'args must be a JSON value, but args.since is a Date (use date.toISOString())',
    });
  });

  it('passes any JSON value on as the args, null included; only missing args are {}', async () => {
    const b = await open();
    for (const [jobId, args, expected] of [['none', undefined, {}], ['null', null, null], ['number', 5, 5], ['list', [1, 2], [1, 2]]] as [string, JsonValue | undefined, JsonValue][]) {
      const job = await b.start({ processor: fixture('args-as-cursor.ts'), jobId, ...(args === undefined ? {} : { args }) });
      expect((await job.done).state, jobId).toBe('succeeded');
      expect((await b.pages(jobId)).map((page) => page.cursor), jobId).toEqual([expected]);
    }
  });
});

describe('unknown and finished jobs', () => {
  it('names an unknown job id, the database, and the jobs that do exist', async () => {
    const db = join(tempDir(), 'baton.db');
    const b = await open(db);
    await expect(b.resume('ghost')).rejects.toMatchObject({ code: 'JOB_NOT_FOUND', message: `no job "ghost" in ${db}: it has no jobs yet; start one with \`baton run <processor> --db ${db}\`` });
    await (await b.start({ processor: fixture('plain.js'), jobId: 'real' })).done;
    for (const call of [() => b.status('ghost'), () => b.pause('ghost'), () => b.cancel('ghost'), () => b.retryFailed('ghost')]) {
      await expect(call()).rejects.toMatchObject({ code: 'JOB_NOT_FOUND', message: `no job "ghost" in ${db}: known jobs include real; see \`baton status --db ${db}\`` });
    }
  });

  it('refuses to pause or unpause a job that has ended', async () => {
    const b = await open();
    await (await b.start({ processor: fixture('plain.js'), jobId: 'ended' })).done;
    await expect(b.pause('ended')).rejects.toMatchObject({ code: 'JOB_FINISHED', message: 'job "ended" has already ended (succeeded); there is nothing to pause' });
    await expect(b.unpause('ended')).rejects.toMatchObject({ code: 'JOB_FINISHED', message: 'job "ended" has already ended (succeeded); there is nothing to resume' });
    await expect(b.cancel('ended')).rejects.toMatchObject({ code: 'JOB_FINISHED', message: 'job "ended" has already ended (succeeded); there is nothing to cancel' });
  });

  it('does not go on with an unfinished job under the same id with another processor or other args', async () => {
    const db = join(tempDir(), 'baton.db');
    const b = await open(db);
    await b.start({ processor: fixture('plain.js'), args: { a: 1, b: [1, 2] }, jobId: 'mine', paused: true });
    await expect(b.start({ processor: fixture('counts-to.ts'), jobId: 'mine' })).rejects.toMatchObject({
      code: 'JOB_MISMATCH',
      message: `job "mine" runs processor test/fixtures/plain.js, not test/fixtures/counts-to.ts: to go on with that job, \`baton resume mine --db ${db}\`; to start yours, give it another job id (--job)`,
    });
    await expect(b.start({ processor: fixture('plain.js'), args: { a: 2 }, jobId: 'mine' })).rejects.toMatchObject({
      code: 'JOB_MISMATCH',
      message: expect.stringContaining('job "mine" has args {"a":1,"b":[1,2]}, not {"a":2}: '),
    });
    // The same processor, with the same args (in any key order) or none, is the job itself.
    const job = await b.start({ processor: fixture('plain.js'), args: { b: [1, 2], a: 1 }, jobId: 'mine' });
    expect(await b.start({ processor: fixture('plain.js'), jobId: 'mine' })).toBe(job);
    await job.resume();
    expect((await job.done).state).toBe('succeeded');
  });

  it('lets one of two starts of a new job id at once win, and tells the other which process runs it', async () => {
    const db = join(tempDir(), 'baton.db');
    const first = await open(db);
    const second = await Baton.open({ db });
    try {
      // Both find no job "race" and build the processor before either records it. The job runs
      // about 2 s, so that on a loaded machine the loser still finds it running, not ended.
      const starts = await Promise.allSettled([first, second].map((b) => b.start({ processor: fixture('sleeps.ts'), args: { ms: 400, pages: 5 }, jobId: 'race' })));
      const won = starts.filter((start) => start.status === 'fulfilled');
      const lost = starts.filter((start): start is PromiseRejectedResult => start.status === 'rejected');
      expect(won).toHaveLength(1);
      expect(lost).toHaveLength(1);
      expect(lost[0]!.reason).toMatchObject({ code: 'JOB_LOCKED', message: expect.stringMatching(/^job "race" is already running in process \d+ on /) });
      expect((await (won[0] as PromiseFulfilledResult<Awaited<ReturnType<Baton['start']>>>).value.done).state).toBe('succeeded');
    } finally {
      await second.close({ stop: 'now' });
    }
  });

  it('does not start a finished job again under the same id', async () => {
    const b = await open();
    await (await b.start({ processor: fixture('plain.js'), jobId: 'once' })).done;
    await expect(b.start({ processor: fixture('plain.js'), jobId: 'once' })).rejects.toMatchObject({
      code: 'JOB_FINISHED',
      message: 'job "once" has already ended (succeeded): start a new job with another id',
    });
  });
});

describe('a closed Baton', () => {
  it('refuses every call with BATON_CLOSED and says to open another', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('plain.js'), jobId: 'done' });
    await job.done;
    await b.close();
    const calls = [
      () => job.retryFailed(),
      () => b.start({ processor: fixture('plain.js') }),
      () => b.resume('done'),
      () => b.retryFailed('done'),
      () => b.jobs(),
      () => b.status('done'),
      () => b.pages('done'),
      () => b.attempts('done'),
      () => b.logs('done', 1),
      () => b.pause('done'),
      () => b.unpause('done'),
      () => b.setLimits('done', { maxParallel: 2 }),
      () => b.cancel('done'),
      async () => b.isLive('done'),
      async () => b.watch('done', () => {}),
      async () => b.watchJobs(() => {}),
    ];
    for (const call of calls) {
      await expect(call()).rejects.toMatchObject({ code: 'BATON_CLOSED', message: 'this Baton is closed: open a new one with Baton.open()' });
    }
  });

  it('refuses a new run while close() drains, and the running job still ends as asked', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('sleeps.ts'), args: { ms: 300 }, jobId: 'draining' });
    const closing = b.close();
    await expect(b.start({ processor: fixture('plain.js') })).rejects.toMatchObject({ code: 'BATON_CLOSED', message: 'this Baton is closing: open a new one with Baton.open()' });
    await closing;
    // Drained, not ended: it stays resumable.
    expect(await job.done).toMatchObject({ jobId: 'draining', state: 'running', live: false });
  });
});

describe('a bad database file', () => {
  it('that is a folder: says so, and what path to give instead', async () => {
    const dir = tempDir();
    const folder = join(dir, 'jobs.db');
    mkdirSync(folder);
    await expect(Baton.open({ db: folder })).rejects.toMatchObject({
      code: 'DB_CORRUPT',
      message: `${folder} is a folder, not a database file: set Baton.open's db to a file's path, such as ${join(folder, 'baton.db')}`,
    });
    expect(readdirSync(folder)).toEqual([]);
  });

  it('that is not SQLite: says so, and leaves the file untouched', async () => {
    const dir = tempDir();
    const file = join(dir, 'baton.db');
    const bytes = Buffer.from('this is a spreadsheet, not a database '.repeat(200));
    writeFileSync(file, bytes);
    await expect(Baton.open({ db: file })).rejects.toMatchObject({
      code: 'DB_CORRUPT',
      message: expect.stringMatching(/baton\.db is not a usable SQLite database \(file is not a database\): move it aside or set Baton\.open's db to another file; Baton has not changed it$/),
    });
    expect(readFileSync(file).equals(bytes)).toBe(true);
  });

  it("that belongs to another program: refuses it, and leaves it untouched", async () => {
    const dir = tempDir();
    const file = join(dir, 'app.db');
    const other = new Database(file);
    other.exec("CREATE TABLE customers (id INTEGER PRIMARY KEY, name TEXT); INSERT INTO customers VALUES (1, 'Ada')");
    other.close();
    const before = readFileSync(file);
    await expect(Baton.open({ db: file })).rejects.toMatchObject({
      code: 'DB_CORRUPT',
      message: expect.stringContaining('app.db is a SQLite database of another program (tables: customers): set Baton.open\'s db to a file of Baton\'s own'),
    });
    expect(readFileSync(file).equals(before)).toBe(true);
  });

  it('that is damaged: says so on open or first use, and loses nothing more', async () => {
    const dir = tempDir();
    const file = join(dir, 'baton.db');
    baton = await Baton.open({ db: file });
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'kept' })).done;
    await baton.close();
    baton = undefined;
    const copy = join(dir, 'copy.db');
    copyFileSync(file, copy);
    const bytes = readFileSync(copy);
    // Scribble over every page after the header page.
    for (let i = 4096; i < bytes.length; i++) bytes[i] = 0x5a;
    writeFileSync(copy, bytes);
    const attempt = async () => {
      const b = await Baton.open({ db: copy });
      try {
        await b.jobs();
        await b.status('kept');
      } finally {
        await b.close();
      }
    };
    await expect(attempt()).rejects.toMatchObject({ code: 'DB_CORRUPT', message: expect.stringContaining('copy.db is not a usable SQLite database') });
    expect(readFileSync(copy).equals(bytes)).toBe(true);
  });

  it('that another program holds locked: says which file and what to do, and works once released', async () => {
    const dir = tempDir();
    const file = join(dir, 'baton.db');
    (await Baton.open({ db: file })).close();
    const holder = fork(join(root, 'test/support/hold-lock.mjs'), [file], { stdio: 'ignore' });
    await new Promise((resolve) => holder.once('message', resolve));
    try {
      baton = await Baton.open({ db: file, busyTimeoutMs: 200 });
      await expect(baton.start({ processor: fixture('plain.js'), jobId: 'waits' })).rejects.toMatchObject({
        code: 'DB_LOCKED',
        message: expect.stringContaining('baton.db is locked by another process: close the program holding a write transaction on it, or set Baton.open\'s db to another file'),
      });
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
    const job = await baton!.start({ processor: fixture('plain.js'), jobId: 'waits' });
    expect((await job.done).state).toBe('succeeded');
  });

  it("that another program locks while a job runs: the job handle's controls say which file and what to do", async () => {
    const file = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db: file, busyTimeoutMs: 200 });
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 100, pages: 100 }, jobId: 'controlled' });
    const holder = fork(join(root, 'test/support/hold-lock.mjs'), [file], { stdio: 'ignore' });
    await new Promise((resolve) => holder.once('message', resolve));
    try {
      const locked = { code: 'DB_LOCKED', message: expect.stringContaining('baton.db is locked by another process: close the program holding a write transaction on it') };
      await expect(job.pause()).rejects.toMatchObject(locked);
      await expect(job.resume()).rejects.toMatchObject(locked);
      await expect(job.setLimits({ maxParallel: 2 })).rejects.toMatchObject(locked);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
  });
});
