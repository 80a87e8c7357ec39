import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { root } from '../helpers.js';

const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as { activationEvents: string[] };

describe('the extension manifest', () => {
  it('activates the extension for the panel it restores after a reload, whatever else is open', () => {
    // VS Code restores a webview only through a serializer of an activated extension.
    const host = readFileSync(join(root, 'extension', 'panel-host.ts'), 'utf8');
    const viewType = /const VIEW_TYPE = '([^']+)'/.exec(host)?.[1];
    expect(host).toContain('registerWebviewPanelSerializer(VIEW_TYPE');
    expect(viewType).toBe('baton.panel');
    expect(manifest.activationEvents).toContain(`onWebviewPanel:${viewType}`);
  });
});
