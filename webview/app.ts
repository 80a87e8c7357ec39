/**
 * The panel's entry point: builds the layout, picks the transport for its host, and routes the
 * host's messages to the parts (header, controls, chart, timeline, failures, page). Every tick
 * (a job's activity, about four a second) updates each part with what changed only.
 */
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDropdown,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeTag,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';
import { html } from '@microsoft/fast-element';
import type { AttemptInfo, JobActivity, JobSummary, LogLine, PanelMessage, PanelRequest } from '../runner/protocol.js';
import { Controls } from './controls.js';
import { byId, setText } from './dom.js';
import { FailuresTable } from './failures.js';
import { Header } from './header.js';
import { LAYOUT } from './layout.js';
import { PageDetail } from './page-detail.js';
import { applyBrowserTheme, onThemeChange, preferredBrowserTheme, readColours, type BrowserTheme } from './theme.js';
import { ThroughputChart, type ChartWindow } from './throughput-chart.js';
import { ThroughputSeries } from './throughput-series.js';
import { DEFAULT_VIEW, Timeline, type TimelineView } from './timeline.js';
import type { Bar } from './timeline-model.js';
import { createTransport, type ConnectionState } from './transport.js';

/**
 * The toolkit's badge and tag share a template that binds a style attribute, which a strict CSP
 * (no inline styles) refuses; the panel's badges and tags need no inline style, so they get the
 * same markup without it.
 */
const badgeTemplate = () => html`<template class="circular"><div class="control" part="control"><slot></slot></div></template>`;
const tagTemplate = () => html`<template><div class="control" part="control"><slot></slot></div></template>`;

provideVSCodeDesignSystem().register(
  vsCodeBadge({ template: badgeTemplate }),
  vsCodeButton(),
  vsCodeDataGrid(),
  vsCodeDataGridCell(),
  vsCodeDataGridRow(),
  vsCodeDropdown(),
  vsCodeOption(),
  vsCodePanels(),
  vsCodePanelTab(),
  vsCodePanelView(),
  vsCodeProgressRing(),
  vsCodeTag({ template: tagTemplate }),
  vsCodeTextField(),
);

/** What the panel keeps while hidden (VS Code) or across reloads of the tab (browser). */
interface SavedState {
  jobId: string | null;
  tab: string;
  view: TimelineView;
  chartWindow: ChartWindow;
  theme?: BrowserTheme;
}

const HISTORY_BATCH = 5_000;
const CHART_WINDOWS: ChartWindow[] = [60_000, 300_000, 1_800_000, 0];

class PanelApp {
  private readonly transport = createTransport();
  private readonly saved: SavedState;
  private selected: string | null;
  /** After 'ready', the first history names the job the host chose. */
  private adoptNext = false;
  private jobs: JobSummary[] = [];
  private activitySeen = false;
  private lastSeq = -1;
  private saveTimer: number | undefined;
  /** An openPage is out; the page view asks again only once it is answered. */
  private pageRequested = false;
  /** The page view's attempts as the timeline held them when it was drawn. */
  private shownPageKey = '';
  private readonly header: Header;
  private readonly controls: Controls;
  private readonly timeline: Timeline;
  private readonly series = new ThroughputSeries();
  private readonly chart: ThroughputChart;
  private readonly failures: FailuresTable;
  private readonly pageDetail: PageDetail;
  private readonly tabs: HTMLElement & { activeid: string };

  constructor() {
    const loaded = this.transport.loadState<Partial<SavedState>>() ?? {};
    this.saved = {
      jobId: typeof loaded.jobId === 'string' ? loaded.jobId : null,
      tab: typeof loaded.tab === 'string' ? loaded.tab : 'tab-activity',
      view: { ...DEFAULT_VIEW, ...(loaded.view ?? {}) },
      chartWindow: CHART_WINDOWS.includes(loaded.chartWindow as ChartWindow) ? (loaded.chartWindow as ChartWindow) : 300_000,
      ...(loaded.theme === 'light' || loaded.theme === 'dark' ? { theme: loaded.theme } : {}),
    };
    this.selected = this.saved.jobId;

    if (this.transport.host === 'browser') applyBrowserTheme(this.saved.theme ?? preferredBrowserTheme());
    const root = byId('app');
    root.innerHTML = LAYOUT;
    root.removeAttribute('aria-busy');
    document.body.dataset.connection = 'connecting';

    const colours = readColours();
    this.header = new Header((jobId) => this.select(jobId));
    this.controls = new Controls((request) => this.send(request));
    this.timeline = new Timeline(byId<HTMLCanvasElement>('timeline-canvas'), byId('timeline-tooltip'), colours, this.saved.view, {
      loadHistory: (before) => this.selected !== null && this.send({ type: 'loadHistory', jobId: this.selected, before, limit: HISTORY_BATCH }),
      openPage: (page) => this.openPage(page),
      viewChanged: (view) => {
        this.saved.view = view;
        this.saveSoon();
        byId('timeline-live').setAttribute('appearance', view.follow ? 'primary' : 'secondary');
      },
    });
    byId('timeline-live').setAttribute('appearance', this.saved.view.follow ? 'primary' : 'secondary');
    this.chart = new ThroughputChart(byId<HTMLCanvasElement>('throughput-canvas'), this.series, colours, this.saved.chartWindow, () => this.timeline.now());
    this.failures = new FailuresTable(
      (page) => this.openPage(page),
      (page) => this.controls.retryPage(page),
    );
    this.pageDetail = new PageDetail((page) => this.controls.retryPage(page));
    this.tabs = byId('tabs') as HTMLElement & { activeid: string };
    this.bindViews();

    onThemeChange(() => {
      const next = readColours();
      this.timeline.setColours(next);
      this.chart.setColours(next);
    });

    window.addEventListener('pagehide', () => this.save());
    this.transport.onMessage((message) => this.onMessage(message));
    this.transport.onConnection((state, detail) => this.onConnection(state, detail));
    this.transport.start();
  }

  private bindViews(): void {
    const tabs = this.tabs;
    tabs.activeid = this.saved.tab;
    this.failures.setVisible(this.saved.tab === 'tab-failures');
    tabs.addEventListener('change', (event) => {
      // Dropdowns inside the views send 'change' too.
      if (event.target !== tabs) return;
      this.tabShown(tabs.activeid);
    });
    byId('timeline-live').addEventListener('click', () => this.timeline.goLive());
    byId('timeline-fit').addEventListener('click', () => this.timeline.fit());
    byId('timeline-zoom-in').addEventListener('click', () => this.timeline.zoom(1 / 1.5));
    byId('timeline-zoom-out').addEventListener('click', () => this.timeline.zoom(1.5));
    const windowPicker = byId('chart-window') as HTMLElement & { value: string };
    windowPicker.value = String(this.saved.chartWindow);
    windowPicker.addEventListener('change', () => {
      const value = Number(windowPicker.value) as ChartWindow;
      if (!CHART_WINDOWS.includes(value)) return;
      this.saved.chartWindow = value;
      this.chart.setWindow(value);
      this.save();
    });
    const toggle = byId('theme-toggle');
    if (this.transport.host === 'browser') {
      toggle.hidden = false;
      const label = () => setText(toggle, document.body.classList.contains('vscode-dark') ? 'Light theme' : 'Dark theme');
      label();
      toggle.addEventListener('click', () => {
        const next: BrowserTheme = document.body.classList.contains('vscode-dark') ? 'light' : 'dark';
        applyBrowserTheme(next);
        this.saved.theme = next;
        label();
        this.save();
      });
    }
  }

  private showTab(id: string): void {
    this.tabs.activeid = id;
    this.tabShown(id);
  }

  private tabShown(id: string): void {
    this.saved.tab = id;
    this.failures.setVisible(id === 'tab-failures');
    this.save();
  }

  private send(request: PanelRequest): boolean {
    return this.transport.send(request);
  }

  /** Keeps the state now: a hidden webview or a reloaded tab may go at any moment. */
  private save(): void {
    window.clearTimeout(this.saveTimer);
    this.saveTimer = undefined;
    this.transport.saveState(this.saved);
  }

  /** For changes that come many a second (dragging the timeline). */
  private saveSoon(): void {
    this.saveTimer ??= window.setTimeout(() => this.save(), 250);
  }

  private onConnection(state: ConnectionState, detail?: string): void {
    document.body.dataset.connection = state;
    const banner = byId('connection');
    banner.hidden = state === 'connected';
    setText(byId('connection-text'), state === 'connecting' ? 'Connecting…' : (detail ?? 'Reconnecting…'));
    this.controls.setConnected(state === 'connected');
    // A new link (first, or after the host or runner restarted) starts a new session.
    if (state === 'connected') {
      this.adoptNext = true;
      // An openPage sent on the old link has no answer to come; the next activity asks again.
      this.pageRequested = false;
      this.shownPageKey = '';
      this.send({ type: 'ready', jobId: this.selected });
    }
  }

  private onMessage(message: PanelMessage): void {
    switch (message.type) {
      case 'jobs':
        this.jobs = message.jobs;
        this.header.setJobs(message.jobs, this.selected);
        if (!this.activitySeen) {
          const job = message.jobs.find((candidate) => candidate.jobId === this.selected);
          if (job) this.showSummary(job);
        }
        return;
      case 'history': {
        if (this.adoptNext) {
          this.adoptNext = false;
          if (message.jobId !== this.selected) this.switchTo(message.jobId);
        }
        if (message.jobId !== this.selected) return;
        const model = this.timeline.model;
        const before = model.size;
        const awaited = this.timeline.awaitingHistory;
        model.addHistory(message.attempts, message.complete);
        if (awaited) this.timeline.historyLoaded(model.size - before);
        this.timeline.changed();
        this.markTimeline();
        return;
      }
      case 'activity':
        if (message.activity.jobId === this.selected) this.onActivity(message.activity);
        return;
      case 'failures':
        if (message.jobId === this.selected) this.failures.set(message.failures);
        return;
      case 'pageDetail':
        if (message.jobId !== this.selected) return;
        this.pageRequested = false;
        this.showPage(message.page, message.attempts, message.logs);
        return;
      case 'result':
        this.controls.onResult(message);
        return;
      case 'problem': {
        // Until it clears, what the panel shows may be stale: say why.
        const problem = byId('host-problem');
        problem.hidden = message.message === null;
        setText(problem, message.message === null ? '' : `Cannot read the database: ${message.message}`);
        return;
      }
      case 'connection':
        // The VS Code transport reports these through onConnection.
        return;
    }
  }

  private onActivity(activity: JobActivity): void {
    // An older or repeated activity of a job still running says nothing new.
    if (activity.seq < this.lastSeq || (activity.seq === this.lastSeq && activity.snapshot.live)) return;
    this.lastSeq = activity.seq;
    const receivedAt = Date.now();
    this.activitySeen = true;
    this.timeline.clock.noteActivity(activity);
    const now = this.timeline.now();
    this.showSummary(activity.snapshot);
    this.series.push(now, activity.snapshot);
    this.chart.update();
    byId('chart-empty').hidden = activity.snapshot.live || this.series.length > 2;
    const ended = this.timeline.model.applyActivity(activity, now);
    this.timeline.trackEnded(ended, receivedAt);
    this.timeline.changed();
    this.markTimeline();
    this.refreshPage();
  }

  /**
   * The page view with what the database records of the page and, until it records them (a
   * page's attempt is written when it ends), the attempts the timeline knows of.
   */
  private showPage(page: number, recorded: AttemptInfo[], logs: LogLine[]): void {
    const unrecorded = this.timeline.model
      .barsOf(page)
      .filter((bar) => bar.outcome !== 'unknown' && !recorded.some((attempt) => attempt.attempt === bar.attempt))
      .map(attemptOf);
    this.pageDetail.show(page, [...recorded, ...unrecorded], logs, this.failures.find(page));
    this.shownPageKey = this.pageKey(page);
  }

  /** The page view follows its page: once one of its attempts starts or ends, it is read again. */
  private refreshPage(): void {
    const page = this.pageDetail.page;
    if (page === null || this.selected === null || this.pageRequested) return;
    if (this.pageKey(page) === this.shownPageKey) return;
    this.pageRequested = this.send({ type: 'openPage', jobId: this.selected, page });
  }

  private pageKey(page: number): string {
    return this.timeline.model
      .barsOf(page)
      .map((bar) => `${bar.attempt}:${bar.end}`)
      .join(',');
  }

  private showSummary(job: JobSummary): void {
    this.header.update(job, this.timeline.now());
    this.controls.update(job);
  }

  /** Counts on the timeline's canvas, for tests and for assistive tools that read attributes. */
  private markTimeline(): void {
    const canvas = byId('timeline-canvas');
    canvas.dataset.bars = String(this.timeline.model.size);
    canvas.dataset.running = String(this.timeline.model.running.size);
  }

  private select(jobId: string): void {
    if (jobId === this.selected) return;
    this.adoptNext = false;
    this.switchTo(jobId);
    this.send({ type: 'select', jobId });
  }

  private switchTo(jobId: string): void {
    this.selected = jobId;
    this.activitySeen = false;
    this.lastSeq = -1;
    this.timeline.clear();
    this.chart.reset();
    this.failures.clear();
    this.pageDetail.clear();
    this.pageRequested = false;
    this.controls.reset();
    this.header.select(jobId);
    this.header.setJobs(this.jobs, jobId);
    const job = this.jobs.find((candidate) => candidate.jobId === jobId);
    if (job) this.showSummary(job);
    this.saved.jobId = jobId;
    this.save();
  }

  private openPage(page: number): void {
    if (this.selected === null) return;
    this.pageDetail.loading(page);
    this.showTab('tab-page');
    this.pageRequested = this.send({ type: 'openPage', jobId: this.selected, page });
  }
}

/** An attempt the timeline holds, as the page view shows attempts. */
function attemptOf(bar: Bar): AttemptInfo {
  const outcome = bar.outcome === 'unknown' ? 'interrupted' : bar.outcome;
  return { page: bar.page, attempt: bar.attempt, slot: bar.slot, outcome, cursor: bar.cursor, startedAt: bar.start, endedAt: bar.end, items: bar.items, error: bar.error, runsAgain: bar.runsAgain };
}

new PanelApp();
