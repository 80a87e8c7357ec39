/**
 * Cursor pagination over an HTTP API with the global fetch: `GET url?cursor=C&limit=N` answers
 * `{ items: [...], next: "C2" }`, and `next` is the next page's cursor. Safe to import in a
 * processor bundle: no engine code, no dependencies.
 */
import type { KeySet } from '../known-keys.js';
import { checkSourceOptions, SourceError } from './source-error.js';

export interface HttpCursorOptions {
  /** The list endpoint; its own query parameters are kept. */
  url: string | URL;
  /** Query parameter that carries the cursor (left out when the cursor is null). Default 'cursor'. */
  cursorParam?: string;
  /** Query parameter that carries the page size. Default 'limit'. */
  limitParam?: string;
  /** Where the items are in the JSON body; dots reach into objects ('data.items'). Default 'items'. */
  itemsField?: string;
  /** Where the next cursor is; null, missing or '' ends the chain. Default 'next'. */
  nextField?: string;
  /** Extra request headers, such as authorization. */
  headers?: Record<string, string>;
  /** Pass ctx.signal so a stuck or cancelled page stops waiting. */
  signal?: AbortSignal;
}

/** A cursor an API hands back; it is also the page's JSON cursor. */
export type HttpCursor = string | number;

export interface HttpCursorPage<T> {
  items: T[];
  next: HttpCursor | null;
}

/** Stable codes of HttpError. */
export type HttpErrorCode =
  /** The server answered with a status outside 200-299 (other than 429). */
  | 'HTTP_STATUS'
  /** The server answered 429 Too Many Requests: see RateLimitedError. */
  | 'HTTP_RATE_LIMITED'
  /** The body is not JSON, or holds no array where the items should be. */
  | 'HTTP_BAD_RESPONSE'
  /** No answer came: the host is unknown or unreachable, the connection was refused or reset. */
  | 'HTTP_NETWORK';

/**
 * Thrown when an HTTP call does not give what was expected. Baton retries it like any error;
 * a processor that knows a status is final (say 404) throws NonRetryableError instead.
 */
export class HttpError extends Error {
  override readonly name: string = 'HttpError';
  /**
   * The server's Retry-After in milliseconds (a 429, or a 503 in maintenance), else null. Baton
   * retries a page that throws this error no sooner.
   */
  readonly retryAfterMs: number | null;
  constructor(
    readonly code: HttpErrorCode,
    /** The response status; 0 when there was no usable response. */
    readonly status: number,
    /** The method and URL that failed, such as 'GET http://host/customers?limit=10'. */
    readonly request: string,
    message: string,
    options?: { cause?: unknown; retryAfterMs?: number | null },
  ) {
    super(message, options?.cause === undefined ? undefined : { cause: options.cause });
    this.retryAfterMs = options?.retryAfterMs ?? null;
  }
}

/**
 * Thrown on HTTP 429. `retryAfterMs` is the server's Retry-After in milliseconds, or null when it
 * sent none: wait that long before calling again.
 */
export class RateLimitedError extends HttpError {
  override readonly name = 'RateLimitedError';
  constructor(request: string, retryAfterMs: number | null) {
    super('HTTP_RATE_LIMITED', 429, request, `${request} answered 429 Too Many Requests${retryAfterMs !== null ? `; retry after ${retryAfterMs} ms` : ''}`, { retryAfterMs });
  }
}

/** A Retry-After header (seconds, or an HTTP date) in milliseconds from `now`; null when absent or unreadable. */
export function parseRetryAfter(value: string | null, now = Date.now()): number | null {
  if (value === null || value.trim() === '') return null;
  const trimmed = value.trim();
  if (/^\d+(\.\d+)?$/.test(trimmed)) return Math.round(Number(trimmed) * 1000);
  // Every HTTP-date form holds a time of day. Date.parse alone takes '-1' for the year -1 and
  // '5, 6' for May 6th, both long past: 0 ms, a retry at once, where the value means nothing.
  if (!/\d{1,2}:\d{2}:\d{2}/.test(trimmed)) return null;
  const date = Date.parse(trimmed);
  return Number.isNaN(date) ? null : Math.max(0, date - now);
}

/**
 * The error for a response that is not 2xx: RateLimitedError for 429, else HttpError naming the
 * status, the request and the start of the body, with the Retry-After it sent. Use it for any
 * call, such as a POST per item.
 */
export async function errorFromResponse(response: Response, method: string, url: string | URL): Promise<HttpError> {
  const request = `${method} ${String(url)}`;
  if (response.status === 429) {
    await response.body?.cancel().catch(() => {});
    return new RateLimitedError(request, parseRetryAfter(response.headers.get('retry-after')));
  }
  let body = '';
  try {
    body = (await response.text()).slice(0, 200).trim();
  } catch {
    // The status says enough.
  }
  const statusText = response.statusText ? ` ${response.statusText}` : '';
  // A 503 in maintenance says when to come back, as a 429 does: a retry sooner would fail again.
  const retryAfterMs = parseRetryAfter(response.headers.get('retry-after'));
  const retry = retryAfterMs !== null ? `; retry after ${retryAfterMs} ms` : '';
  return new HttpError('HTTP_STATUS', response.status, request, `${request} answered ${response.status}${statusText}${body ? `: ${body}` : ''}${retry}`, { retryAfterMs });
}

function pick(value: unknown, path: string): unknown {
  let current = value;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

/**
 * fetch's own error says only "fetch failed", with the reason in its cause, and no URL: name
 * the request and the reason, such as "getaddrinfo ENOTFOUND api.example.com".
 */
function networkError(error: unknown, request: string): HttpError {
  const cause = error instanceof Error && error.cause instanceof Error ? error.cause : error;
  const reason = cause instanceof Error ? cause.message : String(cause);
  const code = (cause as { code?: unknown } | null)?.code;
  const shownCode = typeof code === 'string' && !reason.includes(code) ? ` (${code})` : '';
  return new HttpError('HTTP_NETWORK', 0, request, `${request} got no answer: ${reason}${shownCode}; check the URL and that the server is up`, { cause: error });
}

/**
 * The list endpoint as a URL. new URL's own error says only 'Invalid URL', and fetch would take
 * an ftp: URL for a network failure and retry it: both are the option's fault, said once.
 */
function listUrl(value: unknown): URL {
  let url: URL | null = null;
  try {
    url = new URL(value instanceof URL ? value.href : String(value));
  } catch {
    // Said below.
  }
  if (url === null || (url.protocol !== 'http:' && url.protocol !== 'https:')) {
    throw new SourceError('INVALID_OPTION', `url must be an absolute http:// or https:// URL such as 'https://api.example.com/items', got ${JSON.stringify(value instanceof URL ? value.href : value)}`);
  }
  return url;
}

/** The request's headers; a name or value fetch cannot send is the option's fault, not the network's. */
function requestHeaders(extra: Record<string, string> | undefined): Headers {
  try {
    const headers = new Headers(extra);
    if (!headers.has('accept')) headers.set('accept', 'application/json');
    return headers;
  } catch (error) {
    throw new SourceError('INVALID_OPTION', `headers: ${(error as Error).message.replace(/\.$/, '')}; give an object of header names and string values`, { cause: error });
  }
}

/** Fetches the page after `cursor` (the first page when null) with `size` items at most. */
const HTTP_CURSOR_OPTIONS: KeySet<HttpCursorOptions> = { url: true, cursorParam: true, limitParam: true, itemsField: true, nextField: true, headers: true, signal: true };

export async function httpCursorPage<T = unknown>(options: HttpCursorOptions, cursor: HttpCursor | null, size: number): Promise<HttpCursorPage<T>> {
  checkSourceOptions('httpCursorPage', options, HTTP_CURSOR_OPTIONS);
  // As the other sources: a size of 0 would ask for empty pages, and the chain might never end.
  if (typeof size !== 'number' || !Number.isInteger(size) || size < 1) {
    throw new SourceError('INVALID_OPTION', `size must be an integer >= 1, got ${typeof size === 'number' ? String(size) : JSON.stringify(size)}`);
  }
  const url = listUrl(options.url);
  const headers = requestHeaders(options.headers);
  if (cursor !== null && cursor !== undefined) url.searchParams.set(options.cursorParam ?? 'cursor', String(cursor));
  url.searchParams.set(options.limitParam ?? 'limit', String(size));
  const request = `GET ${url.href}`;
  let response: Response;
  try {
    response = await fetch(url, {
      headers,
      ...(options.signal ? { signal: options.signal } : {}),
    });
  } catch (error) {
    // An abort is the page being stopped (timeout, cancel), not the network: it stays as it is.
    if (options.signal?.aborted) throw error;
    throw networkError(error, request);
  }
  if (!response.ok) throw await errorFromResponse(response, 'GET', url.href);
  let body: unknown;
  try {
    body = await response.json();
  } catch (error) {
    throw new HttpError('HTTP_BAD_RESPONSE', response.status, request, `${request} did not answer JSON: ${(error as Error).message}`);
  }
  const itemsField = options.itemsField ?? 'items';
  const items = pick(body, itemsField);
  if (!Array.isArray(items)) {
    throw new HttpError('HTTP_BAD_RESPONSE', response.status, request, `${request} answered no array at '${itemsField}': set itemsField to where the items are`);
  }
  const next = pick(body, options.nextField ?? 'next');
  if (next !== null && next !== undefined && next !== '' && typeof next !== 'string' && typeof next !== 'number') {
    throw new HttpError('HTTP_BAD_RESPONSE', response.status, request, `${request} answered a ${typeof next} at '${options.nextField ?? 'next'}': a cursor must be a string or a number`);
  }
  return { items: items as T[], next: next === undefined || next === null || next === '' ? null : next };
}
