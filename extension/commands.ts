/**
 * The "Baton" commands. Each one asks what it needs (quick picks, input boxes) unless it was
 * given it as an argument (a tree item, a CodeLens, another extension or a test), then sends
 * the job operation to the runner server; nothing of the engine runs here.
 */
import { readFile, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import * as vscode from 'vscode';
import type { JobSummary } from '../runner/protocol.js';
import { jobIdOf, jobPickItems, jobsFor, noJobMessage, pickPlaceholder, type JobAction } from './job-picker.js';
import { createProcessor, nameProblem, suggestName, templateChoices } from './new-processor.js';
import type { PanelHost } from './panel-host.js';
import { EXCLUDE_GLOB, isProcessorSource, pickLabel, isSourceFile, isSpecFile, MAX_SOURCE_BYTES, SOURCE_GLOB, SPEC_GLOB } from './processor-files.js';
import { errorLocation } from './request-error.js';
import { readSettings, RunnerUnavailableError, type RunnerClient } from './runner-client.js';
import { jobsRunBy, restartWarning } from './runner-jobs.js';
import { argsProblem, maxParallelProblem, parseArgsInput, threadsOption } from './settings.js';
import { saveIfDirty, saveJobProcessor } from './unsaved-edits.js';

/** What Run Batch may be given instead of asking: a file, or the job to start. */
export interface RunBatchArgument {
  processor: string;
  maxParallel?: number;
  args?: unknown;
  jobId?: string;
}

/** What New Page Processor may be given instead of asking. */
export interface NewProcessorArgument {
  folder?: string;
  template?: string;
  name?: string;
}

/** Where Run Batch keeps the args last given to each processor, to offer them again. */
const LAST_ARGS_KEY = 'baton.lastArgs';

export function registerCommands(runner: RunnerClient, panels: PanelHost, state: vscode.Memento): vscode.Disposable {
  const commands = new BatonCommands(runner, panels, state);
  const register = (id: string, run: (argument?: unknown) => Promise<unknown>) =>
    vscode.commands.registerCommand(id, async (argument?: unknown) => {
      try {
        return await run(argument);
      } catch (error) {
        void commands.showError(error);
        return undefined;
      }
    });
  return vscode.Disposable.from(
    register('baton.runBatch', (argument) => commands.runBatch(argument)),
    register('baton.newProcessor', (argument) => commands.newProcessor(argument)),
    register('baton.showPanel', (argument) => panels.show(jobIdOf(argument))),
    register('baton.pauseJob', (argument) => commands.control('pause', argument)),
    register('baton.resumeJob', (argument) => commands.control('resume', argument)),
    register('baton.retryFailed', (argument) => commands.control('retry', argument)),
    register('baton.cancelJob', (argument) => commands.control('cancel', argument)),
    register('baton.restartRunner', async () => {
      // The jobs it runs stop with it: ask first.
      const warning = restartWarning(jobsRunBy(runner.jobs, runner.process), null);
      if (warning !== null && (await vscode.window.showWarningMessage(warning, { modal: true }, 'Restart')) !== 'Restart') return;
      if (!(await runner.restart())) runner.notifyFailure('always');
    }),
    register('baton.showOutput', async () => runner.output.show(true)),
  );
}

class BatonCommands {
  constructor(
    private readonly runner: RunnerClient,
    private readonly panels: PanelHost,
    private readonly state: vscode.Memento,
  ) {}

  async showError(error: unknown): Promise<void> {
    // The runner cannot start: say why, with the buttons that fix it.
    if (error instanceof RunnerUnavailableError) return this.runner.notifyFailure('always');
    const message = error instanceof Error ? error.message : String(error);
    this.runner.output.error(message);
    // A processor that does not build or load: the way to the line at fault.
    const location = errorLocation(error);
    const chosen = await vscode.window.showErrorMessage(`Baton: ${message}`, ...(location ? ['Go to Error'] : []), 'Show Output');
    if (chosen === 'Show Output') this.runner.output.show(true);
    else if (chosen === 'Go to Error' && location) {
      const at = new vscode.Position(location.line - 1, location.column - 1);
      await vscode.window.showTextDocument(vscode.Uri.file(location.file), { selection: new vscode.Range(at, at) });
    }
  }

  /** Run Batch: starts a job from a processor or spec, then opens the panel on it. Returns the job id. */
  async runBatch(argument: unknown): Promise<string | undefined> {
    const given = runBatchArgument(argument);
    // Warm the runner up while the user chooses; a failure shows when the job is started.
    void this.runner.ensureStarted();
    const file = given?.processor ?? (await this.chooseRunnable());
    if (!file) return undefined;
    const settings = readSettings();
    const title = `Run Batch: ${vscode.workspace.asRelativePath(file)}`;
    // A caller that gives max parallel (another extension, a test) gives the args it wants too.
    const asking = given?.maxParallel === undefined;
    let maxParallel = given?.maxParallel;
    if (maxParallel === undefined) {
      const typed = await vscode.window.showInputBox({
        title,
        prompt: 'Max parallel: pages in flight at most (you can change it while the job runs)',
        value: String(settings.defaultMaxParallel),
        validateInput: maxParallelProblem,
      });
      if (typed === undefined) return undefined;
      maxParallel = Number(typed.trim());
    }
    // A spec carries its own args; a processor gets what `baton run --args` would give it.
    let args = given?.args;
    if (asking && args === undefined && !isSpecFile(file)) {
      const lastArgs = this.state.get<Record<string, string>>(LAST_ARGS_KEY, {});
      const typed = await vscode.window.showInputBox({
        title,
        prompt: 'Args: the JSON your processor gets as ctx.args, such as {"pageSize": 1000}; empty for none',
        value: lastArgs[file] ?? '',
        validateInput: argsProblem,
      });
      if (typed === undefined) return undefined;
      const parsed = parseArgsInput(typed);
      if ('problem' in parsed) throw new Error(parsed.problem);
      args = parsed.args;
      await this.state.update(LAST_ARGS_KEY, { ...lastArgs, [file]: typed.trim() });
    }
    // After the questions, so that one the user escapes leaves the file as it was.
    await saveIfDirty(file);
    const threads = threadsOption(settings);
    const { jobId } = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Baton: starting the job' }, () =>
      this.runner.request('baton/startJob', {
        processor: file,
        maxParallel,
        ...(threads !== undefined ? { threads } : {}),
        ...(args !== undefined ? { args } : {}),
        ...(given?.jobId !== undefined ? { jobId: given.jobId } : {}),
      }),
    );
    await this.panels.show(jobId);
    return jobId;
  }

  /** The processor in the active editor, else one the user picks from the workspace. */
  private async chooseRunnable(): Promise<string | undefined> {
    const document = vscode.window.activeTextEditor?.document;
    if (document?.uri.scheme === 'file' && (isSpecFile(document.fileName) || (isSourceFile(document.fileName) && isProcessorSource(document.getText())))) {
      return document.uri.fsPath;
    }
    const found = await vscode.window.withProgress({ location: vscode.ProgressLocation.Window, title: 'Baton: looking for page processors' }, findRunnables);
    if (found.length === 0) {
      const chosen = await vscode.window.showInformationMessage('No page processor or batch spec in this workspace: create one with "Baton: New Page Processor".', 'New Page Processor');
      if (chosen) await vscode.commands.executeCommand('baton.newProcessor');
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(
      found.map((file) => ({ ...pickLabel(vscode.workspace.asRelativePath(file, false)), file })),
      { title: 'Run Batch', placeHolder: 'Which page processor or batch spec?', matchOnDescription: true },
    );
    return picked?.file;
  }

  /** New Page Processor: template, name, then the file, open with the cursor where the query goes. Returns its path. */
  async newProcessor(argument: unknown): Promise<string | undefined> {
    const given: NewProcessorArgument = argument instanceof vscode.Uri ? { folder: await folderOf(argument) } : isObject(argument) ? (argument as NewProcessorArgument) : {};
    const folder = given.folder ?? (await chooseFolder());
    if (!folder) return undefined;
    let template = given.template;
    if (!template) {
      const picked = await vscode.window.showQuickPick(
        templateChoices().map((choice) => ({ label: choice.title, detail: choice.description, id: choice.id })),
        { title: 'New Page Processor', placeHolder: 'What will the processor page through?', matchOnDetail: true },
      );
      if (!picked) return undefined;
      template = picked.id;
    }
    const templateId = template;
    let name = given.name;
    if (name === undefined) {
      name = await vscode.window.showInputBox({
        title: 'New Page Processor',
        prompt: "The processor's name, which is also its file name (.ts unless it ends in .js; folders allowed, such as jobs/migrate-prices)",
        value: suggestName(folder, templateId),
        validateInput: (text) => nameProblem(folder, text, templateId),
      });
      if (name === undefined) return undefined;
    }
    const written = createProcessor(folder, name, templateId);
    const document = await vscode.workspace.openTextDocument(written.file);
    const editor = await vscode.window.showTextDocument(document);
    const at = document.positionAt(written.cursorOffset);
    editor.selection = new vscode.Selection(at, at);
    editor.revealRange(new vscode.Range(at, at), vscode.TextEditorRevealType.InCenter);
    this.runner.output.info(`created ${written.file} from the ${templateId} template`);
    if (written.needsDependency) {
      void vscode.window
        .showInformationMessage("The processor imports 'baton', which this project does not list: add it (npm install baton) for types and editor help. Run Batch works without it.", 'Run npm install baton')
        .then((chosen) => {
          if (!chosen) return;
          const terminal = vscode.window.createTerminal({ name: 'Baton', cwd: folder });
          terminal.show();
          terminal.sendText('npm install baton');
        });
    }
    return written.file;
  }

  /** Pause, Resume, Retry Failed Pages, Cancel: on the job given, else one the user picks. */
  async control(action: Exclude<JobAction, 'show'>, argument: unknown): Promise<void> {
    const jobId = await this.chooseJob(action, argument);
    if (!jobId) return;
    switch (action) {
      case 'pause':
        await this.runner.request('baton/pauseJob', { jobId });
        vscode.window.setStatusBarMessage(`Baton: paused job ${jobId}; running pages finish`, 4000);
        return;
      case 'resume':
        // A stopped job is run again from its processor, built afresh: with the edits on screen.
        await saveJobProcessor(await this.knownJobs(jobId), jobId);
        await this.runner.request('baton/resumeJob', { jobId });
        vscode.window.setStatusBarMessage(`Baton: resumed job ${jobId}`, 4000);
        return;
      case 'retry': {
        // The processor is rebuilt for the retry: a fix still in the editor must be in it.
        await saveJobProcessor(await this.knownJobs(jobId), jobId);
        const { requeued } = await this.runner.request('baton/retryFailed', { jobId });
        void vscode.window.showInformationMessage(`Baton: running ${requeued} failed page${requeued === 1 ? '' : 's'} of job ${jobId} again, with the processor rebuilt.`);
        return;
      }
      case 'cancel': {
        const confirmed = isObject(argument) && (argument as { confirmed?: unknown }).confirmed === true;
        if (!confirmed) {
          const chosen = await vscode.window.showWarningMessage(`Cancel job ${jobId}?`, { modal: true, detail: 'Its running pages are aborted, and a cancelled job cannot be resumed.' }, 'Cancel Job');
          if (chosen !== 'Cancel Job') return;
        }
        await this.runner.request('baton/cancelJob', { jobId });
        vscode.window.setStatusBarMessage(`Baton: cancelled job ${jobId}`, 4000);
        return;
      }
    }
  }

  /** The jobs as last heard, or asked for when `jobId` is not among them yet. */
  private async knownJobs(jobId: string): Promise<readonly JobSummary[]> {
    const jobs = this.runner.jobs;
    return jobs.some((job) => job.jobId === jobId) ? jobs : this.runner.request('baton/listJobs', {});
  }

  private async chooseJob(action: JobAction, argument: unknown): Promise<string | undefined> {
    const given = jobIdOf(argument);
    if (given) return given;
    const jobs = jobsFor(action, await this.runner.request('baton/listJobs', {}));
    if (jobs.length === 0) {
      void vscode.window.showInformationMessage(noJobMessage(action));
      return undefined;
    }
    const picked = await vscode.window.showQuickPick(jobPickItems(jobs, (path) => vscode.workspace.asRelativePath(path)), { placeHolder: pickPlaceholder(action), matchOnDescription: true, matchOnDetail: true });
    return picked?.jobId;
  }
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !(value instanceof vscode.Uri);
}

function runBatchArgument(argument: unknown): RunBatchArgument | undefined {
  if (argument instanceof vscode.Uri) return { processor: argument.fsPath };
  if (isObject(argument) && typeof argument.processor === 'string') return argument as unknown as RunBatchArgument;
  return undefined;
}

/** Processors (files calling definePageProcessor) and batch specs in the workspace, by path. */
async function findRunnables(): Promise<string[]> {
  const [sources, specs] = await Promise.all([vscode.workspace.findFiles(SOURCE_GLOB, EXCLUDE_GLOB, 5000), vscode.workspace.findFiles(SPEC_GLOB, EXCLUDE_GLOB, 500)]);
  const processors = await Promise.all(
    sources
      .filter((uri) => uri.scheme === 'file' && isSourceFile(uri.fsPath))
      .map(async (uri) => {
        try {
          if ((await stat(uri.fsPath)).size > MAX_SOURCE_BYTES) return null;
          return isProcessorSource(await readFile(uri.fsPath, 'utf8')) ? uri.fsPath : null;
        } catch {
          return null;
        }
      }),
  );
  const found = [...processors.filter((file): file is string => file !== null), ...specs.filter((uri) => uri.scheme === 'file').map((uri) => uri.fsPath)];
  return found.sort((a, b) => vscode.workspace.asRelativePath(a).localeCompare(vscode.workspace.asRelativePath(b)));
}

/** A folder from the explorer's context menu, or the folder of a file there. */
async function folderOf(uri: vscode.Uri): Promise<string> {
  const type = (await vscode.workspace.fs.stat(uri)).type;
  return type & vscode.FileType.Directory ? uri.fsPath : dirname(uri.fsPath);
}

/** The workspace folder to write in: the only one, or one the user picks. */
async function chooseFolder(): Promise<string | undefined> {
  const folders = (vscode.workspace.workspaceFolders ?? []).filter((folder) => folder.uri.scheme === 'file');
  if (folders.length === 0) {
    void vscode.window.showErrorMessage('Baton: open a folder first; New Page Processor writes the processor into it.');
    return undefined;
  }
  if (folders.length === 1) return folders[0]!.uri.fsPath;
  const picked = await vscode.window.showWorkspaceFolderPick({ placeHolder: 'Which folder gets the new processor?' });
  return picked?.uri.fsPath;
}
