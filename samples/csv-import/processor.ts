// csv-import: imports large CSV and JSONL files into a SQLite table, paging through each file by
// byte offset, in several byte ranges (chains) per file.
//
// Each page reads `size` records from its offset, hands the offset of the record after them to
// Baton at once (the next page starts on another slot while this one works), then writes its
// rows in one transaction with INSERT OR REPLACE by id, so a page that runs again after a crash
// leaves the same rows.
import Database from 'better-sqlite3';
import { definePageProcessor, NonRetryableError } from 'baton';
import { byteShards, csvHeader, readPage } from 'baton/sources';

type Source = {
  /** A CSV file with a header row, or a JSONL file with one customer object a line. */
  path: string;
  format: 'csv' | 'jsonl';
};

type Args = {
  files: Source[];
  /** The SQLite file to import into; created when missing. */
  db: string;
  /** Byte ranges (chains) per file. Default 4. */
  shards?: number;
  /** Records per page. Default 2,000. */
  size?: number;
};

/** A byte range still to do, of the file at `file` in args.files. */
type Cursor = { file: number; offset: number; end: number };

type Customer = { id: number; name: string; email: string; city: string; note: string };

const SCHEMA = `CREATE TABLE IF NOT EXISTS customers (
  id INTEGER PRIMARY KEY,
  name TEXT NOT NULL,
  email TEXT NOT NULL,
  city TEXT,
  note TEXT
)`;

// One connection and one prepared import per target file per worker thread.
const targets = new Map<string, (rows: Customer[]) => void>();
function importer(file: string): (rows: Customer[]) => void {
  let save = targets.get(file);
  if (!save) {
    const db = new Database(file);
    // Several threads write: wait for each other's transactions instead of failing.
    db.pragma('busy_timeout = 10000');
    db.exec(SCHEMA);
    const insert = db.prepare('INSERT OR REPLACE INTO customers (id, name, email, city, note) VALUES (@id, @name, @email, @city, @note)');
    save = db.transaction((rows: Customer[]) => {
      for (const row of rows) insert.run(row);
    });
    targets.set(file, save);
  }
  return save;
}

// A CSV file's columns, read once per file per thread.
const headers = new Map<string, Promise<{ columns: string[]; next: number }>>();
function header(path: string): Promise<{ columns: string[]; next: number }> {
  let found = headers.get(path);
  if (!found) {
    found = csvHeader(path);
    headers.set(path, found);
  }
  return found;
}

/** Where a file's records start: after the header row of a CSV file. */
async function bodyStart(source: Source): Promise<number> {
  return source.format === 'csv' ? (await header(source.path)).next : 0;
}

function toCustomer(record: Record<string, unknown>, source: Source, near: number): Customer {
  const id = Number(record.id);
  if (!Number.isSafeInteger(id) || id < 1) {
    throw new NonRetryableError(`${source.path}: a record near byte offset ${near} has no valid id: ${JSON.stringify(record).slice(0, 120)}`);
  }
  return { id, name: String(record.name ?? ''), email: String(record.email ?? ''), city: String(record.city ?? ''), note: String(record.note ?? '') };
}

function sourceOf(args: Args, index: number): Source {
  const source = args.files[index];
  if (!source) throw new NonRetryableError(`cursor names file ${index}, but args.files has ${args.files.length}`);
  if (source.format !== 'csv' && source.format !== 'jsonl') throw new NonRetryableError(`args.files[${index}].format must be 'csv' or 'jsonl', got ${JSON.stringify(source.format)}`);
  return source;
}

export default definePageProcessor<Cursor, Args>({
  name: 'csv-import',
  async initialPages(args) {
    // Created here, once, before any page writes; WAL lets readers look while pages write.
    const db = new Database(args.db);
    db.pragma('journal_mode = WAL');
    db.exec(SCHEMA);
    db.close();
    const pages = [];
    for (let file = 0; file < args.files.length; file++) {
      const source = sourceOf(args, file);
      const shards = await byteShards(source.path, args.shards ?? 4, { format: source.format, start: await bodyStart(source) });
      for (const shard of shards) pages.push({ cursor: { file, ...shard }, size: args.size ?? 2_000 });
    }
    return pages;
  },
  // Each byte range's size over the bytes per record of its first 250 records: an estimate,
  // not a count, but from several places in the file, not only its start.
  async estimateTotalItems(args) {
    let total = 0;
    for (let file = 0; file < args.files.length; file++) {
      const source = sourceOf(args, file);
      for (const shard of await byteShards(source.path, 4, { format: source.format, start: await bodyStart(source) })) {
        const sample = await readPage(source.path, { offset: shard.offset, end: shard.end, size: 250, format: source.format });
        total += sample.next === null ? sample.records.length : Math.round(((shard.end - shard.offset) * sample.records.length) / sample.bytes);
      }
    }
    return total;
  },
  async run(ctx) {
    const { file, offset, end } = ctx.page.cursor;
    const size = ctx.page.size ?? 2_000;
    const source = sourceOf(ctx.args, file);
    const columns = source.format === 'csv' ? (await header(source.path)).columns : undefined;

    const page = await readPage<Record<string, unknown>>(source.path, { offset, end, size, format: source.format, ...(columns ? { columns } : {}) });
    if (page.next !== null) await ctx.enqueueNextPage({ cursor: { file, offset: page.next, end }, size });

    const rows = page.records.map((record) => toCustomer(record, source, offset));
    importer(ctx.args.db)(rows);
    return { items: rows.length };
  },
});
