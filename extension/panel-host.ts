/**
 * The progress panel's host: one webview panel (the panel has its own job picker) whose page is
 * webview/panel-html.ts with the bundle in dist/webview, relayed to a session in the runner
 * server by PanelRelay. The webview keeps its own state when hidden, so no
 * retainContextWhenHidden.
 */
import { randomBytes } from 'node:crypto';
import * as vscode from 'vscode';
import { renderPanelHtml } from '../webview/panel-html.js';
import { PanelRelay } from './panel-relay.js';
import type { RunnerClient } from './runner-client.js';
import { buildingRequestJob, saveJobProcessor } from './unsaved-edits.js';

const VIEW_TYPE = 'baton.panel';

export class PanelHost implements vscode.Disposable {
  private panel: vscode.WebviewPanel | undefined;
  private relay: PanelRelay | undefined;
  private readonly subscriptions: vscode.Disposable[] = [];

  constructor(
    private readonly extensionUri: vscode.Uri,
    private readonly runner: RunnerClient,
  ) {
    this.subscriptions.push(
      runner.onPanelMessage(({ panelId, message }) => {
        if (this.relay?.panelId === panelId) this.relay.fromRunner(message);
      }),
      // After a reload VS Code gives back the panel it had open; its page kept the job it showed.
      vscode.window.registerWebviewPanelSerializer(VIEW_TYPE, { deserializeWebviewPanel: (panel) => this.adopt(panel) }),
      runner.onDidChangeStatus((status) => {
        if (!this.relay) return;
        if (status.state === 'running') void this.relay.reconnected();
        else if (status.state === 'reconnecting' || status.state === 'stopped') this.relay.disconnected('The Baton runner restarts…');
        else if (status.state === 'failed') this.relay.disconnected(status.message);
      }),
    );
  }

  /** Whether the panel is open. */
  get isOpen(): boolean {
    return this.panel !== undefined;
  }

  /** Opens the panel (or brings it forward), showing `jobId` when given. */
  async show(jobId?: string): Promise<void> {
    if (this.panel && this.relay) {
      this.panel.reveal(undefined, true);
      if (jobId) await this.relay.select(jobId);
      return;
    }
    const column = vscode.window.activeTextEditor ? vscode.ViewColumn.Beside : vscode.ViewColumn.Active;
    const panel = vscode.window.createWebviewPanel(VIEW_TYPE, 'Baton', { viewColumn: column, preserveFocus: true }, this.webviewOptions());
    await this.adopt(panel, jobId);
  }

  private webviewOptions(): vscode.WebviewOptions {
    return { enableScripts: true, localResourceRoots: [this.webviewRoot()] };
  }

  private webviewRoot(): vscode.Uri {
    return vscode.Uri.joinPath(this.extensionUri, 'dist', 'webview');
  }

  /** Makes `panel` (new, or restored by VS Code) the Baton panel, linked to a session in the runner. */
  private async adopt(panel: vscode.WebviewPanel, jobId?: string): Promise<void> {
    // One Baton panel: a second one restored (two windows' state merged) is closed.
    if (this.panel) {
      panel.dispose();
      return;
    }
    const webviewRoot = this.webviewRoot();
    panel.webview.options = this.webviewOptions();
    panel.iconPath = vscode.Uri.joinPath(this.extensionUri, 'extension', 'media', 'baton.svg');
    const relay = new PanelRelay({
      panelId: `panel-${randomBytes(8).toString('hex')}`,
      runner: { request: (method, params) => this.runner.request(method, params as never) },
      post: (message) => void panel.webview.postMessage(message),
      log: (line) => this.runner.output.warn(line),
    });
    this.panel = panel;
    this.relay = relay;
    if (jobId) await relay.select(jobId);
    // In order, each after the save a retry or resume needs (see unsaved-edits.ts).
    let relayed = Promise.resolve();
    panel.webview.onDidReceiveMessage((message: unknown) => {
      relayed = relayed.then(() => this.beforeRelay(message)).then(() => relay.fromWebview(message));
    });
    panel.onDidDispose(() => {
      void relay.dispose();
      if (this.panel === panel) {
        this.panel = undefined;
        this.relay = undefined;
      }
    });
    panel.webview.html = renderPanelHtml({
      scriptUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'panel.js')).toString(),
      styleUri: panel.webview.asWebviewUri(vscode.Uri.joinPath(webviewRoot, 'panel.css')).toString(),
      nonce: randomBytes(18).toString('base64'),
      cspSource: panel.webview.cspSource,
      host: 'vscode',
    });
    if (await this.runner.ensureStarted()) {
      await relay.connect();
    } else {
      relay.disconnected(this.runner.status.state === 'failed' ? this.runner.status.message : undefined);
      this.runner.notifyFailure('always');
    }
  }

  /** Saves the processor a retry or resume from the panel is about to build. */
  private async beforeRelay(message: unknown): Promise<void> {
    const jobId = buildingRequestJob(message);
    if (jobId) await saveJobProcessor(this.runner.jobs, jobId).catch((error: unknown) => this.runner.output.warn(`saving the processor: ${(error as Error).message}`));
  }

  dispose(): void {
    this.panel?.dispose();
    for (const subscription of this.subscriptions) subscription.dispose();
  }
}
