/**
 * The extension's settings (package.json contributes.configuration, section "baton"): their
 * defaults, and what they mean once filled. No 'vscode' here; callers pass the values read with
 * workspace.getConfiguration('baton').
 */
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { MAX_PARALLEL } from '../runner/protocol.js';

export interface BatonSettings {
  /** The Node.js (>= 20) that runs the runner server. Default '' = `node` on the PATH. */
  nodePath: string;
  /** The SQLite file. Default '' = .baton/baton.db in the first workspace folder; relative paths are from that folder. */
  database: string;
  /** Max parallel that Run Batch offers. Default 8. */
  defaultMaxParallel: number;
  /** Worker threads per job. Default 0 = the machine's available parallelism. */
  threads: number;
}

export const DEFAULT_SETTINGS: BatonSettings = { nodePath: '', database: '', defaultMaxParallel: 8, threads: 0 };

/** Settings as read, with anything missing or of the wrong type replaced by its default. */
export function fillSettings(read: (key: keyof BatonSettings) => unknown): BatonSettings {
  const text = (key: 'nodePath' | 'database') => {
    const value = read(key);
    return typeof value === 'string' ? value.trim() : DEFAULT_SETTINGS[key];
  };
  const integer = (key: 'defaultMaxParallel' | 'threads', min: number) => {
    const value = read(key);
    return typeof value === 'number' && Number.isInteger(value) && value >= min ? value : DEFAULT_SETTINGS[key];
  };
  return { nodePath: text('nodePath'), database: text('database'), defaultMaxParallel: integer('defaultMaxParallel', 1), threads: integer('threads', 0) };
}

/** The database file, absolute: the setting from the workspace folder, else .baton/baton.db there (or in the home folder without one). */
export function databasePath(setting: string, folder: string | undefined): string {
  const base = folder ?? homedir();
  if (setting === '') return join(base, '.baton', 'baton.db');
  const expanded = setting.startsWith('~/') ? join(homedir(), setting.slice(2)) : setting;
  return isAbsolute(expanded) ? expanded : resolve(base, expanded);
}

/**
 * The folder the runner server runs in: the first workspace folder, else the database's folder
 * once it exists, else the home folder. It must exist: spawn fails on a missing cwd with an
 * ENOENT that names the command, and with no folder open .baton/ is not made until the runner runs.
 */
export function runnerFolder(folder: string | undefined, database: string, exists: (path: string) => boolean = existsSync): string {
  if (folder !== undefined) return folder;
  return exists(dirname(database)) ? dirname(database) : homedir();
}

/** The `threads` of a job started from VS Code: undefined lets the runner choose. */
export function threadsOption(settings: BatonSettings): number | undefined {
  return settings.threads > 0 ? settings.threads : undefined;
}

/** Checks what the user typed for max parallel: null when it is fine, else why not. */
export function maxParallelProblem(text: string): string | null {
  const trimmed = text.trim();
  const value = /^\d+$/.test(trimmed) ? Number(trimmed) : Number.NaN;
  if (!Number.isInteger(value) || value < 1) return 'Max parallel must be a whole number of pages, 1 or more, such as 8';
  if (value > MAX_PARALLEL) return `Max parallel must be at most ${MAX_PARALLEL.toLocaleString('en-US')}`;
  return null;
}

/**
 * What the user typed for a job's args: undefined when left empty (the processor gets its own
 * defaults), else the JSON value; or why it is not JSON.
 */
export function parseArgsInput(text: string): { args: unknown } | { problem: string } {
  const trimmed = text.trim();
  if (trimmed === '') return { args: undefined };
  try {
    return { args: JSON.parse(trimmed) as unknown };
  } catch (error) {
    return { problem: `Args must be JSON, such as {"pageSize": 1000}, or empty for none: ${(error as Error).message}` };
  }
}

/** For an input box's validation: null when the args parse. */
export function argsProblem(text: string): string | null {
  const parsed = parseArgsInput(text);
  return 'problem' in parsed ? parsed.problem : null;
}
