import type { JobView } from '../../extension/job-format.js';

/** A job as the runner sends it to the extension, running, with what a test changes. */
export function jobView(overrides: Partial<JobView> = {}): JobView {
  return {
    jobId: 'prices-1',
    name: 'prices',
    processor: '/work/prices.ts',
    state: 'running',
    live: true,
    pages: { total: 10, queued: 2, running: 2, succeeded: 5, failed: 1 },
    items: 500,
    attempts: 9,
    maxInFlight: 2,
    limits: { maxParallel: 8 },
    paused: false,
    estimatedTotalItems: null,
    lastError: null,
    startedAt: '2026-11-25T10:00:00.000Z',
    ...overrides,
  };
}
