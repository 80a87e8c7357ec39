// inflate-prices: raises every product's price by `percent`, walking the products table by its
// primary key (keyset pagination) in several key ranges at once.
//
// Each page reads the `size` products after its cursor, hands the next cursor to Baton at once
// (so the next page starts on another slot while this one works), then updates its prices in
// one transaction. `delayMs` stands in for the round trip to a remote database, once for the
// read and once for the write, so the pipelining and the progress are visible.
import type { Database } from 'better-sqlite3';
import { definePageProcessor } from 'baton';
import { keyRanges, sqliteKeyset, type KeyRange, type SqliteKeyset } from 'baton/sources';

type Args = {
  /** The shop database (see setup.mjs). */
  shop: string;
  /** Percent to add to every price. Default 5. */
  percent?: number;
  /** Simulated database round trip, per read and per write. Default 0. */
  delayMs?: number;
  /** Key ranges, one chain each. Default 4. */
  shards?: number;
  /** Products per page. Default 500. */
  size?: number;
};

type Product = { id: number; price_cents: number };

// One keyset, and with it one connection, per shop file per worker thread.
const shops = new Map<string, SqliteKeyset<Product>>();
function products(file: string): SqliteKeyset<Product> {
  let keyset = shops.get(file);
  if (!keyset) {
    // The keyset's connection waits up to busyTimeoutMs for another thread's write to end.
    keyset = sqliteKeyset<Product>({ file, table: 'products', key: 'id', columns: ['id', 'price_cents'], busyTimeoutMs: 10_000 });
    shops.set(file, keyset);
  }
  return keyset;
}

const updates = new WeakMap<Database, (rows: Product[], percent: number) => void>();
function updatePrices(db: Database, rows: Product[], percent: number): void {
  let update = updates.get(db);
  if (!update) {
    const statement = db.prepare('UPDATE products SET price_cents = CAST(round(price_cents * (100.0 + ?) / 100.0) AS INTEGER) WHERE id = ?');
    // One transaction per page: the page's rows change together or not at all.
    update = db.transaction((rows: Product[], percent: number) => {
      for (const row of rows) statement.run(percent, row.id);
    });
    updates.set(db, update);
  }
  update(rows, percent);
}

const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve) => {
    if (ms <= 0 || signal.aborted) return resolve();
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => (clearTimeout(timer), resolve()), { once: true });
  });

export default definePageProcessor<KeyRange, Args>({
  name: 'inflate-prices',
  // One chain per key range; each page's cursor is the range left to do.
  initialPages: (args) =>
    keyRanges({ file: args.shop, table: 'products', key: 'id', shards: args.shards ?? 4 }).map((range) => ({ cursor: range, size: args.size ?? 500 })),
  estimateTotalItems: (args) => products(args.shop).count(),
  retry: { maxAttempts: 5, initialDelayMs: 200 },
  async run(ctx) {
    const { after, until } = ctx.page.cursor;
    const size = ctx.page.size ?? 500;
    const { percent = 5, delayMs = 0 } = ctx.args;
    const shop = products(ctx.args.shop);

    await sleep(delayMs, ctx.signal);
    const { rows, next } = shop.page(after, size, until);
    if (next !== null) await ctx.enqueueNextPage({ cursor: { after: next, until }, size });

    await sleep(delayMs, ctx.signal);
    // A page stopped before this point changed nothing, and runs again whole.
    if (ctx.signal.aborted) throw ctx.signal.reason;
    updatePrices(shop.connection(), rows, percent);
    return { items: rows.length };
  },
});
