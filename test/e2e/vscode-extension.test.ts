// The extension as a user meets it: the built .vsix installed in a real VS Code (code-server
// 4.96.4, VS Code 1.96 with a Node extension host) shown in headless Chromium, driven through
// the command palette, quick picks, the Baton Jobs view and the status bar. The runner server
// it starts, the jobs and the database are all real.
//
// Needs code-server in $BATON_CODE_SERVER_DIR (default ~/.cache/baton-code-server; install it
// with .ci/install-code-server.sh) and Chromium (/usr/bin/chromium, or $BATON_CHROMIUM).
// Screenshots of each step go to test-results/vscode-extension/; with BATON_SCREENSHOT=<file>
// the picture of a job at work (docs/images/extension.png) is saved there too.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { chromium, type Browser, type Frame, type Locator, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { renderTemplate } from '../../runner/scaffold.js';
import { root, waitFor } from '../helpers.js';
import { checkChromium, chromiumPath } from './chromium.js';
import { startCli } from './cli-helpers.js';

const CODE_SERVER_VERSION = '4.96.4';
const codeServerDir = process.env.BATON_CODE_SERVER_DIR ?? join(homedir(), '.cache', 'baton-code-server');
const shots = join(root, 'test-results', 'vscode-extension');

/** Fails with the fix when code-server or Chromium is missing: this test is never skipped. */
function checkTools(): string {
  const ready = join(codeServerDir, 'ready');
  if (!existsSync(ready) || readFileSync(ready, 'utf8').trim() !== CODE_SERVER_VERSION) {
    throw new Error(`code-server ${CODE_SERVER_VERSION} is not installed in ${codeServerDir}: run .ci/install-code-server.sh (it installs it from the npm registry; set BATON_CODE_SERVER_DIR to use another folder)`);
  }
  checkChromium();
  return join(codeServerDir, 'cs', 'out', 'node', 'entry.js');
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}

/** Every file under `dir` whose name matches. */
function findFiles(dir: string, name: RegExp): string[] {
  if (!existsSync(dir)) return [];
  return readdirSync(dir, { recursive: true, encoding: 'utf8' })
    .map((rel) => join(dir, rel))
    .filter((file) => name.test(file) && statSync(file).isFile());
}

let tmp: string;
let workspace: string;
let userData: string;
let codeServer: ChildProcess | undefined;
let browser: Browser | undefined;
let page: Page;
let step = 0;

async function shot(name: string): Promise<void> {
  await page.screenshot({ path: join(shots, `${String(++step).padStart(2, '0')}-${name}.png`) });
}

/** The "Baton" output channel, as the extension host wrote it to its log file. */
function batonLog(): string {
  return findFiles(join(userData, 'logs'), /Baton\.log$/).map((file) => readFileSync(file, 'utf8')).join('\n');
}

/** Process ids the runner server has run as, in order. */
function runnerPids(): number[] {
  return [...batonLog().matchAll(/the Baton runner runs as process (\d+)/g)].map((match) => Number(match[1]));
}

/** Runs a command from the command palette, as a person would. */
async function runCommand(title: string): Promise<void> {
  // The palette lists the commands known when it opens: open it again if this one came later.
  for (let attempt = 1; ; attempt++) {
    await page.keyboard.press('F1');
    const input = page.locator('.quick-input-widget .quick-input-box input');
    await input.waitFor({ state: 'visible' });
    await input.fill(`>${title}`);
    const row = page.locator('.quick-input-widget .monaco-list-row', { hasText: title }).first();
    const listed = await row.waitFor({ state: 'visible', timeout: 5000 }).then(() => true, () => false);
    if (listed) {
      await page.keyboard.press('Enter');
      return;
    }
    await page.keyboard.press('Escape');
    if (attempt === 6) throw new Error(`the command palette does not list "${title}"`);
  }
}

/** Waits for a quick input titled `title`, and returns its box. */
async function quickInput(title: string) {
  await page.locator('.quick-input-widget .quick-input-title', { hasText: title }).waitFor({ state: 'visible' });
  return page.locator('.quick-input-widget .quick-input-box input');
}

/** The input box showing `prompt` under it (several boxes of one command share a title). */
async function quickPrompt(prompt: string) {
  await page.locator('.quick-input-widget .quick-input-message', { hasText: prompt }).waitFor({ state: 'visible' });
  return page.locator('.quick-input-widget .quick-input-box input');
}

/** The Baton Jobs view's row for a job (its accessible label starts "Baton job <id>:"). */
function jobRow(jobId: string) {
  return page.locator(`.monaco-list-row[aria-label^="Baton job ${jobId}:"]`);
}

/** The Baton icon in the activity bar, which opens the Baton Jobs view. */
function batonViewButton() {
  return page.locator('.activitybar li.action-item').filter({ has: page.locator('a.action-label[aria-label^="Baton"]') }).or(page.locator('.activitybar li.action-item[aria-label^="Baton"]')).first();
}

/** The status bar item of the extension (its id is <extension id>.<item id>), when shown. */
function statusItem() {
  return page.locator('.statusbar-item[id="baton.baton.baton.jobs"]');
}

/** The panel's webview frame once it shows `jobId` as its job (webview/layout.ts: #job-id). */
async function panelShowing(jobId: string, timeoutMs = 30_000): Promise<Frame> {
  return waitFor(
    async () => {
      for (const frame of page.frames()) {
        const shown = await frame.locator('#job-id').innerText({ timeout: 500 }).catch(() => null);
        if (shown === jobId) return frame;
      }
      return null;
    },
    timeoutMs,
    `the panel to show job ${jobId}`,
  );
}

/**
 * The picture for docs/extension.md: a job at work, with the Baton Jobs view (widened so that
 * its descriptions show), the panel and the status bar, and no notification or hover in the way.
 */
async function docsScreenshot(file: string, row: ReturnType<typeof jobRow>): Promise<void> {
  await runCommand('Notifications: Clear All Notifications');
  const sidebar = await page.locator('.part.sidebar').boundingBox();
  if (sidebar) {
    const x = sidebar.x + sidebar.width - 1;
    const y = sidebar.y + sidebar.height / 2;
    await page.mouse.move(x, y);
    await page.mouse.down();
    await page.mouse.move(x + 120, y, { steps: 5 });
    await page.mouse.up();
  }
  await page.mouse.move(20, 600);
  await waitFor(
    async () => {
      const percent = Number(/ (\d+)%/.exec((await row.getAttribute('aria-label')) ?? '')?.[1] ?? -1);
      return percent >= 30 && percent <= 80 && /[1-9][\d,.]*k? items\/s/.test(await statusItem().innerText().catch(() => ''));
    },
    20_000,
    'the job to be well under way',
  );
  await page.waitForTimeout(300);
  await page.screenshot({ path: file });
}

/** Job ids in the database, with their states, read with the engine's API. */
async function jobsInDatabase(): Promise<{ jobId: string; state: string; items: number; name: string }[]> {
  const baton = await Baton.open({ db: join(workspace, '.baton', 'baton.db') });
  try {
    return (await baton.jobs()).map(({ jobId, state, items, name }) => ({ jobId, state, items, name }));
  } finally {
    await baton.close();
  }
}

/**
 * Opens a file of the workspace with Quick Open and runs it with "Baton: Run Batch", taking the
 * default max parallel and no args.
 */
async function openAndRunBatch(name: string): Promise<void> {
  // Quick Open finds a new file once the file watcher has told it: ask again until it does.
  await waitFor(async () => {
    await page.keyboard.press('Escape');
    await page.keyboard.press('Control+P');
    await page.keyboard.type(name);
    return page.locator('.quick-input-widget .monaco-list-row', { hasText: name }).first().waitFor({ state: 'visible', timeout: 2000 }).then(() => true, () => false);
  }, 30_000, `Quick Open to find ${name}`);
  await page.keyboard.press('Enter');
  await page.locator('.tab.active', { hasText: name }).waitFor({ state: 'visible', timeout: 20_000 });
  await runCommand('Baton: Run Batch');
  await quickInput(`Run Batch: ${name}`);
  await page.keyboard.press('Enter');
  await quickPrompt('Args: the JSON your processor gets as ctx.args');
  await page.keyboard.press('Enter');
}

/**
 * Sets a setting in the Settings editor, as a person would, under its tab (a machine setting is
 * under Remote in code-server, as in any remote window); the editor stays open. Returns its input.
 */
async function setSetting(tab: 'User' | 'Remote', id: string, title: string, value: string): Promise<Locator> {
  await runCommand('Preferences: Open Settings (UI)');
  await page.locator('.settings-editor .settings-tabs-widget .action-label', { hasText: tab }).click();
  const search = page.locator('.settings-editor .settings-header .monaco-editor textarea').first();
  await search.waitFor({ state: 'visible', timeout: 20_000 });
  await search.focus();
  await page.keyboard.press('Control+A');
  await page.keyboard.insertText(id);
  const input = page.locator('.settings-editor .setting-item-contents', { hasText: title }).locator('input').first();
  await input.waitFor({ state: 'visible', timeout: 20_000 });
  await input.fill(value);
  await input.press('Tab');
  return input;
}

/** Writes the user settings that keep the window quiet. */
function writeSettings(): void {
  writeFileSync(
    join(userData, 'User', 'settings.json'),
    JSON.stringify({
      'security.workspace.trust.enabled': false,
      'workbench.startupEditor': 'none',
      'telemetry.telemetryLevel': 'off',
      'update.mode': 'none',
      'extensions.autoCheckUpdates': false,
      'extensions.autoUpdate': false,
      'workbench.tips.enabled': false,
      'typescript.disableAutomaticTypeAcquisition': true,
      // Less work for a two-core machine that runs other suites at the same time.
      'typescript.validate.enable': false,
      'typescript.suggest.enabled': false,
      'git.enabled': false,
      'git.autoRepositoryDetection': false,
      'github.gitAuthentication': false,
      'npm.autoDetect': 'off',
      'search.followSymlinks': false,
      'workbench.reduceMotion': 'on',
      // As VS Code desktop has it (code-server saves after a second): what is unsaved stays so.
      'files.autoSave': 'off',
      'baton.threads': 1,
    }),
  );
}

/**
 * Installs the .vsix in a fresh code-server and opens it in Chromium: on `folder`, or an empty
 * window without one. `env` goes to code-server (and so to the extension host and the runner).
 */
async function launch(options: { folder?: string; env?: Record<string, string> } = {}): Promise<void> {
  const entry = checkTools();
  tmp = mkdtempSync(join(tmpdir(), 'baton-vscode-'));
  userData = join(tmp, 'user-data');
  const extensions = join(tmp, 'extensions');
  mkdirSync(join(userData, 'User'), { recursive: true });
  mkdirSync(extensions);
  writeSettings();

  // Everything here runs at a lower priority (nice): the suites that run beside this one on a
  // two-core machine time their pages, and must not wait behind a browser.
  // The .vsix as `npm run package` makes it (dist/ is built by the test setup).
  const vsix = join(tmp, 'baton.vsix');
  execFileSync('nice', ['-n', '10', process.execPath, join(root, 'extension', 'package-vsix.mjs'), '--out', vsix], { cwd: root, stdio: 'pipe' });
  const env = { ...process.env, XDG_CONFIG_HOME: join(tmp, 'config'), XDG_DATA_HOME: join(tmp, 'data'), ...options.env };
  const common = ['--user-data-dir', userData, '--extensions-dir', extensions];
  execFileSync('nice', ['-n', '10', process.execPath, entry, ...common, '--install-extension', vsix], { env, stdio: 'pipe' });

  const port = await freePort();
  const folderArgs = options.folder !== undefined ? [options.folder] : [];
  codeServer = spawn('nice', ['-n', '10', process.execPath, entry, ...common, '--auth', 'none', '--bind-addr', `127.0.0.1:${port}`, '--disable-telemetry', '--disable-update-check', '--disable-workspace-trust', ...folderArgs], {
    env,
    stdio: 'ignore',
    // Its own process group: the extension host and the runner server go with it.
    detached: true,
  });
  const niceChromium = join(tmp, 'chromium');
  writeFileSync(niceChromium, `#!/bin/sh\nexec nice -n 10 ${JSON.stringify(chromiumPath)} "$@"\n`, { mode: 0o755 });
  browser = await chromium.launch({
    executablePath: niceChromium,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--no-first-run', '--disable-sync'],
  });
  // Reduced motion: no spinning icons or animations to repaint in software all the time.
  page = await browser.newPage({ viewport: { width: 1600, height: 1000 }, reducedMotion: 'reduce' });
  const query = options.folder !== undefined ? `folder=${encodeURIComponent(options.folder)}` : 'ew=true';
  await waitFor(
    () => page.goto(`http://127.0.0.1:${port}/?${query}`).then((response) => response?.ok(), () => false),
    60_000,
    'code-server to answer',
  );
  await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
}

/** Closes Chromium and code-server (the extension host and the runner go with it), keeping the logs beside the screenshots. */
async function close(): Promise<void> {
  await browser?.close().catch(() => {});
  if (codeServer?.pid !== undefined && codeServer.exitCode === null) {
    try {
      process.kill(-codeServer.pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (userData) for (const file of findFiles(join(userData, 'logs'), /\.log$/)) writeFileSync(join(shots, `log-${step}-${file.slice(userData.length + 1).replace(/[\\/]/g, '_')}`), readFileSync(file));
  if (tmp) rmSync(tmp, { recursive: true, force: true });
}

beforeAll(() => {
  rmSync(shots, { recursive: true, force: true });
  mkdirSync(shots, { recursive: true });
});

describe('the Baton extension in a real VS Code', () => {
  beforeAll(async () => {
    workspace = mkdtempSync(join(tmpdir(), 'baton-vscode-workspace-'));
    // A project that does not depend on baton yet: the bundled runner runs its jobs.
    writeFileSync(join(workspace, 'package.json'), `${JSON.stringify({ name: 'shop', version: '1.0.0', private: true }, null, 2)}\n`);
    await launch({ folder: workspace });
    // The explorer shows the folder, and the Baton icon its contributions, once the workbench has settled.
    await page.locator('.explorer-folders-view .monaco-list-row', { hasText: 'package.json' }).waitFor({ state: 'visible', timeout: 60_000 });
    await batonViewButton().waitFor({ state: 'visible', timeout: 60_000 });
  }, 300_000);

  afterAll(async () => {
    await close();
    if (workspace) rmSync(workspace, { recursive: true, force: true });
  }, 30_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) await shot(`failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
  });

  const processorFile = () => join(workspace, 'migrate-table.ts');

  it('writes a processor from a template with "Baton: New Page Processor", the cursor where the query goes', async () => {
    await runCommand('Baton: New Page Processor');
    await quickInput('New Page Processor');
    const templates = await page.locator('.quick-input-widget .monaco-list-row').allInnerTexts();
    expect(templates.map((row) => row.split('\n')[0])).toEqual(['SQL table, keyset pages', 'CSV or JSONL file', 'An API call per item']);
    await shot('templates');
    await page.keyboard.press('Enter');

    const name = await quickInput('New Page Processor');
    await waitFor(async () => (await name.inputValue()) === 'migrate-table', 10_000, 'the suggested name');
    await name.fill('migrate table');
    await page.locator('.quick-input-widget .quick-input-message', { hasText: /Name must be letters/ }).waitFor({ state: 'visible' });
    await name.fill('migrate-table');
    await page.keyboard.press('Enter');

    await page.locator('.tab.active', { hasText: 'migrate-table.ts' }).waitFor({ state: 'visible', timeout: 20_000 });
    const { text, cursorOffset } = renderTemplate('sql-keyset', { name: 'migrate-table', file: 'migrate-table.ts' });
    expect(readFileSync(processorFile(), 'utf8')).toBe(text);
    const before = text.slice(0, cursorOffset).split('\n');
    const position = `Ln ${before.length}, Col ${before.at(-1)!.length + 1}`;
    await page.locator('.statusbar-item', { hasText: position }).waitFor({ state: 'visible', timeout: 10_000 });
    // The project lacks baton: the extension says how to add it.
    await page.locator('.notification-toast', { hasText: "imports 'baton'" }).waitFor({ state: 'visible', timeout: 10_000 });
    // A "Run Batch" CodeLens sits above definePageProcessor.
    await page.locator('.codelens-decoration', { hasText: 'Run Batch' }).waitFor({ state: 'visible', timeout: 30_000 });
    await shot('new-processor');
  });

  let firstJob = '';

  it('runs the processor with "Baton: Run Batch": the status bar and the panel follow the job to its end', async () => {
    // The user writes their query where the cursor is; a slow one here, so the job runs a while.
    await page.keyboard.type('await sleep(250);');
    await page.keyboard.press('Enter');
    await runCommand('Baton: Run Batch');
    const maxParallel = await quickInput('Run Batch: migrate-table.ts');
    expect(await maxParallel.inputValue()).toBe('8');
    await maxParallel.fill('4');
    await page.keyboard.press('Enter');
    // Then the args, as `baton run --args` takes them: none at first (the template has defaults).
    const args = await quickPrompt('Args: the JSON your processor gets as ctx.args');
    expect(await args.inputValue()).toBe('');
    await args.fill('{demoRows: 6000}');
    await page.locator('.quick-input-widget .quick-input-message', { hasText: 'Args must be JSON' }).waitFor({ state: 'visible' });
    await args.fill('{"demoRows": 6000}');
    await page.keyboard.press('Enter');

    // Run Batch saved the file before the runner built it.
    await waitFor(() => readFileSync(processorFile(), 'utf8').includes('await sleep(250);'), 10_000, 'the file to be saved');
    await statusItem().waitFor({ state: 'visible', timeout: 30_000 });
    expect((await statusItem().innerText()).trim()).toMatch(/^Baton \d+% · [\d,.k]+ items\/s$/);
    const [job] = await waitFor(async () => {
      const jobs = await jobsInDatabase();
      return jobs.length === 1 ? jobs : null;
    }, 10_000, 'the job in the database');
    firstJob = job!.jobId;
    expect(firstJob).toMatch(/^migrate-table-\d{14}-[0-9a-f]{4}$/);
    const panel = await panelShowing(firstJob);
    await shot('running');

    await waitFor(async () => (await jobsInDatabase())[0]?.state === 'succeeded', 60_000, 'the job to succeed');
    // The processor got the args: 6,000 demo rows instead of its default 10,000.
    await waitFor(async () => (await panel.locator('#stat-items').innerText()) === '6,000 of 6,000', 20_000, 'the panel to show every item done');
    await statusItem().waitFor({ state: 'hidden', timeout: 10_000 });
    expect(await jobsInDatabase()).toEqual([{ jobId: firstJob, state: 'succeeded', items: 6_000, name: 'migrate-table' }]);
    // It ran in the extension's runner: its end is told, with the way to the panel.
    const told = page.locator('.notification-toast', { hasText: `Baton: job ${firstJob} succeeded` });
    await told.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await told.locator('.notification-list-item-message').innerText()).toMatch(new RegExp(`^Baton: job ${firstJob} succeeded: [\\d,]+ pages, 6,000 items\\.$`));
    expect(await told.locator('.monaco-button').allInnerTexts()).toEqual(['Show Panel']);
  });

  it('lists the finished job in the Baton Jobs view: its processor, its state and when it started', async () => {
    await batonViewButton().click();
    await jobRow(firstJob).waitFor({ state: 'visible', timeout: 20_000 });
    expect(await jobRow(firstJob).getAttribute('aria-label')).toBe(`Baton job ${firstJob}: succeeded`);
    expect(await jobRow(firstJob).innerText()).toMatch(/^migrate-table\s*succeeded · \d\d:\d\d$/);
    await shot('jobs-view');
  });

  let secondJob = '';

  it('pauses and resumes a running job from the buttons of its row in the Baton Jobs view', async () => {
    await page.locator('.tab', { hasText: 'migrate-table.ts' }).click();
    await runCommand('Baton: Run Batch');
    await quickInput('Run Batch: migrate-table.ts');
    await page.keyboard.press('Enter');
    // The args given to this file last time are offered again.
    const args = await quickPrompt('Args: the JSON your processor gets as ctx.args');
    await waitFor(async () => (await args.inputValue()) === '{"demoRows": 6000}', 10_000, 'the last args offered again');
    // A longer job this time: under load the first one ran 3 s, over before a click could pause it.
    await args.fill('{"demoRows": 20000}');
    await page.keyboard.press('Enter');
    const second = await waitFor(async () => (await jobsInDatabase()).find((job) => job.jobId !== firstJob)?.jobId, 20_000, 'the second job');
    const row = jobRow(second);
    await row.waitFor({ state: 'visible', timeout: 20_000 });
    await waitFor(async () => /: running/.test((await row.getAttribute('aria-label')) ?? ''), 20_000, 'the job to run');

    await row.hover();
    await row.locator('.action-label[aria-label="Pause Job"]').click();
    await waitFor(async () => /: paused/.test((await row.getAttribute('aria-label')) ?? ''), 20_000, 'the view to show it paused');
    expect((await jobsInDatabase()).find((job) => job.jobId === second)!.state).toBe('paused');
    await statusItem().filter({ hasText: 'paused' }).waitFor({ state: 'visible', timeout: 10_000 });

    // Restarting the runner would stop the job it runs: it asks first, and Cancel keeps both.
    const [runnerBefore] = runnerPids().slice(-1);
    await runCommand('Baton: Restart Runner');
    const dialog = page.locator('.monaco-dialog-box');
    await dialog.waitFor({ state: 'visible', timeout: 10_000 });
    expect((await dialog.innerText()).replace(/\s+/g, ' ')).toContain(`Restarting the Baton runner stops the job ${second} it runs; Resume Job runs it on afterwards.`);
    await shot('restart-asks');
    await dialog.locator('.monaco-button', { hasText: 'Cancel' }).click();
    await dialog.waitFor({ state: 'detached', timeout: 10_000 });
    await page.waitForTimeout(1000);
    expect(runnerPids().at(-1)).toBe(runnerBefore);
    expect((await jobsInDatabase()).find((job) => job.jobId === second)!.state).toBe('paused');

    // A setting the runner reads when it starts changes: it asks whether to restart now or once
    // the job has ended, and waits.
    await setSetting('User', 'baton.database', 'Database', join(workspace, '.baton', 'baton.db'));
    const askToast = page.locator('.notification-toast', { hasText: 'baton.database changed.' });
    await askToast.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await askToast.locator('.notification-list-item-message').innerText()).toBe(
      `baton.database changed. Restarting the Baton runner stops the job ${second} it runs; Resume Job runs it on afterwards.`,
    );
    await askToast.locator('.monaco-button', { hasText: 'When They End' }).click();
    await page.locator('.tab', { hasText: 'Settings' }).locator('.codicon-close').click();
    await page.waitForTimeout(1000);
    expect(runnerPids().at(-1)).toBe(runnerBefore);

    await row.hover();
    await row.locator('.action-label[aria-label="Resume Job"]').click();
    // Running, it shows how far it is (the template estimates its items).
    await waitFor(async () => /: running · \d+%/.test((await row.getAttribute('aria-label')) ?? ''), 20_000, 'the view to show it running again, with its % done');
    // The panel, open on the first job, turned to this one when Run Batch started it.
    await panelShowing(second);
    secondJob = second;
    if (process.env.BATON_SCREENSHOT) await docsScreenshot(process.env.BATON_SCREENSHOT, row);
    await shot('resumed');
    await waitFor(async () => /: succeeded/.test((await row.getAttribute('aria-label')) ?? ''), 60_000, 'the job to succeed');
    // Ended, the runner restarts to take the new setting.
    await waitFor(() => runnerPids().at(-1) !== runnerBefore, 30_000, 'the runner to restart once the job ended');
  });

  it('restarts the runner server when it dies, and still shows a job that `baton run` runs in a terminal', async () => {
    const starts = runnerPids().length;
    const pid = runnerPids().at(-1);
    expect(pid).toBeGreaterThan(0);
    process.kill(pid!, 'SIGKILL');
    await waitFor(() => runnerPids().length > starts, 30_000, 'the runner to restart');
    expect(runnerPids().at(-1)).not.toBe(pid);
    // Said, since jobs it ran would have stopped with it (it ran none at that moment).
    await page.locator('.notification-toast', { hasText: 'The Baton runner stopped unexpectedly and restarts (the Baton output says why).' }).waitFor({ state: 'visible', timeout: 20_000 });

    const cli = startCli(['run', 'migrate-table.ts', '--job', 'from-terminal', '--parallel', '2', '--threads', '1'], workspace);
    const row = jobRow('from-terminal');
    await row.waitFor({ state: 'visible', timeout: 30_000 });
    await waitFor(async () => /: (running|succeeded)/.test((await row.getAttribute('aria-label')) ?? ''), 20_000, 'the terminal job in the view');
    expect((await cli.exited).code).toBe(0);
    await waitFor(async () => /: succeeded/.test((await row.getAttribute('aria-label')) ?? ''), 20_000, 'the terminal job to show as succeeded');
    // The panel's session was opened again in the new runner: it still shows its job, and hears of the new one.
    const panel = await panelShowing(secondJob);
    await panel.locator('#job-picker vscode-option[value="from-terminal"]').waitFor({ state: 'attached', timeout: 20_000 });
    expect(await panel.locator('#connection').isHidden()).toBe(true);
    await shot('terminal-job');
  });
  it('retries failed pages with the fix still unsaved in the editor, from the panel and from the command palette', async () => {
    const file = join(workspace, 'fails-until-fixed.ts');
    const source = (broken: string) => `import { definePageProcessor, NonRetryableError } from 'baton';

const brokenPages = ${broken};

export default definePageProcessor<number>({
  name: 'fails-until-fixed',
  initialPages: () => [0, 1, 2, 3].map((cursor) => ({ cursor, size: 1 })),
  async run(ctx) {
    if (brokenPages.includes(ctx.page.cursor)) throw new NonRetryableError(\`page \${ctx.page.cursor} is broken\`);
    return { items: 1 };
  },
});
`;
    writeFileSync(file, source('[1, 2]'));
    await openAndRunBatch('fails-until-fixed.ts');
    const job = await waitFor(async () => (await jobsInDatabase()).find((candidate) => candidate.name === 'fails-until-fixed' && candidate.state === 'failed'), 30_000, 'the job to fail');
    const panel = await panelShowing(job.jobId);

    // The user fixes one page's cause in the editor, leaves it unsaved, and clicks Retry failed.
    const fix = async (broken: string) => {
      await page.locator('.view-line', { hasText: 'const brokenPages' }).click();
      await page.keyboard.press('End');
      await page.keyboard.press('Shift+Home');
      await page.keyboard.type(`const brokenPages = ${broken};`);
      await page.locator('.tab.dirty', { hasText: 'fails-until-fixed.ts' }).waitFor({ state: 'visible' });
      expect(readFileSync(file, 'utf8')).not.toContain(`const brokenPages = ${broken};`);
    };
    await fix('[2]');
    await panel.locator('#retry-all').click();
    await waitFor(async () => (await jobsInDatabase()).find((candidate) => candidate.jobId === job.jobId && candidate.state === 'failed' && candidate.items === 3), 30_000, 'page 1 to succeed on retry and page 2 to fail again');
    expect(readFileSync(file, 'utf8')).toBe(source('[2]'));

    await fix('[]');
    await runCommand('Baton: Retry Failed Pages');
    await page.locator('.quick-input-widget .monaco-list-row', { hasText: job.jobId }).waitFor({ state: 'visible' });
    await page.keyboard.press('Enter');
    await waitFor(async () => (await jobsInDatabase()).find((candidate) => candidate.jobId === job.jobId && candidate.state === 'succeeded'), 30_000, 'the job to succeed with the fix');
    expect(readFileSync(file, 'utf8')).toBe(source('[]'));
    await shot('retried-unsaved-fix');
  });

  it('offers to go to the line at fault when Run Batch finds a processor that does not build', async () => {
    writeFileSync(
      join(workspace, 'does-not-build.ts'),
      `import { definePageProcessor } from 'baton';

export default definePageProcessor({
  async run(ctx) {
    const rows = await fetch(ctx.page.cursor
  },
});
`,
    );
    await openAndRunBatch('does-not-build.ts');
    const toast = page.locator('.notification-toast', { hasText: 'does not build' });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await toast.locator('.notification-list-item-message').innerText()).toMatch(/^Baton: processor does-not-build\.ts does not build: does-not-build\.ts:6:3: Expected "\)" but found "}"; fix it and run again$/);
    expect(await toast.locator('.monaco-button').allInnerTexts()).toEqual(['Go to Error', 'Show Output']);
    // The user is somewhere else in the file when they click it.
    await page.locator('.view-line', { hasText: 'definePageProcessor({' }).click();
    await page.locator('.statusbar-item', { hasText: /^Ln 3, / }).waitFor({ state: 'visible', timeout: 10_000 });
    await toast.locator('.monaco-button', { hasText: 'Go to Error' }).click();
    await page.locator('.statusbar-item', { hasText: 'Ln 6, Col 3' }).waitFor({ state: 'visible', timeout: 10_000 });
    await shot('go-to-build-error');
  });

  it('says so, with a button to the setting, when baton.nodePath names no Node; and runs again once it is fixed', async () => {
    const starts = runnerPids().length;
    const missing = join(tmp, 'no-such-node');
    // As a user would, in the Settings editor. It is a machine setting: under the Remote tab.
    await page.mouse.move(20, 600);
    const nodePath = await setSetting('Remote', 'baton.nodePath', 'Node Path', missing);

    const toast = page.locator('.notification-toast', { hasText: 'Baton runs jobs with Node.js 20 or newer' });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    expect(await toast.locator('.notification-list-item-message').innerText()).toBe(
      `Baton runs jobs with Node.js 20 or newer, and found no Node.js at baton.nodePath "${missing}". Install Node.js 20+ from https://nodejs.org, or set baton.nodePath to its path.`,
    );
    await shot('no-node');
    await page.locator('.tab', { hasText: 'Settings' }).locator('.codicon-close').click();
    await toast.locator('.monaco-button', { hasText: 'Open Setting' }).click();
    await nodePath.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await nodePath.inputValue()).toBe(missing);

    await nodePath.fill('');
    await nodePath.press('Tab');
    await waitFor(() => runnerPids().length > starts, 30_000, 'the runner to start again');
    await waitFor(async () => (await page.locator('.monaco-list-row[aria-label^="Baton job "]').count()) >= 3, 20_000, 'the jobs in the view again');
  });

  it('says baton.database names a folder, in one notification whose button opens that setting; and runs again once it is fixed', async () => {
    const starts = runnerPids().length;
    await page.locator('.tab', { hasText: 'Settings' }).locator('.codicon-close').click();
    // The toasts counted below are this test's: the last test's "running 1 failed page" may still show.
    await runCommand('Notifications: Clear All Notifications');
    await page.locator('.notification-toast').first().waitFor({ state: 'detached', timeout: 10_000 });
    const folder = join(tmp, 'jobs-folder');
    mkdirSync(folder);
    const database = await setSetting('User', 'baton.database', 'Database', folder);

    const toast = page.locator('.notification-toast', { hasText: 'The Baton runner did not start' });
    await toast.waitFor({ state: 'visible', timeout: 30_000 });
    // The fix as VS Code has it (not the CLI's --db), and no second toast from the language client.
    expect(await toast.locator('.notification-list-item-message').innerText()).toBe(
      `The Baton runner did not start: Baton could not open its database ${folder}: ${folder} is a folder, not a database file: set baton.database to a file's path, such as ${join(folder, 'baton.db')}`,
    );
    await page.waitForTimeout(2000);
    expect(await page.locator('.notification-toast').count()).toBe(1);
    await shot('database-folder');
    await page.locator('.tab', { hasText: 'Settings' }).locator('.codicon-close').click();
    await toast.locator('.monaco-button', { hasText: 'Open Setting' }).click();
    await database.waitFor({ state: 'visible', timeout: 20_000 });
    expect(await database.inputValue()).toBe(folder);

    await database.fill('');
    await database.press('Tab');
    await waitFor(() => runnerPids().length > starts, 30_000, 'the runner to start again');
    await waitFor(async () => (await page.locator('.monaco-list-row[aria-label^="Baton job "]').count()) >= 3, 20_000, 'the jobs in the view again');
  });

  it('opens the panel again after the window reloads, on the job it showed', async () => {
    const [shown] = (await jobsInDatabase()).filter((job) => job.name === 'fails-until-fixed');
    await page.locator('.tab', { hasText: 'Settings' }).locator('.codicon-close').click();
    await runCommand('Baton: Show Progress Panel');
    await panelShowing(shown!.jobId);
    const reloaded = page.waitForEvent('framenavigated', { predicate: (frame) => frame === page.mainFrame(), timeout: 30_000 });
    await runCommand('Developer: Reload Window');
    await reloaded;
    await page.locator('.monaco-workbench').waitFor({ state: 'visible', timeout: 60_000 });
    const panel = await panelShowing(shown!.jobId, 60_000);
    await waitFor(() => panel.locator('#connection').isHidden(), 30_000, 'the panel to be connected');
    await waitFor(async () => (await panel.locator('#stat-items').innerText()) === '4', 20_000, 'the job\'s figures');
    await shot('panel-after-reload');
  });
});

describe('the Baton extension in a window with no folder', () => {
  let home: string;

  beforeAll(async () => {
    // A home folder of its own, with no .baton in it yet: the database goes to ~/.baton/baton.db.
    home = mkdtempSync(join(tmpdir(), 'baton-vscode-home-'));
    await launch({ env: { HOME: home } });
  }, 300_000);

  afterAll(async () => {
    await close();
    if (home) rmSync(home, { recursive: true, force: true });
  }, 30_000);

  afterEach(async (context) => {
    if (context.task.result?.state === 'fail' && page) await shot(`failed-${context.task.name.slice(0, 40).replace(/[^a-z0-9]+/gi, '-')}`).catch(() => {});
  });

  it('starts the runner on ~/.baton/baton.db, which does not exist yet, and opens the panel on it', async () => {
    await runCommand('Baton: Show Progress Panel');
    await waitFor(() => runnerPids().length > 0, 30_000, 'the runner to start');
    await waitFor(() => existsSync(join(home, '.baton', 'baton.db')), 20_000, 'the database in the home folder');
    const panel = await waitFor(
      async () => {
        for (const frame of page.frames()) if ((await frame.locator('#job-id').count().catch(() => 0)) > 0) return frame;
        return null;
      },
      30_000,
      'the panel',
    );
    await waitFor(() => panel.locator('#connection').isHidden(), 20_000, 'the panel to be connected');
    expect(await page.locator('.notification-toast').allInnerTexts()).toEqual([]);
    await shot('no-folder-panel');
  });
});
