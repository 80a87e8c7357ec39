import { describe, expect, it } from 'vitest';
import { panelCsp, renderPanelHtml } from '../../webview/panel-html.js';

const nonce = 'q2N5YXk1c2VjcmV0bm9uY2U=';

function cspOf(html: string): string {
  const match = /<meta http-equiv="Content-Security-Policy" content="([^"]*)">/.exec(html);
  if (!match) throw new Error('no CSP meta tag');
  return match[1]!.replace(/&#39;|&apos;/g, "'");
}

describe('renderPanelHtml', () => {
  it('allows only the nonced bundle, styles and images from the host, and nothing remote (VS Code)', () => {
    const html = renderPanelHtml({
      scriptUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.js',
      styleUri: 'https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.css',
      nonce,
      cspSource: 'https://*.vscode-cdn.net',
      host: 'vscode',
    });
    expect(cspOf(html)).toBe(
      `default-src 'none'; script-src 'nonce-${nonce}'; style-src https://*.vscode-cdn.net 'nonce-${nonce}'; img-src https://*.vscode-cdn.net data:; font-src https://*.vscode-cdn.net; base-uri 'none'; form-action 'none'`,
    );
    expect(html).toContain(`<script nonce="${nonce}" src="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.js"></script>`);
    expect(html).toContain('<link rel="stylesheet" href="https://file+.vscode-resource.vscode-cdn.net/ext/dist/webview/panel.css">');
    expect(html).toContain('<body data-host="vscode">');
    // One script tag, and no inline script or style anywhere.
    expect(html.match(/<script/g)).toHaveLength(1);
    expect(html).not.toMatch(/<style|style="/);
  });

  it('lets the browser host connect to its own origin only, by WebSocket', () => {
    const csp = panelCsp({ nonce, cspSource: 'http://127.0.0.1:7788', host: 'browser' });
    expect(csp).toContain("connect-src ws://127.0.0.1:7788");
    expect(csp).not.toMatch(/connect-src[^;]*http/);
  });

  it('puts extra stylesheets before the panel stylesheet (the browser theme first)', () => {
    const html = renderPanelHtml({ scriptUri: '/panel.js?token=t', styleUri: '/panel.css?token=t', extraStyleUris: ['/theme-browser.css?token=t'], nonce, cspSource: 'http://127.0.0.1:1', host: 'browser' });
    expect(html.indexOf('theme-browser.css')).toBeLessThan(html.indexOf('panel.css'));
  });

  it('escapes URIs so they cannot break out of their attribute', () => {
    const html = renderPanelHtml({ scriptUri: '/p.js?a="><script>alert(1)</script>', styleUri: '/p.css', nonce, cspSource: 'http://127.0.0.1:1', host: 'browser' });
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('&quot;&gt;&lt;script&gt;');
  });

  it('refuses a weak nonce and a cspSource that would add a directive', () => {
    expect(() => renderPanelHtml({ scriptUri: '/p.js', styleUri: '/p.css', nonce: 'abc', cspSource: 'http://127.0.0.1:1', host: 'vscode' })).toThrow(/nonce/);
    expect(() => renderPanelHtml({ scriptUri: '/p.js', styleUri: '/p.css', nonce, cspSource: "https://x; script-src 'unsafe-inline'", host: 'vscode' })).toThrow(/cspSource/);
  });
});
