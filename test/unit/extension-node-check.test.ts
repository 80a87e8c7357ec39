import { chmodSync, symlinkSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkProbe, nodeCommand, probeNode } from '../../extension/node-check.js';
import { root, tempDir } from '../helpers.js';

describe('the Node that runs the runner server', () => {
  it('is `node` from the PATH unless baton.nodePath names one', () => {
    expect(nodeCommand('')).toBe('node');
    expect(nodeCommand('  ')).toBe('node');
    expect(nodeCommand(undefined)).toBe('node');
    expect(nodeCommand(' /opt/node20/bin/node ')).toBe('/opt/node20/bin/node');
  });

  it('takes a baton.nodePath that starts with ~/ from the home folder, as baton.database does', () => {
    expect(nodeCommand('~/.nvm/versions/node/v20.18.0/bin/node')).toBe(join(homedir(), '.nvm/versions/node/v20.18.0/bin/node'));
    expect(nodeCommand('/opt/~/node')).toBe('/opt/~/node');
  });

  it('runs the Node a ~/ path names', async () => {
    const home = tempDir();
    symlinkSync(process.execPath, join(home, 'node'));
    const saved = process.env.HOME;
    process.env.HOME = home;
    try {
      expect(await probeNode(nodeCommand('~/node'), root, 'workspace')).toMatchObject({ ok: true });
    } finally {
      process.env.HOME = saved;
    }
  });

  it('says baton.nodePath names a folder, with the program to name instead, when it does', async () => {
    const folder = tempDir();
    const check = await probeNode(folder, root, 'bundled');
    expect(check).toMatchObject({ ok: false, problem: 'not-runnable', actions: ['openSetting', 'downloadNode'] });
    expect(check.ok || check.message).toBe(`baton.nodePath "${folder}" is a folder: set it to the Node.js 20+ program itself, such as ${join(folder, 'node')}.`);
  });

  it('passes the check when it is this Node and the runner\'s better-sqlite3 loads in it', async () => {
    const check = await probeNode(process.execPath, root, 'workspace');
    expect(check).toEqual({ ok: true, probe: { node: process.versions.node, modules: process.versions.modules, sqlite: 'ok' } });
  });

  it('says how a program that is not Node failed, when it printed nothing', async () => {
    const check = await probeNode('/bin/false', root, 'workspace');
    expect(check.ok || check.message).toBe(
      'Baton could not run Node.js at "/bin/false" (it exited with code 1 and printed nothing). Set baton.nodePath to a Node.js 20 or newer, or install one from https://nodejs.org.',
    );
  });

  it('says how to fix it when there is no Node at the path', async () => {
    const check = await probeNode(join(tempDir(), 'no-node-here'), root, 'bundled');
    expect(check).toMatchObject({ ok: false, problem: 'not-found', actions: ['openSetting', 'downloadNode'] });
    expect(check.ok || check.message).toMatch(/^Baton runs jobs with Node\.js 20 or newer, and found no Node\.js at baton\.nodePath ".*no-node-here"\. Install Node\.js 20\+ from https:\/\/nodejs\.org, or set baton\.nodePath to its path\.$/);
  });

  it('says "no node on the PATH" when the PATH has none', async () => {
    const saved = process.env.PATH;
    process.env.PATH = tempDir();
    try {
      const check = await probeNode('node', root, 'bundled');
      expect(check.ok || check.message).toMatch(/found no "node" on the PATH/);
    } finally {
      process.env.PATH = saved;
    }
  });

  it('says so when the program at the path is not Node', async () => {
    const fake = join(tempDir(), 'node');
    writeFileSync(fake, '#!/bin/sh\necho "not node" >&2\nexit 3\n');
    chmodSync(fake, 0o755);
    const check = await probeNode(fake, root, 'bundled');
    expect(check).toMatchObject({ ok: false, problem: 'not-runnable' });
    expect(check.ok || check.message).toContain('(not node)');
  });

  it('refuses a Node older than 20, naming its version and the fix', () => {
    const check = checkProbe('node', { node: '18.19.1', modules: '108', sqlite: 'ok' }, 'bundled');
    expect(check).toMatchObject({ ok: false, problem: 'too-old', actions: ['openSetting', 'downloadNode'] });
    expect(check.ok || check.message).toBe('Baton runs jobs with Node.js 20 or newer, but "node" on the PATH is Node.js 18.19.1. Install Node.js 20+ from https://nodejs.org, or set baton.nodePath to a newer one.');
  });

  it('offers `npm install baton` when the bundled runner\'s native module was built for another Node', () => {
    const error =
      "The module '/ext/node_modules/better-sqlite3/build/Release/better_sqlite3.node'\nwas compiled against a different Node.js version using\nNODE_MODULE_VERSION 115. This version of Node.js requires\nNODE_MODULE_VERSION 127. Please try re-compiling or re-installing";
    const check = checkProbe('/usr/bin/node', { node: '22.11.0', modules: '127', sqlite: error }, 'bundled');
    expect(check).toMatchObject({ ok: false, problem: 'native-mismatch', actions: ['installBaton', 'openSetting'] });
    expect(check.ok || check.message).toBe(
      'The Baton runner bundled with the extension does not fit your Node: its native module better-sqlite3 was built for Node.js 20 (NODE_MODULE_VERSION 115), and baton.nodePath "/usr/bin/node" is Node.js 22.11.0 (NODE_MODULE_VERSION 127). Fix: add baton to your project (npm install baton) so that it is built for your Node, or set baton.nodePath to Node.js 20.',
    );
  });

  it('offers `npm rebuild better-sqlite3` when the workspace\'s own baton does not fit', () => {
    const error = 'was compiled against a different Node.js version using NODE_MODULE_VERSION 127. This version of Node.js requires NODE_MODULE_VERSION 115.';
    const check = checkProbe('node', { node: '20.18.0', modules: '115', sqlite: error }, 'workspace');
    expect(check).toMatchObject({ ok: false, problem: 'native-mismatch', actions: ['rebuildSqlite', 'openSetting'] });
    expect(check.ok || check.message).toMatch(/^Your project's baton \(node_modules\/baton\) does not fit your Node: .* built for Node\.js 22 .* Fix: npm rebuild better-sqlite3/);
  });

  it('passes on any other load error with its first line', () => {
    const check = checkProbe('node', { node: '20.18.0', modules: '115', sqlite: "Cannot find module 'better-sqlite3'\nRequire stack: ..." }, 'bundled');
    expect(check).toMatchObject({ ok: false, problem: 'native-broken' });
    expect(check.ok || check.message).toBe("Baton's database module (better-sqlite3) does not load in Node.js 20.18.0: Cannot find module 'better-sqlite3'. Fix: add baton to your project (npm install baton).");
  });
});
