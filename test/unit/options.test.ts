import { availableParallelism } from 'node:os';
import { describe, expect, it } from 'vitest';
import {
  checkAttemptQuery,
  checkCloseOptions,
  checkJobId,
  checkPageQuery,
  checkRetryFailedOptions,
  checkStopMode,
  checkPageTimeout,
  checkRampup,
  checkRateLimit,
  fillBatonOptions,
  fillLimits,
  fillStartOptions,
  type BatonOptions,
  type Limits,
  type StartOptions,
} from '../../runner/engine/options.js';

/** What a caller written in JavaScript can pass where the types allow only objects. */
const loose = <T>(value: unknown): T => value as T;

function refusal(call: () => unknown): { code: string; message: string } {
  try {
    call();
  } catch (error) {
    const { code, message } = error as { code: string; message: string };
    return { code, message };
  }
  throw new Error('expected the call to throw');
}

describe('Baton.open options', () => {
  it('fills in the defaults', () => {
    expect(fillBatonOptions({})).toEqual({ db: '.baton/baton.db', durability: 'normal', busyTimeoutMs: 5000 });
    expect(fillBatonOptions({ db: 'x.db', durability: 'full', busyTimeoutMs: 0 })).toEqual({ db: 'x.db', durability: 'full', busyTimeoutMs: 0 });
  });

  it.each([null, 'baton.db', 3])('refuses %j, saying what to pass', (options) => {
    expect(refusal(() => fillBatonOptions(loose<BatonOptions>(options)))).toEqual({
      code: 'INVALID_OPTION',
      message: 'Baton.open options must be an object, such as { db: ".baton/baton.db" }',
    });
  });

  it.each<[unknown, string]>([
    [{ durability: 'FULL' }, `durability must be 'normal' or 'full', got "FULL"`],
    [{ busyTimeoutMs: -1 }, 'busyTimeoutMs must be an integer >= 0, got -1'],
    [{ busyTimeoutMs: Number.NaN }, 'busyTimeoutMs must be an integer >= 0, got NaN'],
  ])('refuses %j, naming the option', (options, message) => {
    expect(refusal(() => fillBatonOptions(loose<BatonOptions>(options)))).toEqual({ code: 'INVALID_OPTION', message });
  });
});

describe('start options', () => {
  it('fills in the defaults', () => {
    expect(fillStartOptions({ processor: 'p.ts' })).toEqual({
      processor: 'p.ts',
      args: {},
      jobId: null,
      maxParallel: 8,
      rampup: null,
      rateLimit: null,
      paused: false,
      threads: availableParallelism(),
    });
  });

  it.each<[unknown, string]>([
    [null, 'start options must be an object with at least { processor }'],
    [{}, 'processor must be the path of a processor file, such as samples/x/processor.ts'],
    [{ processor: 'p.ts', paused: 'yes' }, 'paused must be true or false, got "yes"'],
    [{ processor: 'p.ts', threads: 0 }, 'threads must be an integer >= 1, got 0'],
    [{ processor: 'p.ts', maxParallel: '4' }, 'maxParallel must be an integer >= 1, got "4"'],
    [{ processor: 'p.ts', rampup: 'fast' }, 'rampup must be { from, step, everyMs }, got "fast"'],
    [{ processor: 'p.ts', rateLimit: 10 }, 'rateLimit must be { itemsPerSecond?, pagesPerSecond? }, got 10'],
    [{ processor: 'p.ts', jobId: '../x' }, `jobId must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, got "../x"`],
  ])('refuses %j with what to give instead', (options, message) => {
    expect(refusal(() => fillStartOptions(loose<StartOptions>(options)))).toEqual({ code: 'INVALID_OPTION', message });
  });

  it('takes up to 4 threads per core and refuses more, naming the cores', () => {
    const cores = availableParallelism();
    expect(fillStartOptions({ processor: 'p.ts', threads: 4 * cores }).threads).toBe(4 * cores);
    expect(refusal(() => fillStartOptions({ processor: 'p.ts', threads: 4 * cores + 1 }))).toEqual({
      code: 'INVALID_OPTION',
      message: `threads must be at most ${4 * cores} (4 per core, and this machine has ${cores} core${cores === 1 ? '' : 's'}), got ${4 * cores + 1}`,
    });
  });

  it('takes up to a million pages in flight and refuses more, in start and setLimits', () => {
    expect(fillStartOptions({ processor: 'p.ts', maxParallel: 1_000_000 }).maxParallel).toBe(1_000_000);
    const message = 'maxParallel must be at most 1000000 (more pages in flight than one process can hold), got 1000000000';
    expect(refusal(() => fillStartOptions({ processor: 'p.ts', maxParallel: 1e9 }))).toEqual({ code: 'INVALID_OPTION', message });
    expect(refusal(() => fillLimits({ maxParallel: 1e9 }))).toEqual({ code: 'INVALID_OPTION', message });
  });
});

describe('rampup and rateLimit', () => {
  it('reads no rampup and no rate from null or undefined', () => {
    expect([checkRampup(null), checkRampup(undefined), checkRateLimit(null), checkRateLimit(undefined)]).toEqual([null, null, null, null]);
  });

  it('refuses a rate of neither kind, {} or [], rather than take it for no limit: only null removes one', () => {
    const removing = '; pass rateLimit: null to remove the rate limit';
    expect(refusal(() => checkRateLimit({}))).toEqual({ code: 'INVALID_OPTION', message: `rateLimit must set itemsPerSecond, pagesPerSecond or both, got {}${removing}` });
    expect(refusal(() => checkRateLimit({ itemsPerSecond: undefined }))).toEqual({ code: 'INVALID_OPTION', message: `rateLimit must set itemsPerSecond, pagesPerSecond or both, got {}${removing}` });
    expect(refusal(() => checkRateLimit(loose([])))).toEqual({ code: 'INVALID_OPTION', message: 'rateLimit must be { itemsPerSecond?, pagesPerSecond? }, got []' });
    // @ts-expect-error {} sets no rate: a type error in TypeScript, and refused at run time for JavaScript
    expect(refusal(() => fillLimits({ rateLimit: {} })).message).toBe(`rateLimit must set itemsPerSecond, pagesPerSecond or both, got {}${removing}`);
    expect(refusal(() => fillStartOptions(loose<StartOptions>({ processor: 'p.ts', rateLimit: [] }))).message).toBe('rateLimit must be { itemsPerSecond?, pagesPerSecond? }, got []');
  });

  it('keeps the fields given, and only those', () => {
    expect(checkRampup({ from: 1, step: 2, everyMs: 500 })).toEqual({ from: 1, step: 2, everyMs: 500 });
    expect(checkRateLimit({ pagesPerSecond: 2.5 })).toEqual({ pagesPerSecond: 2.5 });
  });

  it('names the field that is wrong', () => {
    expect(refusal(() => checkRampup({ from: 1, step: 0, everyMs: 500 })).message).toBe('rampup.step must be an integer >= 1, got 0');
    expect(refusal(() => checkRampup(loose({ from: 1, step: 1 }))).message).toBe('rampup.everyMs must be a number > 0, got undefined');
    expect(refusal(() => checkRateLimit({ itemsPerSecond: Number.POSITIVE_INFINITY })).message).toBe('rateLimit.itemsPerSecond must be a number > 0, got Infinity');
  });
});

describe('a rampup within maxParallel', () => {
  const ramp = { from: 20, step: 1, everyMs: 100 };

  it('refuses a ramp that starts above the limit it climbs to, since it would do nothing', () => {
    expect(refusal(() => fillStartOptions({ processor: 'p.ts', rampup: ramp, maxParallel: 16 })).message).toBe(
      'rampup.from must be at most maxParallel (16), got 20: the ramp would start at the limit and do nothing; lower rampup.from or raise maxParallel',
    );
    expect(refusal(() => fillStartOptions({ processor: 'p.ts', rampup: ramp })).message).toMatch(/^rampup\.from must be at most maxParallel \(8, the default\), got 20:/);
  });

  it('takes a ramp up to the limit, and one for a job resumed by id that keeps its own limit', () => {
    expect(fillStartOptions({ processor: 'p.ts', rampup: ramp, maxParallel: 20 }).rampup).toEqual(ramp);
    expect(fillStartOptions({ processor: 'p.ts', rampup: ramp, jobId: 'existing' }).rampup).toEqual(ramp);
  });
});

describe('setLimits', () => {
  it('changes only what it names; a rate limit of null removes both rates', () => {
    expect(fillLimits({})).toEqual({});
    expect(fillLimits({ maxParallel: 3 })).toEqual({ maxParallel: 3 });
    expect(fillLimits({ rateLimit: null })).toEqual({ rateItems: null, ratePages: null });
    expect(fillLimits({ rateLimit: { pagesPerSecond: 2 } })).toEqual({ rateItems: null, ratePages: 2 });
  });

  it('refuses what is not an object, and a misspelt key', () => {
    expect(refusal(() => fillLimits(loose<Limits>(null))).message).toBe('setLimits takes an object { maxParallel?, rateLimit? }');
    expect(refusal(() => fillLimits(loose<Limits>({ parallel: 2 }))).message).toBe('setLimits has no option "parallel": the options are maxParallel, rateLimit');
  });
});

describe('job ids and page timeouts', () => {
  it('takes ids made for a command line and a file name', () => {
    expect(checkJobId('backfill-2026.11_a')).toBe('backfill-2026.11_a');
    expect(refusal(() => checkJobId('x'.repeat(129))).code).toBe('INVALID_OPTION');
    expect(refusal(() => checkJobId('-x')).code).toBe('INVALID_OPTION');
  });

  it('defaults a page timeout to five minutes, and refuses one that is not positive', () => {
    expect(checkPageTimeout(null)).toBe(300_000);
    expect(refusal(() => checkPageTimeout(0)).message).toBe('pageTimeoutMs must be a number > 0, got 0');
  });
});

describe('the controls and queries: a key Baton does not know, or a bad value, is refused rather than ignored', () => {
  it('takes what they document, and nothing for an argument left out', () => {
    expect(checkRetryFailedOptions(undefined)).toEqual({});
    expect(checkRetryFailedOptions({ page: 3 })).toEqual({ page: 3 });
    expect(checkRetryFailedOptions({ page: undefined })).toEqual({});
    expect(checkPageQuery({ state: 'failed', after: 0, limit: 10 })).toEqual({ state: 'failed', after: 0, limit: 10 });
    expect(checkAttemptQuery({ page: 2, limit: 5, endedAfter: 0, startedBefore: 1.7e12 })).toEqual({ page: 2, limit: 5, endedAfter: 0, startedBefore: 1.7e12 });
    expect([checkStopMode('stop', undefined), checkStopMode('stop', 'now'), checkCloseOptions(undefined), checkCloseOptions({ stop: 'now' })]).toEqual(['drain', 'now', 'drain', 'now']);
  });

  it.each([
    [() => checkRetryFailedOptions({ pag: 1 }), 'retryFailed has no option "pag": the options are page'],
    [() => checkRetryFailedOptions(5), 'retryFailed takes an object { page? }, got 5'],
    [() => checkRetryFailedOptions({ page: 'abc' }), 'page must be an integer >= 1, got "abc"'],
    [() => checkRetryFailedOptions({ page: 0 }), 'page must be an integer >= 1, got 0'],
    [() => checkPageQuery({ stat: 'failed' }), 'pages has no option "stat": the options are state, after, limit'],
    [() => checkPageQuery({ state: 'bogus' }), 'state must be one of queued, running, succeeded, failed, got "bogus"'],
    [() => checkPageQuery({ limit: Number.NaN }), 'limit must be an integer >= 1, got NaN'],
    [() => checkPageQuery({ after: -1 }), 'after must be an integer >= 0, got -1'],
    [() => checkPageQuery(null), 'pages takes an object { state?, after?, limit? }, got null'],
    [() => checkAttemptQuery({ pag: 1 }), 'attempts has no option "pag": the options are page, limit, endedAfter, startedBefore'],
    [() => checkAttemptQuery({ endedAfter: '1970-01-01T00:00:00.000Z' }), 'endedAfter must be a time in epoch milliseconds, such as Date.now() - 60000, got "1970-01-01T00:00:00.000Z" (use Date.parse(text))'],
    [() => checkAttemptQuery({ startedBefore: new Date(0) }), 'startedBefore must be a time in epoch milliseconds, such as Date.now() - 60000, got "1970-01-01T00:00:00.000Z" (use date.getTime())'],
    [() => checkAttemptQuery({ limit: 0 }), 'limit must be an integer >= 1, got 0'],
    [() => checkStopMode('stop', 'nwo'), `stop must be 'drain' or 'now', got "nwo"`],
    [() => checkCloseOptions({ stop: 'later' }), `stop must be 'drain' or 'now', got "later"`],
    [() => checkCloseOptions({ mode: 'now' }), 'close has no option "mode": the options are stop'],
  ])('%#: %s', (call, message) => {
    expect(refusal(call)).toEqual({ code: 'INVALID_OPTION', message });
  });

  it('shows a value that JSON cannot spell without throwing while it says so', () => {
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    expect(refusal(() => checkPageQuery({ limit: circular })).message).toBe('limit must be an integer >= 1, got an object that is not JSON (it refers back to itself, or holds a BigInt)');
    expect(refusal(() => checkPageQuery({ limit: 10n })).message).toBe('limit must be an integer >= 1, got 10n');
  });
});
