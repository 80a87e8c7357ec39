import { fork } from 'node:child_process';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton, type PanelMessage } from '../../runner/index.js';
import { PanelSession } from '../../runner/panel/panel-session.js';
import { fixture, root, sleep, tempDir, waitFor } from '../helpers.js';
import { damageTable } from './damage-table.js';

type Of<T extends PanelMessage['type']> = Extract<PanelMessage, { type: T }>;

/** A panel session and every message it sent, as a webview would receive them. */
class RecordedPanel {
  readonly messages: PanelMessage[] = [];
  readonly session: PanelSession;

  constructor(baton: Baton) {
    this.session = new PanelSession(baton, (message) => this.messages.push(structuredClone(message)), 'api');
  }

  of<T extends PanelMessage['type']>(type: T): Of<T>[] {
    return this.messages.filter((message): message is Of<T> => message.type === type);
  }

  async result(requestId: number): Promise<Of<'result'>> {
    return waitFor(() => this.of('result').find((message) => message.requestId === requestId), 20_000, `result ${requestId}`);
  }
}

let baton: Baton | undefined;
const panels: RecordedPanel[] = [];
afterEach(async () => {
  for (const panel of panels.splice(0)) panel.session.dispose();
  await baton?.close({ stop: 'now' });
  baton = undefined;
});

async function open(db = join(tempDir(), 'baton.db')): Promise<{ baton: Baton; panel: RecordedPanel }> {
  baton = await Baton.open({ db });
  const panel = new RecordedPanel(baton);
  panels.push(panel);
  return { baton, panel };
}

/** A panel that has loaded, on a database whose one job ('read') has ended. */
async function loadedOnEndedJob(db: string): Promise<RecordedPanel> {
  const { baton, panel } = await open(db);
  await (await baton.start({ processor: fixture('plain.js'), jobId: 'read' })).done;
  await panel.session.handle({ type: 'ready', jobId: null });
  return panel;
}

describe('a panel session', () => {
  it('answers ready with the jobs, then the running job\'s history and failures, then its live activity', async () => {
    const { baton, panel } = await open();
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'older' })).done;
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 50, chains: 2, pages: 40 }, maxParallel: 2, jobId: 'live' });
    await waitFor(() => job.snapshot().pages.succeeded > 4, 20_000, 'some pages to finish');

    await panel.session.handle({ type: 'ready', jobId: null });
    await waitFor(() => panel.of('activity').length >= 2, 20_000, 'activity');
    const types = panel.messages.map((message) => message.type);
    expect(types.slice(0, 3)).toEqual(['jobs', 'history', 'failures']);
    expect(panel.of('jobs')[0]!.jobs.map((summary) => summary.jobId)).toEqual(['older', 'live']);
    const history = panel.of('history')[0]!;
    expect(history.jobId).toBe('live');
    expect(history.complete).toBe(true);
    expect(history.attempts.length).toBeGreaterThan(4);
    expect(panel.of('failures')[0]).toEqual({ type: 'failures', jobId: 'live', failures: [] });
    expect(panel.of('activity').every((message) => message.activity.jobId === 'live')).toBe(true);
    await job.done;
  });

  it('shows the job the panel showed before, and switches on select', async () => {
    const { baton, panel } = await open();
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'first' })).done;
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'second' })).done;

    await panel.session.handle({ type: 'ready', jobId: 'first' });
    expect(panel.of('history').map((message) => message.jobId)).toEqual(['first']);
    await panel.session.handle({ type: 'select', jobId: 'second' });
    expect(panel.of('history').map((message) => message.jobId)).toEqual(['first', 'second']);
    await waitFor(() => panel.of('activity').some((message) => message.activity.jobId === 'second'), 5_000, 'activity of the second job');
    const afterSwitch = panel.messages.slice(panel.messages.findIndex((message) => message.type === 'history' && message.jobId === 'second'));
    expect(afterSwitch.every((message) => message.type !== 'activity' || message.activity.jobId === 'second')).toBe(true);
  });

  it('answers an invalid request that has a requestId with an error, ignores one without, and never throws', async () => {
    const { panel } = await open();
    await panel.session.handle({ type: 'pause', jobId: 'J', requestId: 4, extra: 1 });
    expect(panel.of('result')).toEqual([{ type: 'result', requestId: 4, ok: false, error: 'pause has an unknown field "extra"; allowed: type, jobId, requestId' }]);
    for (const nonsense of [undefined, null, 'ready', { type: 'select' }, { type: 'loadHistory', jobId: 'J', before: -1, limit: 1 }]) {
      await expect(panel.session.handle(nonsense)).resolves.toBeUndefined();
    }
    expect(panel.messages).toHaveLength(1);
    // A valid request the engine refuses: its error goes back in the result.
    await panel.session.handle({ type: 'cancel', jobId: 'no-such-job', requestId: 5 });
    expect((await panel.result(5)).ok).toBe(false);
    expect((await panel.result(5)).error).toMatch(/no-such-job/);
  });

  it('pauses, resumes and changes the limits of the running job, durably, answering each request', async () => {
    const { baton, panel } = await open();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 100, chains: 4, pages: 100 }, maxParallel: 1, jobId: 'steer' });
    await panel.session.handle({ type: 'ready', jobId: 'steer' });

    await panel.session.handle({ type: 'pause', jobId: 'steer', requestId: 1 });
    expect(await panel.result(1)).toEqual({ type: 'result', requestId: 1, ok: true });
    expect((await baton.status('steer')).paused).toBe(true);
    await waitFor(() => panel.of('activity').some((message) => message.activity.snapshot.state === 'paused'), 20_000, 'a paused activity');

    await panel.session.handle({ type: 'setLimits', jobId: 'steer', maxParallel: 4, rateLimit: { itemsPerSecond: 500 }, requestId: 2 });
    expect((await panel.result(2)).ok).toBe(true);
    expect((await baton.status('steer')).limits).toEqual({ maxParallel: 4, rateLimit: { itemsPerSecond: 500 } });

    await panel.session.handle({ type: 'resume', jobId: 'steer', requestId: 3 });
    expect((await panel.result(3)).ok).toBe(true);
    await waitFor(() => panel.of('activity').some((message) => message.activity.snapshot.inFlight > 1), 20_000, 'more than one page in flight');

    await panel.session.handle({ type: 'setLimits', jobId: 'steer', rateLimit: null, requestId: 4 });
    expect((await panel.result(4)).ok).toBe(true);
    expect((await baton.status('steer')).limits).toEqual({ maxParallel: 4 });

    await panel.session.handle({ type: 'cancel', jobId: 'steer', requestId: 5 });
    expect((await panel.result(5)).ok).toBe(true);
    expect((await job.done).state).toBe('cancelled');
  });

  it('sends failures when they change, retries one page, and opens a page with its attempts and log lines', async () => {
    const { baton, panel } = await open();
    const dir = tempDir();
    const job = await baton.start({ processor: fixture('always-fails.ts'), args: { failuresFile: join(dir, 'failures.log') }, jobId: 'fails' });
    await panel.session.handle({ type: 'ready', jobId: 'fails' });
    await job.done;
    const failures = await waitFor(() => panel.of('failures').find((message) => message.failures.length === 1), 20_000, 'the failed page');
    const failed = failures.failures[0]!;
    expect(failed).toMatchObject({ cursor: 1, attempts: 3, outcome: 'failed', error: { name: 'DatabaseGoneError', message: 'page 1 cannot reach the database (attempt 3)' } });
    expect(failed.error.stack).toContain('DatabaseGoneError');

    await panel.session.handle({ type: 'openPage', jobId: 'fails', page: failed.page });
    const detail = panel.of('pageDetail')[0]!;
    expect(detail.page).toBe(failed.page);
    expect(detail.attempts.map((attempt) => attempt.attempt)).toEqual([3, 2, 1]);
    expect(detail.attempts.every((attempt) => attempt.outcome === 'failed' && attempt.error?.name === 'DatabaseGoneError')).toBe(true);

    const sentBefore = panel.of('failures').length;
    await panel.session.handle({ type: 'retryFailed', jobId: 'fails', page: failed.page, requestId: 9 });
    expect((await panel.result(9)).ok).toBe(true);
    // It fails again: three more attempts, and the failures are sent again.
    await waitFor(async () => (await baton.status('fails')).failures[0]?.attempts === 6, 20_000, 'the page to fail again');
    await waitFor(() => panel.of('failures').length > sentBefore && panel.of('failures').at(-1)!.failures[0]?.attempts === 6, 20_000, 'the new failures');
  });

  it('opens a page with its log lines', async () => {
    const { baton, panel } = await open();
    await (await baton.start({ processor: fixture('throws-once.ts'), args: { pages: 2 }, jobId: 'logs' })).done;
    await panel.session.handle({ type: 'ready', jobId: 'logs' });
    await panel.session.handle({ type: 'openPage', jobId: 'logs', page: 1 });
    const detail = panel.of('pageDetail')[0]!;
    expect(detail.attempts.map((attempt) => [attempt.attempt, attempt.outcome])).toEqual([[2, 'succeeded'], [1, 'failed']]);
    expect(detail.logs.map((line) => [line.attempt, line.message])).toEqual([[1, 'attempt 1 of page 0'], [2, 'attempt 2 of page 0']]);
  });

  it('loads older attempts for a timeline that pans back, and says when there are no more', async () => {
    const { baton, panel } = await open();
    await (await baton.start({ processor: fixture('counts-to.ts'), args: { total: 600 }, jobId: 'many' })).done;
    await panel.session.handle({ type: 'ready', jobId: 'many' });
    const all = await baton.attempts('many', { limit: 100 });
    expect(all).toHaveLength(60);
    const before = all[19]!.startedAt;
    await panel.session.handle({ type: 'loadHistory', jobId: 'many', before, limit: 10 });
    const page = panel.of('history').at(-1)!;
    expect(page.attempts).toHaveLength(10);
    expect(page.attempts.every((attempt) => attempt.startedAt < before)).toBe(true);
    expect(page.complete).toBe(false);
    const early = all[49]!.startedAt;
    await panel.session.handle({ type: 'loadHistory', jobId: 'many', before: early, limit: 1000 });
    const last = panel.of('history').at(-1)!;
    expect(last.complete).toBe(true);
    expect(last.attempts.map((attempt) => attempt.page).sort((a, b) => a - b)).toEqual(all.filter((attempt) => attempt.startedAt < early).map((attempt) => attempt.page).sort((a, b) => a - b));
  });

  it('hears every ended attempt of a job another process runs, filling gaps from the database', async () => {
    const dir = tempDir();
    const db = join(dir, 'baton.db');
    const child = fork(join(root, 'test/support/run-job.mjs'), [db, 'elsewhere', fixture('logs-runs.ts'), JSON.stringify({ log: join(dir, 'runs.log'), chains: 4, pages: 50, ms: 20 }), '4'], { stdio: 'ignore' });
    const exited = new Promise((resolve) => child.on('exit', resolve));
    baton = await Baton.open({ db });
    await waitFor(async () => (await baton!.jobs()).length === 1, 20_000, 'the job to exist');
    const panel = new RecordedPanel(baton);
    panels.push(panel);
    await panel.session.handle({ type: 'ready', jobId: null });
    await exited;
    await waitFor(() => panel.of('activity').some((message) => message.activity.snapshot.state === 'succeeded'), 20_000, 'the final activity');
    const heard = new Set<number>();
    for (const message of panel.of('history')) for (const attempt of message.attempts) if (attempt.endedAt !== null) heard.add(attempt.page);
    for (const message of panel.of('activity')) for (const attempt of message.activity.ended) heard.add(attempt.page);
    expect(heard.size).toBe(200);
    // A job run elsewhere never looks idle between its owner's writes.
    const live = panel.of('activity').filter((message) => message.activity.snapshot.state === 'running');
    expect(live.every((message) => message.activity.snapshot.live)).toBe(true);
    const seqs = panel.of('activity').map((message) => message.activity.seq);
    expect(seqs).toEqual([...new Set(seqs)].sort((a, b) => a - b));
  });

  it('tells the panel once while the database cannot be read, though both its feeds fail, and once when it can', async () => {
    const db = join(tempDir(), 'baton.db');
    const panel = await loadedOnEndedJob(db);
    await waitFor(() => panel.of('activity').length > 0, 20_000, 'activity');

    // The job list and the job's own feed both read the jobs table.
    const damage = damageTable(db, 'jobs');
    await waitFor(() => panel.of('problem').length > 0, 10_000, 'the problem');
    await sleep(2_500);
    expect(panel.of('problem')).toHaveLength(1);
    expect(panel.of('problem')[0]!.message).toMatch(/baton\.db is not a usable SQLite database/);
    damage.restore();
    await waitFor(() => panel.of('problem').length > 1, 10_000, 'the all-clear');
    await sleep(1_500);
    expect(panel.of('problem').map((message) => message.message === null)).toEqual([false, true]);
  });

  it('tells a panel that loads again of a problem that has not cleared', async () => {
    const db = join(tempDir(), 'baton.db');
    const panel = await loadedOnEndedJob(db);
    const damage = damageTable(db, 'job_live');
    await waitFor(() => panel.of('problem').length > 0, 10_000, 'the problem');

    await panel.session.handle({ type: 'ready', jobId: 'read' });
    const problems = panel.of('problem');
    expect(problems).toHaveLength(2);
    expect(problems[1]).toEqual(problems[0]);
    expect(problems[1]!.message).not.toBeNull();
    damage.restore();
  });

  it('sends nothing once disposed', async () => {
    const { baton, panel } = await open();
    const job = await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 50, pages: 40 }, jobId: 'gone' });
    await panel.session.handle({ type: 'ready', jobId: null });
    panel.session.dispose();
    const count = panel.messages.length;
    await panel.session.handle({ type: 'pause', jobId: 'gone', requestId: 1 });
    await job.done;
    expect(panel.messages).toHaveLength(count);
  });
});
