// The api-calls sample's stand-in for a remote API, on 127.0.0.1 and a random port:
//   GET  /customers?cursor=C&limit=N   -> { items: [{ id, name, email }], next: C2 | null, total }
//   POST /customers/:id/notify         -> 204; 404 for an unknown id, 410 for one in `gone`,
//                                         429 + Retry-After when over `limitPerSecond`
// It counts every call, so a run can show how many notifications arrived and at what rate.
import { createServer } from 'node:http';

const encode = (id) => Buffer.from(`after:${id}`).toString('base64url');
const decode = (cursor) => {
  const match = /^after:(\d+)$/.exec(Buffer.from(cursor, 'base64url').toString());
  return match ? Number(match[1]) : null;
};

/**
 * Starts the server. `customers`: ids 1..customers. `gone`: ids whose notify answers 410 Gone.
 * `busyOnce`: ids whose first notify answers 429 with a short Retry-After. `limitPerSecond`:
 * answer 429 to notifications beyond this many in the last second (none by default).
 */
export async function startServer({ customers = 2_000, gone = [], busyOnce = [], limitPerSecond = null } = {}) {
  const stats = {
    /** Accepted notifications per customer id. */
    notified: new Map(),
    /** When each accepted notification arrived (ms since the epoch), in order. */
    times: [],
    listCalls: 0,
    tooMany: 0,
    refused: 0,
  };
  const goneIds = new Set(gone);
  const busy = new Set(busyOnce);

  const server = createServer((request, response) => {
    const url = new URL(request.url ?? '/', 'http://127.0.0.1');
    const send = (status, body, headers = {}) => {
      response.writeHead(status, body === undefined ? headers : { 'content-type': 'application/json', ...headers });
      response.end(body === undefined ? undefined : JSON.stringify(body));
    };
    if (request.method === 'GET' && url.pathname === '/customers') {
      stats.listCalls++;
      const cursor = url.searchParams.get('cursor');
      const after = cursor === null ? 0 : decode(cursor);
      const limit = Math.min(500, Number(url.searchParams.get('limit') ?? 50));
      if (after === null || !Number.isInteger(limit) || limit < 0) return send(400, { error: 'bad cursor or limit' });
      const items = [];
      for (let id = after + 1; id <= customers && items.length < limit; id++) items.push({ id, name: `Customer ${id}`, email: `customer${id}@example.com` });
      const last = items.at(-1)?.id ?? after;
      return send(200, { items, next: items.length > 0 && last < customers ? encode(last) : null, total: customers });
    }
    const notify = /^\/customers\/(\d+)\/notify$/.exec(url.pathname);
    if (request.method === 'POST' && notify) {
      // Read the body so the connection can be reused.
      request.resume();
      request.on('end', () => {
        const id = Number(notify[1]);
        if (id < 1 || id > customers) return (stats.refused++, send(404, { error: `no customer ${id}` }));
        if (goneIds.has(id)) return (stats.refused++, send(410, { error: `customer ${id} has closed the account` }));
        if (busy.delete(id)) return (stats.tooMany++, send(429, { error: 'slow down' }, { 'retry-after': '0.05' }));
        const now = Date.now();
        if (limitPerSecond !== null) {
          let recent = 0;
          for (let i = stats.times.length - 1; i >= 0 && stats.times[i] > now - 1000; i--) recent++;
          if (recent >= limitPerSecond) return (stats.tooMany++, send(429, { error: 'slow down' }, { 'retry-after': '1' }));
        }
        stats.notified.set(id, (stats.notified.get(id) ?? 0) + 1);
        stats.times.push(now);
        send(204);
      });
      return;
    }
    send(404, { error: `no route ${request.method} ${url.pathname}` });
  });
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  return {
    url: `http://127.0.0.1:${port}`,
    stats,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/**
 * The most notifications that arrived within any one second, the seconds from the first to the
 * last, and the average rate per second over them.
 */
export function observedRate(times) {
  let busiest = 0;
  for (let i = 0, j = 0; j < times.length; j++) {
    while (times[j] - times[i] >= 1000) i++;
    busiest = Math.max(busiest, j - i + 1);
  }
  const seconds = times.length > 1 ? (times[times.length - 1] - times[0]) / 1000 : 0;
  return { busiestSecond: busiest, seconds, average: seconds > 0 ? (times.length - 1) / seconds : times.length };
}

/**
 * The rates the server saw, in words. The average only over a second or more: over less, it
 * mostly measures the limiter's opening burst.
 */
export function describeRates(times, limit) {
  const { busiestSecond, seconds, average } = observedRate(times);
  const overall = seconds >= 1 ? `average ${average.toFixed(0)}/s over ${seconds.toFixed(1)} s` : `all within ${seconds.toFixed(2)} s`;
  return `${overall}, busiest second ${busiestSecond} (limit ${limit}/s)`;
}
