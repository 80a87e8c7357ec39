// The runner server as the extension sees it: the real process (dist/runner/server/main.js) on
// this Node, spoken to in JSON-RPC over its stdio, as vscode-languageclient does.
import { fork, spawn, type ChildProcess } from 'node:child_process';
import { readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { createMessageConnection, ResponseError, StreamMessageReader, StreamMessageWriter, type MessageConnection } from 'vscode-languageserver/node';
import { PanelRelay, type PanelRunner } from '../../extension/panel-relay.js';
import type { JobSummary, PanelMessage, RunnerNotifications, RunnerRequests } from '../../runner/protocol.js';
import { fixture, root, tempDir, waitFor } from '../helpers.js';
import { startCli } from './cli-helpers.js';

const serverMain = join(root, 'dist', 'runner', 'server', 'main.js');

interface Runner {
  child: ChildProcess;
  connection: MessageConnection;
  /** Every baton/jobsChanged so far, oldest first. */
  jobLists: JobSummary[][];
  /** Every baton/panelMessage so far. */
  panelMessages: RunnerNotifications['baton/panelMessage'][];
  /** Called with each baton/panelMessage as it comes. */
  onPanelMessage: ((params: RunnerNotifications['baton/panelMessage']) => void)[];
  stderr(): string;
  request<M extends keyof RunnerRequests>(method: M, params: RunnerRequests[M]['params']): Promise<RunnerRequests[M]['result']>;
  /** The latest summary of a job, from baton/jobsChanged. */
  latest(jobId: string): JobSummary | undefined;
  exited: Promise<number | null>;
}

const running: Runner[] = [];

afterEach(async () => {
  for (const runner of running.splice(0)) {
    runner.connection.dispose();
    if (runner.child.exitCode === null && runner.child.signalCode === null) runner.child.kill('SIGKILL');
    await runner.exited;
  }
});

/** Starts the runner server on `db` and initializes it, as the extension does. */
async function startRunner(dir: string, db = join(dir, '.baton', 'baton.db')): Promise<Runner> {
  const child = spawn(process.execPath, [serverMain, '--stdio', '--db', db], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, TMPDIR: dir } });
  let stderr = '';
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
  const connection = createMessageConnection(new StreamMessageReader(child.stdout!), new StreamMessageWriter(child.stdin!));
  const jobLists: JobSummary[][] = [];
  const panelMessages: Runner['panelMessages'] = [];
  const onPanelMessage: Runner['onPanelMessage'] = [];
  connection.onNotification('baton/jobsChanged', (params: RunnerNotifications['baton/jobsChanged']) => {
    jobLists.push(params.jobs);
  });
  connection.onNotification('baton/panelMessage', (params: RunnerNotifications['baton/panelMessage']) => {
    panelMessages.push(params);
    for (const listener of onPanelMessage) listener(params);
  });
  connection.onNotification('window/logMessage', () => {});
  connection.listen();
  const runner: Runner = {
    child,
    connection,
    jobLists,
    panelMessages,
    onPanelMessage,
    stderr: () => stderr,
    request: (method, params) => connection.sendRequest(method, params),
    latest: (jobId) => jobLists.at(-1)?.find((job) => job.jobId === jobId),
    exited,
  };
  running.push(runner);
  await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} });
  await connection.sendNotification('initialized', {});
  return runner;
}

/** The error a request failed with. */
async function failure(promise: Promise<unknown>): Promise<ResponseError<{ code: string | null }>> {
  try {
    await promise;
  } catch (error) {
    return error as ResponseError<{ code: string | null }>;
  }
  throw new Error('the request succeeded');
}

describe('the runner server', () => {
  it('answers initialize with its name and version, and sends the (empty) job list at once', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [serverMain, '--stdio', '--db', join(dir, 'baton.db')], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    const lists: JobSummary[][] = [];
    const logs: string[] = [];
    connection.onNotification('baton/jobsChanged', (params: { jobs: JobSummary[] }) => {
      lists.push(params.jobs);
    });
    connection.onNotification('window/logMessage', (params: { message: string }) => {
      logs.push(params.message);
    });
    connection.listen();
    try {
      const result = (await connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} })) as { serverInfo: { name: string; version: string } };
      const { version } = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { version: string };
      expect(result.serverInfo).toEqual({ name: 'baton-runner', version });
      await connection.sendNotification('initialized', {});
      await waitFor(() => lists.length > 0, 10_000, 'the first job list');
      expect(lists[0]).toEqual([]);
      expect(await connection.sendRequest('baton/listJobs', {})).toEqual([]);
      await waitFor(() => logs.some((line) => line.includes(`database ${join(dir, 'baton.db')}`)), 10_000, 'the start-up log line');
    } finally {
      connection.dispose();
      child.kill('SIGKILL');
    }
  });

  it('starts a job on a real processor, and baton/jobsChanged follows it to the end', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    const { jobId } = await runner.request('baton/startJob', { processor: fixture('sleeps.ts'), args: { ms: 100, chains: 2, pages: 15 }, maxParallel: 2, threads: 1, jobId: 'sleepy' });
    expect(jobId).toBe('sleepy');
    await waitFor(() => runner.latest('sleepy')?.state === 'succeeded', 30_000, 'the job to succeed');
    expect(runner.latest('sleepy')).toMatchObject({ jobId: 'sleepy', processor: fixture('sleeps.ts'), pages: { total: 30, succeeded: 30, failed: 0 }, items: 30, limits: { maxParallel: 2 } });
    expect(runner.jobLists.some((jobs) => jobs.some((job) => job.jobId === 'sleepy' && job.state === 'running' && job.live))).toBe(true);
    const listed = await runner.request('baton/listJobs', {});
    expect(listed.map((job) => [job.jobId, job.state])).toEqual([['sleepy', 'succeeded']]);
  });

  it('generates a job id when none is given', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    const { jobId } = await runner.request('baton/startJob', { processor: fixture('counts-to.ts'), args: { total: 100 }, threads: 1 });
    expect(jobId).toMatch(/^counts-to-\d{14}-[0-9a-f]{4}$/);
    await waitFor(() => runner.latest(jobId)?.state === 'succeeded', 30_000, 'the job to succeed');
    expect(runner.latest(jobId)).toMatchObject({ name: 'counts-to', items: 100 });
  });

  it('pauses, resumes, changes limits of and cancels a job it runs', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    await runner.request('baton/startJob', { processor: fixture('sleeps.ts'), args: { ms: 50, chains: 2, pages: 1000 }, maxParallel: 2, threads: 1, jobId: 'long' });
    await waitFor(() => (runner.latest('long')?.pages.succeeded ?? 0) > 0, 30_000, 'pages to run');

    expect(await runner.request('baton/pauseJob', { jobId: 'long' })).toBeNull();
    await waitFor(() => runner.latest('long')?.state === 'paused', 10_000, 'the job to pause');
    expect(runner.latest('long')).toMatchObject({ paused: true, live: true });

    expect(await runner.request('baton/resumeJob', { jobId: 'long' })).toBeNull();
    await waitFor(() => runner.latest('long')?.state === 'running', 10_000, 'the job to run again');

    expect(await runner.request('baton/setLimits', { jobId: 'long', maxParallel: 5, rateLimit: { pagesPerSecond: 100 } })).toBeNull();
    await waitFor(() => runner.latest('long')?.limits.maxParallel === 5, 10_000, 'the new limits');
    expect(runner.latest('long')!.limits.rateLimit).toEqual({ pagesPerSecond: 100 });

    expect(await runner.request('baton/cancelJob', { jobId: 'long' })).toBeNull();
    await waitFor(() => runner.latest('long')?.state === 'cancelled', 10_000, 'the job to be cancelled');
    expect(runner.latest('long')!.pages.succeeded).toBeLessThan(2000);
  });

  it('shows a job that `baton run` runs in a terminal on the same database, and pauses and cancels it there', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    const cli = startCli(['run', fixture('sleeps.ts'), '--args', JSON.stringify({ ms: 50, chains: 2, pages: 1000 }), '--parallel', '2', '--threads', '1', '--job', 'from-cli'], dir);
    await waitFor(() => runner.latest('from-cli')?.live && runner.latest('from-cli')!.pages.succeeded > 0, 30_000, 'the CLI job in baton/jobsChanged');
    expect(runner.latest('from-cli')).toMatchObject({ state: 'running', live: true });

    await runner.request('baton/pauseJob', { jobId: 'from-cli' });
    await waitFor(() => runner.latest('from-cli')?.state === 'paused', 10_000, 'the CLI job to pause');
    await runner.request('baton/cancelJob', { jobId: 'from-cli' });
    const ended = await cli.exited;
    expect(ended.code).not.toBe(0);
    await waitFor(() => runner.latest('from-cli')?.state === 'cancelled', 10_000, 'the CLI job to be cancelled');
  });

  it('resumes a job that no process runs any more, running it to the end itself', async () => {
    const dir = tempDir();
    const db = join(dir, '.baton', 'baton.db');
    const first = await startRunner(dir, db);
    await first.request('baton/startJob', { processor: fixture('sleeps.ts'), args: { ms: 20, chains: 2, pages: 150 }, maxParallel: 2, threads: 1, jobId: 'orphan' });
    await waitFor(() => (first.latest('orphan')?.pages.succeeded ?? 0) > 2, 30_000, 'pages to run');
    first.child.kill('SIGKILL');
    await first.exited;

    const second = await startRunner(dir, db);
    await waitFor(() => second.latest('orphan') !== undefined, 10_000, 'the orphan job in the list');
    await waitFor(() => second.latest('orphan')?.live === false, 15_000, 'the dead runner to be noticed');
    expect(second.latest('orphan')!.state).toBe('running');
    await second.request('baton/resumeJob', { jobId: 'orphan' });
    await waitFor(() => second.latest('orphan')?.state === 'succeeded', 30_000, 'the resumed job to succeed');
    expect(second.latest('orphan')!.pages.succeeded).toBe(300);
  });

  it('runs failed pages again once the processor is fixed, and says how many', async () => {
    const dir = tempDir();
    const marker = join(dir, 'broken');
    writeFileSync(marker, '');
    const runner = await startRunner(dir);
    await runner.request('baton/startJob', { processor: fixture('cli-fails-until-fixed.ts'), args: { marker }, threads: 1, jobId: 'fixable' });
    await waitFor(() => runner.latest('fixable')?.state === 'failed', 30_000, 'the job to fail');
    expect(runner.latest('fixable')!.pages).toMatchObject({ succeeded: 2, failed: 1 });

    unlinkSync(marker);
    expect(await runner.request('baton/retryFailed', { jobId: 'fixable' })).toEqual({ requeued: 1 });
    await waitFor(() => runner.latest('fixable')?.state === 'succeeded', 30_000, 'the retried job to succeed');
    expect(runner.latest('fixable')).toMatchObject({ items: 30, pages: { succeeded: 3, failed: 0 } });
  });

  it('answers a bad request with the engine\'s message and its code, and keeps running', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    const unknown = await failure(runner.request('baton/pauseJob', { jobId: 'nope' }));
    expect(unknown).toBeInstanceOf(ResponseError);
    expect(unknown.message).toMatch(/job "nope"/);
    expect(unknown.data).toEqual({ code: 'JOB_NOT_FOUND' });

    const missing = await failure(runner.request('baton/startJob', { processor: join(dir, 'missing.ts') }));
    expect(missing.message).toMatch(/missing\.ts does not exist/);
    expect(missing.data).toEqual({ code: 'PROCESSOR_NOT_FOUND' });

    const broken = await failure(runner.request('baton/startJob', { processor: fixture('syntax-error.ts') }));
    // With the place at fault, for the extension's "Go to Error".
    expect(broken.data).toEqual({ code: 'PROCESSOR_BUILD_FAILED', location: { file: fixture('syntax-error.ts'), line: 6, column: 3 } });

    const noProcessor = await failure(runner.request('baton/startJob', {} as never));
    expect(noProcessor.message).toBe('processor must be the path of a page processor file');

    expect(await runner.request('baton/listJobs', {})).toEqual([]);
  });

  it('words a database error\'s fix as the extension gives the file: the baton.database setting', async () => {
    const dir = tempDir();
    const db = join(dir, '.baton', 'baton.db');
    const runner = await startRunner(dir, db);
    const holder = fork(join(root, 'test/support/hold-lock.mjs'), [db], { stdio: 'ignore' });
    await new Promise((resolve) => holder.once('message', resolve));
    try {
      // After the runner's busy wait of 5 s.
      const locked = await failure(runner.request('baton/startJob', { processor: fixture('plain.js'), jobId: 'waits' }));
      expect(locked.data).toEqual({ code: 'DB_LOCKED' });
      // The file as the user would type it, from the runner's folder.
      expect(locked.message).toBe(`.baton/baton.db is locked by another process: close the program holding a write transaction on it, or set baton.database to another file`);
    } finally {
      holder.kill('SIGKILL');
      await new Promise((resolve) => holder.once('exit', resolve));
    }
  }, 30_000);

  it('refuses to start on a folder, with the baton.database setting as the fix', async () => {
    const dir = tempDir();
    const child = spawn(process.execPath, [serverMain, '--stdio', '--db', dir], { cwd: dir, stdio: ['pipe', 'pipe', 'pipe'] });
    const connection = createMessageConnection(new StreamMessageReader(child.stdout), new StreamMessageWriter(child.stdin));
    connection.listen();
    try {
      const refused = await failure(connection.sendRequest('initialize', { processId: process.pid, rootUri: null, capabilities: {} }));
      expect(refused.message).toBe(`Baton could not open its database ${dir}: ${dir} is a folder, not a database file: set baton.database to a file's path, such as baton.db`);
    } finally {
      connection.dispose();
      child.kill('SIGKILL');
    }
  });

  it('keeps stdout for the protocol: what processors print goes to stderr, for the output channel', async () => {
    const dir = tempDir();
    const processor = join(dir, 'prints.ts');
    writeFileSync(
      processor,
      `import { definePageProcessor } from 'baton';
export default definePageProcessor<number, Record<string, never>>({
  initialPages: [{ cursor: 0 }],
  async run(ctx) {
    console.log('printed by page ' + ctx.page.cursor);
    process.stdout.write('Content-Length: 5\\r\\n\\r\\n{}{}{');
    if (ctx.page.cursor < 3) await ctx.enqueueNextPage({ cursor: ctx.page.cursor + 1 });
    // A worker's output reaches the main thread asynchronously: give it time before the pool ends.
    await new Promise((resolve) => setTimeout(resolve, 300));
    return { items: 1 };
  },
});
`,
    );
    const runner = await startRunner(dir);
    await runner.request('baton/startJob', { processor, threads: 1, jobId: 'prints' });
    await waitFor(() => runner.latest('prints')?.state === 'succeeded', 30_000, 'the job to succeed');
    await waitFor(() => [0, 1, 2, 3].every((page) => runner.stderr().includes(`printed by page ${page}`)), 10_000, 'the printed lines on stderr');
    expect(await runner.request('baton/listJobs', {})).toHaveLength(1);
  });

  it('exits when the extension goes away, and the job it ran can be resumed', async () => {
    const dir = tempDir();
    const db = join(dir, '.baton', 'baton.db');
    const runner = await startRunner(dir, db);
    await runner.request('baton/startJob', { processor: fixture('sleeps.ts'), args: { ms: 50, pages: 1000 }, threads: 1, jobId: 'left' });
    await waitFor(() => (runner.latest('left')?.pages.succeeded ?? 0) > 0, 30_000, 'pages to run');
    runner.child.stdin!.end();
    expect(await runner.exited).toBe(0);

    const next = await startRunner(dir, db);
    await waitFor(() => next.latest('left') !== undefined, 10_000, 'the job in the list');
    expect(next.latest('left')).toMatchObject({ state: 'running', live: false });
  });

  it('shuts down on request, as vscode-languageclient stops it', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    await runner.connection.sendRequest('shutdown');
    await runner.connection.sendNotification('exit');
    expect(await runner.exited).toBe(0);
  });
});

describe('panel sessions in the runner server', () => {
  it('relays a panel\'s requests and sends its messages back as baton/panelMessage', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    await runner.request('baton/startJob', { processor: fixture('sleeps.ts'), args: { ms: 30, chains: 2, pages: 20 }, threads: 1, jobId: 'watched' });
    await runner.request('baton/openPanel', { panelId: 'p1' });
    await runner.request('baton/panelRequest', { panelId: 'p1', request: { type: 'ready', jobId: 'watched' } });
    const of = (type: PanelMessage['type']) => runner.panelMessages.filter((m) => m.panelId === 'p1' && m.message.type === type).map((m) => m.message);
    await waitFor(() => of('jobs').length > 0, 10_000, 'the job list in the panel');
    expect((of('jobs')[0] as { jobs: JobSummary[] }).jobs.map((job) => job.jobId)).toEqual(['watched']);
    await waitFor(
      () => of('activity').some((m) => m.type === 'activity' && m.activity.jobId === 'watched' && m.activity.snapshot.state === 'succeeded'),
      30_000,
      'the job\'s activity to its end',
    );

    await runner.request('baton/closePanel', { panelId: 'p1' });
    const closed = await failure(runner.request('baton/panelRequest', { panelId: 'p1', request: { type: 'select', jobId: 'watched' } }));
    expect(closed.message).toMatch(/no panel "p1" is open/);
  });

  it('refuses a panel request for a panel it never opened', async () => {
    const dir = tempDir();
    const runner = await startRunner(dir);
    const error = await failure(runner.request('baton/panelRequest', { panelId: 'ghost', request: { type: 'ready', jobId: null } }));
    expect(error.message).toBe('no panel "ghost" is open in the runner: open it with baton/openPanel first');
  });
});

/**
 * The extension's PanelRelay (extension/panel-relay.ts) between a webview, here the messages it
 * is posted, and the real runner server; what the webview sends is written as the panel sends it.
 */
describe('the extension\'s panel relay', () => {
  /** A relay on `runner`, whose messages land in `posted`; `use` moves it to another runner. */
  function relayOn(first: Runner, panelId = 'panel-1') {
    let current = first;
    const posted: PanelMessage[] = [];
    const logged: string[] = [];
    const runner: PanelRunner = { request: (method, params) => current.request(method, params as never) };
    const relay = new PanelRelay({ panelId, runner, post: (message) => posted.push(message), log: (line) => logged.push(line) });
    const listen = (target: Runner) => target.onPanelMessage.push((params) => params.panelId === panelId && relay.fromRunner(params.message));
    listen(first);
    return {
      relay,
      posted,
      logged,
      use(next: Runner) {
        current = next;
        listen(next);
      },
      /** The jobs the panel was sent history for, in order. */
      historyOf: () => posted.flatMap((message) => (message.type === 'history' ? [message.jobId] : [])),
    };
  }

  async function twoJobs(runner: Runner): Promise<void> {
    await runner.request('baton/startJob', { processor: fixture('counts-to.ts'), args: { total: 100 }, threads: 1, jobId: 'first' });
    await runner.request('baton/startJob', { processor: fixture('counts-to.ts'), args: { total: 100 }, threads: 1, jobId: 'second' });
    await waitFor(() => runner.latest('second')?.state === 'succeeded' && runner.latest('first')?.state === 'succeeded', 30_000, 'both jobs to end');
  }

  it('gives the panel\'s first ready the job Run Batch asked for, and relays what the session sends back', async () => {
    const runner = await startRunner(tempDir());
    await twoJobs(runner);
    const { relay, posted, historyOf } = relayOn(runner);
    await relay.select('first');
    await relay.connect();
    await relay.fromWebview({ type: 'ready', jobId: null });
    await waitFor(() => historyOf().length > 0, 10_000, 'the history of the job');
    expect(historyOf()).toEqual(['first']);
    await waitFor(() => posted.some((m) => m.type === 'activity' && m.activity.jobId === 'first'), 10_000, 'its activity');
    expect(posted.find((m) => m.type === 'jobs')).toMatchObject({ jobs: [{ jobId: 'first' }, { jobId: 'second' }] });
  });

  it('holds what the panel sends until its session in the runner is open', async () => {
    const runner = await startRunner(tempDir());
    await twoJobs(runner);
    const { relay, historyOf } = relayOn(runner);
    await relay.fromWebview({ type: 'ready', jobId: 'second' });
    expect(historyOf()).toEqual([]);
    await relay.connect();
    await waitFor(() => historyOf().length > 0, 10_000, 'the history after the session opened');
    expect(historyOf()).toEqual(['second']);
  });

  it('turns an open panel to another job: it says "connected", and the ready that answers gets the job', async () => {
    const runner = await startRunner(tempDir());
    await twoJobs(runner);
    const { relay, posted, historyOf } = relayOn(runner);
    await relay.connect();
    await relay.fromWebview({ type: 'ready', jobId: 'first' });
    await waitFor(() => historyOf().includes('first'), 10_000, 'the first job\'s history');

    await relay.select('second');
    expect(posted.at(-1)).toEqual({ type: 'connection', state: 'connected' });
    // The panel answers a new connection with a ready for the job it shows (webview/app.ts).
    await relay.fromWebview({ type: 'ready', jobId: 'first' });
    await waitFor(() => historyOf().at(-1) === 'second', 10_000, 'the second job\'s history');

    // A job the panel picks itself is the one it shows from then on.
    await relay.fromWebview({ type: 'select', jobId: 'first' });
    await relay.select('first');
    expect(posted.filter((m) => m.type === 'connection')).toHaveLength(1);
  });

  it('says it is reconnecting while the runner restarts, then opens the session in the new runner', async () => {
    const dir = tempDir();
    const db = join(dir, '.baton', 'baton.db');
    const before = await startRunner(dir, db);
    await twoJobs(before);
    const link = relayOn(before);
    await link.relay.connect();
    await link.relay.fromWebview({ type: 'ready', jobId: 'first' });
    await waitFor(() => link.historyOf().includes('first'), 10_000, 'the history');

    before.child.kill('SIGKILL');
    await before.exited;
    link.relay.disconnected('The Baton runner restarts…');
    expect(link.posted.at(-1)).toEqual({ type: 'connection', state: 'reconnecting', message: 'The Baton runner restarts…' });

    const after = await startRunner(dir, db);
    link.use(after);
    const historiesBefore = link.historyOf().length;
    await link.relay.reconnected();
    expect(link.posted.at(-1)).toEqual({ type: 'connection', state: 'connected' });
    await link.relay.fromWebview({ type: 'ready', jobId: 'first' });
    await waitFor(() => link.historyOf().length > historiesBefore, 10_000, 'the history from the new runner');
    expect(link.historyOf().at(-1)).toBe('first');
    expect(link.logged).toEqual([]);
  });

  it('closes its session in the runner when the webview goes', async () => {
    const runner = await startRunner(tempDir());
    const { relay } = relayOn(runner, 'closing');
    await relay.connect();
    await relay.dispose();
    const error = await failure(runner.request('baton/panelRequest', { panelId: 'closing', request: { type: 'ready', jobId: null } }));
    expect(error.message).toMatch(/no panel "closing" is open/);
  });
});
