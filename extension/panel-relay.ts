/**
 * One webview panel's link to its session in the runner server: webview requests go out as
 * baton/panelRequest, the session's baton/panelMessage notifications come back to the webview.
 * It survives restarts of the runner: the panel is told it is reconnecting, then, once the session
 * is open again, that it is connected, and it sends ready for the job it shows. No 'vscode' here: panel-host.ts gives it
 * the webview and the runner.
 */
import type { PanelMessage, RunnerRequests } from '../runner/protocol.js';

/** The runner requests a relay sends. */
export interface PanelRunner {
  request<M extends 'baton/openPanel' | 'baton/panelRequest' | 'baton/closePanel'>(method: M, params: RunnerRequests[M]['params']): Promise<unknown>;
}

export interface PanelRelayOptions {
  panelId: string;
  runner: PanelRunner;
  /** Posts a message to the webview. */
  post: (message: PanelMessage) => void;
  /** Where failures go (the output channel). */
  log: (line: string) => void;
}

type Request = Record<string, unknown> & { type?: unknown };

export class PanelRelay {
  readonly panelId: string;
  private readonly runner: PanelRunner;
  private readonly post: (message: PanelMessage) => void;
  private readonly log: (line: string) => void;
  /** Requests from the webview that wait for the session to open. */
  private waiting: unknown[] = [];
  private open = false;
  private opening: Promise<void> | null = null;
  private disposed = false;
  /** The runner went away since the session was opened. */
  private lost = false;
  /** The panel has said it is ready: the session needs that before anything else. */
  private readyJobId: string | null | undefined = undefined;
  /** The job the panel shows (or should show): its last ready/select, or the one asked for. */
  private selected: string | null = null;
  /** A job asked for before the panel said it was ready. */
  private wanted: string | null = null;

  constructor(options: PanelRelayOptions) {
    this.panelId = options.panelId;
    this.runner = options.runner;
    this.post = options.post;
    this.log = options.log;
  }

  /** Opens the session in the runner (again, after a restart); requests wait until it is open. */
  connect(): Promise<void> {
    if (this.disposed) return Promise.resolve();
    this.open = false;
    const opening = this.runner.request('baton/openPanel', { panelId: this.panelId }).then(
      async () => {
        if (this.disposed || this.opening !== opening) return;
        this.open = true;
        const waiting = this.waiting.splice(0);
        for (const request of waiting) await this.send(request);
      },
      (error: unknown) => {
        this.log(`the Baton panel could not open in the runner: ${(error as Error).message}`);
        if (this.opening !== opening) return;
        this.lost = true;
        this.post({ type: 'connection', state: 'reconnecting', message: (error as Error).message });
      },
    );
    this.opening = opening;
    return opening;
  }

  /** The runner went away: the panel keeps its state and says it is reconnecting. */
  disconnected(message?: string): void {
    if (this.disposed) return;
    this.open = false;
    this.opening = null;
    this.lost = true;
    this.post({ type: 'connection', state: 'reconnecting', ...(message ? { message } : {}) });
  }

  /**
   * The runner is back: open the session again, then tell the panel, which answers with a
   * ready for the new session. Nothing to do if it never went.
   */
  async reconnected(): Promise<void> {
    if (this.disposed || !this.lost) return;
    this.lost = false;
    await this.connect();
    if (this.open) this.post({ type: 'connection', state: 'connected' });
  }

  /** A message from the webview, relayed as it came, except that the first ready gets the job asked for. */
  async fromWebview(message: unknown): Promise<void> {
    if (this.disposed) return;
    let request = message;
    if (isRequest(message) && message.type === 'ready') {
      const shown = typeof message.jobId === 'string' ? message.jobId : null;
      const jobId = this.wanted ?? shown;
      this.wanted = null;
      this.readyJobId = jobId;
      this.selected = jobId;
      request = { ...message, jobId };
    } else if (isRequest(message) && message.type === 'select' && typeof message.jobId === 'string') {
      this.selected = message.jobId;
    }
    if (!this.open) {
      // A ready that replaces an earlier one makes the earlier requests moot.
      if (isRequest(request) && request.type === 'ready') this.waiting = [];
      this.waiting.push(request);
      return;
    }
    await this.send(request);
  }

  /** A message for this panel from the runner. */
  fromRunner(message: PanelMessage): void {
    if (!this.disposed) this.post(message);
  }

  /**
   * Shows a job in the panel. Before the panel's first ready, that ready gets it. After, the
   * panel is told it is connected afresh: it then sends ready again (which gets the job) and
   * adopts the job the session answers with, as it does after a reconnection.
   */
  async select(jobId: string): Promise<void> {
    if (this.disposed || jobId === this.selected) return;
    this.wanted = jobId;
    if (this.readyJobId !== undefined && this.open) this.post({ type: 'connection', state: 'connected' });
  }

  /** The webview is gone: close the session. */
  async dispose(): Promise<void> {
    if (this.disposed) return;
    this.disposed = true;
    this.waiting = [];
    if (this.open) await this.runner.request('baton/closePanel', { panelId: this.panelId }).catch(() => {});
  }

  private async send(request: unknown): Promise<void> {
    try {
      await this.runner.request('baton/panelRequest', { panelId: this.panelId, request });
    } catch (error) {
      this.log(`a Baton panel request failed: ${(error as Error).message}`);
    }
  }
}

function isRequest(value: unknown): value is Request {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
