/**
 * Unsaved edits of a processor, saved before the runner builds it: Run Batch, Retry Failed Pages
 * and Resume Job (from a command or the panel) bundle the file on disk, and a user who fixed the
 * processor in the editor expects the fix to run, not the copy on disk.
 */
import * as vscode from 'vscode';
import type { JobSummary } from '../runner/protocol.js';

/** Saves the open document of `file`, if it has unsaved edits. */
export async function saveIfDirty(file: string): Promise<void> {
  const document = vscode.workspace.textDocuments.find((doc) => doc.uri.scheme === 'file' && doc.uri.fsPath === file);
  if (document?.isDirty) await document.save();
}

/** Saves the processor of job `jobId`, if it is known and open with unsaved edits. */
export async function saveJobProcessor(jobs: readonly JobSummary[], jobId: string): Promise<void> {
  const job = jobs.find((candidate) => candidate.jobId === jobId);
  if (job) await saveIfDirty(job.processor);
}

/** Whether a panel request makes the runner build the job's processor: the job it names, if so. */
export function buildingRequestJob(request: unknown): string | undefined {
  if (typeof request !== 'object' || request === null) return undefined;
  const { type, jobId } = request as { type?: unknown; jobId?: unknown };
  return (type === 'retryFailed' || type === 'resume') && typeof jobId === 'string' ? jobId : undefined;
}
