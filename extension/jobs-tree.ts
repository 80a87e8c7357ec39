/**
 * The "Baton Jobs" view (the Jobs view of the Baton container): every job in the database, newest first, with its state, % done and
 * failed pages; it follows baton/jobsChanged, so jobs run from a terminal show up too.
 * Inline buttons pause, resume and open the panel; the context menu retries and cancels.
 */
import * as vscode from 'vscode';
import { jobContextValue, jobDescription, jobIcon, jobTooltip, newestFirst, startedLabel, type JobView } from './job-format.js';
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
  /** The rows shown, in their order. */
  private rows = new Map<string, JobRow>();
  /** The runner's jobs, newest first, by id. */
  private jobs = new Map<string, JobView>();

  constructor(private readonly runner: RunnerClient) {
    this.readJobs();
  }

  private readJobs(): void {
    this.jobs = new Map(newestFirst(this.runner.jobs).map((job) => [job.jobId, job]));
  }

  /** Shows the runner's jobs: the rows that are there change in place, unless jobs came, went or moved. */
  refresh(): void {
    this.readJobs();
    const shown = [...this.rows.keys()];
    const order = [...this.jobs.keys()];
    if (order.length === shown.length && order.every((jobId, i) => jobId === shown[i])) {
      this.changed.fire([...this.rows.values()]);
      return;
    }
    this.changed.fire(undefined);
  }

  getChildren(element?: JobRow): JobRow[] {
    if (element) return [];
    const rows = new Map<string, JobRow>();
    for (const jobId of this.jobs.keys()) rows.set(jobId, this.rows.get(jobId) ?? { jobId });
    this.rows = rows;
    return [...rows.values()];
  }

  getTreeItem(row: JobRow): vscode.TreeItem {
    const job = this.jobs.get(row.jobId);
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
