import { join } from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import { loadProcessor, runPLimit } from '../../bench/lib/in-process.mjs';
import { SCHEMA_VERSION } from '../../runner/store/schema.js';
import { root, tempDir } from '../helpers.js';

/** The benchmark's items table: `pages` pages of `size` ids each. */
function itemsTable(dir: string, pages: number, size: number): string {
  const file = join(dir, 'items.db');
  const db = new Database(file);
  db.exec('CREATE TABLE items (id INTEGER PRIMARY KEY, payload TEXT)');
  const insert = db.prepare('INSERT INTO items (id, payload) VALUES (?, ?)');
  db.transaction(() => {
    for (let id = 1; id <= pages * size; id++) insert.run(id, 'x');
  })();
  db.close();
  return file;
}

describe("the benchmark's p-limit baseline that commits each child", () => {
  it('commits a row for every enqueued child, chained to its parent, in a Baton database', async () => {
    const dir = tempDir();
    const table = itemsTable(dir, 30, 10);
    const processor = await loadProcessor(join(root, 'bench', 'processors', 'io-bound.ts'), join(dir, 'tmp'));
    const durableAt = join(dir, 'durable.db');
    const run = await runPLimit(processor, { table, pages: 30, size: 10, processMs: 1 }, 4, durableAt);
    expect(run.pages).toBe(30);

    const db = new Database(durableAt, { readonly: true });
    const rows = db.prepare('SELECT no, parent, cursor FROM pages ORDER BY no').all() as { no: number; parent: number; cursor: string }[];
    const version = db.prepare("SELECT value FROM baton_meta WHERE key = 'schema_version'").pluck().get();
    db.close();
    // Page 1 is the initial page, enqueued by nobody; pages 2 to 30 were each committed by their parent.
    expect(rows).toEqual(Array.from({ length: 29 }, (_, i) => ({ no: i + 2, parent: i + 1, cursor: String((i + 1) * 10) })));
    expect(version).toBe(String(SCHEMA_VERSION));
  });
});
