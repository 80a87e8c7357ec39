import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findWorkspaceRunner, locateRunner, SERVER_MAIN } from '../../extension/runner-location.js';
import { root, tempDir } from '../helpers.js';

/** A baton package in `dir`, with its runner server when `built`. */
function batonPackage(dir: string, version: string, built = true): void {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, 'package.json'), JSON.stringify({ name: 'baton', version }));
  if (built) {
    mkdirSync(dirname(join(dir, SERVER_MAIN)), { recursive: true });
    writeFileSync(join(dir, SERVER_MAIN), '');
  }
}

describe('which runner the extension starts', () => {
  it('is the workspace\'s own baton when it has one, found as Node would from the folder', () => {
    const project = tempDir();
    batonPackage(join(project, 'node_modules', 'baton'), '2.0.0');
    const nested = join(project, 'jobs', 'nightly');
    mkdirSync(nested, { recursive: true });
    const extension = tempDir();
    batonPackage(extension, '1.0.0');
    expect(locateRunner([nested], extension)).toEqual({ kind: 'workspace', root: join(project, 'node_modules', 'baton'), main: join(project, 'node_modules', 'baton', SERVER_MAIN), version: '2.0.0' });
  });

  it('is the bundled one when the workspace has none, or one without a runner server', () => {
    const project = tempDir();
    batonPackage(join(project, 'node_modules', 'baton'), '0.0.1', false);
    const extension = tempDir();
    batonPackage(extension, '1.0.0');
    expect(locateRunner([project], extension)).toEqual({ kind: 'bundled', root: extension, main: join(extension, SERVER_MAIN), version: '1.0.0' });
    expect(locateRunner([], extension).kind).toBe('bundled');
  });

  it('is the folder itself when the workspace is baton, built (this repository)', () => {
    expect(findWorkspaceRunner(root)).toMatchObject({ kind: 'workspace', root, main: join(root, SERVER_MAIN) });
  });

  it('says to reinstall the extension when its own runner is missing', () => {
    const extension = tempDir();
    expect(() => locateRunner([tempDir()], extension)).toThrow(`the Baton extension has no runner at ${join(extension, SERVER_MAIN)}: reinstall the extension`);
  });
});
