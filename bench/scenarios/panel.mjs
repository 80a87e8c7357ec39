// The progress panel under load, in Chromium: a job of 100,000 pages (most loaded as history,
// the rest ending live at 1,000 pages a second over 64 slots), fed through `baton ui`'s own
// server by a synthetic session. Measures frame times (intervals between animation frames while
// the timeline follows the present, then while it shows the whole job) and how long after a
// page ends its bar is drawn (including the runner's ~250 ms between activities).
// argv: pages eventsPerSecond seconds lanes. Prints one JSON line; skipped without Chromium.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { report } from '../lib/report.mjs';
import { syntheticSessions } from '../lib/panel-feed.mjs';

const CHROMIUM = '/usr/bin/chromium';
const [pages = 100_000, eventsPerSecond = 1_000, seconds = 20, lanes = 64] = process.argv.slice(2).map(Number);
const dist = join(import.meta.dirname, '..', '..', 'dist');

if (!existsSync(CHROMIUM)) {
  report({ scenario: 'panel', skipped: `${CHROMIUM} is missing: install it with .ci/install-chromium.sh` });
  process.exit(0);
}
if (!existsSync(join(dist, 'webview', 'panel.js')) || !existsSync(join(dist, 'runner', 'ui', 'ui-server.js'))) {
  report({ scenario: 'panel', skipped: 'the panel is not built: run npm run build' });
  process.exit(0);
}

const { UiServer } = await import(join(dist, 'runner', 'ui', 'ui-server.js'));
const { chromium } = await import('playwright-core');

const percentile = (values, p) => {
  if (values.length === 0) return null;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
};
const round = (n) => (n === null ? null : Math.round(n * 10) / 10);
const summary = (values) => ({ p50: round(percentile(values, 50)), p95: round(percentile(values, 95)), max: round(values.length ? Math.max(...values) : null), n: values.length });

const server = await UiServer.start({ port: 0, openSession: syntheticSessions({ pages, eventsPerSecond, seconds, lanes }) });
const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
});
try {
  const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
  const errors = [];
  page.on('pageerror', (error) => errors.push(error.message));
  page.on('console', (message) => message.type() === 'error' && errors.push(message.text()));
  await page.addInitScript(() => {
    window.__batonPanelStats = { barLatencyMs: [], renderLatencyMs: [], drawMs: [] };
    window.__frames = { on: false, last: 0, intervals: [] };
    const loop = (t) => {
      const f = window.__frames;
      if (f.on && f.last > 0) f.intervals.push(t - f.last);
      f.last = t;
      requestAnimationFrame(loop);
    };
    requestAnimationFrame(loop);
  });
  const loadStarted = Date.now();
  await page.goto(server.url);
  const historyPages = pages - Math.min(pages, eventsPerSecond * seconds);
  await page.waitForFunction((n) => Number(document.getElementById('timeline-canvas')?.dataset.bars ?? 0) >= n, historyPages, { timeout: 120_000, polling: 50 });
  const historyLoadMs = Date.now() - loadStarted;
  await page.waitForTimeout(1_000);

  const phase = async (ms) => {
    await page.evaluate(() => {
      window.__frames.intervals = [];
      window.__frames.last = 0;
      window.__frames.on = true;
      const stats = window.__batonPanelStats;
      stats.barLatencyMs.length = 0;
      stats.renderLatencyMs.length = 0;
      stats.drawMs.length = 0;
    });
    await page.waitForTimeout(ms);
    return page.evaluate(() => {
      window.__frames.on = false;
      return { frames: window.__frames.intervals.slice(), ...structuredClone(window.__batonPanelStats) };
    });
  };

  // Following the present (a 30 s window: about 30,000 attempts in view).
  const live = await phase((seconds * 1000) / 2 - 1_000);
  // The whole job in view: every attempt held is under the window.
  await page.locator('#timeline-fit').click();
  const whole = await phase((seconds * 1000) / 2 - 1_000);
  const bars = Number(await page.locator('#timeline-canvas').getAttribute('data-bars'));
  const heapMB = await page.evaluate(() => (performance.memory ? performance.memory.usedJSHeapSize / 2 ** 20 : null));

  const frames = [...live.frames, ...whole.frames];
  const latency = [...live.barLatencyMs, ...whole.barLatencyMs];
  const render = [...live.renderLatencyMs, ...whole.renderLatencyMs];
  const f = summary(frames);
  const b = summary(latency);
  const r = summary(render);
  report({
    scenario: 'panel',
    pages,
    eventsPerSecond,
    seconds,
    lanes,
    barsHeld: bars,
    frames: f.n,
    frameMsP50: f.p50,
    frameMsP95: f.p95,
    frameMsMax: f.max,
    barLatencyMsP50: b.p50,
    barLatencyMsP95: b.p95,
    renderLatencyMsP50: r.p50,
    renderLatencyMsP95: r.p95,
    drawMsP50: summary([...live.drawMs, ...whole.drawMs]).p50,
    drawMsP95: summary([...live.drawMs, ...whole.drawMs]).p95,
    following: { frameMsP50: summary(live.frames).p50, frameMsP95: summary(live.frames).p95, frameMsMax: summary(live.frames).max, drawMsP95: summary(live.drawMs).p95, drawMsMax: summary(live.drawMs).max },
    wholeJob: { frameMsP50: summary(whole.frames).p50, frameMsP95: summary(whole.frames).p95, frameMsMax: summary(whole.frames).max, drawMsP95: summary(whole.drawMs).p95, drawMsMax: summary(whole.drawMs).max },
    historyLoadMs,
    heapMB: heapMB === null ? null : round(heapMB),
    pageErrors: errors.length,
    note: 'barLatency counts from the page ending (host clock) to the frame drawing it, including up to 250 ms until the next activity; renderLatency from the activity reaching the panel',
  });
} finally {
  await browser.close();
  await server.close();
}
