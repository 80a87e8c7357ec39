import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HttpError, RateLimitedError, SourceError, httpCursorPage, parseRetryAfter } from '../../runner/sources/index.js';

let server: Server | undefined;
afterEach(async () => {
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve) ?? resolve(undefined));
  server = undefined;
});

/** A real HTTP server on 127.0.0.1 and a random port; returns its base URL. */
async function serve(handler: (request: IncomingMessage, response: ServerResponse, url: URL) => void): Promise<string> {
  server = createServer((request, response) => handler(request, response, new URL(request.url!, 'http://127.0.0.1')));
  await new Promise<void>((resolve) => server!.listen(0, '127.0.0.1', resolve));
  return `http://127.0.0.1:${(server!.address() as AddressInfo).port}`;
}

function json(response: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  response.writeHead(status, { 'content-type': 'application/json', ...headers });
  response.end(JSON.stringify(body));
}

describe('httpCursorPage', () => {
  it('follows the cursors a list endpoint hands back, passing the page size', async () => {
    const ids = Array.from({ length: 23 }, (_, i) => i + 1);
    const seen: string[] = [];
    const base = await serve((request, response, url) => {
      seen.push(url.search);
      const after = Number(url.searchParams.get('cursor') ?? 0);
      const limit = Number(url.searchParams.get('limit'));
      const items = ids.filter((id) => id > after).slice(0, limit).map((id) => ({ id }));
      const last = items.at(-1)?.id;
      json(response, 200, { items, next: last !== undefined && last < ids.length ? String(last) : null });
    });
    const got: number[] = [];
    let cursor: string | number | null = null;
    do {
      const page: Awaited<ReturnType<typeof httpCursorPage<{ id: number }>>> = await httpCursorPage<{ id: number }>({ url: `${base}/customers?region=eu` }, cursor, 10);
      got.push(...page.items.map((item) => item.id));
      cursor = page.next;
    } while (cursor !== null);
    expect(got).toEqual(ids);
    expect(seen).toEqual(['?region=eu&limit=10', '?region=eu&cursor=10&limit=10', '?region=eu&cursor=20&limit=10']);
  });

  it('takes other parameter and field names, dotted paths and headers', async () => {
    let authorization: string | undefined;
    const base = await serve((request, response, url) => {
      authorization = request.headers.authorization;
      json(response, 200, { data: { rows: [url.searchParams.get('after'), url.searchParams.get('per_page')] }, meta: { cursor: 42 } });
    });
    const page = await httpCursorPage(
      { url: base, cursorParam: 'after', limitParam: 'per_page', itemsField: 'data.rows', nextField: 'meta.cursor', headers: { authorization: 'Bearer t0ken' } },
      'abc',
      5,
    );
    expect(page).toEqual({ items: ['abc', '5'], next: 42 });
    expect(authorization).toBe('Bearer t0ken');
  });

  it('fails with the status and URL when the server answers an error', async () => {
    const base = await serve((_request, response) => json(response, 404, { error: 'no such list' }));
    const error = await httpCursorPage({ url: `${base}/missing` }, null, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 404, request: `GET ${base}/missing?limit=3` });
    expect((error as Error).message).toBe(`GET ${base}/missing?limit=3 answered 404 Not Found: {"error":"no such list"}`);
  });

  it('fails with RateLimitedError carrying Retry-After on 429', async () => {
    let retryAfter = '2';
    const base = await serve((_request, response) => json(response, 429, {}, { 'retry-after': retryAfter }));
    const error = await httpCursorPage({ url: base }, 'c1', 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RateLimitedError);
    expect(error).toMatchObject({ name: 'RateLimitedError', code: 'HTTP_RATE_LIMITED', status: 429, retryAfterMs: 2000 });
    expect((error as Error).message).toMatch(/answered 429 Too Many Requests; retry after 2000 ms$/);
    retryAfter = new Date(Date.now() + 60_000).toUTCString();
    const dated = (await httpCursorPage({ url: base }, null, 3).catch((e: unknown) => e)) as RateLimitedError;
    expect(dated.retryAfterMs).toBeGreaterThan(55_000);
    expect(dated.retryAfterMs).toBeLessThanOrEqual(60_000);
  });

  it('carries the Retry-After of another status, such as a 503 in maintenance, so the retry waits as asked', async () => {
    let calls = 0;
    const base = await serve((_request, response) => (++calls === 1 ? json(response, 503, { error: 'maintenance' }, { 'retry-after': '7' }) : json(response, 500, {})));
    const error = await httpCursorPage({ url: base }, null, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ code: 'HTTP_STATUS', status: 503, retryAfterMs: 7000 });
    expect((error as Error).message).toBe(`GET ${base}/?limit=3 answered 503 Service Unavailable: {"error":"maintenance"}; retry after 7000 ms`);
    const plain = await httpCursorPage({ url: base }, null, 3).catch((e: unknown) => e);
    expect(plain).toMatchObject({ status: 500, retryAfterMs: null });
  });

  it('says where the items were expected when the body has none', async () => {
    const base = await serve((_request, response) => json(response, 200, { results: [] }));
    await expect(httpCursorPage({ url: base }, null, 3)).rejects.toMatchObject({ code: 'HTTP_BAD_RESPONSE', message: expect.stringMatching(/answered no array at 'items'/) });
  });

  it('says so when the body is not JSON', async () => {
    const base = await serve((_request, response) => response.end('<html>oops</html>'));
    await expect(httpCursorPage({ url: base }, null, 3)).rejects.toMatchObject({ code: 'HTTP_BAD_RESPONSE', message: expect.stringMatching(/did not answer JSON/) });
  });

  it('fails with HttpError naming the URL and the cause when no answer comes (connection refused)', async () => {
    // A port that was listening a moment ago and is closed now: nothing answers there.
    const base = await serve(() => {});
    await new Promise((resolve) => server!.close(resolve));
    server = undefined;
    const error = await httpCursorPage({ url: `${base}/customers` }, 'c1', 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HttpError);
    expect(error).toMatchObject({ name: 'HttpError', code: 'HTTP_NETWORK', status: 0, request: `GET ${base}/customers?cursor=c1&limit=3` });
    expect((error as Error).message).toMatch(new RegExp(`^GET ${base}/customers\\?cursor=c1&limit=3 got no answer: .*ECONNREFUSED.*; check the URL and that the server is up$`));
    expect((error as Error).cause).toBeInstanceOf(TypeError);
  });

  it('fails with HttpError naming the host when it cannot be resolved', async () => {
    // .invalid never resolves (RFC 2606).
    const error = await httpCursorPage({ url: 'http://baton-test.invalid/items' }, null, 3).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'HTTP_NETWORK', status: 0, message: expect.stringMatching(/^GET http:\/\/baton-test\.invalid\/items\?limit=3 got no answer: .*baton-test\.invalid/) });
  });

  it.each([0, -1, 1.5, Number.NaN])('refuses a page size of %s with INVALID_OPTION, as the other sources do, and sends nothing', async (size) => {
    let requests = 0;
    const base = await serve((_request, response) => {
      requests++;
      json(response, 200, { items: [] });
    });
    const error = await httpCursorPage({ url: base }, null, size).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message: `size must be an integer >= 1, got ${size}` });
    expect(requests).toBe(0);
  });

  it('refuses a misspelt option before sending anything', async () => {
    let requests = 0;
    const base = await serve((_request, response) => {
      requests++;
      json(response, 200, { items: [] });
    });
    const error = await httpCursorPage({ url: base, itemField: 'data' } as never, null, 3).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^httpCursorPage has no option "itemField": the options are url, cursorParam, limitParam, itemsField, /) });
    expect(requests).toBe(0);
  });

  it('refuses a url that is not an absolute http(s) URL and a header fetch cannot send, naming the option, where a bare "Invalid URL" came through or the network was blamed', async () => {
    await expect(httpCursorPage({ url: 'api.example.com/items' }, null, 3)).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: "url must be an absolute http:// or https:// URL such as 'https://api.example.com/items', got \"api.example.com/items\"",
    });
    await expect(httpCursorPage({ url: 'ftp://127.0.0.1/items' }, null, 3)).rejects.toThrow(/^url must be an absolute http:\/\/ or https:\/\/ URL .*, got "ftp:\/\/127\.0\.0\.1\/items"$/);
    const error = await httpCursorPage({ url: 'http://127.0.0.1:1/items', headers: { 'x api key': 'k' } }, null, 3).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(SourceError);
    expect(error).toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^headers: .*"x api key" is an invalid header name; give an object of header names and string values$/) });
  });

  it('sends accept: application/json unless the headers say otherwise', async () => {
    const seen: (string | undefined)[] = [];
    const base = await serve((request, response) => {
      seen.push(request.headers.accept);
      json(response, 200, { items: [] });
    });
    await httpCursorPage({ url: base }, null, 1);
    await httpCursorPage({ url: base, headers: { Accept: 'application/vnd.api+json' } }, null, 1);
    expect(seen).toEqual(['application/json', 'application/vnd.api+json']);
  });

  it('stops waiting when the signal aborts', async () => {
    const base = await serve(() => {
      // Never answers.
    });
    const controller = new AbortController();
    setTimeout(() => controller.abort(new DOMException('page timed out', 'AbortError')), 50);
    await expect(httpCursorPage({ url: base, signal: controller.signal }, null, 3)).rejects.toMatchObject({ name: 'AbortError' });
  });
});

describe('parseRetryAfter', () => {
  it('reads seconds and HTTP dates, and null for nothing usable', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(parseRetryAfter('3', now)).toBe(3000);
    expect(parseRetryAfter('0.5', now)).toBe(500);
    expect(parseRetryAfter('Wed, 25 Nov 2026 10:00:10 GMT', now)).toBe(10_000);
    expect(parseRetryAfter('Wed, 25 Nov 2026 09:00:00 GMT', now)).toBe(0);
    expect(parseRetryAfter(null, now)).toBeNull();
    expect(parseRetryAfter('soon', now)).toBeNull();
  });

  it('reads the other HTTP-date forms, and null for a value Date.parse would take for a date long past', () => {
    const now = Date.parse('2026-11-25T10:00:00Z');
    expect(parseRetryAfter('Wednesday, 25-Nov-26 10:00:20 GMT', now)).toBe(20_000);
    expect(parseRetryAfter('-1', now)).toBeNull();
    expect(parseRetryAfter('5, 6', now)).toBeNull();
    expect(parseRetryAfter('2026-11-25', now)).toBeNull();
  });
});
