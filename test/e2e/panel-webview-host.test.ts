// The panel bundle as a VS Code webview runs it: the page from renderPanelHtml (host 'vscode'),
// acquireVsCodeApi() for messages and state, and a PanelSession behind it as the extension and
// the runner server would relay it. Chromium stands in for the webview.
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { Baton, type PanelMessage } from '../../runner/index.js';
import { PanelSession } from '../../runner/panel/panel-session.js';
import { renderPanelHtml } from '../../webview/panel-html.js';
import { fixture, root, tempDir } from '../helpers.js';
import { launchChromium } from './chromium.js';
import { damageTable } from './damage-table.js';

/** What the tests touch in the page, typed here: this suite is checked without the DOM library. */
interface PageGlobals {
  document: {
    body: { className: string; dataset: Record<string, string | undefined> };
    querySelector(selector: string): { dataset: Record<string, string | undefined> } | null;
  };
  postMessage(message: unknown, targetOrigin: string): void;
}


const ORIGIN = 'https://webview.test';
const ASSETS = join(root, 'dist', 'webview');

let browser: Browser;
let baton: Baton | undefined;
let page: Page | undefined;
let session: PanelSession | undefined;

/** Opens the panel in a fresh page whose acquireVsCodeApi relays to a new PanelSession. */
async function openWebview(b: Baton, requests: unknown[], savedState: { value: unknown }): Promise<Page> {
  const p = await browser.newPage({ viewport: { width: 1200, height: 800 } });
  const errors: string[] = [];
  p.on('pageerror', (error) => errors.push(error.message));
  p.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  (p as Page & { errors?: string[] }).errors = errors;
  await p.route(`${ORIGIN}/**`, async (route) => {
    const path = new URL(route.request().url()).pathname;
    if (path === '/') {
      const html = renderPanelHtml({ scriptUri: `${ORIGIN}/panel.js`, styleUri: `${ORIGIN}/panel.css`, nonce: randomBytes(16).toString('base64'), cspSource: ORIGIN, host: 'vscode' });
      return route.fulfill({ status: 200, contentType: 'text/html', body: html });
    }
    const file = join(ASSETS, path.slice(1));
    if (!['/panel.js', '/panel.css'].includes(path) || !existsSync(file)) return route.fulfill({ status: 404, body: '' });
    return route.fulfill({ status: 200, contentType: path.endsWith('.js') ? 'text/javascript' : 'text/css', body: readFileSync(file) });
  });
  // Messages to the webview go in order, as VS Code's postMessage delivers them.
  let delivery = Promise.resolve();
  const toWebview = (message: PanelMessage) => {
    delivery = delivery.then(() => p.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message).then(() => undefined, () => undefined));
  };
  session = new PanelSession(b, toWebview, 'vscode');
  // Whatever session is current: the test swaps it as a restarted runner would.
  await p.exposeFunction('batonToHost', (request: unknown) => {
    requests.push(request);
    void session?.handle(request);
  });
  await p.exposeFunction('batonSetState', (state: unknown) => (savedState.value = state));
  await p.addInitScript((state) => {
    const api = {
      postMessage: (message: unknown) => (globalThis as unknown as { batonToHost(m: unknown): void }).batonToHost(message),
      getState: () => state,
      setState: (next: unknown) => {
        state = next;
        (globalThis as unknown as { batonSetState(s: unknown): void }).batonSetState(next);
      },
    };
    (globalThis as unknown as { acquireVsCodeApi(): unknown }).acquireVsCodeApi = () => api;
  }, savedState.value);
  await p.goto(`${ORIGIN}/`);
  return p;
}

describe('the panel in a VS Code-like webview', () => {
  beforeAll(async () => {
    browser = await launchChromium();
  });

  afterEach(async () => {
    const errors = (page as (Page & { errors?: string[] }) | undefined)?.errors ?? [];
    await page?.close();
    page = undefined;
    session?.dispose();
    session = undefined;
    await baton?.close({ stop: 'now' });
    baton = undefined;
    expect(errors).toEqual([]);
  });

  afterAll(async () => {
    await browser?.close();
  });

  it('talks through acquireVsCodeApi, keeps its state with setState, and asks again after the host reconnects', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    await baton.start({ processor: fixture('sleeps.ts'), args: { ms: 100, chains: 2, pages: 200 }, maxParallel: 2, jobId: 'in-vscode' });
    const requests: unknown[] = [];
    const state: { value: unknown } = { value: undefined };
    page = await openWebview(baton, requests, state);

    await expect.poll(() => page!.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('in-vscode');
    expect(requests[0]).toEqual({ type: 'ready', jobId: null });
    expect(await page.locator('#theme-toggle').isVisible()).toBe(false);
    await expect.poll(() => (state.value as { jobId?: string } | undefined)?.jobId, { timeout: 5_000 }).toBe('in-vscode');

    // The extension lost the runner, then got a new one.
    session!.dispose();
    await page.evaluate(() => (globalThis as unknown as PageGlobals).postMessage({ type: 'connection', state: 'reconnecting', message: 'the Baton runner stopped; restarting it' }, '*'));
    await expect.poll(() => page!.locator('#connection-text').textContent()).toBe('the Baton runner stopped; restarting it');
    // Controls wait for the link: the toolkit reflects `disabled` to the attribute a moment later.
    await expect.poll(() => page!.locator('#pause-resume').getAttribute('disabled')).not.toBeNull();
    const readies = () => requests.filter((request) => (request as { type: string }).type === 'ready');
    const before = readies().length;
    session = new PanelSession(baton, (message) => void page!.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message).catch(() => {}), 'vscode');
    await page.evaluate(() => (globalThis as unknown as PageGlobals).postMessage({ type: 'connection', state: 'connected' }, '*'));
    await expect.poll(() => readies().length).toBe(before + 1);
    expect(readies().at(-1)).toEqual({ type: 'ready', jobId: 'in-vscode' });
    expect(await page.locator('#connection').isVisible()).toBe(false);
    await expect.poll(async () => Number(await page!.locator('#timeline-canvas').getAttribute('data-bars')), { timeout: 20_000 }).toBeGreaterThan(0);
  });

  it('says why while the database cannot be read, and stops saying it once it can', async () => {
    const db = join(tempDir(), 'baton.db');
    baton = await Baton.open({ db });
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'shown' })).done;
    page = await openWebview(baton, [], { value: undefined });
    await expect.poll(() => page!.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('shown');
    expect(await page.locator('#host-problem').isVisible()).toBe(false);

    const damage = damageTable(db, 'job_live');
    const problem = page.locator('#host-problem');
    await expect.poll(() => problem.isVisible(), { timeout: 10_000 }).toBe(true);
    expect(await problem.textContent()).toMatch(/^Cannot read the database: .*baton\.db is not a usable SQLite database .*: move it aside or set baton\.database to another file/);
    // What it last read stays on screen.
    expect(await page.locator('#job-id').textContent()).toBe('shown');

    damage.restore();
    await expect.poll(() => problem.isVisible(), { timeout: 10_000 }).toBe(false);
  });

  it('comes back to the job and tab it showed when the webview is shown again', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'first' })).done;
    await (await baton.start({ processor: fixture('plain.js'), jobId: 'second' })).done;
    const state: { value: unknown } = { value: undefined };
    page = await openWebview(baton, [], state);
    await expect.poll(() => page!.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('second');
    await page.locator('#job-picker').click();
    await page.locator('vscode-option[value="first"]').click();
    await expect.poll(() => page!.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('first');
    await page.locator('#tab-failures').click();
    await expect.poll(() => (state.value as { tab?: string }).tab).toBe('tab-failures');

    // Hidden, the webview is destroyed; shown again, it starts from getState().
    await page.close();
    session?.dispose();
    const requests: unknown[] = [];
    page = await openWebview(baton, requests, state);
    await expect.poll(() => page!.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('first');
    expect(requests[0]).toEqual({ type: 'ready', jobId: 'first' });
    expect(await page.locator('#tabs').getAttribute('activeid')).toBe('tab-failures');
  });

  it('keeps the failures rows when the same list comes again, so a click on their Retry button is not lost', async () => {
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    await (await baton.start({ processor: fixture('always-fails.ts'), args: { failuresFile: join(tempDir(), 'failures.jsonl') }, jobId: 'broken' })).done;
    page = await openWebview(baton, [], { value: undefined });
    await expect.poll(() => page!.locator('#job-id').textContent(), { timeout: 20_000 }).toBe('broken');
    await page.locator('#tab-failures').click();
    const ROW = '#failures-grid vscode-data-grid-row[data-page]';
    const row = page.locator(ROW);
    await expect.poll(() => row.count(), { timeout: 20_000 }).toBe(1);

    // Mark the row's element, send the list again, then a message whose effect shows it was read.
    const mark = () => page!.evaluate((selector) => ((globalThis as unknown as PageGlobals).document.querySelector(selector)!.dataset.mark = 'drawn-once'), ROW);
    const marked = () => page!.evaluate((selector) => (globalThis as unknown as PageGlobals).document.querySelector(selector)?.dataset.mark ?? null, ROW);
    const send = async (message: unknown, sync: string) => {
      await page!.evaluate((m) => (globalThis as unknown as PageGlobals).postMessage(m, '*'), message);
      await page!.evaluate((text) => (globalThis as unknown as PageGlobals).postMessage({ type: 'connection', state: 'reconnecting', message: text }, '*'), sync);
      await expect.poll(() => page!.locator('#connection-text').textContent()).toBe(sync);
    };
    const { failures } = await baton.status('broken');
    await mark();
    await send({ type: 'failures', jobId: 'broken', failures }, 'the same list was read');
    expect(await marked()).toBe('drawn-once');

    // A list that differs is drawn anew.
    await send({ type: 'failures', jobId: 'broken', failures: failures.map((failure) => ({ ...failure, attempts: failure.attempts + 1 })) }, 'a new list was read');
    expect(await marked()).toBeNull();
    expect(await row.textContent()).toContain('4');
  });
});
