/**
 * The extension's link to the runner server: it picks the runner (the workspace's baton, else
 * the bundled one), checks the user's Node, starts the server with vscode-languageclient and
 * types the baton/... requests and notifications of runner/protocol.ts. The client restarts the
 * server if it dies; the server's log goes to the "Baton" output channel.
 */
import { existsSync } from 'node:fs';
import { hostname } from 'node:os';
import * as vscode from 'vscode';
import { CloseAction, LanguageClient, State, TransportKind, type ErrorHandler, type LanguageClientOptions, type ServerOptions } from 'vscode-languageclient/node';
import type { JobProcess, PanelMessage, RunnerNotifications, RunnerRequests } from '../runner/protocol.js';
import type { JobView } from './job-format.js';
import { nodeCommand, probeNode, type NodeCheckAction } from './node-check.js';
import { jobsRunBy } from './runner-jobs.js';
import { locateRunner, type RunnerLocation } from './runner-location.js';
import { databasePath, fillSettings, runnerFolder, type BatonSettings } from './settings.js';

/** How many times the server may die in three minutes before the client stops restarting it. */
const MAX_RESTARTS = 4;

/**
 * Opens the Settings editor on baton.nodePath. It is a machine setting: in a remote window (SSH,
 * WSL, a container, code-server) it lives under the Remote tab, where the runner runs.
 */
export async function openNodePathSetting(): Promise<void> {
  if (vscode.env.remoteName) {
    try {
      await vscode.commands.executeCommand('workbench.action.openRemoteSettings', { query: 'baton.nodePath' });
      return;
    } catch {
      // An older VS Code without it: the User tab at least shows where to look.
    }
  }
  await vscode.commands.executeCommand('workbench.action.openSettings', 'baton.nodePath');
}

/** Reads the "baton" settings. */
export function readSettings(): BatonSettings {
  const config = vscode.workspace.getConfiguration('baton');
  return fillSettings((key) => config.get(key));
}

/** The local workspace folders, first one first. */
export function workspaceFolders(): string[] {
  return (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file').map((folder) => folder.uri.fsPath);
}

/** The database the runner uses, from the settings and the first workspace folder. */
export function currentDatabase(): string {
  return databasePath(readSettings().database, workspaceFolders()[0]);
}

/** The runner cannot start; the user has been or will be told why (RunnerClient.notifyFailure). */
export class RunnerUnavailableError extends Error {
  override readonly name = 'RunnerUnavailableError';
}

export type RunnerStatus =
  | { state: 'stopped' }
  | { state: 'starting' }
  | { state: 'running'; location: RunnerLocation }
  | { state: 'reconnecting' }
  /** It cannot start until the user fixes something; `message` says what. */
  | { state: 'failed'; message: string };

export class RunnerClient implements vscode.Disposable {
  private client: LanguageClient | undefined;
  private starting: Promise<LanguageClient | undefined> | undefined;
  private location: RunnerLocation | undefined;
  private currentJobs: JobView[] = [];
  private currentStatus: RunnerStatus = { state: 'stopped' };
  private readonly jobsEmitter = new vscode.EventEmitter<JobView[]>();
  private readonly statusEmitter = new vscode.EventEmitter<RunnerStatus>();
  private readonly panelEmitter = new vscode.EventEmitter<RunnerNotifications['baton/panelMessage']>();
  private readonly diedEmitter = new vscode.EventEmitter<{ stopped: JobView[]; restarting: boolean }>();
  /** Why the runner cannot start, and the fixes to offer. */
  private failure: { message: string; actions: NodeCheckAction[] } | undefined;
  /** The failure last shown without being asked, so that background starts show each once. */
  private shownFailure: string | undefined;

  /** Every job, whenever any changes (baton/jobsChanged). */
  readonly onDidChangeJobs = this.jobsEmitter.event;
  /** The runner started, stopped, restarts or cannot start. */
  readonly onDidChangeStatus = this.statusEmitter.event;
  /** A baton/panelMessage, for the panel it names. */
  readonly onPanelMessage = this.panelEmitter.event;
  /** The server died, with the jobs it ran (they stopped with it), and whether the client restarts it. */
  readonly onDidDie = this.diedEmitter.event;

  constructor(
    private readonly extensionRoot: string,
    readonly output: vscode.LogOutputChannel,
  ) {}

  get jobs(): readonly JobView[] {
    return this.currentJobs;
  }

  get status(): RunnerStatus {
    return this.currentStatus;
  }

  /** The server process's id while it runs (for the tests that stop it). */
  get pid(): number | undefined {
    return this.client?.state === State.Running ? this.client.serverProcess?.pid : undefined;
  }

  /** The server process while it runs, as jobs name the process that runs them (JobSummary.runBy). */
  get process(): JobProcess | undefined {
    return processHere(this.pid);
  }

  /**
   * Starts the runner unless it runs; resolves true once it does, false when it cannot start
   * (no Node 20, a native module that does not fit: see notifyFailure). The next call tries again.
   */
  async ensureStarted(): Promise<boolean> {
    if (this.isRunning()) return true;
    if (this.client && this.client.state !== State.Stopped) {
      // Starting, or restarting after the server died.
      await this.starting;
      return this.isRunning() || (await this.whenRunning());
    }
    this.starting ??= this.start().finally(() => {
      this.starting = undefined;
    });
    await this.starting;
    return this.isRunning();
  }

  private isRunning(): boolean {
    return this.client?.state === State.Running;
  }

  /** Waits for a restarting client: true once it runs, false if it stops. */
  private whenRunning(): Promise<boolean> {
    const client = this.client;
    if (!client) return Promise.resolve(false);
    return new Promise((resolve) => {
      const listener = client.onDidChangeState(({ newState }) => {
        if (newState === State.Starting) return;
        listener.dispose();
        resolve(newState === State.Running);
      });
    });
  }

  /** Starts the runner when nobody asked (activation, the view shown, a setting changed): a failure is shown once. */
  startInBackground(): void {
    void this.ensureStarted().then((started) => started || this.notifyFailure('once'));
  }

  /**
   * Sends a request to the runner, starting it if needed. Rejects with the server's message, or
   * with a RunnerUnavailableError when the runner cannot start.
   */
  async request<M extends keyof RunnerRequests>(method: M, params: RunnerRequests[M]['params']): Promise<RunnerRequests[M]['result']> {
    if (!(await this.ensureStarted()) || !this.client) {
      throw new RunnerUnavailableError(this.failure?.message ?? 'the Baton runner is not running: see the Baton output');
    }
    return this.client.sendRequest<RunnerRequests[M]['result']>(method, params);
  }

  /** Stops the runner and starts it again; resolves whether it runs. */
  async restart(): Promise<boolean> {
    await this.stop();
    return this.ensureStarted();
  }

  /**
   * Tells the user why the runner cannot start, with buttons for the fixes: 'always' when they
   * asked for something, 'once' per distinct failure for starts they did not ask for.
   */
  notifyFailure(mode: 'once' | 'always'): void {
    const failure = this.failure;
    if (!failure || (mode === 'once' && this.shownFailure === failure.message)) return;
    this.shownFailure = failure.message;
    void this.showFailure(failure.message, failure.actions);
  }

  /** Stops the runner; jobs it ran stop and can be resumed. */
  async stop(): Promise<void> {
    await this.starting?.catch(() => undefined);
    const client = this.client;
    this.client = undefined;
    if (client && client.state !== State.Stopped) await client.stop().catch((error: unknown) => this.output.warn(`stopping the runner: ${(error as Error).message}`));
    await client?.dispose().catch(() => undefined);
    this.setStatus({ state: 'stopped' });
  }

  dispose(): void {
    void this.stop();
    this.jobsEmitter.dispose();
    this.statusEmitter.dispose();
    this.panelEmitter.dispose();
    this.diedEmitter.dispose();
  }

  private setStatus(status: RunnerStatus): void {
    this.currentStatus = status;
    this.statusEmitter.fire(status);
  }

  private async start(): Promise<LanguageClient | undefined> {
    this.setStatus({ state: 'starting' });
    const folders = workspaceFolders();
    const settings = readSettings();
    let location: RunnerLocation;
    try {
      location = locateRunner(folders, this.extensionRoot);
    } catch (error) {
      return this.fail((error as Error).message, []);
    }
    this.location = location;
    const node = nodeCommand(settings.nodePath);
    const check = await probeNode(node, location.root, location.kind);
    if (!check.ok) return this.fail(check.message, check.actions);
    const db = databasePath(settings.database, folders[0]);
    this.output.info(
      `starting the ${location.kind === 'workspace' ? `workspace's baton ${location.version} (${location.root})` : `bundled Baton runner ${location.version}`} on Node.js ${check.probe.node} (${node}), database ${db}`,
    );
    const serverOptions: ServerOptions = {
      command: node,
      args: [location.main, '--db', db],
      transport: TransportKind.stdio,
      options: { cwd: runnerFolder(folders[0], db) },
    };
    // Whether the server got to run: restarts are for a server that dies, not one that never started.
    let ran = false;
    // What the error handler decided when the server last died: the client's state then reads
    // Stopped either way, until a restart begins.
    let restarts = false;
    const clientOptions: LanguageClientOptions = {
      documentSelector: [],
      outputChannel: this.output,
      // The server fails its initialize only when it cannot open the database.
      initializationFailedHandler: (error) => {
        this.fail(`The Baton runner did not start: ${errorText(error)}`, ['openDatabaseSetting']);
        return false;
      },
      errorHandler: {
        error: (error, message, count) => defaults.error(error, message, count),
        // A server that never ran (its initialize failed) is not restarted: the client is
        // disposed by then, and the restart's failure came as a second, stack-trace toast.
        closed: async () => {
          if (!ran) return { action: CloseAction.DoNotRestart, handled: true };
          const decision = await defaults.closed();
          restarts = decision.action === CloseAction.Restart;
          return decision;
        },
      },
    };
    const client = new RunnerLanguageClient('baton', 'Baton', serverOptions, clientOptions);
    const defaults: ErrorHandler = client.createDefaultErrorHandler(MAX_RESTARTS);
    client.onNotification('baton/jobsChanged', (params: RunnerNotifications['baton/jobsChanged']) => {
      this.currentJobs = params.jobs;
      this.jobsEmitter.fire(this.currentJobs);
    });
    client.onNotification('baton/panelMessage', (params: { panelId: string; message: PanelMessage }) => this.panelEmitter.fire(params));
    // The server process while it runs: once it has died, its jobs still name it.
    let serverProcess: JobProcess | undefined;
    client.onDidChangeState(({ oldState, newState }) => {
      if (this.client !== client) return;
      if (newState === State.Running) {
        ran = true;
        const pid = client.serverProcess?.pid;
        serverProcess = processHere(pid);
        this.output.info(`the Baton runner runs as process ${pid ?? '?'}`);
        this.setStatus({ state: 'running', location });
        return;
      }
      if (oldState !== State.Running) return;
      const stopped = jobsRunBy(this.currentJobs, serverProcess);
      const restarting = newState === State.Starting || restarts;
      if (restarting) this.setStatus({ state: 'reconnecting' });
      else {
        // It died more often than MAX_RESTARTS allows; the client said so in the output.
        this.setStatus({ state: 'failed', message: 'The Baton runner stopped and was not restarted: see the Baton output, then run "Baton: Restart Runner".' });
      }
      this.diedEmitter.fire({ stopped, restarting });
    });
    this.client = client;
    try {
      await client.start();
    } catch (error) {
      if (this.client === client) this.client = undefined;
      await client.dispose().catch(() => undefined);
      if (this.currentStatus.state === 'failed') return undefined;
      return this.fail(`The Baton runner did not start: ${errorText(error)}`, ['openSetting']);
    }
    this.failure = undefined;
    this.shownFailure = undefined;
    return client;
  }

  /** Records why the runner cannot start; notifyFailure shows it. */
  private fail(message: string, actions: NodeCheckAction[]): undefined {
    this.output.error(message);
    this.failure = { message, actions };
    this.setStatus({ state: 'failed', message });
    return undefined;
  }

  private async showFailure(message: string, actions: NodeCheckAction[]): Promise<void> {
    const labels: Record<NodeCheckAction, string> = {
      openSetting: 'Open Setting',
      openDatabaseSetting: 'Open Setting',
      downloadNode: 'Download Node.js',
      installBaton: 'Run npm install baton',
      rebuildSqlite: 'Run npm rebuild better-sqlite3',
    };
    const chosen = await vscode.window.showErrorMessage(message, ...actions.map((action) => labels[action]), 'Show Output');
    const action = actions.find((a) => labels[a] === chosen);
    if (chosen === 'Show Output') this.output.show(true);
    else if (action === 'openSetting') await openNodePathSetting();
    else if (action === 'openDatabaseSetting') await vscode.commands.executeCommand('workbench.action.openSettings', 'baton.database');
    else if (action === 'downloadNode') await vscode.env.openExternal(vscode.Uri.parse('https://nodejs.org/en/download'));
    else if (action === 'installBaton') this.runInTerminal('npm install baton');
    else if (action === 'rebuildSqlite') this.runInTerminal('npm rebuild better-sqlite3', this.location?.root);
  }

  /** Runs a fix in a terminal in the workspace folder; then "Baton: Restart Runner" picks it up. */
  private runInTerminal(command: string, cwd = workspaceFolders()[0]): void {
    const terminal = vscode.window.createTerminal({ name: 'Baton', ...(cwd && existsSync(cwd) ? { cwd } : {}) });
    terminal.show();
    terminal.sendText(command);
    void vscode.window.showInformationMessage(`When "${command}" has finished, run "Baton: Restart Runner".`, 'Restart Runner').then((chosen) => {
      if (chosen) void vscode.commands.executeCommand('baton.restartRunner');
    });
  }
}

/**
 * The language client, except that a failed start is not its own toast ("couldn't create
 * connection to server … [object Object]"): RunnerClient.notifyFailure says why, with the fix.
 */
class RunnerLanguageClient extends LanguageClient {
  override error(message: string, data?: unknown, showNotification?: boolean | 'force'): void {
    super.error(message, data, message.endsWith("couldn't create connection to server.") ? false : showNotification);
  }
}

/** A process of this machine, named as a job's runBy names it. */
function processHere(pid: number | undefined): JobProcess | undefined {
  return pid !== undefined ? { pid, host: hostname() } : undefined;
}

/** An error's message; vscode-languageclient rejects a failed spawn with a bare string. */
function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
