import { describe, expect, it } from 'vitest';
import type { JobView } from '../../extension/job-format.js';
import { jobIdOf, jobPickItems, jobsFor, noJobMessage } from '../../extension/job-picker.js';
import { jobView } from './job-view-fixture.js';

function job(jobId: string, overrides: Partial<JobView> = {}): JobView {
  return jobView({ jobId, pages: { total: 4, queued: 1, running: 1, succeeded: 2, failed: 0 }, items: 20, attempts: 3, maxInFlight: 1, ...overrides });
}

const running = job('running', { startedAt: '2026-11-25T10:00:00.000Z' });
const paused = job('paused', { state: 'paused', paused: true, startedAt: '2026-11-25T11:00:00.000Z' });
const stopped = job('stopped', { live: false, startedAt: '2026-11-25T12:00:00.000Z' });
const failed = job('failed', { state: 'failed', live: false, pages: { total: 4, queued: 0, running: 0, succeeded: 3, failed: 1 }, startedAt: '2026-11-25T09:00:00.000Z' });
const cancelled = job('cancelled', { state: 'cancelled', live: false, pages: { total: 4, queued: 0, running: 0, succeeded: 1, failed: 1 } });
const succeeded = job('succeeded', { state: 'succeeded', live: false });
const all = [running, paused, stopped, failed, cancelled, succeeded];

describe('the job a command acts on', () => {
  it('is the one given: a job id, a job summary, or a tree item with a jobId', () => {
    expect(jobIdOf('prices-1')).toBe('prices-1');
    expect(jobIdOf(running)).toBe('running');
    expect(jobIdOf({ jobId: 'from-a-test', confirmed: true })).toBe('from-a-test');
  });

  it('is none when the command was run from the palette (or given something else)', () => {
    expect(jobIdOf(undefined)).toBeUndefined();
    expect(jobIdOf('')).toBeUndefined();
    expect(jobIdOf({ path: '/a.ts' })).toBeUndefined();
    expect(jobIdOf(42)).toBeUndefined();
  });
});

describe('the jobs a quick pick offers', () => {
  it('offers to pause jobs that run, paused or ended ones never', () => {
    expect(jobsFor('pause', all).map((j) => j.jobId)).toEqual(['running', 'stopped']);
  });

  it('offers to resume paused jobs and jobs no process runs, live ones first', () => {
    expect(jobsFor('resume', all).map((j) => j.jobId)).toEqual(['paused', 'stopped']);
  });

  it('offers to retry jobs with failed pages, but not a cancelled one', () => {
    expect(jobsFor('retry', all).map((j) => j.jobId)).toEqual(['failed']);
  });

  it('offers to cancel every unfinished job, newest first among the live ones', () => {
    expect(jobsFor('cancel', all).map((j) => j.jobId)).toEqual(['paused', 'running', 'stopped']);
  });

  it('shows each job\'s id, state and processor', () => {
    expect(jobPickItems([stopped])).toEqual([
      { label: 'stopped', description: 'stopped · 2/4 pages', detail: 'prices · /work/prices.ts · no process runs it now', jobId: 'stopped' },
    ]);
  });

  it('shows the processor as the window words its path, not the absolute one the runner keeps', () => {
    const relative = (path: string) => path.replace(/^\/work\//, '');
    expect(jobPickItems([stopped], relative)[0]!.detail).toBe('prices · prices.ts · no process runs it now');
  });

  it('says why when no job fits', () => {
    expect(jobsFor('retry', [running, succeeded])).toEqual([]);
    expect(noJobMessage('retry')).toBe('No Baton job has failed pages to retry.');
    expect(noJobMessage('pause')).toBe('No Baton job to pause: none is running.');
  });
});
