/**
 * The "Baton Jobs" view (the Jobs view of the Baton container): every job in the database, newest first, with its state, % done and
 * failed pages; it follows baton/jobsChanged, so jobs run from a terminal show up too.
 * Inline buttons pause, resume and open the panel; the context menu retries and cancels.
 */
import * as vscode from 'vscode';
import { jobContextValue, jobDescription, jobIcon, jobTooltip, newestFirst, startedLabel } from './job-format.js';
import type { RunnerClient } from './runner-client.js';

export const JOBS_VIEW = 'baton.jobs';

/**
 * A row of the view: the same object for a job as long as the view shows it. VS Code finds the
 * element a row's buttons act on by that object; a whole-tree refresh (four a second while jobs
 * run) drops them until it has asked for the rows again, and a click in between came to the
 * command with no job, which then asked which one (seen on a loaded machine).
 */
export interface JobRow {
  readonly jobId: string;
}

class JobsTreeProvider implements vscode.TreeDataProvider<JobRow> {
  private readonly changed = new vscode.EventEmitter<JobRow | JobRow[] | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private rows = new Map<string, JobRow>();
  /** The rows' order as last shown. */
  private order: string[] = [];

  constructor(private readonly runner: RunnerClient) {}

  /** Shows the runner's jobs: the rows that are there change in place, unless jobs came, went or moved. */
  refresh(): void {
    const order = newestFirst(this.runner.jobs).map((job) => job.jobId);
    if (order.length === this.order.length && order.every((jobId, i) => jobId === this.order[i])) {
      this.changed.fire([...this.rows.values()]);
      return;
    }
    this.changed.fire(undefined);
  }

  getChildren(element?: JobRow): JobRow[] {
    if (element) return [];
    const jobs = newestFirst(this.runner.jobs);
    const rows = new Map<string, JobRow>();
    for (const job of jobs) rows.set(job.jobId, this.rows.get(job.jobId) ?? { jobId: job.jobId });
    this.rows = rows;
    this.order = jobs.map((job) => job.jobId);
    return [...rows.values()];
  }

  getTreeItem(row: JobRow): vscode.TreeItem {
    const job = this.runner.jobs.find((candidate) => candidate.jobId === row.jobId);
    if (!job) return new vscode.TreeItem(row.jobId);
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
