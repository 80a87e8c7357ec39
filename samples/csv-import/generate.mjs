// Writes the csv-import sample's input: a CSV export of customers (with quoted commas, quotes and
// newlines in some notes) and a JSONL export of more customers. Deterministic, and skipped when
// the files are already there.
//
//   node samples/csv-import/generate.mjs [--csv-rows 150000] [--jsonl-rows 50000]
import { closeSync, existsSync, mkdirSync, openSync, renameSync, writeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));

/** Where the sample keeps its data unless told otherwise. */
export const DATA_DIR = join(here, 'data');

const CITIES = ['Lisbon', 'Porto', 'Kraków', 'São Paulo', 'Zürich', 'Osaka', 'Nairobi', 'Montréal'];

/** Customer `id`, the same whichever file it is written to. */
export function customer(id) {
  const city = CITIES[id % CITIES.length];
  // Every 7th note needs CSV quoting: a comma, a quote and a newline.
  const note = id % 7 === 0 ? `called twice, said "hi"\nthen ordered ${id % 13} items` : `customer since ${2000 + (id % 25)}`;
  return { id, name: `Customer ${id}`, email: `customer${id}@example.com`, city, note };
}

function csvField(value) {
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

/** Writes `lines(from, to)` for ids first..last in batches, to `file` through a temporary name. */
function writeInBatches(file, header, first, last, line) {
  const partial = `${file}.partial`;
  const fd = openSync(partial, 'w');
  try {
    if (header) writeSync(fd, header);
    for (let from = first; from <= last; from += 10_000) {
      const to = Math.min(last, from + 9_999);
      let text = '';
      for (let id = from; id <= to; id++) text += line(customer(id));
      writeSync(fd, text);
    }
  } finally {
    closeSync(fd);
  }
  renameSync(partial, file);
}

/**
 * Makes sure `dir` holds customers.csv (ids 1..csvRows, CRLF line ends) and customers.jsonl
 * (ids csvRows+1..csvRows+jsonlRows). Returns their paths and the total row count.
 */
export function generateCustomers({ dir = DATA_DIR, csvRows = 150_000, jsonlRows = 50_000 } = {}) {
  mkdirSync(dir, { recursive: true });
  const csv = join(dir, `customers-${csvRows}.csv`);
  const jsonl = join(dir, `customers-${csvRows + 1}-${csvRows + jsonlRows}.jsonl`);
  if (!existsSync(csv)) {
    const row = (c) => `${[c.id, c.name, c.email, c.city, c.note].map(csvField).join(',')}\r\n`;
    writeInBatches(csv, 'id,name,email,city,note\r\n', 1, csvRows, row);
  }
  if (!existsSync(jsonl)) writeInBatches(jsonl, '', csvRows + 1, csvRows + jsonlRows, (c) => `${JSON.stringify(c)}\n`);
  return { csv, jsonl, total: csvRows + jsonlRows };
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const argv = process.argv.slice(2);
  const option = (name, fallback) => (argv.includes(name) ? Number(argv[argv.indexOf(name) + 1]) : fallback);
  const files = generateCustomers({ csvRows: option('--csv-rows', 150_000), jsonlRows: option('--jsonl-rows', 50_000) });
  console.log(`${files.csv}\n${files.jsonl}\n${files.total.toLocaleString('en')} customers`);
}
