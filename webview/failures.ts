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
const COLUMNS = ['Page', 'Cursor', 'Error', 'Attempts', 'Outcome', 'Failed at', ''];

export class FailuresTable {
  private readonly grid = byId('failures-grid');
  private readonly empty = byId('failures-empty');
  private readonly summary = byId('failures-summary');
  private readonly badge = byId('failures-badge');
  private failures: PageFailureInfo[] = [];
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
    this.grid.addEventListener('keydown', (event) => {
      if ((event as KeyboardEvent).key !== 'Enter') return;
      const row = (event.target as HTMLElement).closest<HTMLElement>('vscode-data-grid-row[data-page]');
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
    const key = this.failures
      .slice(0, MAX_ROWS)
      .map((failure) => `${failure.page}/${failure.attempts}/${failure.endedAt}/${failure.outcome}`)
      .join(',');
    if (this.drawn === key) return;
    this.drawn = key;
    const header = h('vscode-data-grid-row', { 'row-type': 'sticky-header' }, ...COLUMNS.map((title, i) => h('vscode-data-grid-cell', { 'cell-type': 'columnheader', 'grid-column': String(i + 1) }, title)));
    const rows = this.failures.slice(0, MAX_ROWS).map((failure) => {
      const error = `${failure.error.name}: ${failure.error.message}`;
      return h(
        'vscode-data-grid-row',
        { 'data-page': String(failure.page), title: 'Open this page: its attempts, stack and log lines' },
        h('vscode-data-grid-cell', { 'grid-column': '1' }, String(failure.page)),
        h('vscode-data-grid-cell', { 'grid-column': '2', class: 'mono' }, formatCursor(failure.cursor, 60)),
        h('vscode-data-grid-cell', { 'grid-column': '3', class: 'error-cell', title: error }, error),
        h('vscode-data-grid-cell', { 'grid-column': '4' }, String(failure.attempts)),
        h('vscode-data-grid-cell', { 'grid-column': '5' }, h('span', { class: 'outcome', 'data-kind': failure.outcome === 'stuck' ? 'stuck' : 'failed' }, failure.outcome)),
        h('vscode-data-grid-cell', { 'grid-column': '6' }, formatClock(Date.parse(failure.endedAt))),
        h('vscode-data-grid-cell', { 'grid-column': '7' }, h('vscode-button', { appearance: 'secondary', 'data-action': 'retry', 'aria-label': `Retry page ${failure.page}` }, 'Retry')),
      );
    });
    this.grid.replaceChildren(header, ...rows);
  }
}
