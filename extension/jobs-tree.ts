/**
 * The "Baton Jobs" view (the Jobs view of the Baton container): every job in the database, newest first, with its state, % done and
 * failed pages; it follows baton/jobsChanged, so jobs run from a terminal show up too.
 * Inline buttons pause, resume and open the panel; the context menu retries and cancels.
 */
import * as vscode from 'vscode';
import { jobContextValue, jobDescription, jobIcon, jobTooltip, newestFirst, startedLabel, type JobView } from './job-format.js';
import type { RunnerClient } from './runner-client.js';

export const JOBS_VIEW = 'baton.jobs';

class JobsTreeProvider implements vscode.TreeDataProvider<JobView> {
  private readonly changed = new vscode.EventEmitter<void>();
  readonly onDidChangeTreeData = this.changed.event;

  constructor(private readonly runner: RunnerClient) {}

  refresh(): void {
    this.changed.fire();
  }

  getChildren(element?: JobView): JobView[] {
    return element ? [] : newestFirst(this.runner.jobs);
  }

  getTreeItem(job: JobView): vscode.TreeItem {
    // The processor's name first (job ids are long); the id is in the tooltip and the panel.
    const item = new vscode.TreeItem(job.name, vscode.TreeItemCollapsibleState.None);
    item.id = job.jobId;
    item.description = `${jobDescription(job)} · ${startedLabel(job.startedAt)}`;
    item.accessibilityInformation = { label: `Baton job ${job.jobId}: ${jobDescription(job)}` };
    item.tooltip = new vscode.MarkdownString(jobTooltip(job, this.runner.process));
    const icon = jobIcon(job);
    item.iconPath = new vscode.ThemeIcon(icon.id, icon.color ? new vscode.ThemeColor(icon.color) : undefined);
    item.contextValue = jobContextValue(job);
    item.command = { command: 'baton.showPanel', title: 'Show Progress Panel', arguments: [job.jobId] };
    return item;
  }

  dispose(): void {
    this.changed.dispose();
  }
}

/** Creates the view; the runner starts when it is first shown. */
export function registerJobsTree(runner: RunnerClient): vscode.Disposable {
  const provider = new JobsTreeProvider(runner);
  const view = vscode.window.createTreeView(JOBS_VIEW, { treeDataProvider: provider });
  const showStatus = () => {
    const status = runner.status;
    view.message = status.state === 'failed' ? status.message : status.state === 'reconnecting' ? 'The Baton runner restarts…' : undefined;
    const running = runner.jobs.filter((job) => job.live && job.state === 'running').length;
    view.badge = running > 0 ? { value: running, tooltip: `${running} Baton job${running === 1 ? '' : 's'} running` } : undefined;
  };
  const startIfShown = () => {
    if (view.visible) runner.startInBackground();
  };
  startIfShown();
  return vscode.Disposable.from(
    provider,
    view,
    view.onDidChangeVisibility(startIfShown),
    runner.onDidChangeJobs(() => {
      provider.refresh();
      showStatus();
    }),
    runner.onDidChangeStatus(showStatus),
  );
}
