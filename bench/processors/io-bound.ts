// The pipelining processor: one chain over a real SQLite table. fetch = a keyset query for the
// next `size` ids (well under 1 ms); process = 20 ms of waiting, standing in for remote I/O.
import Database from 'better-sqlite3';
import { definePageProcessor } from 'baton';
import { handOverAndProcess } from './hand-over.js';

export interface IoArgs {
  table: string;
  pages: number;
  size: number;
  processMs: number;
  /** Process while the enqueue is being committed, and await it at the end (see docs/performance.md). */
  overlap?: boolean;
  /**
   * Microseconds of CPU to spend on each page once it has handed over, standing in for a
   * runner's own work on the page's thread (docs/performance.md, "What 95% at P = 128 leaves").
   */
  busyUs?: number;
}

let db: Database.Database | undefined;
let query: Database.Statement<[number, number], { id: number }> | undefined;

/** The fetch step, also timed on its own by the benchmark. */
export function fetchPage(file: string, after: number, size: number): number[] {
  if (!db) {
    db = new Database(file, { readonly: true });
    query = db.prepare('SELECT id FROM items WHERE id > ? ORDER BY id LIMIT ?');
  }
  return query!.all(after, size).map((row) => row.id);
}

export default definePageProcessor<number, IoArgs>({
  initialPages: [{ cursor: 0 }],
  async run(ctx) {
    const ids = fetchPage(ctx.args.table, ctx.page.cursor, ctx.args.size);
    const last = ids.at(-1);
    const next = last !== undefined && last < ctx.args.pages * ctx.args.size ? last : undefined;
    await handOverAndProcess(ctx, next, ctx.args.processMs, ctx.args.overlap, ctx.args.busyUs);
    return { items: ids.length };
  },
});
