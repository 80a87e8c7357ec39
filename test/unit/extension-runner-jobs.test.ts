import { describe, expect, it } from 'vitest';
import type { JobView } from '../../extension/job-format.js';
import { jobView } from './job-view-fixture.js';
import { endNotice, jobList, jobsRunBy, restartWarning, runnerDiedMessage, RunnerJobEnds } from '../../extension/runner-jobs.js';

const runner = { pid: 4242, host: 'dev-box' };
const terminal = { pid: 5151, host: 'dev-box' };

/** A job as the runner sends it, run by the extension's runner unless a test says otherwise. */
function job(overrides: Partial<JobView> = {}): JobView {
  return jobView({ runBy: runner, ...overrides });
}

/** The job as it reads once it has ended: nobody runs it. */
function ended(state: 'succeeded' | 'failed' | 'cancelled', overrides: Partial<JobView> = {}): JobView {
  const { runBy: _, ...rest } = job({ state, live: false, ...overrides });
  return rest;
}

describe("the jobs the extension's runner runs", () => {
  it("are the live ones whose process is the runner's, not a terminal's, nor one on another host", () => {
    const jobs = [
      job({ jobId: 'mine' }),
      job({ jobId: 'paused-mine', state: 'paused', paused: true }),
      job({ jobId: 'terminal', runBy: terminal }),
      job({ jobId: 'elsewhere', runBy: { pid: runner.pid, host: 'other-box' } }),
      ended('succeeded', { jobId: 'done' }),
    ];
    expect(jobsRunBy(jobs, runner).map((j) => j.jobId)).toEqual(['mine', 'paused-mine']);
  });

  it('are none while the runner does not run', () => {
    expect(jobsRunBy([job()], undefined)).toEqual([]);
  });
});

describe('what a restart of the runner says first', () => {
  it('names the jobs it would stop and how they go on, with why it restarts', () => {
    expect(restartWarning([job({ jobId: 'a' })], 'baton.nodePath changed.')).toBe(
      'baton.nodePath changed. Restarting the Baton runner stops the job a it runs; Resume Job runs it on afterwards.',
    );
    expect(restartWarning([job({ jobId: 'a' }), job({ jobId: 'b' })], null)).toBe('Restarting the Baton runner stops the jobs a and b it runs; Resume Job runs them on afterwards.');
  });

  it('says nothing when it would stop no job', () => {
    expect(restartWarning([], 'baton.database changed.')).toBeNull();
  });

  it('lists at most four jobs by name', () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => ({ jobId: `j${i + 1}` }));
    expect(jobList(ids(3))).toBe('jobs j1, j2 and j3');
    expect(jobList(ids(4))).toBe('jobs j1, j2, j3 and j4');
    expect(jobList(ids(6))).toBe('jobs j1, j2, j3 and 3 more');
  });
});

describe('when the runner dies', () => {
  it('names the jobs that stopped with it and how they go on', () => {
    expect(runnerDiedMessage([job({ jobId: 'a' })], true)).toBe(
      'The Baton runner stopped unexpectedly and restarts; the job a it ran stopped with it: Resume Job runs it on (the Baton output says why).',
    );
    expect(runnerDiedMessage([], true)).toBe('The Baton runner stopped unexpectedly and restarts (the Baton output says why).');
  });

  it('says how to start it again once it died too often to be restarted', () => {
    expect(runnerDiedMessage([], false)).toBe('The Baton runner stopped unexpectedly too often and was not restarted (see the Baton output, then run "Baton: Restart Runner").');
  });
});

describe('the end of a job the runner ran', () => {
  it('is heard of once, when a list first shows it ended', () => {
    const ends = new RunnerJobEnds();
    expect(ends.update([job()], runner)).toEqual([]);
    const done = ended('succeeded');
    expect(ends.update([done], runner)).toEqual([done]);
    expect(ends.update([done], runner)).toEqual([]);
  });

  it("is not heard of for a terminal's job, nor for one that had ended before the extension saw it run", () => {
    const ends = new RunnerJobEnds();
    ends.update([job({ jobId: 'terminal', runBy: terminal })], runner);
    expect(ends.update([ended('failed', { jobId: 'terminal' }), ended('succeeded', { jobId: 'old' })], runner)).toEqual([]);
  });

  it('is not heard of once the runner stopped: its jobs stopped with it, they did not end here', () => {
    const ends = new RunnerJobEnds();
    ends.update([job()], runner);
    ends.forget();
    expect(ends.update([ended('succeeded')], runner)).toEqual([]);
  });

  it('is heard of again when a retry of its failed pages ran in the runner', () => {
    const ends = new RunnerJobEnds();
    ends.update([job()], runner);
    expect(ends.update([ended('failed')], runner)).toHaveLength(1);
    ends.update([job({ state: 'running' })], runner);
    expect(ends.update([ended('succeeded')], runner)).toHaveLength(1);
  });

  it('says what came of it: pages and items, the failed pages with a retry, nothing for a cancel', () => {
    expect(endNotice(ended('succeeded', { pages: { total: 12, queued: 0, running: 0, succeeded: 12, failed: 0 }, items: 6000 }))).toEqual({
      severity: 'info',
      message: 'Baton: job prices-1 succeeded: 12 pages, 6,000 items.',
      actions: ['Show Panel'],
    });
    expect(endNotice(ended('failed', { pages: { total: 12, queued: 0, running: 0, succeeded: 9, failed: 3 }, items: 1 }))).toEqual({
      severity: 'warning',
      message: 'Baton: job prices-1 ended with 3 of 12 pages failed (1 item done).',
      actions: ['Show Panel', 'Retry Failed Pages'],
    });
    expect(endNotice(ended('cancelled'))).toBeNull();
  });
});
