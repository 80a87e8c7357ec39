/**
 * Checks the Node that will run the runner server before starting it: that there is one, that
 * it is 20 or newer, and that the runner's native better-sqlite3 loads in it. No 'vscode' here:
 * it spawns the probe and says what is wrong and how to fix it; runner-client.ts shows that.
 */
import { execFile } from 'node:child_process';
import { statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

/** The oldest Node the runner supports. */
export const MIN_NODE_MAJOR = 20;

/** What the probe prints (it runs in the user's Node, of any version). */
export interface NodeProbe {
  node: string;
  /** process.versions.modules: the ABI native addons must be built for (NODE_MODULE_VERSION). */
  modules: string;
  /** 'ok', or the message loading better-sqlite3 failed with. */
  sqlite: string;
}

/** Which runner the extension starts: the workspace's own `baton` package, or the extension's. */
export type RunnerKind = 'workspace' | 'bundled';

/** A button under the message: openSetting opens baton.nodePath, openDatabaseSetting baton.database. */
export type NodeCheckAction = 'openSetting' | 'openDatabaseSetting' | 'installBaton' | 'rebuildSqlite' | 'downloadNode';

export type NodeCheck =
  | { ok: true; probe: NodeProbe }
  | { ok: false; problem: 'not-found' | 'not-runnable' | 'too-old' | 'native-mismatch' | 'native-broken'; message: string; actions: NodeCheckAction[] };

/**
 * The node command: baton.nodePath, or `node` from the PATH when it is empty. A leading `~/` is
 * the home folder, as baton.database takes it: nothing else expands it, and spawn found no file.
 */
export function nodeCommand(setting: string | undefined | null): string {
  const trimmed = setting?.trim() ?? '';
  if (trimmed === '') return 'node';
  return trimmed === '~' || trimmed.startsWith('~/') ? join(homedir(), trimmed.slice(1)) : trimmed;
}

// Plain ES5 CommonJS, so that a Node far too old still prints its version. argv[1]: the runner's folder.
const PROBE = `
var out = { node: process.versions.node, modules: process.versions.modules, sqlite: 'ok' };
try {
  var Database = require(require.resolve('better-sqlite3', { paths: [process.argv[1]] }));
  new Database(':memory:').close();
} catch (error) {
  out.sqlite = String((error && error.message) || error);
}
process.stdout.write(JSON.stringify(out));
`;

/** Runs the probe in `node` for the runner in `runnerRoot`; never rejects. */
export function probeNode(node: string, runnerRoot: string, kind: RunnerKind, timeoutMs = 20_000): Promise<NodeCheck> {
  return new Promise((resolve) => {
    execFile(node, ['-e', PROBE, runnerRoot], { timeout: timeoutMs, windowsHide: true, encoding: 'utf8' }, (error, stdout, stderr) => {
      const code = (error as NodeJS.ErrnoException | null)?.code;
      if (code === 'ENOENT') return resolve(notFound(node));
      let probe: NodeProbe | null = null;
      try {
        probe = JSON.parse(stdout) as NodeProbe;
      } catch {
        probe = null;
      }
      if (!probe || typeof probe.node !== 'string') {
        if (node !== 'node' && isFolder(node)) return resolve(folderGiven(node));
        const why = stderr.trim().split('\n')[0] || silentFailure(error, timeoutMs);
        return resolve({
          ok: false,
          problem: 'not-runnable',
          message: `Baton could not run Node.js at "${node}" (${why}). Set baton.nodePath to a Node.js ${MIN_NODE_MAJOR} or newer, or install one from https://nodejs.org.`,
          actions: ['openSetting', 'downloadNode'],
        });
      }
      resolve(checkProbe(node, probe, kind));
    });
  });
}

/**
 * Why a program that printed nothing on stderr did not answer the probe. execFile's own message
 * ('Command failed: /bin/false -e' and the probe's source) says neither.
 */
function silentFailure(error: (Error & { code?: unknown; signal?: unknown; killed?: boolean }) | null, timeoutMs: number): string {
  if (error?.killed && error.signal === 'SIGTERM') return `it did not answer within ${timeoutMs / 1000} s`;
  if (typeof error?.signal === 'string') return `it was stopped by ${error.signal}`;
  if (typeof error?.code === 'number') return `it exited with code ${error.code} and printed nothing`;
  return 'it printed nothing';
}

function isFolder(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

// spawn says only EACCES; the usual slip is the folder that holds node (…/bin) instead of node.
function folderGiven(node: string): NodeCheck {
  return {
    ok: false,
    problem: 'not-runnable',
    message: `baton.nodePath "${node}" is a folder: set it to the Node.js ${MIN_NODE_MAJOR}+ program itself, such as ${join(node, 'node')}.`,
    actions: ['openSetting', 'downloadNode'],
  };
}

function notFound(node: string): NodeCheck {
  const where = node === 'node' ? 'no "node" on the PATH' : `no Node.js at baton.nodePath "${node}"`;
  return {
    ok: false,
    problem: 'not-found',
    message: `Baton runs jobs with Node.js ${MIN_NODE_MAJOR} or newer, and found ${where}. Install Node.js ${MIN_NODE_MAJOR}+ from https://nodejs.org, or set baton.nodePath to its path.`,
    actions: ['openSetting', 'downloadNode'],
  };
}

/** Node majors of the ABIs (NODE_MODULE_VERSION) a runner may meet, to name them in messages. */
const ABI_NODE: Record<string, string> = { '93': '16', '108': '18', '115': '20', '120': '21', '127': '22', '131': '23', '137': '24', '141': '25' };

function nodeOfAbi(abi: string): string {
  return ABI_NODE[abi] ? `Node.js ${ABI_NODE[abi]}` : `NODE_MODULE_VERSION ${abi}`;
}

/** What a probe's output means, with the fix. Pure. */
export function checkProbe(node: string, probe: NodeProbe, kind: RunnerKind): NodeCheck {
  const major = Number(probe.node.split('.')[0]);
  const shown = node === 'node' ? '"node" on the PATH' : `baton.nodePath "${node}"`;
  if (!(major >= MIN_NODE_MAJOR)) {
    return {
      ok: false,
      problem: 'too-old',
      message: `Baton runs jobs with Node.js ${MIN_NODE_MAJOR} or newer, but ${shown} is Node.js ${probe.node}. Install Node.js ${MIN_NODE_MAJOR}+ from https://nodejs.org, or set baton.nodePath to a newer one.`,
      actions: ['openSetting', 'downloadNode'],
    };
  }
  if (probe.sqlite === 'ok') return { ok: true, probe };
  const mismatch = /NODE_MODULE_VERSION (\d+)[\s\S]*?NODE_MODULE_VERSION (\d+)/.exec(probe.sqlite);
  if (mismatch) {
    const [, builtFor = '?', needed = '?'] = mismatch;
    const detail = `its native module better-sqlite3 was built for ${nodeOfAbi(builtFor)} (NODE_MODULE_VERSION ${builtFor}), and ${shown} is Node.js ${probe.node} (NODE_MODULE_VERSION ${needed})`;
    return kind === 'bundled'
      ? {
          ok: false,
          problem: 'native-mismatch',
          message: `The Baton runner bundled with the extension does not fit your Node: ${detail}. Fix: add baton to your project (npm install baton) so that it is built for your Node, or set baton.nodePath to ${nodeOfAbi(builtFor)}.`,
          actions: ['installBaton', 'openSetting'],
        }
      : {
          ok: false,
          problem: 'native-mismatch',
          message: `Your project's baton (node_modules/baton) does not fit your Node: ${detail}. Fix: npm rebuild better-sqlite3, or set baton.nodePath to the Node it was installed with.`,
          actions: ['rebuildSqlite', 'openSetting'],
        };
  }
  return {
    ok: false,
    problem: 'native-broken',
    message: `Baton's database module (better-sqlite3) does not load in Node.js ${probe.node}: ${probe.sqlite.split('\n')[0]}. ${kind === 'bundled' ? 'Fix: add baton to your project (npm install baton).' : 'Fix: npm rebuild better-sqlite3, or reinstall baton.'}`,
    actions: kind === 'bundled' ? ['installBaton', 'openSetting'] : ['rebuildSqlite', 'openSetting'],
  };
}
