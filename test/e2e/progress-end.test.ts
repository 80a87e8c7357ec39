// What a job's snapshot says about its pace once the run is over.
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton, type JobSnapshot } from '../../runner/index.js';
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

describe('the ETA once the run is over', () => {
  it.each([
    ['succeeded', { pages: 8, ms: 80 }],
    ['failed', { pages: 8, ms: 80, fail: true }],
  ])('is 0 for a job that %s with fewer items than its estimate, in its last update, its last activity and snapshot() after it', async (state, args) => {
    const b = await open();
    const job = await b.start({ processor: fixture('falls-short.ts'), args });
    const updates: JobSnapshot[] = [];
    const activities: JobSnapshot[] = [];
    job.on('update', (snapshot) => updates.push(snapshot));
    job.on('activity', (activity) => activities.push(activity.snapshot));
    expect(await job.done).toMatchObject({ state, estimatedTotalItems: 1_000 });
    // While it ran, the rate gave a positive ETA: the case under test is its end.
    expect(updates.some((snapshot) => snapshot.live && (snapshot.etaSeconds ?? 0) > 0)).toBe(true);
    expect(updates.at(-1)).toMatchObject({ state, live: false, etaSeconds: 0 });
    expect(activities.at(-1)).toMatchObject({ state, live: false, etaSeconds: 0 });
    expect(job.snapshot()).toMatchObject({ state, live: false, etaSeconds: 0 });
    // A job that succeeded did all its work: 100%, whatever its estimate said. One that failed did not.
    if (state === 'succeeded') expect([updates.at(-1)!.percent, activities.at(-1)!.percent, job.snapshot().percent]).toEqual([100, 100, 100]);
    else expect(job.snapshot().percent).toBeLessThan(100);
  });

  it('is 0 in the last word another process reads (watch), not the rate of its last seconds', async () => {
    const file = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db: file });
    const job = await baton.start({ processor: fixture('falls-short.ts'), args: { pages: 8, ms: 80 } });
    await job.done;
    const reader = await Baton.open({ db: file });
    try {
      const seen: JobSnapshot[] = [];
      const unsubscribe = reader.watch(job.id, (activity) => seen.push(activity.snapshot));
      await waitFor(() => seen.length > 0, 10_000, 'the last activity');
      unsubscribe();
      expect(seen.at(-1)).toMatchObject({ state: 'succeeded', live: false, etaSeconds: 0, percent: 100 });
    } finally {
      await reader.close();
    }
  });

  it('is null for a job stopped in this process: it has no pace until it runs again', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('falls-short.ts'), args: { pages: 200, ms: 30 }, maxParallel: 1 });
    await waitFor(() => (job.snapshot().etaSeconds ?? 0) > 0, 20_000, 'a positive ETA');
    expect(await job.stop('now')).toMatchObject({ state: 'running', live: false });
    expect(job.snapshot()).toMatchObject({ live: false, etaSeconds: null });
  });
});

describe('the items/s rate', () => {
  it('leaves out what attempts that failed had reported: their items never counted', async () => {
    const b = await open();
    const job = await b.start({ processor: fixture('reports-then-fails.ts'), args: { failing: 4, ms: 60_000 } });
    await waitFor(() => job.snapshot().pages.failed === 4, 20_000, 'the four pages to fail');
    const snapshot = job.snapshot();
    expect(snapshot).toMatchObject({ live: true, items: 0, itemsLive: 0 });
    expect(snapshot.throughput.itemsPerSecond).toBe(0);
    // Pages that failed still ended: the pages/s rate does not count them either, as before.
    expect(snapshot.throughput.pagesPerSecond).toBe(0);
  });
});
