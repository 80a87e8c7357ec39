/**
 * The runner server's handlers: every baton/... request of runner/protocol.ts, answered with the
 * engine's API on one open Baton, and the notifications that go back (jobsChanged, panelMessage).
 * It knows nothing of the transport; main.ts gives it a connection over stdio.
 */
import { LSPErrorCodes, ResponseError } from 'vscode-languageserver/node';
import { isBatonError } from '../errors.js';
import type { Baton } from '../engine/baton.js';
import type { Job } from '../engine/job.js';
import { checkRateLimit } from '../engine/options.js';
import { jobHasEnded, wordDatabaseFix, type PanelMessage, type RunnerErrorData, type RunnerNotifications, type RunnerRequests } from '../protocol.js';

/** The part of a vscode-languageserver (or vscode-jsonrpc) connection the server uses. */
export interface RunnerConnection {
  onRequest(method: string, handler: (params: never) => unknown): unknown;
  sendNotification(method: string, params: unknown): Promise<void> | void;
}

/** A panel's session in the runner: runner/panel/panel-session.ts implements it. */
export interface PanelSessionLike {
  handle(request: unknown): Promise<void>;
  dispose(): void;
}

/** Creates a panel session that sends its messages with `send`. */
export type PanelSessionFactory = (baton: Baton, send: (message: PanelMessage) => void) => PanelSessionLike;

/** A failed request: its message is for the user as is (it names the problem and the fix). */
export function requestError(message: string, code: string | null, location?: RunnerErrorData['location']): ResponseError<RunnerErrorData> {
  return new ResponseError<RunnerErrorData>(LSPErrorCodes.RequestFailed, message, { code, ...(location ? { location } : {}) });
}

export interface RunnerServerOptions {
  baton: Baton;
  connection: RunnerConnection;
  /** Panel sessions (the webview's data): runner/panel/panel-session.ts's PanelSession. */
  createPanelSession: PanelSessionFactory;
  /** Lines for the "Baton" output channel. */
  log: (line: string) => void;
}

type Handler<M extends keyof RunnerRequests> = (params: RunnerRequests[M]['params']) => Promise<RunnerRequests[M]['result']>;


export class RunnerServer {
  private readonly baton: Baton;
  private readonly connection: RunnerConnection;
  private readonly log: (line: string) => void;
  private readonly createPanelSession: PanelSessionFactory;
  private readonly panels = new Map<string, PanelSessionLike>();
  /** Jobs this process runs, for their end to be logged once. */
  private readonly followed = new Set<Job>();
  private stopWatching: (() => void) | null = null;

  constructor(options: RunnerServerOptions) {
    this.baton = options.baton;
    this.connection = options.connection;
    this.log = options.log;
    this.createPanelSession = options.createPanelSession;
    this.register('baton/listJobs', () => this.baton.jobs());
    this.register('baton/startJob', async (params) => {
      if (typeof params?.processor !== 'string' || params.processor === '') throw requestError('processor must be the path of a page processor file', 'INVALID_OPTION');
      const job = await this.baton.start({
        processor: params.processor,
        ...(params.args !== undefined ? { args: params.args as never } : {}),
        ...(params.jobId !== undefined ? { jobId: params.jobId } : {}),
        ...(params.maxParallel !== undefined ? { maxParallel: params.maxParallel } : {}),
        ...(params.rateLimit !== undefined ? { rateLimit: checkRateLimit(params.rateLimit) ?? undefined } : {}),
        ...(params.threads !== undefined ? { threads: params.threads } : {}),
      });
      this.follow(job, `started (${params.processor})`);
      return { jobId: job.id };
    });
    this.register('baton/pauseJob', async ({ jobId }) => {
      await this.baton.pause(jobId);
      return null;
    });
    this.register('baton/resumeJob', async ({ jobId }) => {
      if (this.baton.isLive(jobId)) {
        await this.baton.unpause(jobId);
        return null;
      }
      // Nobody runs it: run it here. A resumed job keeps its pause; resuming is asking it to run.
      const job = await this.baton.resume(jobId);
      await job.resume();
      this.follow(job, 'resumed');
      return null;
    });
    this.register('baton/cancelJob', async ({ jobId }) => {
      await this.baton.cancel(jobId);
      return null;
    });
    this.register('baton/retryFailed', async ({ jobId, page }) => {
      const failed = (await this.baton.status(jobId)).pages.failed;
      const result = await this.baton.retryFailed(jobId, page !== undefined ? { page } : {});
      if (!result.ranHere) {
        // That process requeues them; what it will requeue is what had failed.
        this.log(`asked the process running job ${jobId} to run its failed pages again`);
        return { requeued: page !== undefined ? 1 : failed };
      }
      // As `baton retry-failed`: a job paused before it failed stays paused, and retrying is asking it to run.
      if (result.job.snapshot().paused) await result.job.resume();
      this.follow(result.job, `runs ${result.requeued} failed page${result.requeued === 1 ? '' : 's'} again`);
      return { requeued: result.requeued };
    });
    this.register('baton/setLimits', async ({ jobId, maxParallel, rateLimit }) => {
      await this.baton.setLimits(jobId, {
        ...(maxParallel !== undefined ? { maxParallel } : {}),
        ...(rateLimit !== undefined ? { rateLimit: checkRateLimit(rateLimit) } : {}),
      });
      return null;
    });
    this.register('baton/openPanel', async ({ panelId }) => {
      checkPanelId(panelId);
      // Opened again (the extension re-opens its panels after a restart of this server): start afresh.
      this.panels.get(panelId)?.dispose();
      this.panels.set(panelId, this.createPanelSession(this.baton, (message) => this.notify('baton/panelMessage', { panelId, message })));
      return null;
    });
    this.register('baton/panelRequest', async ({ panelId, request }) => {
      const session = this.panels.get(panelId);
      if (!session) throw requestError(`no panel "${panelId}" is open in the runner: open it with baton/openPanel first`, null);
      await session.handle(request);
      return null;
    });
    this.register('baton/closePanel', async ({ panelId }) => {
      this.panels.get(panelId)?.dispose();
      this.panels.delete(panelId);
      return null;
    });
  }

  /** Starts sending baton/jobsChanged: at once, then whenever any job changes. */
  watchJobs(): void {
    this.stopWatching ??= this.baton.watchJobs(
      (jobs) => this.notify('baton/jobsChanged', { jobs }),
      // The jobs view keeps its last list; the output channel says why it stopped changing.
      (problem) => this.log(problem ? `cannot read the list of jobs: ${problem.message}` : 'reads the list of jobs again'),
    );
  }

  /** Stops the panels and the job feed; the caller closes the Baton. */
  dispose(): void {
    this.stopWatching?.();
    this.stopWatching = null;
    for (const session of this.panels.values()) session.dispose();
    this.panels.clear();
  }

  private notify<N extends keyof RunnerNotifications>(method: N, params: RunnerNotifications[N]): void {
    void Promise.resolve(this.connection.sendNotification(method, params)).catch(() => {
      // The client is gone; the process ends with the connection.
    });
  }

  private register<M extends keyof RunnerRequests>(method: M, handler: Handler<M>): void {
    this.connection.onRequest(method, async (params: RunnerRequests[M]['params']) => {
      try {
        return await handler(params ?? ({} as RunnerRequests[M]['params']));
      } catch (error) {
        if (error instanceof ResponseError) throw error;
        // Its client is the extension, where the database file is the baton.database setting.
        const message = wordDatabaseFix(error instanceof Error ? error.message : String(error), 'vscode');
        // BatonErrors are the user's to fix and their message says how; anything else is a bug here.
        if (!isBatonError(error)) this.log(`${method} failed: ${error instanceof Error ? (error.stack ?? message) : message}`);
        throw isBatonError(error) ? requestError(message, error.code, error.location) : requestError(message, null);
      }
    });
  }

  /** Logs a job this process runs, and how it ends. */
  private follow(job: Job, what: string): void {
    this.log(`job ${job.id} ${what}`);
    if (this.followed.has(job)) return;
    this.followed.add(job);
    const watch = () => {
      job.done.then(
        (summary) => {
          // retryFailed() after the end starts a new run on the same handle: follow that one.
          if (job.active) return watch();
          this.followed.delete(job);
          this.log(`job ${job.id} ${jobHasEnded(summary.state) ? 'ended' : 'stopped'}: ${summary.state}, ${summary.pages.succeeded} pages succeeded, ${summary.pages.failed} failed, ${summary.items} items`);
        },
        (error: unknown) => {
          this.followed.delete(job);
          this.log(`job ${job.id} stopped: ${error instanceof Error ? error.message : String(error)}`);
        },
      );
    };
    watch();
  }
}

function checkPanelId(panelId: unknown): void {
  if (typeof panelId !== 'string' || panelId === '' || panelId.length > 200) throw requestError(`panelId must be a non-empty string, got ${JSON.stringify(panelId)}`, 'INVALID_OPTION');
}
