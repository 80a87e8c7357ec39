/** Shared test helpers: temporary folders, fixture paths, polling. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach } from 'vitest';
import { childLogDir, childLogFiles, childLogKey, readChildLog, type LoggedChild } from '../runner/store/child-log.js';

export const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** The absolute path of a fixture processor in test/fixtures. */
export function fixture(name: string): string {
  return join(root, 'test', 'fixtures', name);
}

const made: string[] = [];

/** A fresh folder, removed after the test. */
export function tempDir(prefix = 'baton-test-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  made.push(dir);
  return dir;
}

afterEach(() => {
  for (const dir of made.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** Polls `check` until it returns a truthy value, or throws after `timeoutMs`. */
export async function waitFor<T>(check: () => T | Promise<T>, timeoutMs = 20_000, what = 'condition'): Promise<NonNullable<T>> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value) return value as NonNullable<T>;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Runs `scenario` up to `runs` times, until it reports that the case under test happened; for a
 * case that depends on timing a loaded machine can upset. Each run checks what must hold either
 * way; whether the case happened at least once is the caller's assertion.
 */
export async function runUntilCase(runs: number, scenario: (run: number) => Promise<boolean>): Promise<boolean> {
  for (let run = 0; run < runs; run++) if (await scenario(run)) return true;
  return false;
}

/** The most attempts that overlapped at any instant, from their recorded start and end (an end and a start at the same instant do not overlap). */
export function peakConcurrency(attempts: { startedAt: number; endedAt: number | null }[], from = 0): number {
  const events = attempts
    .filter((a) => (a.endedAt ?? Infinity) > from)
    .flatMap((a) => [
      [Math.max(a.startedAt, from), 1],
      [a.endedAt ?? Infinity, -1],
    ])
    .sort((x, y) => x[0]! - y[0]! || x[1]! - y[1]!);
  let now = 0;
  let peak = 0;
  for (const [, delta] of events) peak = Math.max(peak, (now += delta!));
  return peak;
}

/** The children the worker threads logged for a job of the database `db`, and not yet deleted (see runner/store/child-log.ts). */
export function loggedChildren(db: string, jobId: string): LoggedChild[] {
  const key = jobLogKey(db, jobId);
  return key === null ? [] : childLogFiles(childLogDir(db), key).flatMap(readChildLog);
}

/** The childLogKey of a job of the database `db`, read from its row; null when there is no such job. */
export function jobLogKey(db: string, jobId: string): string | null {
  const reader = new Database(db, { readonly: true });
  try {
    const job = reader.prepare<[string], { no: number; created_at: number }>('SELECT no, created_at FROM jobs WHERE id = ?').get(jobId);
    return job ? childLogKey(job) : null;
  } finally {
    reader.close();
  }
}
