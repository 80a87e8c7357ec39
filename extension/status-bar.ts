/**
 * The status bar item while jobs run in a live process: the newest one's progress and the
 * items/s of all; a click opens the panel on it. Hidden when nothing runs.
 */
import * as vscode from 'vscode';
import { statusBarView } from './job-format.js';
import type { RunnerClient } from './runner-client.js';

export function registerStatusBar(runner: RunnerClient): vscode.Disposable {
  const item = vscode.window.createStatusBarItem('baton.jobs', vscode.StatusBarAlignment.Left, 10);
  item.name = 'Baton Jobs';
  const update = () => {
    const view = statusBarView(runner.jobs);
    if (!view) {
      item.hide();
      return;
    }
    item.text = view.text;
    item.tooltip = view.tooltip;
    item.command = { command: 'baton.showPanel', title: 'Show Progress Panel', arguments: [view.jobId] };
    item.show();
  };
  return vscode.Disposable.from(item, runner.onDidChangeJobs(update), runner.onDidChangeStatus(update));
}
