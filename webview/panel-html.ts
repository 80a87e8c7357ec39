/**
 * The panel's HTML page, for both hosts: the VS Code extension (webview URIs from
 * asWebviewUri, cspSource from the webview) and `baton ui` (same-origin URLs carrying the
 * token). A strict Content Security Policy: nothing runs but the bundle with this page's
 * nonce, nothing loads from outside the host, and only the browser host may open a connection,
 * to its own origin's WebSocket.
 *
 * Imports nothing: the extension bundles this file on its own.
 */

export interface PanelHtmlOptions {
  /** The bundle, dist/webview/panel.js, as the webview can load it. */
  scriptUri: string;
  /** The stylesheet, dist/webview/panel.css. */
  styleUri: string;
  /** A fresh random value per page (base64 or hex), put on the script tag and in the CSP. */
  nonce: string;
  /** Where assets may load from: webview.cspSource in VS Code, the server's origin in a browser. */
  cspSource: string;
  /** 'vscode' talks through acquireVsCodeApi().postMessage; 'browser' through a WebSocket. */
  host: 'vscode' | 'browser';
  /** More stylesheets, such as the browser host's default theme. */
  extraStyleUris?: string[];
}

const NONCE = /^[A-Za-z0-9+/=_-]{16,128}$/;

/** Escapes text for an HTML attribute value in double quotes. */
function attr(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** CSP sources, space-separated; none may smuggle in another directive. */
function sources(value: string): string[] {
  const list = value.trim().split(/\s+/);
  if (value.trim() === '' || !list.every((item) => /^[^\s;,'"]+$/.test(item) || item === "'self'")) {
    throw new Error(`cspSource must be CSP sources such as https://*.vscode-cdn.net, got ${JSON.stringify(value)}`);
  }
  return list;
}

/** The Content-Security-Policy for the panel page. */
export function panelCsp(options: Pick<PanelHtmlOptions, 'nonce' | 'cspSource' | 'host'>): string {
  const list = sources(options.cspSource);
  const from = list.join(' ');
  const directives = [
    "default-src 'none'",
    `script-src 'nonce-${options.nonce}'`,
    // The nonce lets the toolkit (FAST) create its one <style> probe; see the csp-nonce meta tag.
    `style-src ${from} 'nonce-${options.nonce}'`,
    `img-src ${from} data:`,
    `font-src ${from}`,
    "base-uri 'none'",
    "form-action 'none'",
  ];
  if (options.host === 'browser') {
    // The WebSocket back to the page's own server, and nothing else.
    directives.push(`connect-src ${list.map((item) => item.replace(/^http(s?):/, 'ws$1:')).join(' ')}`);
  }
  return directives.join('; ');
}

/** The full HTML of the panel page. */
export function renderPanelHtml(options: PanelHtmlOptions): string {
  if (!NONCE.test(options.nonce)) throw new Error('nonce must be 16-128 base64 or hex characters, fresh for every page');
  if (options.host !== 'vscode' && options.host !== 'browser') throw new Error(`host must be 'vscode' or 'browser', got ${JSON.stringify(options.host)}`);
  const styles = [...(options.extraStyleUris ?? []), options.styleUri].map((uri) => `  <link rel="stylesheet" href="${attr(uri)}">`).join('\n');
  return `<!DOCTYPE html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <meta http-equiv="Content-Security-Policy" content="${attr(panelCsp(options))}">
  <meta name="viewport" content="width=device-width, initial-scale=1">
  <meta name="referrer" content="no-referrer">
  <meta property="csp-nonce" content="${attr(options.nonce)}">
  <title>Baton</title>
  <link rel="icon" href="data:,">
${styles}
</head>
<body data-host="${options.host}">
  <div id="app" class="app" aria-busy="true"><p class="loading">Loading the Baton panel…</p></div>
  <script nonce="${attr(options.nonce)}" src="${attr(options.scriptUri)}"></script>
</body>
</html>
`;
}
