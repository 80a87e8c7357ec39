import { describe, expect, it } from 'vitest';
import { OTHER_DATABASE_FIX, wordDatabaseFix } from '../../runner/protocol.js';

const folder = `/tmp is a folder, not a database file: ${OTHER_DATABASE_FIX} a file's path, such as /tmp/baton.db`;
const locked = `jobs.db is locked by another process: close the program holding a write transaction on it, or ${OTHER_DATABASE_FIX} another file`;

describe('the fix of a database error, worded for who reads it', () => {
  it('names Baton.open\'s db option for callers of the API, as the runner throws it', () => {
    expect(wordDatabaseFix(folder, 'api')).toBe("/tmp is a folder, not a database file: set Baton.open's db to a file's path, such as /tmp/baton.db");
  });

  it('names --db on the command line', () => {
    expect(wordDatabaseFix(folder, 'cli')).toBe("/tmp is a folder, not a database file: pass --db with a file's path, such as /tmp/baton.db");
    expect(wordDatabaseFix(locked, 'cli')).toBe('jobs.db is locked by another process: close the program holding a write transaction on it, or pass --db with another file');
  });

  it('names the baton.database setting in VS Code', () => {
    expect(wordDatabaseFix(locked, 'vscode')).toBe('jobs.db is locked by another process: close the program holding a write transaction on it, or set baton.database to another file');
  });

  it('leaves other messages alone', () => {
    const other = 'no job "nightly" in baton.db: see `baton status` for the jobs there';
    expect(wordDatabaseFix(other, 'cli')).toBe(other);
    expect(wordDatabaseFix(other, 'vscode')).toBe(other);
  });
});
