/**
 * Pipelined pagination through a large file by byte offset. A page reads from its offset only
 * (a bounded chunk, grown while a record is longer), returns up to `size` complete records and
 * the byte offset where the next record starts: that offset is the next page's cursor. So a
 * page costs the same at the end of a 10 GB file as at its start, and nothing is read twice.
 * Safe to import in a processor bundle: no engine code.
 */
import { open, stat, type FileHandle } from 'node:fs/promises';
import { parse as parseCsv } from 'csv-parse/sync';
import type { KeySet } from '../known-keys.js';
import { checkSourceOptions, SourceError } from './source-error.js';

/** 'lines': each line as a string; 'jsonl': each non-blank line through JSON.parse; 'csv': RFC 4180 records. */
export type RecordFormat = 'lines' | 'jsonl' | 'csv';

export interface ReadPageOptions {
  /**
   * Byte offset of the first record: 0, `csvHeader(...).next`, a shard's offset, or a previous
   * page's `next`. An offset inside a record (the byte before it is not a line end) fails the page
   * (INVALID_OPTION) rather than read the record's tail as a record.
   */
  offset: number;
  /** Records to return at most. */
  size: number;
  format: RecordFormat;
  /**
   * Stop before this byte offset, a shard's end. It must be a record start, as byteShards gives:
   * an end inside a record fails the page (INVALID_OPTION) rather than cut the record there.
   * Default: the end of the file.
   */
  end?: number;
  /** CSV: field names; records are then objects rather than arrays of strings. */
  columns?: string[];
  /** CSV: the field delimiter. Default ','. */
  delimiter?: string;
  /** Bytes of the first read; later reads double it. Default 65,536. */
  chunkBytes?: number;
  /** A record longer than this fails the page (a CSV quote never closed would read the whole file). Default 64 MiB. */
  maxRecordBytes?: number;
}

export interface FilePage<R> {
  records: R[];
  /** Byte offset where the next record starts, or null when this page reached the end (or the shard's end). */
  next: number | null;
  /** Bytes this page consumed, from `offset`. */
  bytes: number;
}

/**
 * A byte range of a file for one chain: records that start at or after `offset` and before
 * `end`. A type rather than an interface so that it is a JSON value and can be a page's cursor.
 */
export type ByteShard = {
  offset: number;
  end: number;
};

export interface ByteShardsOptions {
  format: RecordFormat;
  /** Where records start, such as `csvHeader(...).next`. Default 0. */
  start?: number;
  /** Default: the end of the file. */
  end?: number;
}

const NEWLINE = 0x0a;
const QUOTE = 0x22;
const CR = 0x0d;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const MAX_CHUNK = 8 * 1024 * 1024;

function invalid(message: string): never {
  throw new SourceError('INVALID_OPTION', message);
}

/**
 * An optional byte count or offset: left out (or null, as a JSON cursor may carry it), else an
 * integer >= min. A NaN `end` read nothing and handed back its own offset as next, so the chain
 * ended in silence on a repeated cursor; a string was compared as a number.
 */
function checkOptionalInteger(value: unknown, name: string, min: number): void {
  if (value === undefined || value === null) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min) invalid(`${name} must be an integer >= ${min}, got ${shown(value)}`);
}

/** A value as an error message shows it: NaN as NaN, not as JSON's null. */
function shown(value: unknown): string {
  return typeof value === 'number' ? String(value) : JSON.stringify(value) ?? String(value);
}

function checkObject(value: unknown, what: string, example: string): void {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) invalid(`${what} options must be an object such as ${example}, got ${shown(value)}`);
}

function checkReadPageOptions(options: ReadPageOptions): void {
  checkObject(options, 'readPage', "{ offset: 0, size: 100, format: 'lines' }");
  const { offset, size, format, columns, delimiter } = options;
  if (!Number.isInteger(offset) || offset < 0) invalid(`offset must be an integer >= 0, got ${JSON.stringify(offset)}`);
  if (!Number.isInteger(size) || size < 1) invalid(`size must be an integer >= 1, got ${JSON.stringify(size)}`);
  if (format !== 'lines' && format !== 'jsonl' && format !== 'csv') invalid(`format must be 'lines', 'jsonl' or 'csv', got ${JSON.stringify(format)}`);
  checkOptionalInteger(options.end, 'end', 0);
  checkOptionalInteger(options.chunkBytes, 'chunkBytes', 1);
  checkOptionalInteger(options.maxRecordBytes, 'maxRecordBytes', 1);
  if (columns !== undefined && (!Array.isArray(columns) || !columns.every((column) => typeof column === 'string'))) invalid(`columns must be an array of field names, got ${JSON.stringify(columns)}`);
  if (delimiter !== undefined && (typeof delimiter !== 'string' || delimiter === '')) invalid(`delimiter must be a non-empty string such as ';', got ${JSON.stringify(delimiter)}`);
}

/** Opens a file to read, with its size. */
async function openFile(path: string): Promise<{ file: FileHandle; size: number }> {
  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    throw new SourceError('SOURCE_NOT_FOUND', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  // A folder opens, and only its first read fails, with an EISDIR that names no path.
  const stats = await file.stat();
  if (stats.isDirectory()) {
    await file.close();
    throw notAFile(path);
  }
  return { file, size: stats.size };
}

function notAFile(path: string): SourceError {
  return new SourceError('SOURCE_NOT_FOUND', `${path} is a folder: give the path of a file in it`);
}

/**
 * Fails unless `before`, the byte before `offset`, ends a line, or `offset` is just past the
 * file's byte order mark. It cannot see a newline inside a CSV quote, which passes; a chain's own
 * offsets (each page's `next`) always pass.
 */
async function checkRecordStart(file: FileHandle, path: string, offset: number, before: number | undefined): Promise<void> {
  if (before === NEWLINE) return;
  if (offset === BOM.length) {
    const head = Buffer.alloc(BOM.length);
    await file.read(head, 0, head.length, 0);
    if (head.equals(BOM)) return;
  }
  invalid(`${path}: offset ${offset} is inside a record (the byte before it does not end a line): start at 0, at csvHeader(...).next, at an offset byteShards(...) gives or at a page's next`);
}

/** True when bytes [from, to) hold only a line end or nothing. */
function isBlank(buffer: Buffer, from: number, to: number): boolean {
  for (let i = from; i < to; i++) {
    const byte = buffer[i];
    if (byte !== NEWLINE && byte !== CR && byte !== 0x20 && byte !== 0x09) return false;
  }
  return true;
}

/**
 * Reads up to `size` records starting at byte `offset`. CSV record boundaries are found with a
 * quote-aware scan, so a quoted field may hold newlines; lines may end in LF or CRLF, and the
 * last one needs no line end. Blank lines are skipped in 'jsonl' and 'csv' (not counted), kept
 * as '' in 'lines'. A UTF-8 byte order mark at offset 0 is skipped.
 */
const READ_PAGE_OPTIONS: KeySet<ReadPageOptions> = { offset: true, size: true, format: true, end: true, columns: true, delimiter: true, chunkBytes: true, maxRecordBytes: true };
const BYTE_SHARDS_OPTIONS: KeySet<ByteShardsOptions> = { format: true, start: true, end: true };

export async function readPage<R = unknown>(path: string, options: ReadPageOptions): Promise<FilePage<R>> {
  checkSourceOptions('readPage', options, READ_PAGE_OPTIONS);
  checkReadPageOptions(options);
  const { offset, size, format } = options;
  const maxRecordBytes = options.maxRecordBytes ?? 64 * 1024 * 1024;
  const csv = format === 'csv';
  const { file, size: fileSize } = await openFile(path);
  try {
    const limit = Math.min(options.end ?? fileSize, fileSize);
    // The first read takes the byte before a non-zero offset too, to check that it ends a line.
    let lead = offset > 0 && offset < limit ? 1 : 0;
    let buffer = Buffer.alloc(0);
    let position = offset;
    let chunk = Math.max(1, options.chunkBytes ?? 65_536);
    // Scan state: `scanned` bytes of `buffer` seen, `start` where the current record begins.
    let scanned = 0;
    let start = 0;
    let inQuotes = false;
    let bomChecked = offset !== 0;
    const records: [number, number][] = [];
    while (records.length < size && position < limit) {
      const piece = Buffer.allocUnsafe(Math.min(chunk, limit - position) + lead);
      const { bytesRead } = await file.read(piece, 0, piece.length, position - lead);
      if (lead === 1) await checkRecordStart(file, path, offset, bytesRead > 0 ? piece[0] : undefined);
      const read = piece.subarray(lead, Math.max(lead, bytesRead));
      lead = 0;
      if (read.length === 0) break;
      buffer = buffer.length === 0 ? read : Buffer.concat([buffer, read]);
      position += read.length;
      chunk = Math.min(chunk * 2, MAX_CHUNK);
      // A BOM holds no newline or quote, so the scan so far cannot have moved `start` past it.
      if (!bomChecked && (buffer.length >= 3 || position >= limit)) {
        bomChecked = true;
        if (buffer.subarray(0, 3).equals(BOM)) {
          start = 3;
          scanned = Math.max(scanned, 3);
        }
      }
      for (; scanned < buffer.length && records.length < size; scanned++) {
        const byte = buffer[scanned];
        if (csv && byte === QUOTE) inQuotes = !inQuotes;
        else if (byte === NEWLINE && !inQuotes) {
          if (format === 'lines' || !isBlank(buffer, start, scanned + 1)) records.push([start, scanned + 1]);
          start = scanned + 1;
        }
      }
      if (buffer.length - start > maxRecordBytes) {
        throw new SourceError('RECORD_TOO_LARGE', `${path}: the record at byte offset ${offset + start} is longer than ${maxRecordBytes} bytes${csv && inQuotes ? ' (a CSV quote that is never closed?)' : ''}; raise maxRecordBytes if it is meant to be`, { offset: offset + start });
      }
    }
    // The last record of the file (or range) needs no line end.
    if (records.length < size && position >= limit && start < buffer.length) {
      // Only the file's last record: one that runs on past a shard's end would be cut there.
      if (limit < fileSize && (buffer[buffer.length - 1] !== NEWLINE || inQuotes)) {
        invalid(`${path}: end ${limit} is inside the record that starts at byte offset ${offset + start}: end a range at a record start, as byteShards(...) gives`);
      }
      if (format === 'lines' || !isBlank(buffer, start, buffer.length)) records.push([start, buffer.length]);
      start = buffer.length;
    }
    const next = offset + start >= limit ? null : offset + start;
    return { records: parseRecords<R>(path, buffer, records, offset, options), next, bytes: start };
  } finally {
    await file.close();
  }
}

function parseRecords<R>(path: string, buffer: Buffer, records: [number, number][], offset: number, options: ReadPageOptions): R[] {
  if (records.length === 0) return [];
  switch (options.format) {
    case 'lines':
      return records.map(([from, to]) => buffer.toString('utf8', from, trimLineEnd(buffer, from, to)) as R);
    case 'jsonl':
      return records.map(([from, to]) => {
        try {
          return JSON.parse(buffer.toString('utf8', from, to)) as R;
        } catch (error) {
          throw new SourceError('RECORD_PARSE', `${path}: the line at byte offset ${offset + from} is not valid JSON: ${(error as Error).message}`, { cause: error, offset: offset + from });
        }
      });
    case 'csv': {
      const first = records[0]![0];
      const last = records[records.length - 1]![1];
      try {
        return parseCsvText<R>(buffer.toString('utf8', first, last), options);
      } catch {
        // Parse record by record to name the one at fault.
        for (const [from, to] of records) {
          try {
            parseCsvText(buffer.toString('utf8', from, to), options);
          } catch (error) {
            throw new SourceError('RECORD_PARSE', `${path}: the CSV record at byte offset ${offset + from} cannot be parsed: ${(error as Error).message}`, { cause: error, offset: offset + from });
          }
        }
        throw new SourceError('RECORD_PARSE', `${path}: the CSV records from byte offset ${offset + first} cannot be parsed`, { offset: offset + first });
      }
    }
  }
}

function trimLineEnd(buffer: Buffer, from: number, to: number): number {
  if (to > from && buffer[to - 1] === NEWLINE) to--;
  if (to > from && buffer[to - 1] === CR) to--;
  return to;
}

function parseCsvText<R>(text: string, options: Pick<ReadPageOptions, 'columns' | 'delimiter'>): R[] {
  return parseCsv(text, {
    columns: options.columns ?? false,
    delimiter: options.delimiter ?? ',',
    skip_empty_lines: true,
  }) as R[];
}

/** A CSV file's header row, and the byte offset of the first data record (the first page's offset). */
export async function csvHeader(path: string, options: { delimiter?: string } = {}): Promise<{ columns: string[]; next: number }> {
  checkSourceOptions('csvHeader', options, { delimiter: true });
  const page = await readPage<string[]>(path, { offset: 0, size: 1, format: 'csv', ...(options.delimiter ? { delimiter: options.delimiter } : {}) });
  const columns = page.records[0];
  if (!columns) throw new SourceError('NO_HEADER', `${path} is empty: a CSV file needs a header row naming its columns`);
  return { columns, next: page.next ?? page.bytes };
}

/**
 * Splits a file into up to `shards` byte ranges of about equal size, each starting at a record
 * start, for several chains: give each page of a chain its shard's `end`. Lines and JSONL read a
 * few bytes at each boundary; CSV scans the file once, since only a scan from a known record
 * start can tell a newline inside quotes from a record end. Always returns at least one range.
 */
export async function byteShards(path: string, shards: number, options: ByteShardsOptions): Promise<ByteShard[]> {
  checkSourceOptions('byteShards', options, BYTE_SHARDS_OPTIONS);
  if (!Number.isInteger(shards) || shards < 1) invalid(`shards must be an integer >= 1, got ${JSON.stringify(shards)}`);
  checkObject(options, 'byteShards', "{ format: 'lines' }");
  if (options.format !== 'lines' && options.format !== 'jsonl' && options.format !== 'csv') invalid(`format must be 'lines', 'jsonl' or 'csv', got ${JSON.stringify(options.format)}`);
  checkOptionalInteger(options.start, 'start', 0);
  checkOptionalInteger(options.end, 'end', 0);
  const start = options.start ?? 0;
  let fileSize: number;
  try {
    const found = await stat(path);
    if (found.isDirectory()) throw notAFile(path);
    fileSize = found.size;
  } catch (error) {
    if (error instanceof SourceError) throw error;
    throw new SourceError('SOURCE_NOT_FOUND', `cannot open ${path}: ${(error as Error).message}`, { cause: error });
  }
  const end = Math.min(options.end ?? fileSize, fileSize);
  const targets: number[] = [];
  for (let i = 1; i < shards; i++) targets.push(start + Math.floor((i * (end - start)) / shards));
  const aligned = options.format === 'csv' ? await alignCsv(path, start, end, targets) : await alignLines(path, end, targets);
  const bounds = [start, ...aligned, end];
  const ranges: ByteShard[] = [];
  for (let i = 0; i + 1 < bounds.length; i++) {
    if (bounds[i + 1]! > bounds[i]!) ranges.push({ offset: bounds[i]!, end: bounds[i + 1]! });
  }
  return ranges.length > 0 ? ranges : [{ offset: start, end: Math.max(start, end) }];
}

/** The first record start at or after each target: the byte after the first newline at or after target - 1. */
async function alignLines(path: string, end: number, targets: number[]): Promise<number[]> {
  const { file } = await openFile(path);
  try {
    const out: number[] = [];
    const piece = Buffer.allocUnsafe(65_536);
    for (const target of targets) {
      let position = Math.max(0, target - 1);
      let found = end;
      while (position < end) {
        const { bytesRead } = await file.read(piece, 0, Math.min(piece.length, end - position), position);
        if (bytesRead === 0) break;
        const at = piece.subarray(0, bytesRead).indexOf(NEWLINE);
        if (at >= 0) {
          found = Math.max(target, position + at + 1);
          break;
        }
        position += bytesRead;
      }
      out.push(Math.min(found, end));
    }
    return out;
  } finally {
    await file.close();
  }
}

/** Like alignLines, with a quote-aware scan of the whole range from `start` (a record start). */
async function alignCsv(path: string, start: number, end: number, targets: number[]): Promise<number[]> {
  const out: number[] = [];
  if (targets.length === 0) return out;
  const { file } = await openFile(path);
  try {
    const piece = Buffer.allocUnsafe(1024 * 1024);
    let position = start;
    let inQuotes = false;
    let pending = 0;
    while (position < end && pending < targets.length) {
      const { bytesRead } = await file.read(piece, 0, Math.min(piece.length, end - position), position);
      if (bytesRead === 0) break;
      for (let i = 0; i < bytesRead && pending < targets.length; i++) {
        const byte = piece[i];
        if (byte === QUOTE) inQuotes = !inQuotes;
        else if (byte === NEWLINE && !inQuotes) {
          const recordStart = position + i + 1;
          while (pending < targets.length && targets[pending]! <= recordStart) {
            out.push(recordStart);
            pending++;
          }
        }
      }
      position += bytesRead;
    }
    while (out.length < targets.length) out.push(end);
    return out;
  } finally {
    await file.close();
  }
}
