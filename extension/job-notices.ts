/**
 * Notifications about the jobs the extension's runner runs: when one ends (it may have run for
 * hours while the user was elsewhere), and when the runner dies under them. Jobs a terminal
 * runs are left to that terminal.
 */
import * as vscode from 'vscode';
import type { RunnerClient } from './runner-client.js';
import { endNotice, runnerDiedMessage, RunnerJobEnds } from './runner-jobs.js';

export function registerJobNotices(runner: RunnerClient): vscode.Disposable {
  const ends = new RunnerJobEnds();
  return vscode.Disposable.from(
    runner.onDidChangeJobs((jobs) => {
      for (const job of ends.update(jobs, runner.process)) {
        const notice = endNotice(job);
        if (!notice) continue;
        const show = notice.severity === 'info' ? vscode.window.showInformationMessage : vscode.window.showWarningMessage;
        void show(notice.message, ...notice.actions).then((chosen) => {
          if (chosen === 'Show Panel') void vscode.commands.executeCommand('baton.showPanel', job.jobId);
          else if (chosen === 'Retry Failed Pages') void vscode.commands.executeCommand('baton.retryFailed', job.jobId);
        });
      }
    }),
    // A runner stopped on purpose (Restart Runner, a setting) stops its jobs too: they are not ending.
    runner.onDidChangeStatus((status) => status.state !== 'running' && ends.forget()),
    runner.onDidDie(({ stopped, restarting }) => {
      const message = runnerDiedMessage(stopped, restarting);
      runner.output.warn(message);
      void vscode.window.showWarningMessage(message, 'Show Output').then((chosen) => chosen && runner.output.show(true));
    }),
  );
}
