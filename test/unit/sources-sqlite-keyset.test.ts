import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { keyRanges, sqliteKeyset, type SqliteKey } from '../../runner/sources/index.js';
import { tempDir } from '../helpers.js';

/** A real SQLite file with `rows` products, ids 1..rows (ids listed in `skip` left out). */
function shop(rows: number, skip: number[] = []): string {
  const file = join(tempDir(), 'shop.db');
  const db = new Database(file);
  db.exec('CREATE TABLE products (id INTEGER PRIMARY KEY, sku TEXT UNIQUE, price REAL, archived INTEGER)');
  const insert = db.prepare('INSERT INTO products VALUES (?, ?, ?, ?)');
  db.transaction(() => {
    for (let id = 1; id <= rows; id++) if (!skip.includes(id)) insert.run(id, `sku-${String(id).padStart(5, '0')}`, id * 1.5, id % 3 === 0 ? 1 : 0);
  })();
  db.close();
  return file;
}

/** Follows a chain of pages from `after` to its end and returns every row. */
function drain<Row>(page: (after: SqliteKey | null) => { rows: Row[]; next: SqliteKey | null }, after: SqliteKey | null = null): { rows: Row[]; pages: number } {
  const rows: Row[] = [];
  let pages = 0;
  let cursor: SqliteKey | null = after;
  do {
    const result = page(cursor);
    rows.push(...result.rows);
    pages++;
    cursor = result.next;
  } while (cursor !== null && pages < 10_000);
  return { rows, pages };
}

describe('sqliteKeyset', () => {
  it('pages through every row once, in key order, and ends with next = null', () => {
    const keyset = sqliteKeyset<{ id: number }>({ file: shop(95, [10, 11, 50]), table: 'products' });
    const { rows, pages } = drain((after) => keyset.page(after, 10));
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 95 }, (_, i) => i + 1).filter((id) => ![10, 11, 50].includes(id)));
    expect(pages).toBe(10);
    expect(drain((after) => keyset.page(after, 23)).pages).toBe(4);
  });

  it('gives the last key as next while rows follow, and null on the last page', () => {
    const keyset = sqliteKeyset({ file: shop(25), table: 'products', columns: ['id', 'price'] });
    expect(keyset.page(null, 10).next).toBe(10);
    expect(keyset.page(10, 10).next).toBe(20);
    const last = keyset.page(20, 10);
    expect(last.rows).toHaveLength(5);
    expect(last.next).toBeNull();
    expect(last.rows[0]).toEqual({ id: 21, price: 31.5 });
    // A full page with nothing after it ends the chain: no empty page follows.
    expect(keyset.page(15, 10)).toMatchObject({ next: null });
    expect(keyset.page(15, 10).rows).toHaveLength(10);
  });

  it('stops at until, so a chain keeps to its key range', () => {
    const keyset = sqliteKeyset<{ id: number }>({ file: shop(100), table: 'products', columns: ['id'] });
    const { rows } = drain((after) => keyset.page(after, 7, 40), 20);
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 20 }, (_, i) => 21 + i));
    // A page that ends exactly on `until` ends the chain without an empty page after it.
    expect(keyset.page(30, 10, 40).next).toBeNull();
  });

  it('adds the key to the selected columns when it is left out, to read the next cursor', () => {
    const keyset = sqliteKeyset({ file: shop(5), table: 'products', columns: ['sku'] });
    const page = keyset.page(null, 2);
    expect(page.rows).toEqual([{ sku: 'sku-00001', id: 1 }, { sku: 'sku-00002', id: 2 }]);
    expect(page.next).toBe(2);
  });

  it('reads the next cursor of a key that * leaves out (rowid) or that is spelt in another case', () => {
    const file = join(tempDir(), 'log.db');
    const db = new Database(file);
    db.exec('CREATE TABLE events (id INTEGER, message TEXT)');
    const insert = db.prepare('INSERT INTO events VALUES (?, ?)');
    for (let i = 1; i <= 7; i++) insert.run(i * 10, `event ${i}`);
    db.close();
    const byRowid = sqliteKeyset<{ message: string }>({ file, table: 'events', key: 'rowid' });
    expect(byRowid.page(null, 3).next).toBe(3);
    const { rows, pages } = drain((after) => byRowid.page(after, 3));
    expect(rows.map((row) => row.message)).toEqual(Array.from({ length: 7 }, (_, i) => `event ${i + 1}`));
    expect(pages).toBe(3);
    const byId = sqliteKeyset<{ id: number }>({ file, table: 'events', key: 'ID', columns: ['id', 'message'] });
    expect(byId.page(null, 3).next).toBe(30);
    expect(drain((after) => byId.page(after, 3)).rows.map((row) => row.id)).toEqual([10, 20, 30, 40, 50, 60, 70]);
  });

  it('pages by a text key', () => {
    const keyset = sqliteKeyset<{ sku: string }>({ file: shop(30), table: 'products', key: 'sku', columns: ['sku'] });
    const { rows } = drain((after) => keyset.page(after, 8));
    expect(rows).toHaveLength(30);
    expect(keyset.page('sku-00008', 2).rows.map((row) => row.sku)).toEqual(['sku-00009', 'sku-00010']);
  });

  it('applies a where condition with its own parameters', () => {
    const keyset = sqliteKeyset<{ id: number }>({ file: shop(60), table: 'products', columns: ['id'], where: 'archived = ? AND price > ?', whereParams: [0, 15] });
    const { rows } = drain((after) => keyset.page(after, 6));
    expect(rows.map((row) => row.id)).toEqual(Array.from({ length: 60 }, (_, i) => i + 1).filter((id) => id % 3 !== 0 && id * 1.5 > 15));
    expect(keyset.count()).toBe(rows.length);
    expect(keyset.count(null, 30)).toBe(rows.filter((row) => row.id <= 30).length);
  });

  it('leaves out rows whose key is NULL, which could never be a cursor', () => {
    const file = join(tempDir(), 'nulls.db');
    const db = new Database(file);
    db.exec("CREATE TABLE t (k TEXT, v INTEGER); INSERT INTO t VALUES (NULL, 0), ('a', 1), (NULL, 2), ('b', 3), ('c', 4)");
    db.close();
    const keyset = sqliteKeyset<{ k: string }>({ file, table: 't', key: 'k' });
    expect(drain((after) => keyset.page(after, 2)).rows.map((row) => row.k)).toEqual(['a', 'b', 'c']);
  });

  it('refuses table, key and column names that are not plain identifiers', () => {
    const file = shop(3);
    expect(() => sqliteKeyset({ file, table: 'products; DROP TABLE products' })).toThrow(/^table must be a plain SQL identifier/);
    expect(() => sqliteKeyset({ file, table: 'products', key: 'id) OR (1=1' })).toThrow(/^key must be a plain SQL identifier/);
    expect(() => sqliteKeyset({ file, table: 'products', columns: ['id', 'price"--'] })).toThrow(/^columns\[\] must be a plain SQL identifier/);
    expect(() => keyRanges({ file, table: '1products', shards: 2 })).toThrow(/INVALID|identifier/);
    expect(sqliteKeyset({ file, table: 'main.products' }).page(null, 5).rows).toHaveLength(3);
  });

  it('refuses a misspelt option, which would otherwise widen a job to every row', () => {
    const file = shop(30);
    expect(() => sqliteKeyset({ file, table: 'products', wher: 'id > 20' } as never)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', nonRetryable: true, message: 'sqliteKeyset has no option "wher": the options are file, table, key, columns, where, whereParams, readonly, busyTimeoutMs' }),
    );
    expect(() => keyRanges({ file, table: 'products', shards: 2, colums: ['id'] } as never)).toThrow(/^keyRanges has no option "colums": the options are /);
  });

  it('names the file and the options when the table or a column is not in it', () => {
    const file = shop(3);
    expect(() => sqliteKeyset({ file, table: 'nope' }).page(null, 5)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: `${file}: no such table: nope; check table, key, columns and where against that file` }),
    );
    expect(() => sqliteKeyset({ file, table: 'products', where: 'colour = 1' }).count()).toThrow(/no such column: colour; check table, key, columns and where/);
  });

  it('says what to pass when a bound is not a key, or whereParams do not fit where', () => {
    const keyset = sqliteKeyset({ file: shop(5), table: 'products' });
    const range = { after: 2, until: 4 };
    expect(() => keyset.page(range as never, 2)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: 'after must be a key (a number or a string) or null, got {"after":2,"until":4}; from a KeyRange cursor, pass cursor.after and cursor.until' }),
    );
    expect(() => keyset.count(null, true as never)).toThrow('until must be a key (a number or a string) or null, got true');
    const file = shop(5);
    expect(() => sqliteKeyset({ file, table: 'products', where: 'price > ?' }).page(null, 2)).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: `${file}: Too few parameter values were provided; give whereParams one number, string or null per ? in where` }),
    );
    expect(() => sqliteKeyset({ file, table: 'products', where: 'price > ?', whereParams: [{}] }).count()).toThrow(/give whereParams one number, string or null per \? in where$/);
    expect(() => keyRanges({ file, table: 'products', shards: 2, where: 'price > ?' })).toThrow(/Too few parameter values were provided; give whereParams/);
  });

  it('checks the page size', () => {
    const keyset = sqliteKeyset({ file: shop(3), table: 'products' });
    expect(() => keyset.page(null, 0)).toThrow('size must be an integer >= 1, got 0');
  });

  it('says which file is missing instead of creating an empty one', () => {
    const file = join(tempDir(), 'missing.db');
    const keyset = sqliteKeyset({ file, table: 'products' });
    expect(() => keyset.page(null, 5)).toThrow(expect.objectContaining({ code: 'SOURCE_NOT_FOUND', nonRetryable: true }));
  });

  it('opens one connection per file and reuses it across pages and keysets', () => {
    const file = shop(10);
    const a = sqliteKeyset({ file, table: 'products' });
    const b = sqliteKeyset({ file, table: 'products', columns: ['id'] });
    a.page(null, 3);
    expect(a.connection()).toBe(b.connection());
    expect(a.connection().pragma('busy_timeout', { simple: true })).toBe(5000);
    a.connection().prepare('UPDATE products SET price = 0 WHERE id = 1').run();
    expect(b.page(null, 1).rows).toEqual([{ id: 1 }]);
    expect((a.page(null, 1).rows[0] as { price: number }).price).toBe(0);
  });
});

describe('keyRanges', () => {
  it('splits the key space into ranges of equal row counts that cover every row once', () => {
    const file = shop(1000, [1, 2, 3, 500, 501]);
    const ranges = keyRanges({ file, table: 'products', shards: 4 });
    expect(ranges).toHaveLength(4);
    expect(ranges[0]!.after).toBeNull();
    expect(ranges[3]!.until).toBeNull();
    const keyset = sqliteKeyset<{ id: number }>({ file, table: 'products', columns: ['id'] });
    const counts = ranges.map((range) => keyset.count(range.after, range.until));
    expect(counts.reduce((a, b) => a + b, 0)).toBe(995);
    for (const count of counts) expect(Math.abs(count - 995 / 4)).toBeLessThanOrEqual(1);
    const seen = ranges.flatMap((range) => drain((after) => keyset.page(after, 64, range.until), range.after).rows.map((row) => row.id));
    expect(seen).toHaveLength(995);
    expect(new Set(seen).size).toBe(995);
  });

  it('makes fewer ranges when the table has fewer rows than shards, and one for an empty table', () => {
    expect(keyRanges({ file: shop(3), table: 'products', shards: 8 })).toEqual([
      { after: null, until: 1 },
      { after: 1, until: 2 },
      { after: 2, until: null },
    ]);
    expect(keyRanges({ file: shop(0), table: 'products', shards: 4 })).toEqual([{ after: null, until: null }]);
    expect(keyRanges({ file: shop(10), table: 'products', shards: 1 })).toEqual([{ after: null, until: null }]);
  });

  it('balances the ranges over the rows that match where', () => {
    const file = shop(300);
    const ranges = keyRanges({ file, table: 'products', shards: 3, where: 'archived = 0' });
    const keyset = sqliteKeyset({ file, table: 'products', where: 'archived = 0' });
    expect(ranges.map((range) => keyset.count(range.after, range.until))).toEqual([66, 67, 67]);
  });

  it('checks shards', () => {
    expect(() => keyRanges({ file: shop(1), table: 'products', shards: 0 })).toThrow('shards must be an integer >= 1, got 0');
  });

  it('names the file and the options when the table or key is not in it, and checks file, as sqliteKeyset does', () => {
    const file = shop(3);
    expect(() => keyRanges({ file, table: 'nope', shards: 2 })).toThrow(
      expect.objectContaining({ code: 'INVALID_OPTION', message: `${file}: no such table: nope; check table, key, columns and where against that file` }),
    );
    expect(() => keyRanges({ file, table: 'products', key: 'uid', shards: 2 })).toThrow(`${file}: no such column: "uid"; check table, key, columns and where against that file`);
    expect(() => keyRanges({ file: '', table: 'products', shards: 2 })).toThrow(expect.objectContaining({ code: 'INVALID_OPTION', message: 'file must be the path of a SQLite file' }));
  });
});
