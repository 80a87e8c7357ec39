/**
 * What a page processor imports from 'baton'. Inside a processor bundle this module is inlined
 * (the build aliases 'baton' to it), so it must stay free of the engine and of native modules.
 */
import type { JsonValue } from './json-value.js';

export type { JsonValue } from './json-value.js';

/**
 * A page to run: a JSON cursor and, optionally, how many items it should hold. Cursors and args
 * must be plain JSON; the runner checks at run time and names what is not.
 */
export interface PageSpec<Cursor = JsonValue> {
  cursor: Cursor;
  size?: number;
}

/** What a running page knows about itself. */
export interface PageInfo<Cursor = JsonValue> {
  /** The page's number within its job: unique and at least 1, but not consecutive (threads number their pages' children in blocks). */
  readonly id: number;
  readonly cursor: Cursor;
  readonly size: number | undefined;
  /** 1 on the first attempt, 2 on the first retry, and so on. */
  readonly attempt: number;
}

/** Lines kept with the page's attempt. Values are formatted as `console.log` does, on one line. */
export interface PageLogger {
  info(...values: unknown[]): void;
  warn(...values: unknown[]): void;
  error(...values: unknown[]): void;
}

export interface PageContext<Cursor = JsonValue, Args = JsonValue> {
  readonly jobId: string;
  readonly page: PageInfo<Cursor>;
  readonly args: Args;
  /** Aborted when the page times out, the job is cancelled or the runner stops at once. */
  readonly signal: AbortSignal;
  /**
   * Hands the next page to Baton. Resolves once the page is durably recorded, so a crash after
   * this point cannot lose it. Calling it again with the same cursor and size is a no-op, and a
   * retried attempt's calls match the first attempt's by order, so a chain never forks.
   */
  enqueueNextPage(next: PageSpec<Cursor>): Promise<void>;
  /** Adds to the items this page has done; shown live and summed into the job's items. */
  reportProgress(items: number): void;
  /** Lines kept with this page attempt and shown in `baton status` and the panel. */
  readonly log: PageLogger;
}

export type RetryMode = 'at-least-once' | 'at-most-once';

export interface RetryOptions {
  /** 'at-least-once' (default) retries failed pages; 'at-most-once' never runs a page twice. */
  mode?: RetryMode;
  /** Attempts per page, first included. Default 5. */
  maxAttempts?: number;
  /** Delay before the first retry. Default 200 ms. */
  initialDelayMs?: number;
  /** Each further retry waits this much longer. Default 2. */
  backoffFactor?: number;
  /** Upper bound of the delay. Default 30,000 ms. */
  maxDelayMs?: number;
  /** Error names (error.name) that fail a page at once. NonRetryableError always does. */
  nonRetryable?: string[];
}

/** What `onPageFailed` receives when a page has failed for good. */
export interface PageFailure<Cursor = JsonValue, Args = JsonValue> {
  readonly jobId: string;
  readonly page: PageInfo<Cursor>;
  readonly args: Args;
  readonly error: { name: string; message: string; stack?: string };
}

export interface PageResult {
  /** Items this page did; overrides what reportProgress counted. */
  items?: number;
}

export interface PageProcessorDefinition<Cursor = JsonValue, Args = JsonValue> {
  /** Shown in the CLI and panel. Default: the processor's file name. */
  name?: string;
  /** The first pages; several start several chains. Default: one page with a null cursor. */
  initialPages?: PageSpec<Cursor>[] | ((args: Args) => PageSpec<Cursor>[] | Promise<PageSpec<Cursor>[]>);
  retry?: RetryOptions;
  /** A page running longer is stuck: aborted, recorded and retried. Default 300,000 ms. */
  pageTimeoutMs?: number;
  /** Total items the job will do, for % done and ETA. */
  estimateTotalItems?: (args: Args) => number | Promise<number>;
  run(ctx: PageContext<Cursor, Args>): Promise<PageResult | void> | PageResult | void;
  /** Called once for each page that gives up. */
  onPageFailed?: (failure: PageFailure<Cursor, Args>) => void | Promise<void>;
}

/** Marks a processor definition; the runner checks for it to tell a processor from other exports. */
export const PROCESSOR_MARK = '__batonPageProcessor';

export type PageProcessor<Cursor = JsonValue, Args = JsonValue> =
  PageProcessorDefinition<Cursor, Args> & { readonly [PROCESSOR_MARK]: 1 };

/** Declares a page processor. Export the result as the module's default export. */
export function definePageProcessor<Cursor = JsonValue, Args = JsonValue>(
  definition: PageProcessorDefinition<Cursor, Args>,
): PageProcessor<Cursor, Args> {
  return Object.freeze({ ...definition, [PROCESSOR_MARK]: 1 as const });
}

/**
 * Throw it from a page to fail the page at once, without retries. Recognised by name and by a
 * mark rather than by class, because each processor bundle carries its own copy of this class.
 */
export class NonRetryableError extends Error {
  override readonly name: string = 'NonRetryableError';
  readonly nonRetryable = true;
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}
