/**
 * The panel's static layout. A fixed template (no data in it: every value is set later as
 * text), built with the toolkit's components; the parts find their elements by id.
 */

export const LAYOUT = `
<header class="top">
  <div class="title-row">
    <h1 id="job-name" class="job-name">No job yet</h1>
    <vscode-tag id="job-state" class="job-state" data-state="none">–</vscode-tag>
    <span id="job-id" class="job-id"></span>
    <span class="spacer"></span>
    <label id="job-picker-label" class="job-picker-label" hidden>Job
      <vscode-dropdown id="job-picker" class="job-picker" aria-label="Job"></vscode-dropdown>
    </label>
    <vscode-button id="theme-toggle" appearance="secondary" hidden title="Switch between the light and dark theme">Dark theme</vscode-button>
  </div>
  <div id="connection" class="connection" role="status" hidden>
    <vscode-progress-ring class="connection-ring"></vscode-progress-ring>
    <span id="connection-text">Reconnecting…</span>
  </div>
  <p id="host-problem" class="job-error host-problem" role="alert" hidden></p>
  <div id="progress" class="progress" role="progressbar" aria-label="Progress" aria-valuemin="0" aria-valuemax="100">
    <div id="progress-fill" class="progress-fill"></div>
  </div>
  <dl class="stats">
    <div class="stat"><dt>Progress</dt><dd id="stat-percent">–</dd></div>
    <div class="stat"><dt>Items done</dt><dd id="stat-items">0</dd></div>
    <div class="stat"><dt>Items/s</dt><dd id="stat-items-rate">0</dd></div>
    <div class="stat"><dt>Pages/s</dt><dd id="stat-pages-rate">0</dd></div>
    <div class="stat"><dt>ETA</dt><dd id="stat-eta">–</dd></div>
    <div class="stat"><dt>Elapsed</dt><dd id="stat-elapsed">–</dd></div>
    <div class="stat pages-stat"><dt>Pages</dt><dd class="page-counts">
      <span class="count" data-state="queued"><span id="label-queued">queued</span> <vscode-badge id="count-queued">0</vscode-badge></span>
      <span class="count" data-state="running"><span id="label-running">running</span> <vscode-badge id="count-running">0</vscode-badge></span>
      <span class="count" data-state="succeeded">succeeded <vscode-badge id="count-succeeded">0</vscode-badge></span>
      <span class="count" data-state="failed">failed <vscode-badge id="count-failed">0</vscode-badge></span>
      <span class="count" data-state="total">of <span id="count-total">0</span></span>
    </dd></div>
  </dl>
  <p id="job-error" class="job-error" role="alert" hidden></p>
</header>

<section class="controls" aria-label="Controls">
  <vscode-button id="pause-resume" disabled>Pause</vscode-button>
  <div id="limits" class="limits" role="group" aria-label="Limits">
    <vscode-text-field id="max-parallel" size="5" inputmode="numeric" disabled>Max parallel</vscode-text-field>
    <vscode-text-field id="rate-items" size="7" inputmode="decimal" placeholder="none" disabled>Items/s limit</vscode-text-field>
    <vscode-text-field id="rate-pages" size="7" inputmode="decimal" placeholder="none" disabled>Pages/s limit</vscode-text-field>
    <vscode-button id="apply-limits" appearance="secondary" disabled>Apply limits</vscode-button>
  </div>
  <vscode-button id="retry-all" appearance="secondary" disabled>Retry failed</vscode-button>
  <vscode-button id="cancel" appearance="secondary" disabled>Cancel job…</vscode-button>
  <div id="cancel-confirm" class="confirm" role="alertdialog" aria-labelledby="cancel-question" hidden>
    <span id="cancel-question">Cancel this job for good? Running pages are aborted and queued pages never run.</span>
    <vscode-button id="cancel-yes">Cancel job</vscode-button>
    <vscode-button id="cancel-no" appearance="secondary">Keep it</vscode-button>
  </div>
  <p id="control-message" class="control-message" role="status" aria-live="polite"></p>
</section>

<vscode-panels id="tabs" class="tabs" activeid="tab-activity" aria-label="Views">
  <vscode-panel-tab id="tab-activity">ACTIVITY</vscode-panel-tab>
  <vscode-panel-tab id="tab-failures">FAILURES <vscode-badge id="failures-badge">0</vscode-badge></vscode-panel-tab>
  <vscode-panel-tab id="tab-page">PAGE</vscode-panel-tab>

  <vscode-panel-view id="view-activity" class="view">
    <section class="chart-section" aria-label="Throughput">
      <div class="section-bar">
        <h2>Throughput</h2>
        <span class="spacer"></span>
        <label class="inline-label">Show
          <vscode-dropdown id="chart-window" aria-label="Chart window">
            <vscode-option value="60000">last minute</vscode-option>
            <vscode-option value="300000">last 5 minutes</vscode-option>
            <vscode-option value="1800000">last 30 minutes</vscode-option>
            <vscode-option value="0">all</vscode-option>
          </vscode-dropdown>
        </label>
      </div>
      <p id="chart-empty" class="chart-empty muted">Throughput shows while the job runs, from when the panel opened it.</p>
      <div class="chart-box"><canvas id="throughput-canvas" aria-label="Items per second, pages per second and pages in flight over time, with the limits" role="img"></canvas></div>
    </section>
    <section class="timeline-section" aria-label="Page timeline">
      <div class="section-bar">
        <h2>Pages by slot</h2>
        <ul class="legend" aria-label="Colours">
          <li data-kind="running">running</li>
          <li data-kind="succeeded">succeeded</li>
          <li data-kind="retried">failed, retried</li>
          <li data-kind="failed">failed</li>
          <li data-kind="stuck">stuck</li>
          <li data-kind="other">interrupted</li>
        </ul>
        <span class="timeline-tools">
          <vscode-button id="timeline-zoom-out" appearance="icon" aria-label="Zoom out" title="Zoom out (-)">−</vscode-button>
          <vscode-button id="timeline-zoom-in" appearance="icon" aria-label="Zoom in" title="Zoom in (+)">+</vscode-button>
          <vscode-button id="timeline-fit" appearance="secondary" title="Show every attempt loaded">Fit</vscode-button>
          <vscode-button id="timeline-live" appearance="secondary" title="Follow the present (End)">Live</vscode-button>
        </span>
      </div>
      <div class="timeline-box">
        <canvas id="timeline-canvas" tabindex="0" aria-label="Page timeline: one lane per slot, one bar per attempt. Wheel zooms, drag or arrow keys pan, click a bar for its page." role="img"></canvas>
        <div id="timeline-tooltip" class="tooltip" hidden></div>
      </div>
    </section>
  </vscode-panel-view>

  <vscode-panel-view id="view-failures" class="view">
    <section class="failures-section" aria-label="Failed pages">
      <div class="section-bar">
        <h2>Failed pages</h2>
        <span id="failures-summary" class="muted"></span>
        <span class="spacer"></span>
        <vscode-button id="failures-retry-all" appearance="secondary" disabled>Retry all failed</vscode-button>
      </div>
      <p id="failures-empty" class="muted">No page has failed.</p>
      <vscode-data-grid id="failures-grid" aria-label="Failed pages" hidden></vscode-data-grid>
    </section>
  </vscode-panel-view>

  <vscode-panel-view id="view-page" class="view">
    <section id="page-detail" class="page-detail" aria-label="Page">
      <p class="muted">Click a bar in the timeline or a failed page to see its attempts, stack and log lines.</p>
    </section>
  </vscode-panel-view>
</vscode-panels>
`;
