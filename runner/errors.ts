/**
 * Every error Baton raises on purpose. `code` is stable and safe to match on; `message` names
 * the problem and the fix in one line.
 */
export type BatonErrorCode =
  /** The processor file does not exist. */
  | 'PROCESSOR_NOT_FOUND'
  /** esbuild could not bundle the processor (syntax error, unresolved import). */
  | 'PROCESSOR_BUILD_FAILED'
  /** The processor module threw while loading, or its default export is not a page processor. */
  | 'PROCESSOR_INVALID'
  /** A cursor, size or args value is not plain JSON. */
  | 'INVALID_JSON_VALUE'
  /** An option passed to the API or CLI is out of range or of the wrong type. */
  | 'INVALID_OPTION'
  /** No job with that id exists in the database. */
  | 'JOB_NOT_FOUND'
  /** The job is being run by another live process. */
  | 'JOB_LOCKED'
  /** `jobId` names an unfinished job started with another processor or other args. */
  | 'JOB_MISMATCH'
  /** The job has ended in a way that cannot be resumed (cancelled, or finished). */
  | 'JOB_FINISHED'
  /** retryFailed of a job that another process runs and that has no failed page: nothing to ask it. */
  | 'NO_FAILED_PAGES'
  /** The database file is not SQLite, is damaged, or belongs to another program. */
  | 'DB_CORRUPT'
  /** Another process holds a write lock on the database for longer than the busy timeout. */
  | 'DB_LOCKED'
  /** The database was written by a newer Baton. */
  | 'DB_SCHEMA_NEWER'
  /** A call on a Baton after close() (or a new run while it closes). */
  | 'BATON_CLOSED'
  /** An attempt that Baton already gave up on (timed out) tried to enqueue a page. */
  | 'STALE_ATTEMPT';

/** A place in the user's code: an absolute path, a line and a column (both from 1). */
export interface SourceLocation {
  file: string;
  line: number;
  column: number;
}

export class BatonError extends Error {
  override readonly name = 'BatonError';
  /**
   * Where in the user's code the problem is, when Baton knows (a processor that does not build or
   * load). Absent otherwise: not even an undefined property in what a crash prints.
   */
  declare readonly location?: SourceLocation;
  constructor(
    readonly code: BatonErrorCode,
    message: string,
    options?: { cause?: unknown; location?: SourceLocation | null },
  ) {
    super(message, options);
    if (options?.location) Object.defineProperty(this, 'location', { value: options.location, enumerable: true });
  }
}

/** True for errors raised by Baton with the given code. */
export function isBatonError(error: unknown, code?: BatonErrorCode): error is BatonError {
  return error instanceof Error && error.name === 'BatonError' && (code === undefined || (error as BatonError).code === code);
}

/** The plain form of an error that crosses a thread or process boundary. */
export interface SerializedError {
  name: string;
  message: string;
  stack?: string;
  code?: string;
  /** How long the error asks to wait before a retry, such as a 429's Retry-After (RateLimitedError). */
  retryAfterMs?: number;
}

export function serializeError(error: unknown): SerializedError {
  if (error instanceof Error) {
    const { code, retryAfterMs } = error as { code?: unknown; retryAfterMs?: unknown };
    return {
      name: error.name,
      message: error.message,
      ...(error.stack !== undefined ? { stack: error.stack } : {}),
      ...(typeof code === 'string' ? { code } : {}),
      ...(typeof retryAfterMs === 'number' && Number.isFinite(retryAfterMs) && retryAfterMs > 0 ? { retryAfterMs } : {}),
    };
  }
  return { name: 'Error', message: `non-Error value thrown: ${describeThrown(error)}` };
}

function describeThrown(value: unknown): string {
  try {
    return typeof value === 'string' ? JSON.stringify(value) : String(JSON.stringify(value) ?? value);
  } catch {
    return String(value);
  }
}
