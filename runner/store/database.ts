/**
 * Opens Baton's SQLite file: WAL, the durability asked for, the schema, and errors that say
 * what is wrong with the file and what to do. Nothing here ever deletes or rewrites a file that
 * is not already a Baton database.
 */
import { mkdirSync, statSync, type Stats } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import Database from 'better-sqlite3';
import { BatonError } from '../errors.js';
import { OTHER_DATABASE_FIX } from '../protocol.js';
import { MIGRATIONS, SCHEMA, SCHEMA_VERSION } from './schema.js';

export type SqliteDatabase = Database.Database;

/** 'normal' survives any crash of the process; 'full' also survives a power cut. */
export type Durability = 'normal' | 'full';

export interface OpenDatabaseOptions {
  /** Default 'normal' (synchronous = NORMAL in WAL mode). */
  durability?: Durability;
  /** How long to wait for another process's write lock. Default 5000 ms. */
  busyTimeoutMs?: number;
}

/** SQLite's `synchronous` setting of a connection, as another connection to the file should set it. */
export function synchronousOf(db: SqliteDatabase): 'NORMAL' | 'FULL' {
  return db.pragma('synchronous', { simple: true }) === 2 ? 'FULL' : 'NORMAL';
}

/** The path as the user would type it, for messages. */
export function shownPath(file: string): string {
  const rel = relative(process.cwd(), file);
  return rel && !rel.startsWith('..') ? rel : file;
}

/** A shell word as the user would type it. */
export function quoteArg(text: string): string {
  return /^[A-Za-z0-9._/:@=+-]+$/.test(text) ? text : `'${text.replace(/'/g, `'\\''`)}'`;
}

/** How messages name a database: the file, and what a suggested command adds to act on it. */
export interface DatabaseLabel {
  /** The file as the user would type it, or 'this database'. */
  shown: string;
  /** ' --db <file>', or '' for the default file (a command without --db already uses it). */
  flag: string;
}

/** Turns SQLite's error codes into BatonErrors that name the file and the fix. */
export function translateSqliteError(error: unknown, file: string): unknown {
  const code = (error as { code?: unknown }).code;
  if (typeof code !== 'string') return error;
  const shown = shownPath(file);
  if (code === 'SQLITE_NOTADB' || code.startsWith('SQLITE_CORRUPT')) {
    return new BatonError(
      'DB_CORRUPT',
      `${shown} is not a usable SQLite database (${(error as Error).message}): move it aside or ${OTHER_DATABASE_FIX} another file; Baton has not changed it`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_BUSY') || code.startsWith('SQLITE_LOCKED')) {
    return new BatonError(
      'DB_LOCKED',
      `${shown} is locked by another process: close the program holding a write transaction on it, or ${OTHER_DATABASE_FIX} another file`,
      { cause: error },
    );
  }
  if (code.startsWith('SQLITE_IOERR')) {
    return new BatonError('DB_CORRUPT', `${shown} cannot be read or written (${(error as Error).message}): check the disk and the file, or ${OTHER_DATABASE_FIX} another file`, {
      cause: error,
    });
  }
  if (code.startsWith('SQLITE_CANTOPEN') || code.startsWith('SQLITE_READONLY') || code.startsWith('SQLITE_PERM')) {
    return new BatonError('DB_CORRUPT', `${shown} cannot be opened for writing (${(error as Error).message}): check the folder exists and is writable, or ${OTHER_DATABASE_FIX} another file`, {
      cause: error,
    });
  }
  return error;
}

/**
 * What the WAL file is cut back to when it starts over (SQLite keeps it at its largest
 * otherwise): no-op pages write about 200 MB of it in the second before the scheduler saturates
 * and checkpoints for itself. Set on every connection that writes, since whichever one starts
 * the WAL over cuts it.
 */
export const WAL_SIZE_LIMIT = 64 * 2 ** 20;

export function openDatabase(path: string, options: OpenDatabaseOptions = {}): SqliteDatabase {
  const file = resolve(path);
  checkPlace(file);
  try {
    mkdirSync(dirname(file), { recursive: true });
  } catch (error) {
    throw fileSystemError(error, file);
  }
  let db: SqliteDatabase | undefined;
  try {
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    // Look before writing anything: a file of another program must stay exactly as it is.
    const version = checkOwnership(db, file);
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${options.durability === 'full' ? 'FULL' : 'NORMAL'}`);
    db.pragma(`journal_size_limit = ${WAL_SIZE_LIMIT}`);
    if (version === 0) createSchema(db);
    else if (version < SCHEMA_VERSION) migrate(db);
    return db;
  } catch (error) {
    db?.close();
    throw translateSqliteError(error, file);
  }
}

/** A folder, a device or a path through a file cannot hold a database: say which before SQLite does. */
function checkPlace(file: string): void {
  let stat: Stats | undefined;
  try {
    stat = statSync(file, { throwIfNoEntry: false });
  } catch (error) {
    throw fileSystemError(error, file);
  }
  if (stat?.isDirectory()) {
    throw new BatonError('DB_CORRUPT', `${shownPath(file)} is a folder, not a database file: ${OTHER_DATABASE_FIX} a file's path, such as ${shownPath(join(file, 'baton.db'))}`);
  }
  if (stat && !stat.isFile()) {
    throw new BatonError('DB_CORRUPT', `${shownPath(file)} is not a regular file (a device, pipe or socket): ${OTHER_DATABASE_FIX} a file's path, such as .baton/baton.db`);
  }
}

/** Node's error for the database's path (ENOTDIR, EACCES…) as one line that names the file and the fix. */
function fileSystemError(error: unknown, file: string): unknown {
  const code = (error as NodeJS.ErrnoException).code;
  if (typeof code !== 'string') return error;
  const blocker = fileOnPath(file);
  if (blocker !== undefined) {
    return new BatonError('DB_CORRUPT', `${shownPath(file)} cannot be created: ${shownPath(blocker)} is a file, not a folder; ${OTHER_DATABASE_FIX} a path under a folder`, { cause: error });
  }
  return new BatonError('DB_CORRUPT', `${shownPath(file)} cannot be opened (${(error as Error).message}): check its folder exists and is writable, or ${OTHER_DATABASE_FIX} another file`, {
    cause: error,
  });
}

/** The file that stands where a folder of the path should be, if any. */
function fileOnPath(file: string): string | undefined {
  for (let dir = dirname(file); dir !== dirname(dir); dir = dirname(dir)) {
    try {
      if (statSync(dir, { throwIfNoEntry: false })?.isFile()) return dir;
    } catch {
      // ENOTDIR: the file is higher up.
    }
  }
  return undefined;
}

/** The schema version of a Baton file, 0 for an empty file; throws for a file not Baton's. */
function checkOwnership(db: SqliteDatabase, file: string): number {
  const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").pluck().all() as string[]).filter((name) => !name.startsWith('sqlite_'));
  if (tables.length === 0) return 0;
  if (!tables.includes('baton_meta')) {
    throw new BatonError(
      'DB_CORRUPT',
      `${shownPath(file)} is a SQLite database of another program (tables: ${tables.slice(0, 5).join(', ')}): ${OTHER_DATABASE_FIX} a file of Baton's own; Baton has not changed it`,
    );
  }
  const version = Number(db.prepare("SELECT value FROM baton_meta WHERE key = 'schema_version'").pluck().get());
  if (version > SCHEMA_VERSION) {
    throw new BatonError('DB_SCHEMA_NEWER', `${shownPath(file)} was written by a newer Baton (schema ${version}, this one reads ${SCHEMA_VERSION}): upgrade baton`);
  }
  return version;
}

function migrate(db: SqliteDatabase): void {
  db.transaction(() => {
    // Read again under the write lock: another process may have migrated meanwhile.
    let version = Number(db.prepare("SELECT value FROM baton_meta WHERE key = 'schema_version'").pluck().get());
    while (version < SCHEMA_VERSION) {
      version++;
      db.exec(MIGRATIONS[version] ?? '');
      db.prepare("UPDATE baton_meta SET value = ? WHERE key = 'schema_version'").run(String(version));
    }
  }).immediate();
}

function createSchema(db: SqliteDatabase): void {
  db.transaction(() => {
    // Another process may have created it since we looked.
    if (db.prepare("SELECT 1 FROM sqlite_master WHERE name = 'baton_meta'").get()) return;
    db.exec(SCHEMA);
    db.prepare("INSERT INTO baton_meta (key, value) VALUES ('schema_version', ?)").run(String(SCHEMA_VERSION));
  }).immediate();
}
