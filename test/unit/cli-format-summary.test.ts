import { describe, expect, it } from 'vitest';
import {
  formatBarText,
  formatCount,
  formatDuration,
  formatFailure,
  formatFailures,
  formatJobStatus,
  formatJobsTable,
  formatLastAttemptLog,
  formatLimits,
  formatProgressLine,
  formatSummary,
  formatTime,
  progressFraction,
  renderBar,
} from '../../runner/cli/format-summary.js';
import { parseArgsOption, parseIntegerOption, parseJobOption, parseRampupOption, parseRateOptions, quoteArg } from '../../runner/cli/cli-options.js';
import type { JobSnapshot, JobStatus, LogLine, PageFailureInfo } from '../../runner/protocol.js';

function snapshot(overrides: Partial<JobSnapshot> = {}): JobSnapshot {
  return {
    jobId: 'prices-2026-11',
    name: 'inflate-prices',
    processor: '/app/processor.ts',
    state: 'running',
    live: true,
    pages: { total: 100, queued: 52, running: 8, succeeded: 40, failed: 0 },
    items: 12_000,
    attempts: 48,
    maxInFlight: 8,
    limits: { maxParallel: 8 },
    paused: false,
    estimatedTotalItems: 100_000,
    lastError: null,
    startedAt: '2026-11-25T10:00:00.000Z',
    throughput: { itemsPerSecond: 2345.4, pagesPerSecond: 4.7 },
    itemsLive: 12_345,
    inFlight: 8,
    effectiveParallel: 8,
    percent: 12.345,
    etaSeconds: 37.4,
    ...overrides,
  };
}

const failure: PageFailureInfo = {
  page: 2,
  cursor: { after: 1000 },
  size: 500,
  attempts: 3,
  outcome: 'failed',
  error: { name: 'DatabaseGoneError', message: 'connection refused\n  on retry', stack: null },
  endedAt: '2026-11-25T10:01:00.000Z',
};

describe('numbers and times', () => {
  it('groups thousands with commas whatever the locale', () => {
    expect(formatCount(12_345_678)).toBe('12,345,678');
    expect(formatCount(0)).toBe('0');
  });

  it('shows durations from milliseconds to hours', () => {
    expect(formatDuration(0.04)).toBe('40ms');
    expect(formatDuration(1.25)).toBe('1.3s');
    expect(formatDuration(42)).toBe('42s');
    expect(formatDuration(184)).toBe('3m 04s');
    expect(formatDuration(7500)).toBe('2h 05m');
    expect(formatDuration(Number.NaN)).toBe('?');
  });

  it('shows ISO times as local date and time to the second', () => {
    const iso = '2026-11-25T10:00:07.000Z';
    const d = new Date(iso);
    const p = (n: number) => String(n).padStart(2, '0');
    expect(formatTime(iso)).toBe(`${d.getFullYear()}-${p(d.getMonth() + 1)}-${p(d.getDate())} ${p(d.getHours())}:${p(d.getMinutes())}:07`);
  });
});

describe('progress', () => {
  it('is measured by items when the total is estimated, else by pages done', () => {
    expect(progressFraction(snapshot())).toBeCloseTo(0.12345);
    expect(progressFraction(snapshot({ percent: null, estimatedTotalItems: null }))).toBeCloseTo(0.4);
    expect(progressFraction(snapshot({ percent: null, estimatedTotalItems: null, pages: { total: 0, queued: 0, running: 0, succeeded: 0, failed: 0 } }))).toBe(0);
  });

  it('draws a bar of the given width', () => {
    expect(renderBar(0.5, 10)).toBe('█████░░░░░');
    expect(renderBar(2, 4)).toBe('████');
    expect(renderBar(-1, 4)).toBe('░░░░');
  });

  it('writes a plain line with items, percent, rate, pages by state and ETA', () => {
    expect(formatProgressLine(snapshot())).toBe(
      'prices-2026-11 running 12,345/100,000 items (12.3%) 2,345 items/s pages 40/100 ended (40 ok, 0 failed), 8 running ETA 37s',
    );
  });

  it('writes a plain line with pages ended of total when there is no estimate', () => {
    expect(formatProgressLine(snapshot({ estimatedTotalItems: null, percent: null, etaSeconds: null, throughput: { itemsPerSecond: 2.25, pagesPerSecond: 1 } }))).toBe(
      'prices-2026-11 running 12,345 items 2.3 items/s pages 40/100 ended (40 ok, 0 failed), 8 running',
    );
  });

  it('writes one item as one item', () => {
    expect(formatProgressLine(snapshot({ state: 'succeeded', itemsLive: 1, estimatedTotalItems: null, percent: null, etaSeconds: null }))).toMatch(/^prices-2026-11 succeeded 1 item 2,345 items\/s /);
  });

  it('says which of the ended pages failed, so a failed page never reads as done', () => {
    expect(formatProgressLine(snapshot({ pages: { total: 100, queued: 52, running: 8, succeeded: 37, failed: 3 }, etaSeconds: null }))).toContain(
      'pages 40/100 ended (37 ok, 3 failed), 8 running',
    );
  });

  it('puts percent, items, rate, pages, in-flight and ETA beside the bar, and the state when not running', () => {
    expect(formatBarText(snapshot())).toBe(
      '12.3% | 12,345/100,000 items | 2,345 items/s | pages 40 ok, 8 running, 52 queued, 0 failed | in flight 8/8 | ETA 37s',
    );
    expect(formatBarText(snapshot({ state: 'paused', percent: null, estimatedTotalItems: null }))).toBe(
      '40/100 pages | PAUSED | 12,345 items | 2,345 items/s | pages 40 ok, 8 running, 52 queued, 0 failed | in flight 8/8',
    );
  });
});

describe('summaries and failures', () => {
  it("labels the time as this run's when the job ran before, since the counts are the whole job's", () => {
    expect(formatSummary(snapshot({ state: 'succeeded', items: 100_000, pages: { total: 100, queued: 0, running: 0, succeeded: 100, failed: 0 }, attempts: 103 }), 12_300, true)).toBe(
      'job prices-2026-11 succeeded: 100,000 items, 100 pages (100 ok), 103 attempts, 12s this run',
    );
  });

  it('sums up a run in one line', () => {
    expect(formatSummary(snapshot({ state: 'succeeded', items: 100_000, pages: { total: 100, queued: 0, running: 0, succeeded: 100, failed: 0 }, attempts: 103 }), 12_300)).toBe(
      'job prices-2026-11 succeeded: 100,000 items, 100 pages (100 ok), 103 attempts, 12s',
    );
    expect(formatSummary(snapshot({ state: 'cancelled', items: 10, pages: { total: 10, queued: 6, running: 0, succeeded: 3, failed: 1 } }), 500)).toBe(
      'job prices-2026-11 cancelled: 10 items, 10 pages (3 ok, 1 failed, 6 not run), 48 attempts, 0.5s',
    );
    expect(formatSummary(snapshot({ state: 'succeeded', items: 1, pages: { total: 1, queued: 0, running: 0, succeeded: 1, failed: 0 }, attempts: 1 }), 500)).toBe(
      'job prices-2026-11 succeeded: 1 item, 1 page (1 ok), 1 attempt, 0.5s',
    );
  });

  it('shows a failed page with its page, cursor, attempts and error on one line', () => {
    expect(formatFailure(failure)).toBe('page 2  cursor {"after":1000}  3 attempts  DatabaseGoneError: connection refused on retry');
    expect(formatFailure({ ...failure, attempts: 1, outcome: 'stuck', cursor: 'x'.repeat(100) })).toMatch(/^page 2 {2}cursor "x{58}… {2}1 attempt \(stuck\) {2}/);
  });

  it('lists at most `limit` failures and says how many more there are', () => {
    const many = Array.from({ length: 3 }, (_, i) => ({ ...failure, page: i + 1 }));
    expect(formatFailures({ failures: many, pages: { total: 9, queued: 0, running: 0, succeeded: 6, failed: 3 } }, 2)).toEqual([
      '3 pages failed for good:',
      `  ${formatFailure(many[0]!)}`,
      `  ${formatFailure(many[1]!)}`,
      '  … and 1 more (`baton status <job> --json` lists them all)',
    ]);
    expect(formatFailures({ failures: [], pages: { total: 1, queued: 0, running: 0, succeeded: 1, failed: 0 } })).toEqual([]);
  });

  it("shows under a failed page the last lines its last attempt logged, each on one line", () => {
    const line = (attempt: number, level: LogLine['level'], message: string): LogLine => ({ page: 2, attempt, at: 0, level, message });
    const logs = [line(1, 'info', 'first attempt'), line(2, 'info', 'one'), line(2, 'info', 'two'), line(2, 'warn', 'three\n  at stack'), line(2, 'error', 'x'.repeat(300))];
    expect(formatLastAttemptLog(logs)).toEqual(['… 1 earlier line', 'info   two', 'warn   three at stack', `error  ${'x'.repeat(199)}…`]);
    expect(formatLastAttemptLog([line(1, 'info', 'only')])).toEqual(['info   only']);
    expect(formatLastAttemptLog([])).toEqual([]);
    const status = { failures: [failure], pages: { total: 1, queued: 0, running: 0, succeeded: 0, failed: 1 } };
    expect(formatFailures(status, 20, (page) => (page === failure.page ? [line(3, 'warn', 'retrying')] : []))).toEqual([
      '1 page failed for good:',
      `  ${formatFailure(failure)}`,
      '      warn   retrying',
    ]);
  });

  it('lays out the jobs table in aligned columns', () => {
    const table = formatJobsTable([
      snapshot({ jobId: 'a', state: 'succeeded', live: false }),
      snapshot({ jobId: 'longer-id', pages: { total: 1_000, queued: 0, running: 0, succeeded: 1_000, failed: 2 } }),
      snapshot({ jobId: 'run-by', runBy: { pid: 4242, host: 'dev-box' } }),
    ]);
    const started = formatTime('2026-11-25T10:00:00.000Z');
    expect(table).toEqual([
      'JOB        STATE      LIVE      PAGES        FAILED  ITEMS   STARTED',
      `a          succeeded  no        40/100       0       12,000  ${started}`,
      `longer-id  running    yes       1,000/1,000  2       12,000  ${started}`,
      // Live, with the process that runs it.
      `run-by     running    pid 4242  40/100       0       12,000  ${started}`,
    ]);
  });

  it("shows a job's state, pages, items, limits and failures", () => {
    const status: JobStatus = {
      ...snapshot({ state: 'failed', live: false, items: 50_000, limits: { maxParallel: 4, rateLimit: { itemsPerSecond: 5000 } }, endedAt: '2026-11-25T10:02:00.000Z' }),
      pages: { total: 100, queued: 0, running: 0, succeeded: 99, failed: 1 },
      failures: [failure],
    };
    const text = formatJobStatus(status).join('\n');
    expect(text).toMatch(/^job +prices-2026-11 \(inflate-prices\)$/m);
    expect(text).toMatch(/^state +failed$/m);
    expect(text).toMatch(/^pages +100 total: 99 ok, 1 failed$/m);
    expect(text).toMatch(/^items +50,000 of about 100,000 \(50\.0%\)$/m);
    expect(text).toMatch(/^limits +max parallel 4, 5,000 items\/s$/m);
    expect(text).toMatch(/^ended +.* \(2m 00s\)$/m);
    expect(text).toContain(`  ${formatFailure(failure)}`);
  });

  it("shows an ended job's pages that never ran as not run, as the run's summary does, and a running job's as queued", () => {
    const cancelled: JobStatus = { ...snapshot({ state: 'cancelled', live: false, maxInFlight: 1 }), pages: { total: 10, queued: 6, running: 0, succeeded: 3, failed: 1 }, failures: [] };
    const text = formatJobStatus(cancelled).join('\n');
    expect(text).toMatch(/^pages +10 total: 3 ok, 1 failed, 6 not run$/m);
    expect(text).toMatch(/^attempts +48 \(at most 1 page at once\)$/m);
    expect(formatJobStatus({ ...snapshot(), failures: [] }).join('\n')).toMatch(/^pages +100 total: 40 ok, 0 failed, 8 running, 52 queued$/m);
  });

  it("shows a running job's pace from what its process publishes, and none while it is paused or once it has ended", () => {
    const status: JobStatus = { ...snapshot(), failures: [] };
    const text = formatJobStatus(status, undefined, undefined, snapshot()).join('\n');
    expect(text).toMatch(/^rate +2,345 items\/s, 4\.7 pages\/s, 8 running$/m);
    expect(text).toMatch(/^eta +37s at this rate$/m);
    expect(formatJobStatus(status, undefined, undefined, snapshot({ etaSeconds: null })).join('\n')).not.toMatch(/^eta/m);
    expect(formatJobStatus(status, undefined, undefined, snapshot({ state: 'succeeded' })).join('\n')).not.toMatch(/^rate/m);
    const paused = formatJobStatus({ ...status, state: 'paused', paused: true }, undefined, undefined, snapshot({ state: 'paused', paused: true })).join('\n');
    expect(paused).not.toMatch(/^(rate|eta)/m);
    expect(formatJobStatus(status).join('\n')).not.toMatch(/^rate/m);
  });

  it('says how many pages a rampup lets run at once now, below the max parallel', () => {
    const status: JobStatus = { ...snapshot(), failures: [] };
    expect(formatJobStatus(status, undefined, undefined, snapshot({ effectiveParallel: 3 })).join('\n')).toMatch(/^limits +max parallel 8 \(ramping up: 3 pages at once now\)$/m);
    expect(formatJobStatus(status, undefined, undefined, snapshot()).join('\n')).toMatch(/^limits +max parallel 8$/m);
    expect(formatJobStatus(status).join('\n')).toMatch(/^limits +max parallel 8$/m);
  });

  it('says who runs a job, and how to go on with an unfinished one that nobody runs', () => {
    const status = (overrides: Partial<JobSnapshot>): JobStatus => ({ ...snapshot(overrides), failures: [] });
    const stateLine = (s: JobStatus, resume?: string) => formatJobStatus(s, resume).find((line) => line.startsWith('state'));
    expect(stateLine(status({ live: true }))).toMatch(/^state +running \(a live process runs it\)$/);
    expect(stateLine(status({ live: true, paused: true }))).toMatch(/^state +running \(a live process runs it, paused\)$/);
    // Said once: the state is paused already.
    expect(stateLine(status({ live: true, paused: true, state: 'paused' }))).toMatch(/^state +paused \(a live process runs it\)$/);
    // Killed (kill -9, a crash): the row still says running.
    expect(stateLine(status({ live: false }), 'baton resume prices-2026-11 --db x.db')).toMatch(
      /^state +running, and no process runs it: `baton resume prices-2026-11 --db x\.db` goes on$/,
    );
    expect(stateLine(status({ live: false, state: 'paused', paused: true }))).toMatch(/^state +paused, and no process runs it: `baton resume prices-2026-11` goes on$/);
    expect(stateLine(status({ live: false, state: 'succeeded' }))).toMatch(/^state +succeeded$/);
    // Ended: its paused flag no longer means anything.
    expect(stateLine(status({ live: false, state: 'failed', paused: true }))).toMatch(/^state +failed$/);
    expect(stateLine(status({ live: false, state: 'cancelled', paused: true }))).toMatch(/^state +cancelled$/);
  });
});

describe('option parsing', () => {
  it('reads --args as JSON and explains a value that is not', () => {
    expect(parseArgsOption('{"total":5}')).toEqual({ total: 5 });
    expect(() => parseArgsOption("{'total':5}")).toThrow(/^--args must be JSON, such as --args '\{"total":1000\}'/);
    expect(parseArgsOption(['[1,2]'])).toEqual([1, 2]);
    expect(() => parseArgsOption(['{"total":5}', '{"size":2}'])).toThrow(/^--args was given 2 times; give it once, with every argument in one JSON object/);
  });

  it('reads integers, rates and rampups, naming the option when one is wrong', () => {
    expect(parseIntegerOption('--parallel', '16', 1)).toBe(16);
    expect(() => parseIntegerOption('--parallel', '1.5', 1)).toThrow('--parallel must be an integer >= 1, got "1.5"');
    expect(() => parseIntegerOption('--threads', '', 1)).toThrow('--threads must be an integer >= 1');
    expect(parseRateOptions('5000', undefined)).toEqual({ itemsPerSecond: 5000 });
    expect(parseRateOptions(undefined, '2.5')).toEqual({ pagesPerSecond: 2.5 });
    expect(parseRateOptions(undefined, undefined)).toBeUndefined();
    expect(() => parseRateOptions('-1', undefined)).toThrow('--rate must be a number > 0, got "-1"');
    expect(parseRampupOption('1:2:3000')).toEqual({ from: 1, step: 2, everyMs: 3000 });
    expect(() => parseRampupOption('1:2')).toThrow(/^--rampup must be FROM:STEP:MS/);
  });

  it("names the command line's options, not the API's, in what the engine's checks refuse", () => {
    expect(parseJobOption('prices-2026-11')).toBe('prices-2026-11');
    expect(() => parseJobOption('has space')).toThrow(`--job must be 1-128 letters, digits, '.', '_' or '-', starting with a letter or digit, got "has space"`);
    expect(() => parseRampupOption('0:1:100')).toThrow('--rampup FROM must be an integer >= 1, got 0');
    expect(() => parseRampupOption('1:0:100')).toThrow('--rampup STEP must be an integer >= 1, got 0');
  });

  it('takes decimal numbers only, not what else Number() would read', () => {
    expect(parseRateOptions('0.001', '.5')).toEqual({ itemsPerSecond: 0.001, pagesPerSecond: 0.5 });
    expect(parseIntegerOption('--parallel', '1e3', 1)).toBe(1_000);
    for (const text of ['0x10', '0b11', ' 8', 'Infinity']) {
      expect(() => parseIntegerOption('--parallel', text, 1), text).toThrow(`--parallel must be an integer >= 1, got ${JSON.stringify(text)}`);
      expect(() => parseRateOptions(text, undefined), text).toThrow(`--rate must be a number > 0, got ${JSON.stringify(text)}`);
    }
  });

  it('quotes a suggested argument only when the shell needs it', () => {
    expect(quoteArg('.baton/x.db')).toBe('.baton/x.db');
    expect(quoteArg("my jobs/it's.db")).toBe(`'my jobs/it'\\''s.db'`);
  });
});

describe('limits', () => {
  it('are written as they were set, not rounded as a measured rate', () => {
    expect(formatLimits({ maxParallel: 500_000, rateLimit: { pagesPerSecond: 0.0001 } })).toBe('max parallel 500,000, 0.0001 pages/s');
    expect(formatLimits({ maxParallel: 8, rateLimit: { itemsPerSecond: 2.5, pagesPerSecond: 5_000 } })).toBe('max parallel 8, 2.5 items/s, 5,000 pages/s');
    expect(formatLimits({ maxParallel: 8 }, true)).toBe('max parallel 8, no rate limit');
  });
});
