// Runs each sample's processor through the Baton API on small generated data and checks what it
// really did: prices in the shop file, rows in the import database, calls the API server saw.
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, describe, expect, it } from 'vitest';
import { Baton } from '../../runner/index.js';
import { customer, generateCustomers } from '../../samples/csv-import/generate.mjs';
import { checkShop, setupShop } from '../../samples/inflate-prices/setup.mjs';
import { describeRates, observedRate, startServer } from '../../samples/api-calls/server.mjs';
import { root, tempDir } from '../helpers.js';

const sample = (name: string) => join(root, 'samples', name, 'processor.ts');

let baton: Baton | undefined;
let server: Awaited<ReturnType<typeof startServer>> | undefined;
afterEach(async () => {
  await baton?.close({ stop: 'now' });
  baton = undefined;
  await server?.close();
  server = undefined;
});

describe('sample inflate-prices', () => {
  it('raises every price exactly once, over four key ranges at once', async () => {
    const dir = tempDir();
    const shop = setupShop({ file: join(dir, 'shop.db'), rows: 5_000 });
    const db = new Database(shop.file, { readonly: true });
    const expectedSum = db.prepare('SELECT sum(CAST(round(base_cents * 1.05) AS INTEGER)) FROM products').pluck().get() as number;
    const baseSum = db.prepare('SELECT sum(base_cents) FROM products').pluck().get() as number;
    db.close();

    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const job = await baton.start({ processor: sample('inflate-prices'), args: { shop: shop.file, percent: 5, shards: 4, size: 100 }, maxParallel: 8 });
    const summary = await job.done;

    expect(summary).toMatchObject({ state: 'succeeded', items: 5_000, estimatedTotalItems: 5_000, pages: { failed: 0 } });
    // 4 ranges of 1,250 rows: 12 full pages and one of 50 each.
    expect(summary.pages.total).toBe(52);
    expect(summary.maxInFlight).toBeGreaterThanOrEqual(2);
    const after = checkShop(shop.file, 5);
    expect(after.wrong).toBe(0);
    expect(after.sumCents).toBe(expectedSum);
    expect(after.sumCents).toBeGreaterThan(baseSum);
  });

  it('starts again from base prices when set up again, so the demo can repeat', async () => {
    const dir = tempDir();
    const shop = setupShop({ file: join(dir, 'shop.db'), rows: 300 });
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    await (await baton.start({ processor: sample('inflate-prices'), args: { shop: shop.file, percent: 10, shards: 2, size: 64 } })).done;
    expect(checkShop(shop.file, 10).wrong).toBe(0);
    expect(setupShop({ file: shop.file, rows: 300 }).averageCents).toBe(shop.averageCents);
    expect(checkShop(shop.file, 0).wrong).toBe(0);
  });

  it('builds a new shop of another size whole, though a killed run left its WAL behind', () => {
    const dir = tempDir();
    const old = setupShop({ file: join(dir, 'old.db'), rows: 2_000 });
    // A killed run's image: the shop file and a WAL that holds writes not yet checkpointed.
    const db = new Database(old.file);
    db.pragma('wal_autocheckpoint = 0');
    db.prepare('UPDATE products SET price_cents = price_cents + 1').run();
    const file = join(dir, 'shop.db');
    copyFileSync(old.file, file);
    copyFileSync(`${old.file}-wal`, `${file}-wal`);
    db.close();

    const shop = setupShop({ file, rows: 300 });
    expect(shop.rows).toBe(300);
    const check = new Database(file, { readonly: true });
    expect(check.prepare('SELECT count(*) FROM products').pluck().get()).toBe(300);
    check.close();
    expect(checkShop(file, 0).wrong).toBe(0);
  });
});

describe('sample csv-import', () => {
  it('imports every CSV and JSONL row, multi-line CSV fields included, over several byte ranges', async () => {
    const dir = tempDir();
    const files = generateCustomers({ dir, csvRows: 3_000, jsonlRows: 1_000 });
    const target = join(dir, 'imported.db');
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const args = { files: [{ path: files.csv, format: 'csv' }, { path: files.jsonl, format: 'jsonl' }], db: target, shards: 3, size: 250 };
    const summary = await (await baton.start({ processor: sample('csv-import'), args, maxParallel: 6 })).done;

    expect(summary).toMatchObject({ state: 'succeeded', items: 4_000, pages: { failed: 0 } });
    // Three chains per file.
    expect(summary.pages.total).toBeGreaterThanOrEqual(6 + 1);
    expect(summary.estimatedTotalItems).toBeGreaterThan(3_000);
    expect(summary.estimatedTotalItems).toBeLessThan(5_000);
    const db = new Database(target, { readonly: true });
    const rows = db.prepare('SELECT id, name, email, city, note FROM customers ORDER BY id').all();
    db.close();
    expect(rows).toHaveLength(4_000);
    expect(rows).toEqual(Array.from({ length: 4_000 }, (_, i) => customer(i + 1)));
    expect((rows[6] as { note: string }).note).toBe('called twice, said "hi"\nthen ordered 7 items');
  });

  it('leaves the same rows when the same files are imported again', async () => {
    const dir = tempDir();
    const files = generateCustomers({ dir, csvRows: 500, jsonlRows: 200 });
    const target = join(dir, 'imported.db');
    baton = await Baton.open({ db: join(dir, 'baton.db') });
    const args = { files: [{ path: files.csv, format: 'csv' }, { path: files.jsonl, format: 'jsonl' }], db: target, shards: 2, size: 100 };
    for (let run = 0; run < 2; run++) expect((await (await baton.start({ processor: sample('csv-import'), args })).done).state).toBe('succeeded');
    const db = new Database(target, { readonly: true });
    expect(db.prepare('SELECT count(*) FROM customers').pluck().get()).toBe(700);
    db.close();
  });
});

describe('sample api-calls', () => {
  it('notifies every customer once and keeps under the rate limit', async () => {
    const rate = 100;
    const size = 10;
    server = await startServer({ customers: 250 });
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: sample('api-calls'), args: { baseUrl: server.url, size }, rateLimit: { itemsPerSecond: rate }, maxParallel: 8 });
    const summary = await job.done;

    expect(summary).toMatchObject({ state: 'succeeded', items: 250, estimatedTotalItems: 250, pages: { failed: 0 } });
    const { notified, times } = server.stats;
    expect(notified.size).toBe(250);
    expect([...notified.values()].every((count) => count === 1)).toBe(true);
    // Upper bounds only. A page is charged its size when it starts; the burst is a fifth of a
    // second's worth; a page may start on the last token. Pages started just before a window
    // may call inside it, hence the slack over rate + burst + one page.
    const burst = rate / 5;
    const firstSecond = times.filter((t) => t - times[0]! < 1000).length;
    expect(firstSecond).toBeLessThanOrEqual(rate + burst + size);
    expect(observedRate(times).busiestSecond).toBeLessThanOrEqual(rate * 1.2 + burst + 2 * size);
  });

  it('gives the average rate only over a second or more, where the opening burst no longer dominates it', () => {
    // 80 calls at once (the burst), then one every 10 ms.
    const burstThenSteady = (steady: number) => [...Array.from({ length: 80 }, () => 0), ...Array.from({ length: steady }, (_, i) => 10 * (i + 1))];
    expect(describeRates(burstThenSteady(20), 100)).toBe('all within 0.20 s, busiest second 100 (limit 100/s)');
    expect(describeRates(burstThenSteady(150), 100)).toBe('average 153/s over 1.5 s, busiest second 179 (limit 100/s)');
  });

  it('waits out a 429 and calls again, and fails for good on another 4xx', async () => {
    server = await startServer({ customers: 60, busyOnce: [5, 33], gone: [47] });
    baton = await Baton.open({ db: join(tempDir(), 'baton.db') });
    const job = await baton.start({ processor: sample('api-calls'), args: { baseUrl: server.url, size: 10 }, jobId: 'notify-gone' });
    const summary = await job.done;

    expect(summary.state).toBe('failed');
    expect(summary.pages).toMatchObject({ total: 6, succeeded: 5, failed: 1 });
    const status = await baton.status('notify-gone');
    expect(status.failures).toHaveLength(1);
    expect(status.failures[0]).toMatchObject({ attempts: 1, error: { name: 'NonRetryableError', message: expect.stringMatching(/POST http:\/\/127\.0\.0\.1:\d+\/customers\/47\/notify answered 410 Gone/) } });
    expect(server.stats.tooMany).toBe(2);
    // The page of customers 41-50 stopped at 47; every other customer was notified once.
    const expected = Array.from({ length: 60 }, (_, i) => i + 1).filter((id) => id < 47 || id > 50);
    expect([...server.stats.notified.keys()].sort((a, b) => a - b)).toEqual(expected);
    expect([...server.stats.notified.values()].every((count) => count === 1)).toBe(true);
  });
});
