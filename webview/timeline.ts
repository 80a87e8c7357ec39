/**
 * The page timeline, drawn on a canvas: one lane per slot, one bar per attempt from its start
 * to its end, coloured by outcome. It follows the present while "Live" is on; the wheel zooms
 * around the pointer, dragging (or shift+wheel, or the arrow keys) pans and leaves Live, and
 * panning before the oldest attempt held asks the host for older ones. Only the visible window
 * is drawn (see TimelineModel.scanLane), and only when something changed.
 */
import { formatClock, formatCursor, formatDuration, slotLabel, timeTicks } from './format.js';
import { HostClock } from './host-clock.js';
import type { PanelColours } from './theme.js';
import { TimelineModel, type Bar, type BarKind } from './timeline-model.js';

export interface TimelineView {
  /** Following the present. */
  follow: boolean;
  /** Until the user zooms: show no more than the attempts held, so a young job fills the width. */
  auto?: boolean;
  /** Width of the window, ms. */
  span: number;
  /** The window's right edge when not following (ms, host clock). */
  end: number;
}

export interface TimelineCallbacks {
  /** The window reached before the oldest attempt held: load attempts that started before `before`. */
  loadHistory(before: number): void;
  /** A bar was clicked. */
  openPage(page: number): void;
  /** The view changed (to keep it across hiding and showing). */
  viewChanged(view: TimelineView): void;
}

/** Measurements a benchmark reads (window.__batonPanelStats), when it defines the object. */
export interface PanelStats {
  /** ms from an attempt's end (host clock) to the frame that first drew it ended. */
  barLatencyMs: number[];
  /** ms from the activity carrying the end reaching the panel to that frame. */
  renderLatencyMs: number[];
  /** ms spent drawing each timeline frame. */
  drawMs: number[];
}

const MIN_SPAN = 200;
const MAX_SPAN = 30 * 86_400_000;
const GUTTER = 44;
const AXIS = 20;

export const DEFAULT_VIEW: TimelineView = { follow: true, auto: true, span: 30_000, end: 0 };
/** The narrowest window the automatic fit shows. */
const AUTO_MIN_SPAN = 10_000;

export class Timeline {
  readonly model = new TimelineModel();
  /** The host's clock, which attempt times are in. */
  readonly clock = new HostClock();
  private readonly ctx: CanvasRenderingContext2D;
  private view: TimelineView;
  private colours: PanelColours;
  private width = 0;
  private height = 0;
  private ratio = 1;
  private frame = 0;
  private fittedLanes = -1;
  private drawnVersion = -1;
  private drawnKey = '';
  private loadingHistory = false;
  private drag: { x: number; end: number; span: number; moved: boolean } | null = null;
  private hover: { x: number; y: number } | null = null;
  private pendingEnded: { bar: Bar; receivedAt: number }[] = [];
  private readonly stats: PanelStats | undefined;

  constructor(
    private readonly canvas: HTMLCanvasElement,
    private readonly tooltip: HTMLElement,
    colours: PanelColours,
    view: TimelineView,
    private readonly callbacks: TimelineCallbacks,
  ) {
    const ctx = canvas.getContext('2d', { alpha: false });
    if (ctx === null) throw new Error('the timeline needs a 2D canvas');
    this.ctx = ctx;
    this.colours = colours;
    this.view = { ...view };
    this.stats = (globalThis as { __batonPanelStats?: PanelStats }).__batonPanelStats;
    new ResizeObserver(() => this.resize()).observe(canvas);
    this.bindInput();
    this.resize();
  }

  /** The host's time now, as best known. */
  now(): number {
    return this.clock.now();
  }

  get currentView(): TimelineView {
    return { ...this.view };
  }

  setColours(colours: PanelColours): void {
    this.colours = colours;
    this.invalidate();
  }

  /** Bars that just ended, for the latency measurements. */
  trackEnded(bars: Bar[], receivedAt: number): void {
    if (this.stats === undefined) return;
    for (const bar of bars) this.pendingEnded.push({ bar, receivedAt });
  }

  clear(): void {
    this.model.clear();
    this.loadingHistory = false;
    this.pendingEnded = [];
    this.hideTooltip();
    this.invalidate();
  }

  /** A loadHistory request is out. */
  get awaitingHistory(): boolean {
    return this.loadingHistory;
  }

  /** Older attempts arrived; `added`: how many were new. */
  historyLoaded(added: number): void {
    this.loadingHistory = false;
    // An answer with nothing new means there is nothing more to fetch.
    if (added === 0) this.model.historyComplete = true;
    this.invalidate();
  }

  setView(view: Partial<TimelineView>): void {
    this.view = { ...this.view, ...view };
    this.view.span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, this.view.span));
    this.callbacks.viewChanged(this.currentView);
    this.invalidate();
  }

  goLive(): void {
    this.setView({ follow: true });
  }

  zoom(factor: number, anchor = 1): void {
    const { from, to } = this.window();
    const span = Math.min(MAX_SPAN, Math.max(MIN_SPAN, (to - from) * factor));
    if (this.view.follow) {
      this.setView({ span, auto: false });
      return;
    }
    const at = from + (to - from) * anchor;
    this.setView({ span, end: at + span * (1 - anchor), auto: false });
  }

  /** Shows every attempt held. */
  fit(): void {
    if (!Number.isFinite(this.model.earliest)) return;
    if (this.model.running.size > 0) {
      // Still running: everything up to the present, and keep following it.
      this.setView({ span: Math.max(MIN_SPAN, (this.now() - this.model.earliest) * 1.02), follow: true, auto: false });
      return;
    }
    const span = Math.max(MIN_SPAN, (this.model.latest - this.model.earliest) * 1.04);
    this.setView({ span, end: this.model.latest + span * 0.02, follow: false, auto: false });
  }

  pan(ms: number): void {
    const { from, to } = this.window();
    this.setView({ follow: false, end: to + ms, span: to - from, auto: false });
  }

  /** Asks for a frame. */
  invalidate(): void {
    this.drawnKey = '';
    this.schedule();
  }

  /** The model changed. */
  changed(): void {
    this.schedule();
  }

  private window(): { from: number; to: number } {
    let to = this.view.follow ? this.now() : this.view.end;
    let span = this.view.span;
    if (this.view.auto && this.view.follow && Number.isFinite(this.model.earliest)) {
      // A job that stopped long ago: show its end rather than an empty present.
      if (this.model.running.size === 0 && to - this.model.latest > span) to = this.model.latest + span * 0.02;
      span = Math.min(span, Math.max(AUTO_MIN_SPAN, (to - this.model.earliest) * 1.05));
    }
    return { from: to - span, to };
  }

  private schedule(): void {
    if (this.frame === 0) this.frame = requestAnimationFrame(() => this.onFrame());
  }

  private onFrame(): void {
    this.frame = 0;
    const { from, to } = this.window();
    const plotWidth = Math.max(1, this.width - GUTTER);
    // Redraw when the data changed, or the window moved by half a pixel or more.
    const quantum = (to - from) / plotWidth / 2;
    const key = `${Math.round(from / quantum)}:${Math.round(to - from)}:${this.width}x${this.height}`;
    if (this.model.version !== this.drawnVersion || key !== this.drawnKey) {
      const started = performance.now();
      this.draw(from, to);
      this.drawnVersion = this.model.version;
      this.drawnKey = key;
      this.measure(started, to);
    }
    if (this.view.follow && this.model.running.size > 0) this.schedule();
    this.maybeLoadHistory(from);
  }

  private measure(started: number, to: number): void {
    if (this.stats === undefined) return;
    const drawn = performance.now();
    this.stats.drawMs.push(drawn - started);
    if (this.pendingEnded.length === 0) return;
    const localNow = Date.now();
    const offset = this.clock.offsetMs;
    const keep: typeof this.pendingEnded = [];
    for (const item of this.pendingEnded) {
      if (item.bar.end === null || item.bar.end > to) {
        keep.push(item);
        continue;
      }
      this.stats.barLatencyMs.push(localNow - (item.bar.end - offset));
      this.stats.renderLatencyMs.push(localNow - item.receivedAt);
    }
    this.pendingEnded = keep;
  }

  private maybeLoadHistory(from: number): void {
    if (this.loadingHistory || this.model.historyComplete || !Number.isFinite(this.model.earliest)) return;
    if (from < this.model.earliest) {
      this.loadingHistory = true;
      // Up to and including the earliest start held: attempts that started in the same ms as it
      // may not all be held yet (the answer's duplicates are merged).
      this.callbacks.loadHistory(this.model.earliest + 1);
    }
  }

  private resize(): void {
    const rect = this.canvas.getBoundingClientRect();
    this.ratio = window.devicePixelRatio || 1;
    this.width = Math.max(1, Math.floor(rect.width));
    this.height = Math.max(1, Math.floor(rect.height));
    this.canvas.width = Math.round(this.width * this.ratio);
    this.canvas.height = Math.round(this.height * this.ratio);
    this.invalidate();
  }

  /** Sizes the timeline to its lanes: about 20 px each, within bounds, as lanes appear. */
  private fitHeight(lanes: number): void {
    if (lanes === this.fittedLanes) return;
    this.fittedLanes = lanes;
    const box = this.canvas.parentElement;
    if (box !== null) box.style.height = `${Math.min(420, Math.max(140, lanes * 20 + AXIS + 12))}px`;
  }

  private lanes(): { slots: number[]; top: number; laneHeight: number } {
    const slots = this.model.laneSlots;
    const top = 4;
    const available = Math.max(1, this.height - AXIS - top);
    return { slots, top, laneHeight: slots.length === 0 ? available : Math.min(24, available / slots.length) };
  }

  private draw(from: number, to: number): void {
    const { ctx, colours } = this;
    ctx.setTransform(this.ratio, 0, 0, this.ratio, 0, 0);
    ctx.fillStyle = colours.background;
    ctx.fillRect(0, 0, this.width, this.height);
    const plotWidth = Math.max(1, this.width - GUTTER);
    this.fitHeight(this.model.laneSlots.length);
    const { slots, top, laneHeight } = this.lanes();
    const plotBottom = this.height - AXIS;

    // Time grid and axis.
    ctx.font = `11px ${colours.fontFamily}`;
    ctx.textBaseline = 'top';
    const { ticks } = timeTicks(from, to, Math.max(2, Math.floor(plotWidth / 90)));
    ctx.strokeStyle = colours.grid;
    ctx.globalAlpha = 0.35;
    ctx.lineWidth = 1;
    ctx.beginPath();
    for (const t of ticks) {
      const x = Math.round(GUTTER + ((t - from) / (to - from)) * plotWidth) + 0.5;
      ctx.moveTo(x, top);
      ctx.lineTo(x, plotBottom);
    }
    ctx.stroke();
    ctx.globalAlpha = 1;
    ctx.fillStyle = colours.muted;
    ctx.textAlign = 'center';
    for (const t of ticks) {
      const x = GUTTER + ((t - from) / (to - from)) * plotWidth;
      if (x > GUTTER + 20 && x < this.width - 20) ctx.fillText(formatClock(t, t % 1000 !== 0), x, plotBottom + 4);
    }

    if (slots.length === 0) {
      ctx.textAlign = 'left';
      ctx.fillText('No page has started yet.', GUTTER + 8, top + 8);
      return;
    }

    // Lanes.
    const barHeight = Math.max(1, laneHeight >= 6 ? laneHeight - 2 : laneHeight);
    const rowOf = new Map<number, number>();
    slots.forEach((slot, row) => rowOf.set(slot, row));
    ctx.save();
    ctx.beginPath();
    ctx.rect(GUTTER, 0, plotWidth, plotBottom);
    ctx.clip();
    for (let row = 0; row < slots.length; row++) {
      const slot = slots[row]!;
      const y = top + row * laneHeight;
      let current: BarKind | null = null;
      this.model.scanLane(slot, from, to, plotWidth, (x, width, kind) => {
        if (kind !== current) {
          ctx.fillStyle = colours.bars[kind];
          current = kind;
        }
        ctx.fillRect(GUTTER + x, y, width, barHeight);
      });
    }
    ctx.fillStyle = colours.bars.running;
    const now = this.now();
    this.model.scanRunning(from, to, plotWidth, now, (slot, x, width) => {
      const row = rowOf.get(slot);
      if (row !== undefined) ctx.fillRect(GUTTER + x, top + row * laneHeight, width, barHeight);
    });
    if (this.view.follow) {
      // The present, at the right edge.
      ctx.fillStyle = colours.focus;
      ctx.fillRect(GUTTER + plotWidth - 1, top, 1, plotBottom - top);
    }
    ctx.restore();

    // Lane labels, when there is room for them.
    ctx.fillStyle = colours.muted;
    ctx.textAlign = 'right';
    ctx.textBaseline = 'middle';
    const every = laneHeight >= 12 ? 1 : Math.ceil(12 / laneHeight);
    for (let row = 0; row < slots.length; row += every) {
      const slot = slots[row]!;
      ctx.fillText(slot < 0 ? '?' : String(slot), GUTTER - 6, top + row * laneHeight + barHeight / 2);
    }
    if (!this.model.historyComplete && from < this.model.earliest) {
      const x = GUTTER + ((this.model.earliest - from) / (to - from)) * plotWidth;
      ctx.fillStyle = colours.muted;
      ctx.textAlign = 'right';
      ctx.textBaseline = 'top';
      if (x > GUTTER + 80) ctx.fillText(this.loadingHistory ? 'loading…' : 'older →', x - 4, top + 2);
    }
    if (this.hover !== null) this.showTooltip(this.hover.x, this.hover.y);
  }

  private barAt(x: number, y: number): Bar | undefined {
    const plotWidth = Math.max(1, this.width - GUTTER);
    if (x < GUTTER) return undefined;
    const { slots, top, laneHeight } = this.lanes();
    const row = Math.floor((y - top) / laneHeight);
    const slot = slots[row];
    if (slot === undefined) return undefined;
    const { from, to } = this.window();
    const msPerPx = (to - from) / plotWidth;
    const t = from + (x - GUTTER) * msPerPx;
    return this.model.hitTest(slot, t, msPerPx * 3, this.now());
  }

  private showTooltip(x: number, y: number): void {
    const bar = this.barAt(x, y);
    if (bar === undefined) {
      this.hideTooltip();
      return;
    }
    const kind = this.model.kindOf(bar);
    const end = bar.end ?? this.now();
    const lines = [
      `page ${bar.page}, attempt ${bar.attempt} (${slotLabel(bar.slot)})`,
      `${kindLabel(kind, bar, this.model.retried(bar))}${bar.end === null ? ' for' : ' after'} ${formatDuration(end - bar.start)}${bar.items !== null ? `, ${bar.items} items` : ''}`,
      `cursor ${formatCursor(bar.cursor, 80)}`,
      `started ${formatClock(bar.start, true)}`,
    ];
    if (bar.error) lines.push(`${bar.error.name}: ${bar.error.message.slice(0, 300)}`);
    lines.push('click for its logs');
    this.tooltip.textContent = lines.join('\n');
    this.tooltip.hidden = false;
    this.tooltip.dataset.kind = kind;
    const box = this.canvas.getBoundingClientRect();
    const tipWidth = this.tooltip.offsetWidth;
    const left = x + 14 + tipWidth > box.width ? Math.max(0, x - 14 - tipWidth) : x + 14;
    this.tooltip.style.left = `${left}px`;
    this.tooltip.style.top = `${Math.max(0, y + 12)}px`;
  }

  private hideTooltip(): void {
    this.tooltip.hidden = true;
  }

  private bindInput(): void {
    const canvas = this.canvas;
    canvas.addEventListener(
      'wheel',
      (event) => {
        event.preventDefault();
        const { from, to } = this.window();
        const plotWidth = Math.max(1, this.width - GUTTER);
        const delta = event.deltaMode === 1 ? event.deltaY * 16 : event.deltaY;
        if (event.shiftKey || Math.abs(event.deltaX) > Math.abs(event.deltaY)) {
          const px = event.shiftKey ? delta : event.deltaX;
          this.pan((px / plotWidth) * (to - from));
          return;
        }
        const anchor = Math.min(1, Math.max(0, (event.offsetX - GUTTER) / plotWidth));
        this.zoom(Math.exp(delta * 0.002), this.view.follow ? 1 : anchor);
      },
      { passive: false },
    );
    canvas.addEventListener('pointerdown', (event) => {
      if (event.button !== 0) return;
      canvas.setPointerCapture(event.pointerId);
      const { from, to } = this.window();
      this.drag = { x: event.offsetX, end: to, span: to - from, moved: false };
    });
    canvas.addEventListener('pointermove', (event) => {
      if (this.drag !== null) {
        const dx = event.offsetX - this.drag.x;
        if (Math.abs(dx) > 3) this.drag.moved = true;
        if (this.drag.moved) {
          const plotWidth = Math.max(1, this.width - GUTTER);
          this.setView({ follow: false, auto: false, end: this.drag.end - (dx / plotWidth) * this.drag.span, span: this.drag.span });
          this.hideTooltip();
          return;
        }
      }
      this.hover = { x: event.offsetX, y: event.offsetY };
      this.showTooltip(event.offsetX, event.offsetY);
    });
    canvas.addEventListener('pointerup', (event) => {
      const drag = this.drag;
      this.drag = null;
      if (drag !== null && !drag.moved) {
        const bar = this.barAt(event.offsetX, event.offsetY);
        if (bar !== undefined) this.callbacks.openPage(bar.page);
      }
    });
    canvas.addEventListener('pointerleave', () => {
      this.hover = null;
      this.hideTooltip();
    });
    canvas.addEventListener('keydown', (event) => {
      const { from, to } = this.window();
      const step = (to - from) / 5;
      const keys: Record<string, () => void> = {
        ArrowLeft: () => this.pan(-step),
        ArrowRight: () => this.pan(step),
        '+': () => this.zoom(1 / 1.5),
        '=': () => this.zoom(1 / 1.5),
        '-': () => this.zoom(1.5),
        End: () => this.goLive(),
      };
      const action = keys[event.key];
      if (action !== undefined) {
        event.preventDefault();
        action();
      }
    });
  }
}

function kindLabel(kind: BarKind, bar: Bar, retried: boolean): string {
  switch (kind) {
    case 'running':
      return 'running';
    case 'succeeded':
      return 'succeeded';
    case 'retried':
      return retried ? 'failed, retried' : 'failed, to be retried';
    case 'failed':
      return 'failed';
    case 'stuck':
      return 'stuck (timed out)';
    default:
      return bar.outcome === 'unknown' ? 'ended (outcome not heard)' : bar.outcome;
  }
}
