// The pipelining processor with a realistic fetch: one chain over a paginated HTTP API in
// another process (bench/lib/items-api.mjs): fetch = a real round trip on 127.0.0.1, well under
// 1 ms; process = 20 ms of waiting, standing in for remote work on the items.
import { Agent, request } from 'node:http';
import { definePageProcessor } from 'baton';
import { handOverAndProcess } from './hand-over.js';

export interface ApiArgs {
  port: number;
  pages: number;
  size: number;
  processMs: number;
  /** Process while the enqueue is being committed, and await it at the end (see docs/performance.md). */
  overlap?: boolean;
}

const agent = new Agent({ keepAlive: true, maxSockets: 64 });

/** The fetch step, also timed on its own by the benchmark. */
export function fetchIds(port: number, after: number, size: number): Promise<number[]> {
  return new Promise((resolve, reject) => {
    request({ host: '127.0.0.1', port, path: `/items?after=${after}&limit=${size}`, agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve((JSON.parse(body) as { ids: number[] }).ids));
    })
      .on('error', reject)
      .end();
  });
}

export default definePageProcessor<number, ApiArgs>({
  initialPages: [{ cursor: 0 }],
  async run(ctx) {
    const ids = await fetchIds(ctx.args.port, ctx.page.cursor, ctx.args.size);
    const last = ids.at(-1);
    const next = last !== undefined && last < ctx.args.pages * ctx.args.size ? last : undefined;
    await handOverAndProcess(ctx, next, ctx.args.processMs, ctx.args.overlap);
    return { items: ids.length };
  },
});
