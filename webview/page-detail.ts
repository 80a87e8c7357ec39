/**
 * One page, as 'openPage' returns it: its cursor, every attempt (slot, outcome, duration,
 * error with stack) and its log lines, with a Retry button when it failed for good.
 */
import type { AttemptInfo, LogLine, PageFailureInfo } from '../runner/protocol.js';
import { byId, h } from './dom.js';
import { formatClock, formatCursor, formatDuration, slotLabel } from './format.js';

export class PageDetail {
  private readonly root = byId('page-detail');
  private shown: number | null = null;

  constructor(private readonly retryPage: (page: number) => void) {}

  get page(): number | null {
    return this.shown;
  }

  loading(page: number): void {
    this.shown = page;
    this.root.replaceChildren(h('p', { class: 'muted' }, `Loading page ${page}…`));
  }

  clear(): void {
    this.shown = null;
    this.root.replaceChildren(h('p', { class: 'muted' }, 'Click a bar in the timeline or a failed page to see its attempts, stack and log lines.'));
  }

  show(page: number, attempts: AttemptInfo[], logs: LogLine[], failure: PageFailureInfo | undefined): void {
    this.shown = page;
    const newestFirst = [...attempts].sort((a, b) => b.attempt - a.attempt);
    const latest = newestFirst[0];
    const heading = h('div', { class: 'section-bar' }, h('h2', {}, `Page ${page}`), h('span', { class: 'spacer' }));
    if (failure !== undefined) {
      const retry = h('vscode-button', { id: 'page-retry', appearance: 'primary' }, 'Retry this page');
      retry.addEventListener('click', () => this.retryPage(page));
      heading.append(retry);
    }
    const parts: Node[] = [heading];
    parts.push(
      h('dl', { class: 'page-facts' },
        // A page with no attempt heard of has no cursor to show yet (null is a cursor too).
        h('div', {}, h('dt', {}, 'Cursor'), h('dd', { class: 'mono' }, latest ? formatCursor(latest.cursor, 2_000) : failure ? formatCursor(failure.cursor, 2_000) : '–')),
        h('div', {}, h('dt', {}, 'State'), h('dd', {}, failure !== undefined ? `failed for good after ${failure.attempts} attempt${failure.attempts === 1 ? '' : 's'}` : latest ? describe(latest) : 'no attempt yet')),
      ),
    );
    if (newestFirst.length === 0) parts.push(h('p', { class: 'muted' }, 'No attempt of this page has been recorded yet.'));
    for (const attempt of newestFirst) {
      const duration = attempt.endedAt !== null ? formatDuration(attempt.endedAt - attempt.startedAt) : 'running';
      const block = h('section', { class: 'attempt', 'data-outcome': attempt.outcome },
        h('h3', {}, `Attempt ${attempt.attempt}: ${attempt.outcome}`, h('span', { class: 'muted' }, ` · started ${formatClock(attempt.startedAt, true)} · ${duration} · ${slotLabel(attempt.slot)}${attempt.items !== null ? ` · ${attempt.items} item${attempt.items === 1 ? '' : 's'}` : ''}`)),
      );
      if (attempt.error) {
        block.append(h('p', { class: 'error-text' }, `${attempt.error.name}: ${attempt.error.message}`));
        if (attempt.error.stack) block.append(h('pre', { class: 'stack', 'aria-label': 'Stack' }, attempt.error.stack));
      }
      const lines = logs.filter((line) => line.attempt === attempt.attempt);
      if (lines.length > 0) {
        block.append(
          h('pre', { class: 'logs', 'aria-label': `Log lines of attempt ${attempt.attempt}` },
            ...lines.map((line) => h('span', { class: 'log-line', 'data-level': line.level }, `${formatClock(line.at, true)} ${line.level.padEnd(5)} ${line.message}\n`)),
          ),
        );
      } else {
        block.append(h('p', { class: 'muted' }, attempt.endedAt === null ? 'No log lines so far.' : 'No log lines.'));
      }
      parts.push(block);
    }
    this.root.replaceChildren(...parts);
  }
}

function describe(attempt: AttemptInfo): string {
  if (attempt.endedAt === null) return `attempt ${attempt.attempt} running`;
  return `attempt ${attempt.attempt} ${attempt.outcome}${attempt.runsAgain ? '; the page runs again' : ''}`;
}
