// api-calls: notifies every customer of an HTTP API, one POST per customer, under a rate limit
// (`baton run ... --rate 200` caps items per second across the whole job).
//
// Each page fetches `size` customers from the cursor-paginated list, hands the next cursor to
// Baton at once (the next page starts on another slot while this one calls), then calls
// notify for each of its customers. A 429 waits for the server's Retry-After and calls again,
// a few times, then fails the page so Baton retries it with backoff; any other 4xx will not
// pass by retrying, so it fails the page for good (NonRetryableError); a 5xx is retried.
import { definePageProcessor, NonRetryableError } from 'baton';
import { RateLimitedError, errorFromResponse, httpCursorPage, type HttpCursor } from 'baton/sources';

type Args = {
  /** The API, such as http://127.0.0.1:8080 (run.mjs starts one). */
  baseUrl: string;
  /** Customers per page. Default 20: with --rate, a page is charged its size when it starts. */
  size?: number;
  /** Calls of one notify after a 429 before the page gives up. Default 3. */
  maxCallsOn429?: number;
};

type Customer = { id: number; name: string; email: string };

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

async function notify(args: Args, customer: Customer, jobId: string, signal: AbortSignal): Promise<void> {
  const url = `${args.baseUrl}/customers/${encodeURIComponent(customer.id)}/notify`;
  for (let call = 1; ; call++) {
    const response = await fetch(url, {
      method: 'POST',
      signal,
      // Lets the API drop a repeat should a retried page call again.
      headers: { 'content-type': 'application/json', 'idempotency-key': `${jobId}:${customer.id}` },
      body: JSON.stringify({ template: 'price-change', email: customer.email }),
    });
    if (response.ok) {
      await response.body?.cancel();
      return;
    }
    const error = await errorFromResponse(response, 'POST', url);
    if (error instanceof RateLimitedError) {
      if (call >= (args.maxCallsOn429 ?? 3)) throw error;
      await sleep(Math.min(error.retryAfterMs ?? 1_000, 10_000), signal);
      if (signal.aborted) throw signal.reason;
      continue;
    }
    if (error.status >= 400 && error.status < 500) throw new NonRetryableError(error.message, { cause: error });
    throw error;
  }
}

export default definePageProcessor<HttpCursor | null, Args>({
  name: 'api-calls',
  initialPages: (args) => [{ cursor: null, size: args.size ?? 20 }],
  // The list answers its total; an API without one would leave this out.
  async estimateTotalItems(args) {
    const response = await fetch(`${args.baseUrl}/customers?limit=0`);
    if (!response.ok) throw await errorFromResponse(response, 'GET', `${args.baseUrl}/customers?limit=0`);
    return Number(((await response.json()) as { total?: number }).total ?? 0);
  },
  retry: { maxAttempts: 5, initialDelayMs: 1_000, maxDelayMs: 30_000 },
  pageTimeoutMs: 120_000,
  async run(ctx) {
    const size = ctx.page.size ?? 20;
    const { items, next } = await httpCursorPage<Customer>({ url: `${ctx.args.baseUrl}/customers`, signal: ctx.signal }, ctx.page.cursor, size);
    if (next !== null) await ctx.enqueueNextPage({ cursor: next, size });
    for (const customer of items) {
      if (ctx.signal.aborted) throw ctx.signal.reason;
      await notify(ctx.args, customer, ctx.jobId, ctx.signal);
      ctx.reportProgress(1);
    }
  },
});
