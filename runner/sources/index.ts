/**
 * 'baton/sources': paginators that hand a page its items and the next page's cursor, for use
 * inside page processors. Each is small and free of engine code, so it bundles with a processor.
 *
 * - sqliteKeyset / keyRanges: keyset pagination over a SQLite table, split into key ranges.
 * - readPage / csvHeader / byteShards: a large lines, JSONL or CSV file by byte offset.
 * - httpCursorPage: an HTTP API that answers `{ items, next }`.
 */
export { SourceError, type SourceErrorCode } from './source-error.js';
export {
  keyRanges,
  quoteIdentifier,
  sqliteKeyset,
  type KeyRange,
  type KeyRangesOptions,
  type KeysetPage,
  type SqliteKey,
  type SqliteKeyset,
  type SqliteKeysetOptions,
} from './sqlite-keyset.js';
export {
  byteShards,
  csvHeader,
  readPage,
  type ByteShard,
  type ByteShardsOptions,
  type FilePage,
  type ReadPageOptions,
  type RecordFormat,
} from './file-pages.js';
export {
  HttpError,
  RateLimitedError,
  errorFromResponse,
  httpCursorPage,
  parseRetryAfter,
  type HttpCursor,
  type HttpCursorOptions,
  type HttpCursorPage,
  type HttpErrorCode,
} from './http-cursor.js';
