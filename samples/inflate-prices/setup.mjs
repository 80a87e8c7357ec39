// Creates (once) and resets the shop database of the inflate-prices sample: a table of products
// with a price and the base price it was generated with, so a run can be checked and repeated.
//
//   node samples/inflate-prices/setup.mjs [--rows 100000] [--file path/to/shop.db]
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the sample keeps its shop unless told otherwise. */
export const DEFAULT_SHOP = join(here, 'data', 'shop.db');

/**
 * Makes sure `file` holds `rows` products (creating it if missing or of another size) and sets
 * every price back to its base price. Returns the row count and the average price in cents.
 */
export function setupShop({ file = DEFAULT_SHOP, rows = 100_000 } = {}) {
  file = resolve(file);
  if (existsSync(file) && countRows(file) !== rows) removeDatabase(file);
  if (!existsSync(file)) createShop(file, rows);
  const db = new Database(file);
  try {
    db.pragma('busy_timeout = 5000');
    db.prepare('UPDATE products SET price_cents = base_cents WHERE price_cents != base_cents').run();
    return { file, rows, averageCents: averagePrice(db) };
  } finally {
    db.close();
  }
}

/** Average price in cents, and how many products do not hold base * (100 + percent) / 100. */
export function checkShop(file, percent) {
  const db = new Database(resolve(file), { readonly: true });
  try {
    db.pragma('busy_timeout = 5000');
    const wrong = db.prepare('SELECT count(*) FROM products WHERE price_cents != CAST(round(base_cents * (100.0 + ?) / 100.0) AS INTEGER)').pluck().get(percent);
    const sum = db.prepare('SELECT sum(price_cents) FROM products').pluck().get();
    return { averageCents: averagePrice(db), sumCents: sum ?? 0, wrong };
  } finally {
    db.close();
  }
}

function averagePrice(db) {
  return db.prepare('SELECT coalesce(avg(price_cents), 0) FROM products').pluck().get();
}

function countRows(file) {
  try {
    const db = new Database(file, { readonly: true, fileMustExist: true });
    try {
      return db.prepare('SELECT count(*) FROM products').pluck().get();
    } finally {
      db.close();
    }
  } catch {
    return -1;
  }
}

/**
 * Removes a SQLite file with its -wal and -shm. A run that was killed leaves its WAL behind, and
 * SQLite would replay that WAL onto a new file of the same name: old pages in a new shop.
 */
function removeDatabase(file) {
  for (const suffix of ['', '-wal', '-shm', '-journal']) rmSync(`${file}${suffix}`, { force: true });
}

function createShop(file, rows) {
  mkdirSync(dirname(file), { recursive: true });
  // No stale WAL of an earlier shop may be waiting for the new file (see removeDatabase).
  removeDatabase(file);
  // Build beside the target and rename, so a half-built shop is never mistaken for a whole one.
  const partial = `${file}.partial`;
  rmSync(partial, { force: true });
  const db = new Database(partial);
  db.exec(`CREATE TABLE products (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    base_cents INTEGER NOT NULL,
    price_cents INTEGER NOT NULL
  )`);
  const insert = db.prepare('INSERT INTO products (id, name, base_cents, price_cents) VALUES (?, ?, ?, ?)');
  // Prices from 1.00 to 999.99, from a fixed sequence so every shop is the same.
  let seed = 42;
  db.transaction(() => {
    for (let id = 1; id <= rows; id++) {
      seed = (seed * 1_103_515_245 + 12_345) % 2_147_483_648;
      const cents = 100 + (seed % 99_900);
      insert.run(id, `Product ${id}`, cents, cents);
    }
  })();
  db.close();
  renameSync(partial, file);
  // WAL lets the sample's worker threads read while one of them writes.
  const wal = new Database(file);
  wal.pragma('journal_mode = WAL');
  wal.close();
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const option = (name) => {
    const at = argv.indexOf(name);
    return at >= 0 ? argv[at + 1] : undefined;
  };
  const result = setupShop({ file: option('--file') ?? DEFAULT_SHOP, rows: Number(option('--rows') ?? 100_000) });
  console.log(`${result.file}: ${result.rows.toLocaleString('en')} products, average price ${(result.averageCents / 100).toFixed(2)}`);
}
