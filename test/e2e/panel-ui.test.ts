// The progress panel in a real browser (Debian's Chromium, driven by playwright-core) against
// `baton ui`, with jobs run by `baton run` in other processes, as a user would have them.
// Screenshots go to test-results/panel/; BATON_UPDATE_SCREENSHOTS=1 also refreshes docs/images.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import WebSocket from 'ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { fixture, root, sleep, waitFor } from '../helpers.js';
import { launchChromium } from './chromium.js';
import { cliPath } from './cli-helpers.js';

/** What the tests touch in the page, typed here: this suite is checked without the DOM library. */
interface PageGlobals {
  document: { body: { className: string; dataset: Record<string, string | undefined> } };
  postMessage(message: unknown, targetOrigin: string): void;
}


const SHOTS = join(root, 'test-results', 'panel');

interface Running {
  child: ChildProcess;
  stdout(): string;
  exited: Promise<number | null>;
}

/** Starts `baton <args>` in `cwd` for the whole suite (cli-helpers' startCli ends its children after each test). */
function baton(args: string[], cwd: string): Running {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, TMPDIR: cwd }, stdio: ['ignore', 'pipe', 'pipe'] });
  let stdout = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.resume();
  const exited = new Promise<number | null>((resolve) => child.on('close', (code) => resolve(code)));
  children.push(child);
  return { child, stdout: () => stdout, exited };
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as { port: number }).port;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

async function startUi(port: number): Promise<{ ui: Running; url: string }> {
  const ui = baton(['ui', '--port', String(port)], dir);
  const url = await waitFor(() => /open (http:\/\/127\.0\.0\.1:\d+\/\?token=[\w-]+)/.exec(ui.stdout())?.[1], 20_000, 'baton ui to print its address');
  return { ui, url };
}

const children: ChildProcess[] = [];
let dir = '';
let port = 0;
let url = '';
let ui: Running;
let steady: Running;
let browser: Browser;
let page: Page;
/** Errors the page logged; the reconnect test expects the browser's own about the lost socket. */
const pageErrors: string[] = [];
let expectSocketErrors = false;

const count = async (id: string) => Number((await page.locator(`#${id}`).textContent())!.replace(/,/g, ''));

describe('the progress panel in a browser (baton ui)', () => {
  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'baton-panel-'));
    mkdirSync(SHOTS, { recursive: true });
    // Four chains of slow pages, one at a time to begin with.
    steady = baton(['run', fixture('sleeps.ts'), '--args', '{"ms":150,"chains":4,"pages":2000}', '--parallel', '1', '--job', 'steady'], dir);
    await waitFor(() => /steady running/.test(steady.stdout()), 20_000, 'the job to start');
    port = await freePort();
    ({ ui, url } = await startUi(port));
    browser = await launchChromium();
    page = await browser.newPage({ viewport: { width: 1280, height: 900 }, colorScheme: 'light' });
    page.on('console', (message) => {
      if (message.type() === 'error') pageErrors.push(message.text());
    });
    page.on('pageerror', (error) => pageErrors.push(`${error.name}: ${error.message}`));
    await page.goto(url);
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

  it('shows the running job live: progress advances and attempts appear on the timeline', async () => {
    await expect.poll(() => page.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('steady');
    await expect.poll(() => page.locator('#job-state').textContent()).toBe('running');
    // Its tag says which process runs it: the `baton run` above.
    expect(await page.locator('#job-state').getAttribute('title')).toBe(`process ${steady.child.pid} on ${hostname()} runs this job now`);
    const before = await count('count-succeeded');
    await expect.poll(() => count('count-succeeded'), { timeout: 20_000 }).toBeGreaterThan(before + 2);
    await expect.poll(async () => Number(await page.locator('#timeline-canvas').getAttribute('data-bars')), { timeout: 20_000 }).toBeGreaterThan(3);
    expect(await page.locator('#stat-items').textContent()).toMatch(/^\d/);
  });

  it('tells about an attempt when the pointer rests on its bar', async () => {
    const canvas = page.locator('#timeline-canvas');
    const box = (await canvas.boundingBox())!;
    // Lane 0, near the present: the running page or the last ones that ended.
    await waitFor(async () => {
      for (const dx of [3, 8, 15, 25, 40]) {
        await page.mouse.move(box.x + box.width - dx, box.y + 12);
        if (await page.locator('#timeline-tooltip').isVisible()) return true;
      }
      return false;
    }, 20_000, 'a tooltip over a bar');
    expect(await page.locator('#timeline-tooltip').textContent()).toMatch(/^page \d+, attempt 1 \(slot 0\)\n(running|succeeded)/);
    // The chart's own hover box, over its latest points.
    const chart = (await page.locator('#throughput-canvas').boundingBox())!;
    await page.mouse.move(chart.x + chart.width - 80, chart.y + chart.height / 2);
    await page.mouse.move(box.x + box.width / 2, box.y + box.height + 40);
  });

  it('raises the pages in flight when max parallel is raised', async () => {
    expect(await count('count-running')).toBeLessThanOrEqual(1);
    await page.locator('#max-parallel input').fill('4');
    await page.locator('#apply-limits').click();
    await expect.poll(() => page.locator('#control-message').textContent(), { timeout: 20_000 }).toBe('Limits set: max parallel 4, no rate limit.');
    await expect.poll(() => count('count-running'), { timeout: 20_000 }).toBeGreaterThan(1);
    expect(await page.locator('#max-parallel input').inputValue()).toBe('4');
  });

  it('leaves a limit far above what runs above the chart, rather than flattening the lines under it', async () => {
    // A pages/s limit, not max parallel: the job's chains run ahead of their sleeps, so more
    // slots would finish it at once.
    const canvas = page.locator('#throughput-canvas');
    expect(await canvas.getAttribute('data-pages-top')).toBeNull();
    await page.locator('#rate-pages input').fill('100000');
    await page.locator('#apply-limits').click();
    await expect.poll(() => page.locator('#control-message').textContent(), { timeout: 20_000 }).toMatch(/^Limits set: max parallel 4, .*100,?000 pages\/s\.$/);
    // Four pages of 150 ms at a time: some 27 pages/s, and 4 in flight.
    await expect.poll(async () => Number(await canvas.getAttribute('data-pages-top')), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(Number(await canvas.getAttribute('data-pages-top'))).toBeLessThan(1_000);
    await page.locator('#rate-pages input').fill('');
    await page.locator('#apply-limits').click();
    await expect.poll(() => page.locator('#control-message').textContent(), { timeout: 20_000 }).toBe('Limits set: max parallel 4, no rate limit.');
  });

  it('keeps screenshots in the light and the dark theme', async () => {
    await page.waitForTimeout(1_500);
    await page.screenshot({ path: join(SHOTS, 'panel-light.png') });
    await page.locator('#theme-toggle').click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.className)).toContain('vscode-dark');
    await page.waitForTimeout(300);
    await page.screenshot({ path: join(SHOTS, 'panel-dark.png') });
    await page.locator('#theme-toggle').click();
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.className)).toContain('vscode-light');
    if (process.env.BATON_UPDATE_SCREENSHOTS === '1') {
      for (const name of ['panel-light.png', 'panel-dark.png']) copyFileSync(join(SHOTS, name), join(root, 'docs', 'images', name));
    }
  });

  it('stops starting pages on Pause, and starts them again on Resume', async () => {
    await page.locator('#pause-resume').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('paused');
    await expect.poll(() => count('count-running'), { timeout: 20_000 }).toBe(0);
    expect(await page.locator('#pause-resume').textContent()).toBe('Resume');
    // Paused, it has no pace to show.
    await expect.poll(() => page.locator('#stat-items-rate').textContent(), { timeout: 20_000 }).toBe('–');
    expect(await page.locator('#stat-pages-rate').textContent()).toBe('–');
    expect(await page.locator('#stat-eta').textContent()).toBe('–');
    const bars = await page.locator('#timeline-canvas').getAttribute('data-bars');
    const succeeded = await count('count-succeeded');
    // Several activities later, still nothing new has started.
    await sleep(1_500);
    expect(await page.locator('#timeline-canvas').getAttribute('data-bars')).toBe(bars);
    expect(await count('count-succeeded')).toBe(succeeded);
    expect(await count('count-running')).toBe(0);

    await page.locator('#pause-resume').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('running');
    await expect.poll(() => count('count-succeeded'), { timeout: 20_000 }).toBeGreaterThan(succeeded);
  });

  it('lists a failing page with its error, opens its stack, and retries it', async () => {
    const marker = join(dir, 'broken.marker');
    writeFileSync(marker, 'x');
    const broken = baton(['run', fixture('cli-fails-until-fixed.ts'), '--args', JSON.stringify({ marker }), '--job', 'broken'], dir);
    expect(await broken.exited).toBe(1);

    await expect.poll(() => page.locator('#job-picker-label').isVisible(), { timeout: 20_000 }).toBe(true);
    await expect.poll(() => page.locator('vscode-option[value="broken"]').textContent(), { timeout: 20_000 }).toContain('failed');
    await page.locator('#job-picker').click();
    await page.locator('vscode-option[value="broken"]').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('failed');
    await page.locator('#tab-failures').click();
    const row = page.locator('#failures-grid vscode-data-grid-row[data-page]');
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    expect(await row.textContent()).toContain(`Error: page 1 is broken while ${marker} exists`);
    expect(await page.locator('#failures-badge').textContent()).toBe('1');

    // In a narrow editor the table keeps the page, its error and Retry, all on screen.
    await page.setViewportSize({ width: 600, height: 900 });
    await expect.poll(() => page.locator('#failures-grid vscode-data-grid-cell[cell-type="columnheader"]').allTextContents(), { timeout: 10_000 }).toEqual(['Page', 'Error', 'Attempts', '']);
    const retryBox = (await row.locator('vscode-button[data-action="retry"]').boundingBox())!;
    expect(retryBox.x + retryBox.width).toBeLessThanOrEqual(600);
    await page.screenshot({ path: join(SHOTS, 'panel-failures-narrow.png') });
    await page.setViewportSize({ width: 1280, height: 900 });
    await expect.poll(() => page.locator('#failures-grid vscode-data-grid-cell[cell-type="columnheader"]').count(), { timeout: 10_000 }).toBe(7);
    await row.locator('vscode-data-grid-cell[data-column="error"]').click();
    await expect.poll(() => page.locator('#page-detail .stack').first().textContent(), { timeout: 20_000 }).toContain('page 1 is broken');
    expect(await page.locator('#page-detail h3').count()).toBe(2);

    // State survives a reload: same job, same tab.
    await page.reload();
    await expect.poll(() => page.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('broken');
    expect(await page.locator('#tabs').getAttribute('activeid')).toBe('tab-page');

    unlinkSync(marker);
    await page.locator('#tab-failures').click();
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);
    await row.locator('vscode-button[data-action="retry"]').click();
    // The host's answer first: a refusal says why here, where a wait for the state could not.
    await expect.poll(() => page.locator('#control-message').textContent(), { timeout: 30_000 }).toMatch(/^Page \d+ runs again\.$/);
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 30_000 }).toBe('succeeded');
    await expect.poll(() => page.locator('#failures-badge').textContent(), { timeout: 20_000 }).toBe('0');
    expect(await page.locator('#failures-empty').isVisible()).toBe(true);
  });

  it('shows a job whose process was killed as stopped: its running pages interrupted, no rates, counts as the database holds them', async () => {
    const killed = baton(['run', fixture('sleeps.ts'), '--args', '{"ms":1500,"chains":3,"pages":100}', '--parallel', '3', '--job', 'killed'], dir);
    await waitFor(() => /killed running/.test(killed.stdout()), 20_000, 'the job to start');
    await expect.poll(() => page.locator('vscode-option[value="killed"]').textContent(), { timeout: 20_000 }).toContain('running');
    await sleep(2_000);
    killed.child.kill('SIGKILL');
    await killed.exited;

    await page.locator('#job-picker').click();
    await page.locator('vscode-option[value="killed"]').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('stopped');
    await expect.poll(() => page.locator('vscode-option[value="killed"]').textContent(), { timeout: 20_000 }).toBe('killed (sleeps, stopped)');
    const status = JSON.parse(execFileSync(process.execPath, [cliPath, 'status', 'killed', '--json'], { cwd: dir, encoding: 'utf8' })) as { pages: Record<string, number>; startedAt: string; lastRunAt?: string };
    // Its last heartbeat, at most 2 s before the kill.
    expect(Date.parse(status.lastRunAt!)).toBeGreaterThan(Date.parse(status.startedAt));
    await expect.poll(() => count('count-running'), { timeout: 20_000 }).toBe(status.pages.running);
    expect(await page.locator('#label-running').textContent()).toBe('interrupted');
    for (const state of ['queued', 'succeeded', 'failed', 'total']) expect(await count(`count-${state}`), state).toBe(status.pages[state]);
    expect((await count('count-queued')) + (await count('count-running')) + (await count('count-succeeded')) + (await count('count-failed'))).toBe(await count('count-total'));
    expect(await page.locator('#stat-items-rate').textContent()).toBe('–');
    expect(await page.locator('#stat-pages-rate').textContent()).toBe('–');
    expect(await page.locator('#stat-eta').textContent()).toBe('–');
    // Reloaded, the panel never saw it run: its chart spans the last minute, not the few ms
    // between the points it got since.
    // Its elapsed time stopped when it last ran: the same on a reload, seconds later.
    const elapsed = await page.locator('#stat-elapsed').textContent();
    expect(elapsed).toMatch(/^\d/);
    await sleep(1_500);
    await page.reload();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('stopped');
    expect(await page.locator('#stat-elapsed').textContent()).toBe(elapsed);
    await sleep(1_000);
    expect(Number(await page.locator('#throughput-canvas').getAttribute('data-span'))).toBeGreaterThanOrEqual(60_000);
  });

  it('refuses every request and the WebSocket without the token', async () => {
    const origin = `http://127.0.0.1:${port}`;
    const token = new URL(url).searchParams.get('token')!;
    expect((await fetch(`${origin}/`)).status).toBe(401);
    expect((await fetch(`${origin}/?token=nope`)).status).toBe(401);
    expect((await fetch(`${origin}/panel.js`)).status).toBe(401);
    const ok = await fetch(url);
    expect(ok.status).toBe(200);
    expect(ok.headers.get('content-security-policy')).toMatch(/^default-src 'none'; script-src 'nonce-[^']+'; /);
    expect((await fetch(`${origin}/panel.js?token=${token}`)).status).toBe(200);
    const refused = await new Promise<string>((resolve) => {
      const socket = new WebSocket(`ws://127.0.0.1:${port}/ws?token=nope`);
      socket.on('error', (error) => resolve(error.message));
      socket.on('open', () => resolve('opened'));
    });
    expect(refused).toMatch(/401/);
  });

  it('cancels the job only after the user confirms', async () => {
    await page.locator('#job-picker').click();
    await page.locator('vscode-option[value="steady"]').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('running');
    await page.locator('#cancel').click();
    await expect.poll(() => page.locator('#cancel-confirm').isVisible()).toBe(true);
    await page.locator('#cancel-no').click();
    expect(await page.locator('#cancel-confirm').isVisible()).toBe(false);
    expect(await page.locator('#job-state').textContent()).toBe('running');

    await page.locator('#cancel').click();
    await page.locator('#cancel-yes').click();
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('cancelled');
    expect(await steady.exited).toBe(1);
    // Ended: nothing runs, no rate or ETA is left on screen, and what never ran says so.
    await expect.poll(() => page.locator('#stat-items-rate').textContent(), { timeout: 20_000 }).toBe('–');
    expect(await page.locator('#stat-pages-rate').textContent()).toBe('–');
    expect(await page.locator('#stat-eta').textContent()).toBe('–');
    expect(await page.locator('#label-queued').textContent()).toBe('not run');
    expect(await count('count-running')).toBe(0);
    expect((await count('count-queued')) + (await count('count-succeeded')) + (await count('count-failed'))).toBe(await count('count-total'));
  });

  it('shows that it is reconnecting while baton ui is down, and carries on when it is back', async () => {
    expectSocketErrors = true;
    ui.child.kill('SIGINT');
    expect(await ui.exited).toBe(0);
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.dataset.connection), { timeout: 20_000 }).toBe('reconnecting');
    expect(await page.locator('#connection').isVisible()).toBe(true);
    expect(await page.locator('#connection-text').textContent()).toMatch(/trying again/);

    ({ ui } = await startUi(port));
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.dataset.connection), { timeout: 20_000 }).toBe('connected');
    expect(await page.locator('#connection').isVisible()).toBe(false);
    expect(await page.locator('#job-id').textContent()).toBe('steady');
    await expect.poll(() => page.locator('#job-state').textContent(), { timeout: 20_000 }).toBe('cancelled');
  });

  it('says to open the new address when baton ui comes back with another token, instead of retrying for ever', async () => {
    expectSocketErrors = true;
    ui.child.kill('SIGINT');
    expect(await ui.exited).toBe(0);
    rmSync(join(dir, '.baton', 'ui-token'));
    let fresh: string;
    ({ ui, url: fresh } = await startUi(port));
    expect(fresh).not.toBe(url);
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.dataset.connection), { timeout: 20_000 }).toBe('refused');
    expect(await page.locator('#connection').isVisible()).toBe(true);
    expect(await page.locator('#connection-text').textContent()).toBe(
      `baton ui at 127.0.0.1:${port} no longer takes this page's token (it was restarted with a new one, or serves another database): open the address it printed`,
    );
    // It stays so: no retry loop behind the message.
    await sleep(3_000);
    expect(await page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.dataset.connection)).toBe('refused');
    // The new address works.
    await page.goto(fresh);
    await expect.poll(() => page.evaluate(() => (globalThis as unknown as PageGlobals).document.body.dataset.connection), { timeout: 20_000 }).toBe('connected');
  });
});
