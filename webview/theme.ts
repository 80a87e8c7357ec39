/**
 * Colours for what the panel draws on canvas (the timeline, the chart), read from the VS Code
 * theme variables the host defines (--vscode-*), and re-read when the theme changes. In a
 * browser, theme-browser.css defines those variables for light and dark; the toggle switches
 * the body's class the way VS Code does, and the toolkit follows the same class change.
 */
import type { BarKind } from './timeline-model.js';

export interface PanelColours {
  background: string;
  foreground: string;
  muted: string;
  grid: string;
  border: string;
  focus: string;
  /** For text drawn on canvas, which cannot read CSS variables. */
  fontFamily: string;
  bars: Record<BarKind, string>;
  series: { items: string; pages: string; inFlight: string; limit: string };
  /** Hover boxes drawn by chart.js. */
  hover: { background: string; foreground: string; border: string };
  highContrast: boolean;
}

function cssVar(style: CSSStyleDeclaration, ...names: string[]): string {
  for (const name of names) {
    const value = style.getPropertyValue(name).trim();
    if (value !== '') return value;
  }
  return '';
}

/** The theme's colours now. */
export function readColours(): PanelColours {
  const style = getComputedStyle(document.body);
  const foreground = cssVar(style, '--vscode-foreground', '--vscode-editor-foreground') || style.color;
  const pick = (...names: string[]) => cssVar(style, ...names) || foreground;
  const kind = document.body.dataset.vscodeThemeKind ?? document.body.className;
  return {
    background: pick('--vscode-editor-background', '--vscode-panel-background') || style.backgroundColor,
    foreground,
    muted: pick('--vscode-descriptionForeground'),
    grid: pick('--vscode-charts-lines', '--vscode-panel-border', '--vscode-widget-border'),
    border: pick('--vscode-contrastBorder', '--vscode-panel-border'),
    focus: pick('--vscode-focusBorder'),
    fontFamily: cssVar(style, '--vscode-font-family') || style.fontFamily || 'sans-serif',
    bars: {
      running: pick('--vscode-charts-blue', '--vscode-progressBar-background'),
      succeeded: pick('--vscode-charts-green', '--vscode-testing-iconPassed'),
      retried: pick('--vscode-charts-orange', '--vscode-charts-yellow', '--vscode-editorWarning-foreground'),
      failed: pick('--vscode-charts-red', '--vscode-errorForeground'),
      stuck: pick('--vscode-charts-purple', '--vscode-charts-yellow'),
      other: pick('--vscode-disabledForeground', '--vscode-descriptionForeground'),
    },
    series: {
      items: pick('--vscode-charts-blue'),
      pages: pick('--vscode-charts-green'),
      inFlight: pick('--vscode-charts-purple', '--vscode-charts-orange'),
      limit: pick('--vscode-charts-foreground', '--vscode-descriptionForeground'),
    },
    hover: {
      background: pick('--vscode-editorHoverWidget-background', '--vscode-editorWidget-background', '--vscode-editor-background'),
      foreground: pick('--vscode-editorHoverWidget-foreground', '--vscode-foreground'),
      border: pick('--vscode-editorHoverWidget-border', '--vscode-contrastBorder', '--vscode-panel-border'),
    },
    highContrast: kind.includes('high-contrast'),
  };
}

/** Calls `listener` when the host changes theme (VS Code rewrites the body's class and style). */
export function onThemeChange(listener: () => void): void {
  let pending = false;
  new MutationObserver(() => {
    if (pending) return;
    pending = true;
    // Let the new stylesheet apply before reading it.
    requestAnimationFrame(() => {
      pending = false;
      listener();
    });
  }).observe(document.body, { attributes: true, attributeFilter: ['class', 'style', 'data-vscode-theme-kind'] });
}

export type BrowserTheme = 'light' | 'dark';

/** Applies a theme in the browser host the way VS Code marks it: body class and theme kind. */
export function applyBrowserTheme(theme: BrowserTheme): void {
  const body = document.body;
  // The toolkit reads data-vscode-theme-kind when the class changes, so set it first.
  body.dataset.vscodeThemeKind = `vscode-${theme}`;
  body.classList.remove('vscode-light', 'vscode-dark');
  body.classList.add(`vscode-${theme}`);
}

/** The browser's preferred theme. */
export function preferredBrowserTheme(): BrowserTheme {
  return window.matchMedia?.('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}
