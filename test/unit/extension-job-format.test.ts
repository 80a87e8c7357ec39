import { describe, expect, it } from 'vitest';
import {
  formatCount,
  formatPercent,
  isStopped,
  jobActions,
  jobContextValue,
  jobDescription,
  jobIcon,
  jobTooltip,
  newestFirst,
  percentDone,
  startedLabel,
  statusBarView,
} from '../../extension/job-format.js';
import { jobView } from './job-view-fixture.js';

const job = jobView;

describe('how far a job is', () => {
  it('takes the runner\'s percent when it sends one, else items over the processor\'s estimate', () => {
    expect(percentDone(job({ percent: 42.5 }))).toBe(42.5);
    expect(percentDone(job({ estimatedTotalItems: 2000 }))).toBe(25);
    expect(percentDone(job({ estimatedTotalItems: 2000, itemsLive: 1000 }))).toBe(50);
  });

  it('is unknown without an estimate, 100 once succeeded, and never above 100', () => {
    expect(percentDone(job())).toBeNull();
    expect(percentDone(job({ state: 'succeeded' }))).toBe(100);
    expect(percentDone(job({ estimatedTotalItems: 100, items: 250 }))).toBe(100);
  });

  it('shows 99% until the job is done, and rounds the rest', () => {
    expect(formatPercent(99.7)).toBe('99%');
    expect(formatPercent(100)).toBe('100%');
    expect(formatPercent(41.6)).toBe('42%');
  });

  it('writes counts short: 1,234, 12.3k, 1.2M', () => {
    expect(formatCount(1234)).toBe('1,234');
    expect(formatCount(12_345)).toBe('12.3k');
    expect(formatCount(1_234_567)).toBe('1.2M');
    expect(formatCount(12.4)).toBe('12');
  });
});

describe('a job in the Baton Jobs view', () => {
  it('reads state, % done, failed pages and items/s', () => {
    expect(jobDescription(job({ percent: 42, throughput: { itemsPerSecond: 1500, pagesPerSecond: 3 } }))).toBe('running · 42% · 1 failed · 1,500 items/s');
  });

  it('counts pages done when the total is not known', () => {
    expect(jobDescription(job())).toBe('running · 6/10 pages · 1 failed');
  });

  it('says a finished job succeeded, or how many pages failed', () => {
    expect(jobDescription(job({ state: 'succeeded', live: false, pages: { total: 10, queued: 0, running: 0, succeeded: 10, failed: 0 } }))).toBe('succeeded');
    expect(jobDescription(job({ state: 'failed', live: false, estimatedTotalItems: 1000, items: 900 }))).toBe('failed · 90% · 1 failed');
  });

  it('calls an unfinished job that no process runs "stopped"', () => {
    const stopped = job({ live: false });
    expect(isStopped(stopped)).toBe(true);
    expect(jobDescription(stopped)).toMatch(/^stopped · /);
    expect(jobIcon(stopped).id).toBe('debug-stop');
    expect(jobDescription(job({ live: false, state: 'paused', paused: true }))).toMatch(/^paused \(stopped\) · /);
  });

  it('offers pause to a running job, resume to a paused or stopped one, retry where pages failed, cancel until it ends', () => {
    expect(jobActions(job())).toEqual({ canPause: true, canResume: false, canRetry: true, canCancel: true });
    expect(jobActions(job({ state: 'paused', paused: true }))).toEqual({ canPause: false, canResume: true, canRetry: true, canCancel: true });
    expect(jobActions(job({ live: false }))).toMatchObject({ canResume: true });
    expect(jobActions(job({ state: 'failed', live: false }))).toEqual({ canPause: false, canResume: false, canRetry: true, canCancel: false });
    expect(jobActions(job({ state: 'cancelled', live: false }))).toEqual({ canPause: false, canResume: false, canRetry: false, canCancel: false });
  });

  it('puts those actions in its contextValue for the menus\' when clauses', () => {
    expect(jobContextValue(job())).toBe('batonJob canPause canRetry canCancel');
    expect(jobContextValue(job({ state: 'succeeded', live: false, pages: { total: 1, queued: 0, running: 0, succeeded: 1, failed: 0 } }))).toBe('batonJob');
  });

  it('lists jobs newest first', () => {
    const older = job({ jobId: 'a', startedAt: '2026-11-25T09:00:00.000Z' });
    const newer = job({ jobId: 'b', startedAt: '2026-11-25T11:00:00.000Z' });
    expect(newestFirst([older, newer]).map((j) => j.jobId)).toEqual(['b', 'a']);
  });

  it('shows the start time of a job started today, and the date of an older one', () => {
    const now = new Date(2026, 10, 25, 15, 0);
    expect(startedLabel(new Date(2026, 10, 25, 9, 5).toISOString(), now)).toBe('09:05');
    expect(startedLabel(new Date(2026, 10, 24, 23, 30).toISOString(), now)).toBe('Nov 24 23:30');
  });
});

describe('the status bar item', () => {
  it('is hidden when no live process runs a job', () => {
    expect(statusBarView([])).toBeNull();
    expect(statusBarView([job({ live: false }), job({ jobId: 'done', state: 'succeeded', live: true })])).toBeNull();
  });

  it('shows the running job\'s progress and items/s, and opens the panel on it', () => {
    const view = statusBarView([job({ percent: 37, throughput: { itemsPerSecond: 1234, pagesPerSecond: 2 } })]);
    expect(view).toMatchObject({ text: '$(sync~spin) Baton 37% · 1,234 items/s', jobId: 'prices-1' });
    expect(view!.tooltip).toContain('prices-1: running · 37%');
  });

  it('counts the jobs when several run, adds up their rates and shows the newest', () => {
    const view = statusBarView([
      job({ jobId: 'old', startedAt: '2026-11-25T09:00:00.000Z', percent: 90, throughput: { itemsPerSecond: 100, pagesPerSecond: 1 } }),
      job({ jobId: 'new', startedAt: '2026-11-25T10:00:00.000Z', percent: 10, throughput: { itemsPerSecond: 50, pagesPerSecond: 1 } }),
    ]);
    expect(view).toMatchObject({ text: '$(sync~spin) Baton 2 jobs · 10% · 150 items/s', jobId: 'new' });
  });

  it('says so when every live job is paused', () => {
    expect(statusBarView([job({ state: 'paused', paused: true, percent: 40 })])?.text).toBe('$(debug-pause) Baton paused · 40%');
  });
});

describe("a job's tooltip in the view", () => {
  const runner = { pid: 4242, host: 'dev-box' };

  it('says who runs the job: this window\'s runner, or another process by its id', () => {
    expect(jobTooltip(job({ runBy: runner }), runner)).toContain("run by: this window's Baton runner");
    expect(jobTooltip(job({ runBy: { pid: 5151, host: 'dev-box' } }), runner)).toContain("run by: process 5151 on dev-box (a terminal's `baton run`, or another window)");
  });

  it('names no process for a job nobody runs', () => {
    expect(jobTooltip(job({ live: false }), runner)).not.toContain('run by');
  });

  it('has its id, state, processor, pages, items and limits', () => {
    expect(jobTooltip(job({ limits: { maxParallel: 8, rateLimit: { itemsPerSecond: 50 } } })).split('  \n')).toEqual([
      '**prices-1**: running',
      '',
      'processor `prices` (/work/prices.ts)',
      'pages: 5 succeeded, 1 failed, 2 running, 2 queued, 10 in all',
      'items: 500',
      'max parallel: 8, rate limit 50 items/s',
      'started 2026-11-25T10:00:00.000Z',
    ]);
  });
});
