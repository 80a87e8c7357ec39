/**
 * The throughput chart (chart.js): items/s on the left axis; pages/s and pages in flight on the
 * right; the limits (max parallel, the rate limits) as dashed step lines on the axis of what
 * they limit, so that the effect of changing one shows as the lines move together. No
 * animation, no parsing (points are stored in chart.js's own form), and chart.js's decimation
 * plugin thins long series to what the canvas can show.
 */
import {
  Chart,
  Decimation,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartDataset,
} from 'chart.js';
import { formatClock, formatRate, timeTicks } from './format.js';
import type { PanelColours } from './theme.js';
import { axisTop, highestIn, type Point, type ThroughputSeries } from './throughput-series.js';

Chart.register(LineController, LineElement, PointElement, LinearScale, Legend, Tooltip, Decimation);

/** How much of the past the chart shows; 0: everything since the panel opened the job. */
export type ChartWindow = 60_000 | 300_000 | 1_800_000 | 0;

/** The limits' legend labels, by dataset index. */
const LIMIT_LABELS = { 3: 'max parallel', 4: 'items/s limit', 5: 'pages/s limit' } as const;

/** Most often the chart redraws for new data. */
const MIN_UPDATE_MS = 200;

export class ThroughputChart {
  private readonly chart: Chart<'line', { x: number; y: number | null }[]>;
  private windowMs: ChartWindow;
  private lastUpdate = 0;
  private timer: number | undefined;

  constructor(
    canvas: HTMLCanvasElement,
    private readonly series: ThroughputSeries,
    colours: PanelColours,
    windowMs: ChartWindow,
    private readonly now: () => number,
  ) {
    this.windowMs = windowMs;
    const line = (label: string, data: { x: number; y: number | null }[], yAxisID: string, limit: boolean): ChartDataset<'line', { x: number; y: number | null }[]> => ({
      label,
      data,
      yAxisID,
      borderWidth: limit ? 1.25 : 1.75,
      borderDash: limit ? [6, 4] : [],
      stepped: limit ? 'after' : false,
      pointRadius: 0,
      pointHitRadius: 4,
      spanGaps: false,
      tension: 0,
    });
    this.chart = new Chart<'line', { x: number; y: number | null }[]>(canvas, {
      type: 'line',
      data: {
        datasets: [
          line('items/s', series.rates.itemsPerSecond, 'items', false),
          line('pages/s', series.rates.pagesPerSecond, 'pages', false),
          line('pages in flight', series.rates.inFlight, 'pages', false),
          line(LIMIT_LABELS[3], series.limits.maxParallel, 'pages', true),
          line(LIMIT_LABELS[4], series.limits.rateItems, 'items', true),
          line(LIMIT_LABELS[5], series.limits.ratePages, 'pages', true),
        ],
      },
      options: {
        animation: false,
        parsing: false,
        normalized: true,
        responsive: true,
        maintainAspectRatio: false,
        interaction: { mode: 'nearest', axis: 'x', intersect: false },
        plugins: {
          decimation: { enabled: true, algorithm: 'min-max' },
          legend: { position: 'bottom', labels: { boxWidth: 18, boxHeight: 2, padding: 10 } },
          tooltip: {
            callbacks: {
              title: (items) => (items[0] ? formatClock(items[0].parsed.x ?? 0) : ''),
              label: (item) => `${item.dataset.label}: ${item.parsed.y === null ? 'none' : formatRate(item.parsed.y ?? 0)}`,
            },
          },
        },
        scales: {
          x: {
            type: 'linear',
            ticks: { maxRotation: 0, callback: (value) => formatClock(Number(value), Number(value) % 1000 !== 0) },
            // Ticks on round clock times (chart.js would put them at round numbers of ms).
            afterBuildTicks: (scale) => {
              const width = scale.right - scale.left;
              const { ticks } = timeTicks(scale.min, scale.max, Math.max(2, Math.floor(width / 110)));
              scale.ticks = ticks.map((value) => ({ value }));
            },
          },
          items: {
            type: 'linear',
            position: 'left',
            beginAtZero: true,
            title: { display: true, text: 'items/s' },
            ticks: { callback: (value) => formatRate(Number(value)) },
          },
          pages: {
            type: 'linear',
            position: 'right',
            beginAtZero: true,
            title: { display: true, text: 'pages/s, pages' },
            grid: { drawOnChartArea: false },
            ticks: { callback: (value) => formatRate(Number(value)) },
          },
        },
      },
    });
    this.setColours(colours);
  }

  setWindow(windowMs: ChartWindow): void {
    this.windowMs = windowMs;
    this.update(true);
  }

  setColours(colours: PanelColours): void {
    const options = this.chart.options;
    const datasets = this.chart.data.datasets;
    const palette = [colours.series.items, colours.series.pages, colours.series.inFlight, colours.series.inFlight, colours.series.items, colours.series.pages];
    datasets.forEach((dataset, i) => {
      dataset.borderColor = palette[i];
      dataset.backgroundColor = palette[i];
    });
    options.color = colours.foreground;
    options.font = { family: colours.fontFamily };
    // chart.js resolves options through proxies: set fields one by one (spreading a proxy
    // copies its internals), and let update() apply them.
    for (const id of ['x', 'items', 'pages']) {
      const scale = options.scales?.[id];
      if (scale === undefined) continue;
      if (scale.grid) scale.grid.color = colours.grid;
      if (scale.ticks) scale.ticks.color = colours.muted;
      if (scale.border) scale.border.color = colours.grid;
      if ('title' in scale && scale.title) scale.title.color = colours.muted;
    }
    const legend = options.plugins?.legend;
    if (legend?.labels) legend.labels.color = colours.foreground;
    const tooltip = options.plugins?.tooltip;
    if (tooltip) {
      tooltip.backgroundColor = colours.hover.background;
      tooltip.titleColor = colours.hover.foreground;
      tooltip.bodyColor = colours.hover.foreground;
      tooltip.borderColor = colours.hover.border;
      tooltip.borderWidth = 1;
    }
    this.update(true);
  }

  /** New points were added; redraws at most every MIN_UPDATE_MS. */
  update(force = false): void {
    const wait = this.lastUpdate + MIN_UPDATE_MS - performance.now();
    if (!force && wait > 0) {
      this.timer ??= window.setTimeout(() => {
        this.timer = undefined;
        this.update(true);
      }, wait);
      return;
    }
    this.lastUpdate = performance.now();
    const x = this.chart.options.scales?.x;
    const span = this.series.span;
    if (x !== undefined) {
      const to = Math.max(this.now(), span?.to ?? 0);
      x.max = to;
      // Never wider than the data: a chart that began a minute ago fills the width.
      const from = span?.from ?? to - 60_000;
      x.min = this.windowMs === 0 ? from : Math.max(from, to - this.windowMs);
      // A point or two (a job that was not running while the panel watched): the last minute,
      // not an axis from the first point to now, a few milliseconds wide at first.
      if (this.series.length < 3 || to - x.min < 1_000) x.min = to - 60_000;
      // For tests and tools: the time the axis spans.
      this.chart.canvas.dataset.span = String(Math.round(x.max - x.min));
      this.fitLimits(x.min, x.max);
    }
    this.chart.update('none');
  }

  /**
   * A limit far above what runs (max parallel 100,000 beside 40 pages in flight) is left above
   * its axis, and its legend says so, rather than flattening the measured lines to the floor.
   */
  private fitLimits(from: number, to: number): void {
    const { rates, limits } = this.series;
    const top = (points: Point[][]): number => Math.max(0, ...points.map((line) => highestIn(line, from, to)));
    const axes = [
      { id: 'items', measured: [rates.itemsPerSecond], limits: [[limits.rateItems, 4]] as const },
      { id: 'pages', measured: [rates.pagesPerSecond, rates.inFlight], limits: [[limits.maxParallel, 3], [limits.ratePages, 5]] as const },
    ];
    for (const axis of axes) {
      const measured = top(axis.measured);
      const max = axisTop(measured, top(axis.limits.map(([line]) => line)));
      const scale = this.chart.options.scales?.[axis.id];
      if (scale) scale.max = max;
      for (const [line, index] of axis.limits) {
        const dataset = this.chart.data.datasets[index]!;
        const above = max !== undefined && highestIn(line, from, to) > max;
        dataset.label = `${LIMIT_LABELS[index]}${above ? ' (above the chart)' : ''}`;
      }
      // For tests and tools: the axis top when a limit is left above it.
      if (max === undefined) delete this.chart.canvas.dataset[`${axis.id}Top`];
      else this.chart.canvas.dataset[`${axis.id}Top`] = String(max);
    }
  }

  /** Forgets the points (another job was selected). */
  reset(): void {
    this.series.clear();
    this.update(true);
  }
}
