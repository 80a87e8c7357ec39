import { homedir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { argsProblem, databasePath, DEFAULT_SETTINGS, fillSettings, maxParallelProblem, parseArgsInput, runnerFolder, threadsOption } from '../../extension/settings.js';

describe('the baton.* settings', () => {
  it('default to node on the PATH, .baton/baton.db, max parallel 8 and threads chosen by the runner', () => {
    expect(fillSettings(() => undefined)).toEqual(DEFAULT_SETTINGS);
    expect(DEFAULT_SETTINGS).toEqual({ nodePath: '', database: '', defaultMaxParallel: 8, threads: 0 });
  });

  it('fall back to their defaults when a value is of the wrong kind', () => {
    const read = { nodePath: 42, database: ' db/jobs.db ', defaultMaxParallel: 0, threads: 2.5 } as Record<string, unknown>;
    expect(fillSettings((key) => read[key])).toEqual({ nodePath: '', database: 'db/jobs.db', defaultMaxParallel: 8, threads: 0 });
  });

  it('run the runner in the first workspace folder, else in a folder that exists: the database\'s, or the home folder', () => {
    expect(runnerFolder('/work/shop', '/var/baton.db', () => false)).toBe('/work/shop');
    expect(runnerFolder(undefined, '/var/jobs/baton.db', (path) => path === '/var/jobs')).toBe('/var/jobs');
    expect(runnerFolder(undefined, join(homedir(), '.baton', 'baton.db'), () => false)).toBe(homedir());
  });

  it('put the database in the first workspace folder, relative paths from there', () => {
    expect(databasePath('', '/work/shop')).toBe('/work/shop/.baton/baton.db');
    expect(databasePath('db/jobs.db', '/work/shop')).toBe('/work/shop/db/jobs.db');
    expect(databasePath('/var/baton.db', '/work/shop')).toBe('/var/baton.db');
    expect(databasePath('~/baton.db', '/work/shop')).toBe(join(homedir(), 'baton.db'));
    expect(databasePath('', undefined)).toBe(join(homedir(), '.baton', 'baton.db'));
  });

  it('leave the thread count to the runner at 0', () => {
    expect(threadsOption({ ...DEFAULT_SETTINGS, threads: 0 })).toBeUndefined();
    expect(threadsOption({ ...DEFAULT_SETTINGS, threads: 3 })).toBe(3);
  });

  it('take a max parallel of 1 or more, and explain anything else', () => {
    expect(maxParallelProblem('8')).toBeNull();
    expect(maxParallelProblem(' 16 ')).toBeNull();
    for (const bad of ['', '0', '-1', '2.5', 'eight', '1e3', '0x10']) expect(maxParallelProblem(bad), bad).toBe('Max parallel must be a whole number of pages, 1 or more, such as 8');
    expect(maxParallelProblem('1000000')).toBeNull();
    expect(maxParallelProblem('1000001')).toBe('Max parallel must be at most 1,000,000');
  });

  it("take a job's args as JSON, or none when left empty, and explain what is not JSON", () => {
    expect(parseArgsInput('')).toEqual({ args: undefined });
    expect(parseArgsInput('   ')).toEqual({ args: undefined });
    expect(parseArgsInput(' {"pageSize": 1000} ')).toEqual({ args: { pageSize: 1000 } });
    expect(parseArgsInput('[1, "two"]')).toEqual({ args: [1, 'two'] });
    expect(parseArgsInput('null')).toEqual({ args: null });
    expect(argsProblem('{"pageSize": 1000}')).toBeNull();
    expect(argsProblem('')).toBeNull();
    for (const bad of ['{pageSize: 1000}', "{'a': 1}", '{"a": 1', 'undefined']) {
      expect(argsProblem(bad), bad).toMatch(/^Args must be JSON, such as \{"pageSize": 1000\}, or empty for none: /);
    }
  });
});
