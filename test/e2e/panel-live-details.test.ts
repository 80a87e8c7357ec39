// The panel in a real browser (Debian's Chromium, driven by playwright-core) against `baton ui`,
// following what a job run by `baton run` in another process does as it happens: a page that
// runs now, a job that stays paused, controls answered or cut off.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixture, sleep, waitFor } from '../helpers.js';
import { launchChromium } from './chromium.js';
import { cliPath } from './cli-helpers.js';

interface Running {
  child: ChildProcess;
  stdout(): string;
  exited: Promise<number | null>;
}

const children: ChildProcess[] = [];
let dir = '';
let port = 0;
let ui: Running;
let url = '';
/** The browser logs the refused socket while baton ui is down. */
let expectSocketErrors = false;
let browser: Browser;
let page: Page;
const pageErrors: string[] = [];

function baton(args: string[]): Running {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd: dir, env: { ...process.env, TMPDIR: dir }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  children.push(child);
  return { child, stdout: () => stdout, exited };
}

function status(jobId: string): { state: string; paused: boolean; startedAt: string; pages: Record<string, number> } {
  return JSON.parse(execFileSync(process.execPath, [cliPath, 'status', jobId, '--json'], { cwd: dir, encoding: 'utf8' }));
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startUi(): Promise<{ ui: Running; url: string }> {
  const started = baton(['ui', '--port', String(port)]);
  const address = await waitFor(() => /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(started.stdout())?.[1], 20_000, 'baton ui to print its address');
  return { ui: started, url: address };
}

/** "850 ms", "12.3 s", "4 min 05 s" as seconds. */
function seconds(text: string): number {
  const minutes = /^(\d+) min (\d+) s$/.exec(text);
  if (minutes) return Number(minutes[1]) * 60 + Number(minutes[2]);
  const plain = /^([\d.]+) s$/.exec(text);
  if (plain) return Number(plain[1]);
  const ms = /^(\d+) ms$/.exec(text);
  if (ms) return Number(ms[1]) / 1000;
  throw new Error(`not a duration: ${text}`);
}

/** Rests the pointer on lane 0 near the present until the tooltip names an attempt that just started, and clicks there. */
async function clickRunningBar(): Promise<string> {
  const box = (await page.locator('#timeline-canvas').boundingBox())!;
  return waitFor(async () => {
    for (const dx of [2, 4, 8, 16, 30]) {
      await page.mouse.move(box.x + box.width - dx, box.y + 12);
      const tooltip = page.locator('#timeline-tooltip');
      const text = (await tooltip.isVisible()) ? await tooltip.textContent() : null;
      // Only an attempt that started less than a second ago: it runs on while the click lands.
      const ms = text ? /\nrunning for (\d+) ms/.exec(text) : null;
      if (text && ms && Number(ms[1]) < 1_000) {
        await page.mouse.click(box.x + box.width - dx, box.y + 12);
        return text;
      }
    }
    return undefined;
  }, 20_000, 'a running bar');
}

describe('the panel follows a job as it happens', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-panel-live-'));
    // One chain of pages of 2.5 s, one at a time: a page runs for long enough to be opened.
    const job = baton(['run', fixture('sleeps.ts'), '--args', '{"ms":2500,"pages":200}', '--parallel', '1', '--job', 'slow']);
    await waitFor(() => /slow running/.test(job.stdout()), 20_000, 'the job to start');
    port = await freePort();
    ({ ui, url } = await startUi());
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
    await page.goto(url);
    await waitFor(async () => (await page.locator('#job-id').textContent()) === 'slow' || undefined, 20_000, 'the panel to show the job');
  });

  afterEach(() => {
    const unexpected = pageErrors.splice(0).filter((text) => !(expectSocketErrors && /WebSocket connection to .* failed|ERR_CONNECTION_REFUSED/.test(text)));
    expect(unexpected).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  });

  it('shows a running page with its attempt and cursor, and its end once it ends', async () => {
    const tooltip = await clickRunningBar();
    const [, pageNo, attempt] = /^page (\d+), attempt (\d+)/.exec(tooltip)!;
    const cursor = /\ncursor (.+)\n/.exec(tooltip)![1]!;
    await expect.poll(() => page.locator('#page-detail h2').textContent(), { timeout: 20_000 }).toBe(`Page ${pageNo}`);
    // The database records an attempt when it ends; the timeline knows it runs now.
    const heading = page.locator('#page-detail section.attempt h3').first();
    await expect.poll(() => heading.textContent(), { timeout: 20_000 }).toMatch(new RegExp(`^Attempt ${attempt}: running`));
    expect(await page.locator('#page-detail dd.mono').textContent()).toBe(cursor);
    expect(await page.locator('#page-detail').textContent()).not.toContain('No attempt of this page has been recorded yet');
    // The view follows the page: its end shows without opening it again.
    await expect.poll(() => heading.textContent(), { timeout: 20_000 }).toMatch(new RegExp(`^Attempt ${attempt}: succeeded`));
    expect(await page.locator('#page-detail dd.mono').textContent()).toBe(cursor);
  });

  it("keeps counting a paused job's elapsed time, in a panel opened after its last page ended", async () => {
    execFileSync(process.execPath, [cliPath, 'pause', 'slow'], { cwd: dir });
    await waitFor(() => status('slow').pages.running === 0 || undefined, 20_000, 'the running page to finish');
    // Long enough that the last page's end is well behind the present.
    await sleep(8_000);
    await page.reload();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('paused');
    // Past the job's next activity (a live job publishes one at least every 2 s while idle),
    // which the header is drawn again with.
    await sleep(3_000);
    const started = Date.parse(status('slow').startedAt);
    const shown = seconds((await page.locator('#stat-elapsed').textContent())!);
    // The header may be up to one idle activity behind; the last page's end is 8 s behind.
    expect(shown).toBeGreaterThan((Date.now() - started) / 1000 - 4.5);
  });

  it('says so when the link drops before a control is answered, and leaves the controls usable', async () => {
    expectSocketErrors = true;
    const button = page.locator('#pause-resume');
    await expect.poll(() => button.textContent(), { timeout: 20_000 }).toBe('Resume');
    // baton ui frozen: the request reaches its socket and is never answered.
    ui.child.kill('SIGSTOP');
    await button.click();
    await expect.poll(() => page.locator('#control-message').textContent()).toBe('Resuming…');
    ui.child.kill('SIGKILL');
    await ui.exited;
    await expect.poll(() => page.locator('#connection').isVisible(), { timeout: 20_000 }).toBe(true);
    expect(await page.locator('#control-message').textContent()).toBe("The link dropped before the host answered (resuming): the job's state shows whether it was done.");

    // Back (the same token, kept beside the database): nothing was done, and Resume works.
    ({ ui } = await startUi());
    await expect.poll(() => page.locator('#connection').isVisible(), { timeout: 30_000 }).toBe(false);
    await expect.poll(() => button.getAttribute('disabled'), { timeout: 20_000 }).toBeNull();
    expect(await button.textContent()).toBe('Resume');
    await button.click();
    await expect.poll(() => page.locator('#control-message').textContent(), { timeout: 20_000 }).toBe('Resumed.');
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('running');
  });

  it('retries a failed page on Enter on its Retry button, and leaves the list in view', async () => {
    expect(await baton(['run', fixture('non-retryable.ts'), '--job', 'broken']).exited).toBe(1);
    await expect.poll(() => page.locator('vscode-option[value="broken"]').count(), { timeout: 20_000 }).toBe(1);
    await page.locator('#job-picker').click();
    await page.locator('vscode-option[value="broken"]').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('failed');
    await page.locator('#tab-failures').click();
    const retry = page.locator('#failures-grid vscode-data-grid-row[data-page] vscode-button[data-action="retry"]').first();
    await expect.poll(() => retry.count(), { timeout: 20_000 }).toBe(1);
    const label = (await retry.getAttribute('aria-label'))!;
    await retry.focus();
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#control-message').textContent(), { timeout: 20_000 }).toBe(`${label.replace('Retry page', 'Page')} runs again.`);
    expect(await page.locator('#tabs').getAttribute('activeid')).toBe('tab-failures');
  });

  it("keeps the timeline's buttons on one row in a panel of middling width", async () => {
    await page.locator('#tab-activity').click();
    const middle = async (id: string) => {
      const box = (await page.locator(`#${id}`).boundingBox())!;
      return box.y + box.height / 2;
    };
    for (const width of [760, 420]) {
      await page.setViewportSize({ width, height: 900 });
      // Live wrapped onto a line of its own at 760 px.
      await expect.poll(async () => Math.abs((await middle('timeline-live')) - (await middle('timeline-zoom-out'))), { timeout: 10_000 }).toBeLessThan(4);
      const live = (await page.locator('#timeline-live').boundingBox())!;
      expect(live.x + live.width).toBeLessThanOrEqual(width);
    }
    await page.setViewportSize({ width: 1280, height: 900 });
  });
});
