/** The one error class of the sources that is not about HTTP (see http-cursor.ts for those). */

import { unknownKeyMessage, type KeySet } from '../known-keys.js';

/** Stable codes of SourceError, safe to match on. */
export type SourceErrorCode =
  /** An option is missing, out of range or of the wrong type. */
  | 'INVALID_OPTION'
  /** A table, key or column name is not a plain SQL identifier. */
  | 'INVALID_IDENTIFIER'
  /** The file to read does not exist or cannot be opened. */
  | 'SOURCE_NOT_FOUND'
  /** A record cannot be parsed (bad JSON line, bad CSV record); `offset` says where it starts. */
  | 'RECORD_PARSE'
  /** One record is longer than `maxRecordBytes`, most often a CSV quote that is never closed. */
  | 'RECORD_TOO_LARGE'
  /** A CSV file has no header row. */
  | 'NO_HEADER';

/**
 * Thrown by the sources when the data or the options are wrong. Running the page again would
 * fail the same way, so it is marked non-retryable: Baton fails the page at once.
 */
export class SourceError extends Error {
  override readonly name = 'SourceError';
  /** Baton fails a page that throws an error with this mark without retrying it. */
  readonly nonRetryable = true;
  /** For RECORD_PARSE and RECORD_TOO_LARGE: the byte offset where the record starts. */
  readonly offset: number | undefined;
  constructor(
    readonly code: SourceErrorCode,
    message: string,
    options?: { cause?: unknown; offset?: number },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.offset = options?.offset;
  }
}

/**
 * Refuses a misspelt option: a `wher` (for `where`) dropped in silence would page through every
 * row of a table, in a job that may write to each. Non-objects pass, for the checks after it.
 */
export function checkSourceOptions<T>(what: string, options: unknown, known: KeySet<T>): void {
  if (typeof options !== 'object' || options === null) return;
  const message = unknownKeyMessage(what, options, known);
  if (message !== null) throw new SourceError('INVALID_OPTION', message);
}
