/** Runs the built `baton` CLI (dist/runner/cli.js) as a child process, as a user would. */
import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { afterEach } from 'vitest';
import type { JobStatus } from '../../runner/protocol.js';
import { root } from '../helpers.js';

export const cliPath = join(root, 'dist', 'runner', 'cli.js');

export interface CliResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

export interface RunningCli {
  child: ChildProcess;
  /** Output so far. */
  stdout(): string;
  stderr(): string;
  /** Resolves when the process has exited. */
  exited: Promise<CliResult>;
}

const started = new Set<ChildProcess>();

afterEach(() => {
  // A test that failed half-way must not leave its CLI running.
  for (const child of started) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  started.clear();
});

/**
 * Starts `baton <args>` in `cwd`, with output piped (so stdout is not a terminal). TMPDIR points
 * into `cwd` so that files processors write under os.tmpdir() go away with the test's folder.
 */
export function startCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): RunningCli {
  const child = spawn(process.execPath, [cliPath, ...args], { cwd, env: { ...process.env, TMPDIR: cwd, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  started.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const exited = new Promise<CliResult>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      started.delete(child);
      resolve({ code, signal, stdout, stderr });
    });
  });
  return { child, stdout: () => stdout, stderr: () => stderr, exited };
}

/** Runs `baton <args>` in `cwd` to its end. */
export function runCli(args: string[], cwd: string, env: NodeJS.ProcessEnv = {}): Promise<CliResult> {
  return startCli(args, cwd, env).exited;
}

/** `baton status <job> --json`, parsed; `db`: a database elsewhere than the default. */
export async function statusOf(jobId: string, cwd: string, db?: string): Promise<JobStatus> {
  const result = await runCli(['status', jobId, '--json', ...(db !== undefined ? ['--db', db] : [])], cwd);
  if (result.code !== 0) throw new Error(`baton status ${jobId} exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as JobStatus;
}

/** The non-empty lines of a text. */
/** What a command wrote to stderr besides the line a slow start may print (slow-notice.ts). */
export function problems(stderr: string): string[] {
  return lines(stderr).filter((line) => !/^(starting|resuming \S+|retrying \S+): bundling /.test(line));
}

export function lines(text: string): string[] {
  return text.split('\n').filter((line) => line.trim() !== '');
}
