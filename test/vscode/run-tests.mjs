// `npm run test:vscode`: the integration suite (test/vscode/suite) inside a real VS Code desktop,
// downloaded by @vscode/test-electron, with this folder as the extension under development. It
// needs network access to download VS Code, and a display (on Linux without one it re-runs
// itself under xvfb-run when that is installed). Where VS Code cannot be downloaded, it says so
// and exits 1; test/e2e/vscode-extension.test.ts (in npm test) covers the extension in
// code-server instead.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { downloadAndUnzipVSCode, runTests } from '@vscode/test-electron';

const root = resolve(import.meta.dirname, '..', '..');

if (process.platform === 'linux' && !process.env.DISPLAY && !process.env.BATON_UNDER_XVFB) {
  const xvfb = spawnSync('sh', ['-c', 'command -v xvfb-run'], { encoding: 'utf8' }).stdout.trim();
  if (xvfb) {
    const result = spawnSync(xvfb, ['-a', process.execPath, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, BATON_UNDER_XVFB: '1' } });
    process.exit(result.status ?? 1);
  }
  console.warn('test:vscode: no DISPLAY and no xvfb-run: VS Code may fail to start (apt-get install xvfb, or run under a display)');
}

for (const built of ['dist/extension/activate.js', 'dist/runner/server/main.js']) {
  if (!existsSync(join(root, built))) {
    console.error(`test:vscode: ${built} is missing: run npm run build first`);
    process.exit(1);
  }
}

const version = process.env.BATON_VSCODE_VERSION ?? 'stable';
let vscodeExecutablePath;
try {
  vscodeExecutablePath = await downloadAndUnzipVSCode({ version, timeout: 60_000 });
} catch (error) {
  console.error(
    `test:vscode: could not download VS Code ${version} (${error instanceof Error ? error.message : String(error)}). ` +
      'This suite needs network access to update.code.visualstudio.com; where there is none, ' +
      'test/e2e/vscode-extension.test.ts (part of npm test) runs the extension in code-server instead.',
  );
  process.exit(1);
}

const scratch = mkdtempSync(join(tmpdir(), 'baton-vscode-suite-'));
const workspace = join(scratch, 'workspace');
mkdirSync(workspace);
writeFileSync(join(workspace, 'package.json'), `${JSON.stringify({ name: 'suite-project', version: '1.0.0', private: true }, null, 2)}\n`);
try {
  await runTests({
    vscodeExecutablePath,
    extensionDevelopmentPath: root,
    extensionTestsPath: join(root, 'test', 'vscode', 'suite', 'index.cjs'),
    extensionTestsEnv: { BATON_SUITE_WORKSPACE: workspace },
    launchArgs: [workspace, '--disable-extensions', '--disable-workspace-trust', '--skip-welcome', '--skip-release-notes', '--user-data-dir', join(scratch, 'user-data')],
  });
} catch (error) {
  console.error(`test:vscode: the suite failed (${error instanceof Error ? error.message : String(error)})`);
  process.exitCode = 1;
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
