/**
 * The runner restarts to take a change of `baton.nodePath`, `baton.database` or the workspace
 * folders. The jobs it runs would stop with it, so when it runs some the user chooses: restart
 * now, or once they have ended.
 */
import * as vscode from 'vscode';
import type { RunnerClient } from './runner-client.js';
import { jobsRunBy, restartWarning } from './runner-jobs.js';

/** Settings the runner reads only when it starts. */
const RUNNER_SETTINGS = ['baton.nodePath', 'baton.database'];

export function registerRestartOnChange(client: RunnerClient): vscode.Disposable {
  let afterJobs: vscode.Disposable | undefined;
  const forgetPending = () => {
    afterJobs?.dispose();
    afterJobs = undefined;
  };
  const restart = async (): Promise<void> => {
    forgetPending();
    if (!(await client.restart())) client.notifyFailure('once');
  };
  const restartFor = async (why: string): Promise<void> => {
    if (client.status.state === 'stopped') return;
    const warning = restartWarning(jobsRunBy(client.jobs, client.process), why);
    if (warning === null) return restart();
    // Dismissed, it waits: stopping jobs is never the default.
    const chosen = await vscode.window.showWarningMessage(warning, 'Restart Now', 'When They End');
    if (chosen === 'Restart Now') return restart();
    client.output.info(`${why} The runner restarts to take it once the jobs it runs have ended, or with "Baton: Restart Runner".`);
    afterJobs ??= client.onDidChangeJobs(() => {
      if (jobsRunBy(client.jobs, client.process).length === 0) void restart();
    });
  };
  return vscode.Disposable.from(
    { dispose: forgetPending },
    // Restarted meanwhile (Restart Runner): it took the change then.
    client.onDidChangeStatus((status) => status.state === 'stopped' && forgetPending()),
    vscode.workspace.onDidChangeConfiguration((event) => {
      const setting = RUNNER_SETTINGS.find((name) => event.affectsConfiguration(name));
      if (setting !== undefined) void restartFor(`${setting} changed.`);
    }),
    vscode.workspace.onDidChangeWorkspaceFolders(() => void restartFor('The workspace folders changed.')),
  );
}
