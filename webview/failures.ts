/**
 * The failures table: the selected job's failed pages (failed or stuck on their last attempt)
 * with error, attempts and time. A row opens the page (stack and log lines); its Retry button
 * runs that page again. Redrawn only when the host sends a new list, and only while the tab is
 * shown; at most MAX_ROWS rows.
 */
import type { PageFailureInfo } from '../runner/protocol.js';
import { byId, h, setText } from './dom.js';
import { formatClock, formatCount, formatCursor } from './format.js';

const MAX_ROWS = 500;

/** A column of the table: its title, its width in the grid, and its cell for a failure. */
interface Column {
  title: string;
  width: string;
  cell(failure: PageFailureInfo): Node | string;
  className?: string;
  tooltip?: (failure: PageFailureInfo) => string;
}

const errorText = (failure: PageFailureInfo) => `${failure.error.name}: ${failure.error.message}`;

const PAGE: Column = { title: 'Page', width: '64px', cell: (failure) => String(failure.page) };
const CURSOR: Column = { title: 'Cursor', width: 'minmax(80px, 1fr)', cell: (failure) => formatCursor(failure.cursor, 60), className: 'mono clipped', tooltip: (failure) => formatCursor(failure.cursor, 2_000) };
const ERROR: Column = { title: 'Error', width: 'minmax(160px, 4fr)', cell: errorText, className: 'error-cell', tooltip: errorText };
const ATTEMPTS: Column = { title: 'Attempts', width: '100px', cell: (failure) => String(failure.attempts) };
const OUTCOME: Column = { title: 'Outcome', width: '100px', cell: (failure) => h('span', { class: 'outcome', 'data-kind': failure.outcome === 'stuck' ? 'stuck' : 'failed' }, failure.outcome) };
const FAILED_AT: Column = { title: 'Failed at', width: '100px', cell: (failure) => formatClock(Date.parse(failure.endedAt)) };
const RETRY: Column = { title: '', width: '90px', cell: (failure) => h('vscode-button', { appearance: 'secondary', 'data-action': 'retry', 'aria-label': `Retry page ${failure.page}` }, 'Retry') };

/** Every column where there is room; where there is not, the page, its error and Retry (the page view has the rest). */
const WIDE = [PAGE, CURSOR, ERROR, ATTEMPTS, OUTCOME, FAILED_AT, RETRY];
const NARROW = [PAGE, ERROR, ATTEMPTS, RETRY];
/** Below this width (px) the wide table would not fit its columns' least widths. */
const WIDE_FROM = 780;

export class FailuresTable {
  private readonly grid = byId('failures-grid');
  private readonly empty = byId('failures-empty');
  private readonly summary = byId('failures-summary');
  private readonly badge = byId('failures-badge');
  private failures: PageFailureInfo[] = [];
  private columns = WIDE;
  /** What the grid shows, as a key: the same failures sent again are not redrawn. */
  private drawn: string | null = null;
  private visible = false;

  constructor(
    private readonly openPage: (page: number) => void,
    private readonly retryPage: (page: number) => void,
  ) {
    this.grid.addEventListener('click', (event) => {
      const target = event.target as HTMLElement;
      const row = target.closest<HTMLElement>('vscode-data-grid-row[data-page]');
      if (row === null) return;
      const page = Number(row.dataset.page);
      if (target.closest('[data-action="retry"]') !== null) this.retryPage(page);
      else this.openPage(page);
    });
    // The columns follow the panel's width, so that Retry stays on screen in a narrow editor.
    new ResizeObserver(() => {
      const width = this.grid.parentElement?.clientWidth ?? WIDE_FROM;
      const columns = width >= WIDE_FROM ? WIDE : NARROW;
      if (columns === this.columns) return;
      this.columns = columns;
      this.drawn = null;
      this.render();
    }).observe(this.grid.parentElement ?? this.grid);
    this.grid.addEventListener('keydown', (event) => {
      if ((event as KeyboardEvent).key !== 'Enter') return;
      const target = event.target as HTMLElement;
      // Enter on Retry is the button's own click: it retries, and the list stays in view.
      if (target.closest('[data-action="retry"]') !== null) return;
      const row = target.closest<HTMLElement>('vscode-data-grid-row[data-page]');
      if (row !== null) this.openPage(Number(row.dataset.page));
    });
  }

  get count(): number {
    return this.failures.length;
  }

  /** The failure of one page, if it failed for good. */
  find(page: number): PageFailureInfo | undefined {
    return this.failures.find((failure) => failure.page === page);
  }

  /** Whether the table's tab is shown; a hidden table is drawn when it is next shown. */
  setVisible(visible: boolean): void {
    this.visible = visible;
    if (visible) this.render();
  }

  set(failures: PageFailureInfo[]): void {
    this.failures = failures;
    setText(this.badge, formatCount(failures.length));
    this.render();
  }

  clear(): void {
    this.set([]);
  }

  private render(): void {
    this.empty.hidden = this.failures.length > 0;
    this.grid.hidden = this.failures.length === 0;
    setText(
      this.summary,
      this.failures.length === 0 ? '' : this.failures.length > MAX_ROWS ? `showing the first ${MAX_ROWS} of ${formatCount(this.failures.length)}` : `${formatCount(this.failures.length)} page${this.failures.length === 1 ? '' : 's'}`,
    );
    if (!this.visible) return;
    // Rebuilding rows under the pointer would swallow a click on their Retry buttons.
    const key = this.columns.length + ':' + this.failures
      .slice(0, MAX_ROWS)
      .map((failure) => `${failure.page}/${failure.attempts}/${failure.endedAt}/${failure.outcome}`)
      .join(',');
    if (this.drawn === key) return;
    this.drawn = key;
    const columns = this.columns;
    this.grid.setAttribute('grid-template-columns', columns.map((column) => column.width).join(' '));
    const header = h('vscode-data-grid-row', { 'row-type': 'sticky-header' }, ...columns.map((column, i) => h('vscode-data-grid-cell', { 'cell-type': 'columnheader', 'grid-column': String(i + 1) }, column.title)));
    const rows = this.failures.slice(0, MAX_ROWS).map((failure) =>
      h(
        'vscode-data-grid-row',
        { 'data-page': String(failure.page), title: 'Open this page: its attempts, stack and log lines' },
        ...columns.map((column, i) =>
          h('vscode-data-grid-cell', { 'grid-column': String(i + 1), 'data-column': column.title.toLowerCase() || 'retry', ...(column.className ? { class: column.className } : {}), ...(column.tooltip ? { title: column.tooltip(failure) } : {}) }, column.cell(failure)),
        ),
      ),
    );
    this.grid.replaceChildren(header, ...rows);
  }
}
