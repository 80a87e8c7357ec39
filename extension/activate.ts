/**
 * The Baton extension's entry: wires the views and commands to the runner client. A thin
 * client: every job operation goes to the runner server process (runner/server), started on
 * the user's Node by vscode-languageclient; nothing of the engine runs in the extension host.
 */
import { existsSync } from 'node:fs';
import { basename, dirname, relative, sep } from 'node:path';
import * as vscode from 'vscode';
import type { JobSummary, RunnerRequests } from '../runner/protocol.js';
import { registerCodeLens } from './codelens.js';
import { registerCommands } from './commands.js';
import { registerJobNotices } from './job-notices.js';
import { registerJobsTree } from './jobs-tree.js';
import { PanelHost } from './panel-host.js';
import { currentDatabase, RunnerClient, workspaceFolders } from './runner-client.js';
import { registerRestartOnChange } from './restart-on-change.js';
import { registerStatusBar } from './status-bar.js';

/** What activate() returns: for other extensions and the integration tests. */
export interface BatonExtensionApi {
  /** Every job, as last heard from the runner. */
  jobs(): readonly JobSummary[];
  onDidChangeJobs: vscode.Event<readonly JobSummary[]>;
  /** Sends a runner request (starting the runner if needed). */
  request<M extends keyof RunnerRequests>(method: M, params: RunnerRequests[M]['params']): Promise<RunnerRequests[M]['result']>;
  /** The runner server's process id while it runs. */
  runnerPid(): number | undefined;
}

let runner: RunnerClient | undefined;

export function activate(context: vscode.ExtensionContext): BatonExtensionApi {
  const output = vscode.window.createOutputChannel('Baton', { log: true });
  const client = new RunnerClient(context.extensionPath, output);
  runner = client;
  const panels = new PanelHost(context.extensionUri, client);
  context.subscriptions.push(output, client, panels, registerCommands(client, panels, context.workspaceState), registerJobsTree(client), registerStatusBar(client), registerCodeLens(), registerJobNotices(client));

  // Start the runner at once where Baton has been used (its database exists, or appears when a
  // terminal runs `baton run`), so the status bar shows jobs run elsewhere; otherwise on first use.
  const db = currentDatabase();
  const folder = workspaceFolders()[0];
  const inFolder = folder !== undefined && !relative(folder, db).startsWith('..');
  // Watch from the workspace folder when the file is in it: .baton/ may not exist yet.
  const pattern = inFolder ? new vscode.RelativePattern(vscode.Uri.file(folder), relative(folder, db).split(sep).join('/')) : new vscode.RelativePattern(vscode.Uri.file(dirname(db)), basename(db));
  const watcher = vscode.workspace.createFileSystemWatcher(pattern, false, true, true);
  context.subscriptions.push(watcher, watcher.onDidCreate(() => client.startInBackground()));
  if (existsSync(db)) client.startInBackground();

  context.subscriptions.push(registerRestartOnChange(client));

  return {
    jobs: () => client.jobs,
    onDidChangeJobs: client.onDidChangeJobs,
    request: (method, params) => client.request(method, params),
    runnerPid: () => client.pid,
  };
}

export async function deactivate(): Promise<void> {
  await runner?.stop();
  runner = undefined;
}
