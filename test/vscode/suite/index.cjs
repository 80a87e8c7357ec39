// The integration suite, run inside VS Code by @vscode/test-electron (npm run test:vscode; see
// ../run-tests.mjs). It drives the extension through its commands and its API, against the real
// runner server, in the workspace folder BATON_SUITE_WORKSPACE. Plain CommonJS with node:assert:
// VS Code loads it with require() and calls run().
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const vscode = require('vscode');

const EXTENSION_ID = 'baton.baton';
const workspace = process.env.BATON_SUITE_WORKSPACE;

const tests = [];
/** Declares a test; they run in order, each with what the earlier ones left. */
function it(name, fn) {
  tests.push({ name, fn });
}

async function waitFor(check, timeoutMs, what) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let api;
let processor;

/** A job's latest summary, from baton/jobsChanged. */
const jobOf = (jobId) => api.jobs().find((job) => job.jobId === jobId);
const waitForState = (jobId, state, timeoutMs = 60_000) => waitFor(() => jobOf(jobId)?.state === state, timeoutMs, `job ${jobId} to be ${state}`);

/** Writes a processor into the workspace. */
function writeProcessor(name, body) {
  const file = path.join(workspace, name);
  fs.writeFileSync(file, `import { definePageProcessor } from 'baton';\n${body}`);
  return file;
}

it('activates and hands out its API', async () => {
  const extension = vscode.extensions.getExtension(EXTENSION_ID);
  assert.ok(extension, `extension ${EXTENSION_ID} is not installed`);
  api = await extension.activate();
  assert.equal(typeof api.request, 'function');
  assert.equal(typeof api.jobs, 'function');
});

it('contributes the Baton commands, each titled under the "Baton" category', async () => {
  const { contributes } = vscode.extensions.getExtension(EXTENSION_ID).packageJSON;
  const titles = Object.fromEntries(contributes.commands.map((command) => [command.command, `${command.category}: ${command.title}`]));
  assert.deepEqual(
    ['baton.runBatch', 'baton.newProcessor', 'baton.showPanel', 'baton.pauseJob', 'baton.resumeJob', 'baton.retryFailed', 'baton.cancelJob'].map((id) => titles[id]),
    ['Baton: Run Batch', 'Baton: New Page Processor', 'Baton: Show Progress Panel', 'Baton: Pause Job', 'Baton: Resume Job', 'Baton: Retry Failed Pages', 'Baton: Cancel Job'],
  );
  const registered = await vscode.commands.getCommands(true);
  for (const id of Object.keys(titles)) assert.ok(registered.includes(id), `${id} is not registered`);
});

it('writes a processor with New Page Processor and puts the cursor where the query goes', async () => {
  processor = await vscode.commands.executeCommand('baton.newProcessor', { folder: workspace, template: 'sql-keyset', name: 'suite-prices' });
  assert.equal(processor, path.join(workspace, 'suite-prices.ts'));
  const editor = vscode.window.activeTextEditor;
  assert.equal(editor?.document.uri.fsPath, processor);
  const after = editor.document.getText().slice(editor.document.offsetAt(editor.selection.active));
  assert.match(after, /^\/\/ Your query goes here/);
});

it('shows a "Run Batch" CodeLens above definePageProcessor', async () => {
  const uri = vscode.Uri.file(processor);
  const lenses = await waitFor(async () => {
    const found = await vscode.commands.executeCommand('vscode.executeCodeLensProvider', uri);
    return found?.some((lens) => lens.command?.command === 'baton.runBatch') ? found : null;
  }, 20_000, 'the CodeLens');
  const runs = lenses.filter((lens) => lens.command?.command === 'baton.runBatch');
  assert.equal(runs.length, 1);
  const document = await vscode.workspace.openTextDocument(uri);
  assert.match(document.lineAt(runs[0].range.start.line).text, /definePageProcessor/);
  assert.equal(runs[0].command.arguments[0].fsPath, processor);
});

it('starts a job with Run Batch in the runner server, opens the panel, and hears it to the end', async () => {
  const jobId = await vscode.commands.executeCommand('baton.runBatch', { processor, maxParallel: 4 });
  assert.match(jobId, /^suite-prices-\d{14}-[0-9a-f]{4}$/);
  await waitForState(jobId, 'succeeded');
  assert.equal(jobOf(jobId).items, 10_000);
  const panel = vscode.window.tabGroups.all.flatMap((group) => group.tabs).find((tab) => tab.input instanceof vscode.TabInputWebview && tab.label === 'Baton');
  assert.ok(panel, 'the Baton panel is not open');
});

it('pauses, resumes and cancels the job it is given', async () => {
  const slow = writeProcessor(
    'suite-slow.ts',
    `export default definePageProcessor<number, Record<string, never>>({
  initialPages: [{ cursor: 0 }],
  async run(ctx) {
    if (ctx.page.cursor < 10_000) await ctx.enqueueNextPage({ cursor: ctx.page.cursor + 1 });
    await new Promise((resolve) => setTimeout(resolve, 50));
    return { items: 1 };
  },
});
`,
  );
  const jobId = await vscode.commands.executeCommand('baton.runBatch', { processor: slow, maxParallel: 2, jobId: 'suite-slow' });
  assert.equal(jobId, 'suite-slow');
  await waitFor(() => jobOf(jobId)?.state === 'running' && jobOf(jobId).pages.succeeded > 0, 30_000, 'pages to run');
  await vscode.commands.executeCommand('baton.pauseJob', jobId);
  await waitForState(jobId, 'paused');
  await vscode.commands.executeCommand('baton.resumeJob', { jobId });
  await waitForState(jobId, 'running');
  await vscode.commands.executeCommand('baton.cancelJob', { jobId, confirmed: true });
  await waitForState(jobId, 'cancelled');
});

it('runs failed pages again with Retry Failed Pages once the processor is fixed', async () => {
  const marker = path.join(workspace, 'broken');
  fs.writeFileSync(marker, '');
  const flaky = writeProcessor(
    'suite-flaky.ts',
    `import { existsSync } from 'node:fs';
export default definePageProcessor<number, Record<string, never>>({
  initialPages: [{ cursor: 0 }, { cursor: 1 }, { cursor: 2 }],
  retry: { maxAttempts: 1 },
  async run(ctx) {
    if (ctx.page.cursor === 1 && existsSync(${JSON.stringify(marker)})) throw new Error('page 1 is broken');
    return { items: 10 };
  },
});
`,
  );
  const jobId = await vscode.commands.executeCommand('baton.runBatch', { processor: flaky, maxParallel: 2, jobId: 'suite-flaky' });
  await waitForState(jobId, 'failed');
  assert.equal(jobOf(jobId).pages.failed, 1);
  fs.unlinkSync(marker);
  await vscode.commands.executeCommand('baton.retryFailed', jobId);
  await waitForState(jobId, 'succeeded');
  assert.equal(jobOf(jobId).items, 30);
});

it('restarts the runner server when it dies', async () => {
  const pid = await waitFor(() => api.runnerPid(), 10_000, 'the runner process');
  process.kill(pid, 'SIGKILL');
  const next = await waitFor(() => {
    const now = api.runnerPid();
    return now && now !== pid ? now : null;
  }, 30_000, 'the runner to restart');
  assert.notEqual(next, pid);
  // The new runner answers, with every job of the suite.
  const ids = (await api.request('baton/listJobs', {})).map((job) => job.jobId);
  for (const id of ['suite-slow', 'suite-flaky']) assert.ok(ids.includes(id), `${id} is missing from ${ids.join(', ')}`);
  assert.ok(ids.some((id) => id.startsWith('suite-prices-')), `the Run Batch job is missing from ${ids.join(', ')}`);
});

/** Called by VS Code; rejects with the first failure (later tests build on earlier ones). */
async function run() {
  assert.ok(workspace && fs.existsSync(workspace), 'BATON_SUITE_WORKSPACE must name the workspace folder VS Code opened');
  for (const [index, test] of tests.entries()) {
    const started = Date.now();
    try {
      await test.fn();
    } catch (error) {
      const why = error && error.stack ? error.stack : String(error);
      console.error(`  ✗ ${test.name}\n    ${why}`);
      throw new Error(`Baton integration test ${index + 1} of ${tests.length} failed: ${test.name}: ${why}`);
    }
    console.log(`  ✓ ${test.name} (${Date.now() - started} ms)`);
  }
  console.log(`  ${tests.length} Baton integration tests passed`);
}

module.exports = { run };
