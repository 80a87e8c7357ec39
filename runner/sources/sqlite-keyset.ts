/**
 * Keyset pagination over a SQLite table with better-sqlite3: each page is
 * `SELECT ... WHERE key > :after ORDER BY key LIMIT :size`, so a page costs the same at the end of
 * the table as at its start, and its last key is the next page's cursor. Safe to import in a
 * processor bundle: no engine code, one connection per file per worker thread.
 */
import { resolve } from 'node:path';
import Database from 'better-sqlite3';
import type { KeySet } from '../known-keys.js';
import { checkSourceOptions, SourceError } from './source-error.js';

/** A key value that is also a JSON cursor. Integer keys beyond 2^53 lose precision: use text keys. */
export type SqliteKey = number | string;

export interface SqliteKeysetOptions {
  /** The SQLite file. It must exist. */
  file: string;
  /** The table (or view) to page through; `schema.table` is accepted. */
  table: string;
  /**
   * A unique, indexed column to page by. Default 'id'. Rows whose key is NULL are never read (a
   * NULL cannot be a cursor, and would stall a chain): declare the key NOT NULL, or give those
   * rows a key before the job, or they are left out in silence.
   */
  key?: string;
  /** Columns to select. Default ['*']. The key is added when it is not among them. */
  columns?: string[];
  /**
   * An extra condition, as SQL written by the processor's author (never by user data), such as
   * `"archived = 0"` or `"price > ?"` with `whereParams`. It is wrapped in parentheses.
   */
  where?: string;
  /** Values for the `?` placeholders in `where`. Default []. */
  whereParams?: unknown[];
  /** Open the file read-only. Default false, so `connection()` can also write. */
  readonly?: boolean;
  /** How long a statement waits for another connection's write lock. Default 5,000 ms. */
  busyTimeoutMs?: number;
}

/** One page of rows and the cursor of the page after it (null when no row follows in the range). */
export interface KeysetPage<Row> {
  rows: Row[];
  next: SqliteKey | null;
}

export interface SqliteKeyset<Row = Record<string, unknown>> {
  /**
   * Up to `size` rows with `after < key` (all rows when `after` is null) and, when `until` is
   * given, `key <= until`, in key order. `next` is the last row's key when more rows follow,
   * else null (the query reads one row ahead to know).
   */
  page(after: SqliteKey | null, size: number, until?: SqliteKey | null): KeysetPage<Row>;
  /** Rows with `after < key <= until` (either bound may be null) that match `where`. */
  count(after?: SqliteKey | null, until?: SqliteKey | null): number;
  /** This thread's connection to the file, for writes in the same page (opened on first use). */
  connection(): Database.Database;
}

/**
 * A range of keys for one chain: `after < key <= until`; null means unbounded on that side.
 * A type rather than an interface so that it is a JSON value and can be a page's cursor.
 */
export type KeyRange = {
  after: SqliteKey | null;
  until: SqliteKey | null;
};

export interface KeyRangesOptions {
  file: string;
  table: string;
  /** Default 'id'. */
  key?: string;
  /** How many ranges (chains) to make; fewer come back when the table has fewer rows. */
  shards: number;
  /** Same as SqliteKeysetOptions.where: ranges then hold equal numbers of matching rows. */
  where?: string;
  whereParams?: unknown[];
  busyTimeoutMs?: number;
}

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** Checks a SQL identifier (optionally `schema.name`) and returns it double-quoted. */
export function quoteIdentifier(name: unknown, what: string, dotted = false): string {
  const parts = typeof name === 'string' ? (dotted ? name.split('.') : [name]) : [];
  if (parts.length === 0 || parts.length > 2 || !parts.every((part) => IDENTIFIER.test(part))) {
    throw new SourceError(
      'INVALID_IDENTIFIER',
      `${what} must be a plain SQL identifier (letters, digits and _, not starting with a digit${dotted ? ', optionally schema.name' : ''}), got ${JSON.stringify(name)}`,
    );
  }
  return parts.map((part) => `"${part}"`).join('.');
}

// One connection per file and mode per thread: a worker thread runs many pages, and opening the
// file for each would cost more than the query.
const connections = new Map<string, Database.Database>();

function open(file: string, readonly: boolean, busyTimeoutMs: number): Database.Database {
  const path = resolve(file);
  const id = `${readonly ? 'r' : 'w'}:${path}`;
  let db = connections.get(id);
  if (!db || !db.open) {
    try {
      db = new Database(path, { readonly, fileMustExist: true });
    } catch (error) {
      throw new SourceError('SOURCE_NOT_FOUND', `cannot open SQLite file ${path}: ${(error as Error).message}`, { cause: error });
    }
    db.pragma(`busy_timeout = ${Math.max(0, Math.floor(busyTimeoutMs))}`);
    connections.set(id, db);
  }
  return db;
}

/** Prepares `sql`; a table or column the file lacks is named with the file and where to look. */
function prepare(db: Database.Database, file: string, sql: string): Database.Statement {
  try {
    return db.prepare(sql);
  } catch (error) {
    if (error instanceof Database.SqliteError) {
      // SQLite's hint for a quoted name it cannot find is about SQL text, and Baton quoted it.
      const reason = error.message.replace(/ - should this be a string literal in single-quotes\?$/, '');
      throw new SourceError('INVALID_OPTION', `${file}: ${reason}; check table, key, columns and where against that file`, { cause: error });
    }
    throw error;
  }
}

function checkFile(file: unknown): string {
  if (typeof file !== 'string' || file === '') throw new SourceError('INVALID_OPTION', 'file must be the path of a SQLite file');
  return file;
}

/**
 * A bound must be a key value: handed a whole KeyRange cursor, better-sqlite3 would take it for
 * named parameters and say only 'Too few parameter values were provided'.
 */
function checkBound(value: unknown, what: 'after' | 'until'): void {
  if (value == null || typeof value === 'string' || (typeof value === 'number' && Number.isFinite(value))) return;
  const range = typeof value === 'object' && 'after' in value ? `; from a KeyRange cursor, pass cursor.after and cursor.until` : '';
  throw new SourceError('INVALID_OPTION', `${what} must be a key (a number or a string) or null, got ${JSON.stringify(value) ?? String(value)}${range}`);
}

/** Runs a statement; values that do not fit its placeholders are whereParams against where. */
function bind<T>(file: string, run: () => T): T {
  try {
    return run();
  } catch (error) {
    if (error instanceof RangeError || error instanceof TypeError) {
      throw new SourceError('INVALID_OPTION', `${file}: ${error.message}; give whereParams one number, string or null per ? in where`, { cause: error });
    }
    throw error;
  }
}

function checkSize(size: unknown): number {
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new SourceError('INVALID_OPTION', `size must be an integer >= 1, got ${JSON.stringify(size)}`);
  }
  return size;
}

/** Keyset pagination over `table` by `key`. Nothing is opened until the first call. */
const KEYSET_OPTIONS: KeySet<SqliteKeysetOptions> = { file: true, table: true, key: true, columns: true, where: true, whereParams: true, readonly: true, busyTimeoutMs: true };
const RANGES_OPTIONS: KeySet<KeyRangesOptions> = { file: true, table: true, key: true, shards: true, where: true, whereParams: true, busyTimeoutMs: true };

export function sqliteKeyset<Row = Record<string, unknown>>(options: SqliteKeysetOptions): SqliteKeyset<Row> {
  checkSourceOptions('sqliteKeyset', options, KEYSET_OPTIONS);
  const file = checkFile(options?.file);
  const table = quoteIdentifier(options.table, 'table', true);
  const keyName = options.key ?? 'id';
  const key = quoteIdentifier(keyName, 'key');
  const columns = options.columns ?? ['*'];
  if (!Array.isArray(columns) || columns.length === 0) throw new SourceError('INVALID_OPTION', 'columns must be a non-empty array of column names, or [\'*\']');
  // The next cursor is read from the row by the key's name, so the row must hold the key under
  // exactly that name: '*' leaves out rowid, and SQLite names a column as declared ('id' for a
  // key given as 'ID'). Without it, next would be undefined and the chain start over.
  const keyColumn = `${key} AS ${key}`;
  const selected = columns.map((column) => (column === '*' ? '*' : column === keyName ? keyColumn : quoteIdentifier(column, 'columns[]')));
  if (!columns.includes(keyName)) selected.push(keyColumn);
  const where = options.where ? ` AND (${options.where})` : '';
  const whereParams = options.whereParams ?? [];
  const readonly = options.readonly ?? false;
  const busyTimeoutMs = options.busyTimeoutMs ?? 5_000;

  const statements = new Map<string, Database.Statement>();
  const connection = () => open(file, readonly, busyTimeoutMs);
  function statement(kind: 'page' | 'count', hasAfter: boolean, hasUntil: boolean): Database.Statement {
    const id = `${kind}:${hasAfter}:${hasUntil}`;
    let found = statements.get(id);
    // A statement belongs to its connection; reprepare if the connection was reopened.
    if (!found || found.database !== connection()) {
      // NULL keys sort first and cannot be a cursor; leave them out so a chain never stalls on one.
      const bounds = `${key} IS NOT NULL${hasAfter ? ` AND ${key} > ?` : ''}${hasUntil ? ` AND ${key} <= ?` : ''}`;
      const sql = kind === 'page'
        ? `SELECT ${selected.join(', ')} FROM ${table} WHERE ${bounds}${where} ORDER BY ${key} LIMIT ?`
        : `SELECT count(*) AS n FROM ${table} WHERE ${bounds}${where}`;
      found = prepare(connection(), file, sql);
      statements.set(id, found);
    }
    return found;
  }

  return {
    page(after, size, until = null) {
      checkSize(size);
      checkBound(after, 'after');
      checkBound(until, 'until');
      // One row more than asked tells whether another page follows, so a chain never ends on an
      // empty page.
      const params = [...(after != null ? [after] : []), ...(until != null ? [until] : []), ...whereParams, size + 1];
      const rows = bind(file, () => statement('page', after != null, until != null).all(...params) as Row[]);
      if (rows.length <= size) return { rows, next: null };
      rows.pop();
      return { rows, next: (rows[rows.length - 1] as Record<string, SqliteKey>)[keyName]! };
    },
    count(after = null, until = null) {
      checkBound(after, 'after');
      checkBound(until, 'until');
      const params = [...(after != null ? [after] : []), ...(until != null ? [until] : []), ...whereParams];
      return bind(file, () => (statement('count', after != null, until != null).get(...params) as { n: number }).n);
    },
    connection,
  };
}

/**
 * Splits the key space of `table` into up to `shards` ranges holding about the same number of
 * rows, one per chain: pass each as an initial page's cursor and give `until` to every page of
 * that chain. Costs one count and one indexed OFFSET query per boundary.
 */
export function keyRanges(options: KeyRangesOptions): KeyRange[] {
  checkSourceOptions('keyRanges', options, RANGES_OPTIONS);
  const file = checkFile(options?.file);
  const shards = options.shards;
  if (!Number.isInteger(shards) || shards < 1) throw new SourceError('INVALID_OPTION', `shards must be an integer >= 1, got ${JSON.stringify(shards)}`);
  const table = quoteIdentifier(options.table, 'table', true);
  const keyName = options.key ?? 'id';
  const key = quoteIdentifier(keyName, 'key');
  const where = options.where ? ` AND (${options.where})` : '';
  const whereParams = options.whereParams ?? [];
  const db = open(file, false, options.busyTimeoutMs ?? 5_000);
  const total = bind(file, () => (prepare(db, file, `SELECT count(*) AS n FROM ${table} WHERE ${key} IS NOT NULL${where}`).get(...whereParams) as { n: number }).n);
  const boundary = prepare(db, file, `SELECT ${key} AS k FROM ${table} WHERE ${key} IS NOT NULL${where} ORDER BY ${key} LIMIT 1 OFFSET ?`).pluck();
  const bounds: SqliteKey[] = [];
  for (let i = 1; i < shards; i++) {
    const offset = Math.floor((i * total) / shards) - 1;
    if (offset < 0) continue;
    const value = boundary.get(...whereParams, offset) as SqliteKey | undefined;
    if (value != null && value !== bounds[bounds.length - 1]) bounds.push(value);
  }
  const ranges: KeyRange[] = [];
  let after: SqliteKey | null = null;
  for (const until of bounds) {
    ranges.push({ after, until });
    after = until;
  }
  ranges.push({ after, until: null });
  return ranges;
}
