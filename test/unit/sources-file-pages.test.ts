import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { byteShards, csvHeader, readPage, type ReadPageOptions, type RecordFormat } from '../../runner/sources/index.js';
import { tempDir } from '../helpers.js';

function file(content: string | Buffer, name = 'data.txt'): string {
  const path = join(tempDir(), name);
  writeFileSync(path, content);
  return path;
}

/** Follows pages from `offset` to the end and returns every record and every page's size. */
async function readAll<R>(path: string, options: Omit<ReadPageOptions, 'offset'> & { offset?: number }): Promise<{ records: R[]; pages: number[] }> {
  const records: R[] = [];
  const pages: number[] = [];
  let offset: number | null = options.offset ?? 0;
  while (offset !== null && pages.length < 100_000) {
    const page: Awaited<ReturnType<typeof readPage<R>>> = await readPage<R>(path, { ...options, offset });
    records.push(...page.records);
    pages.push(page.records.length);
    if (page.next !== null) expect(page.next).toBe(offset + page.bytes);
    offset = page.next;
  }
  return { records, pages };
}

describe('the file sources\' options', () => {
  it('refuse a misspelt one, which would otherwise be dropped in silence', async () => {
    const file = join(tempDir(), 'a.csv');
    writeFileSync(file, 'id\n1\n');
    await expect(readPage(file, { offset: 0, size: 1, format: 'csv', delimeter: ';' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: expect.stringMatching(/^readPage has no option "delimeter": /) });
    await expect(csvHeader(file, { delimeter: ';' } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'csvHeader has no option "delimeter": the options are delimiter' });
    await expect(byteShards(file, 2, { format: 'csv', stop: 3 } as never)).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'byteShards has no option "stop": the options are format, start, end' });
  });
});

describe('readPage: lines', () => {
  it('returns `size` lines per page and the byte offset of the next line', async () => {
    const path = file('alpha\nbeta\ngamma\ndelta\nepsilon\n');
    expect(await readPage(path, { offset: 0, size: 2, format: 'lines' })).toEqual({ records: ['alpha', 'beta'], next: 11, bytes: 11 });
    expect(await readPage(path, { offset: 11, size: 2, format: 'lines' })).toEqual({ records: ['gamma', 'delta'], next: 23, bytes: 12 });
    expect(await readPage(path, { offset: 23, size: 2, format: 'lines' })).toEqual({ records: ['epsilon'], next: null, bytes: 8 });
  });

  it('ends the chain on a page that reaches the end exactly', async () => {
    const path = file('a\nb\nc\nd\n');
    const { pages } = await readAll(path, { size: 2, format: 'lines' });
    expect(pages).toEqual([2, 2]);
  });

  it('reads CRLF line ends and a last line without a line end', async () => {
    const path = file('one\r\ntwo\r\n\r\nthree');
    const { records } = await readAll(path, { size: 2, format: 'lines' });
    expect(records).toEqual(['one', 'two', '', 'three']);
  });

  it('grows its read when a line is longer than the chunk', async () => {
    const long = 'x'.repeat(10_000);
    const path = file(`short\n${long}\nafter\n`);
    const page = await readPage(path, { offset: 0, size: 3, format: 'lines', chunkBytes: 64 });
    expect(page.records).toEqual(['short', long, 'after']);
    expect(page.next).toBeNull();
    const { records } = await readAll(path, { size: 1, format: 'lines', chunkBytes: 16 });
    expect(records).toEqual(['short', long, 'after']);
  });

  it('reads only from the offset, bounded by size, across many small chunks', async () => {
    const lines = Array.from({ length: 5000 }, (_, i) => `line ${i} ${'ü'.repeat(i % 7)}`);
    const path = file(lines.join('\n') + '\n');
    const { records, pages } = await readAll<string>(path, { size: 333, format: 'lines', chunkBytes: 100 });
    expect(records).toEqual(lines);
    expect(pages.slice(0, -1).every((n) => n === 333)).toBe(true);
  });

  it('returns no records and next = null for an empty file', async () => {
    const path = file('');
    for (const format of ['lines', 'jsonl', 'csv'] as RecordFormat[]) {
      expect(await readPage(path, { offset: 0, size: 10, format })).toEqual({ records: [], next: null, bytes: 0 });
    }
  });

  it('skips a UTF-8 byte order mark at the start of the file', async () => {
    const path = file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\nb\n')]));
    expect((await readPage(path, { offset: 0, size: 5, format: 'lines', chunkBytes: 1 })).records).toEqual(['a', 'b']);
  });

  it('stops at `end`, the start of the next shard', async () => {
    const path = file('a\nb\nc\nd\n');
    expect(await readPage(path, { offset: 2, size: 10, format: 'lines', end: 6 })).toEqual({ records: ['b', 'c'], next: null, bytes: 4 });
    expect(await readPage(path, { offset: 2, size: 2, format: 'lines', end: 6 })).toEqual({ records: ['b', 'c'], next: null, bytes: 4 });
    expect(await readPage(path, { offset: 2, size: 1, format: 'lines', end: 6 })).toEqual({ records: ['b'], next: 4, bytes: 2 });
  });

  it('refuses an offset or an end inside a record rather than read part of one as a record', async () => {
    const path = file('alpha\nbeta\ngamma\n');
    await expect(readPage(path, { offset: 2, size: 1, format: 'lines' })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: `${path}: offset 2 is inside a record (the byte before it does not end a line): start at 0, at csvHeader(...).next, at an offset byteShards(...) gives or at a page's next`,
    });
    await expect(readPage(path, { offset: 0, size: 10, format: 'lines', end: 8 })).rejects.toMatchObject({
      code: 'INVALID_OPTION',
      message: `${path}: end 8 is inside the record that starts at byte offset 6: end a range at a record start, as byteShards(...) gives`,
    });
    // A page that stops before the cut record is fine; the next one finds it.
    expect(await readPage(path, { offset: 0, size: 1, format: 'lines', end: 8 })).toEqual({ records: ['alpha'], next: 6, bytes: 6 });
    await expect(readPage(path, { offset: 6, size: 1, format: 'lines', end: 8 })).rejects.toThrow('end 8 is inside the record that starts at byte offset 6');
    // Ends and offsets at record starts, the file's end, and the start after a byte order mark.
    expect((await readPage(path, { offset: 6, size: 10, format: 'lines', end: 11 })).records).toEqual(['beta']);
    expect(await readPage(path, { offset: 17, size: 1, format: 'lines' })).toEqual({ records: [], next: null, bytes: 0 });
    const marked = file(Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('a\nb\n')]));
    expect((await readPage(marked, { offset: 3, size: 5, format: 'lines' })).records).toEqual(['a', 'b']);
  });

  it('refuses a CSV range that ends inside a quoted field, after a newline in it', async () => {
    const path = file('id,note\n1,"two\nlines"\n2,one\n');
    await expect(readPage(path, { offset: 8, size: 5, format: 'csv', end: 15 })).rejects.toThrow(`${path}: end 15 is inside the record that starts at byte offset 8`);
    expect((await readPage(path, { offset: 8, size: 5, format: 'csv', end: 22 })).records).toEqual([['1', 'two\nlines']]);
  });

  it('checks its options and names a missing file', async () => {
    const path = file('a\n');
    await expect(readPage(path, { offset: -1, size: 1, format: 'lines' })).rejects.toThrow('offset must be an integer >= 0, got -1');
    await expect(readPage(path, { offset: 0, size: 0, format: 'lines' })).rejects.toThrow('size must be an integer >= 1, got 0');
    await expect(readPage(path, { offset: 0, size: 1, format: 'xml' as RecordFormat })).rejects.toThrow("format must be 'lines', 'jsonl' or 'csv'");
    await expect(readPage(join(tempDir(), 'nope.txt'), { offset: 0, size: 1, format: 'lines' })).rejects.toMatchObject({ code: 'SOURCE_NOT_FOUND' });
  });

  it('says a folder is not a file, where the first read failed with a bare EISDIR', async () => {
    const folder = tempDir();
    const error = { code: 'SOURCE_NOT_FOUND', message: `${folder} is a folder: give the path of a file in it` };
    await expect(readPage(folder, { offset: 0, size: 1, format: 'lines' })).rejects.toMatchObject(error);
    await expect(csvHeader(folder)).rejects.toMatchObject(error);
    await expect(byteShards(folder, 2, { format: 'jsonl' })).rejects.toMatchObject(error);
  });
});

describe('the file sources\' option values', () => {
  it('refuse an end, chunk or record limit that is not a whole number, where a NaN end ended the chain in silence', async () => {
    const path = file('a\nb\n');
    const lines = { offset: 0, size: 10, format: 'lines' } as const;
    await expect(readPage(path, { ...lines, end: Number.NaN })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'end must be an integer >= 0, got NaN' });
    await expect(readPage(path, { ...lines, end: '3' as never })).rejects.toThrow('end must be an integer >= 0, got "3"');
    await expect(readPage(path, { ...lines, chunkBytes: Number.NaN })).rejects.toThrow('chunkBytes must be an integer >= 1, got NaN');
    await expect(readPage(path, { ...lines, maxRecordBytes: 0 })).rejects.toThrow('maxRecordBytes must be an integer >= 1, got 0');
    await expect(readPage(path, { ...lines, format: 'csv', delimiter: '' })).rejects.toThrow("delimiter must be a non-empty string such as ';', got \"\"");
    await expect(readPage(path, { ...lines, format: 'csv', columns: 'a,b' as never })).rejects.toThrow('columns must be an array of field names, got "a,b"');
    await expect(readPage(path, null as never)).rejects.toThrow("readPage options must be an object such as { offset: 0, size: 100, format: 'lines' }, got null");
    // A null end, as a JSON cursor may carry it, reads to the end of the file.
    expect(await readPage(path, { ...lines, end: null as never })).toEqual({ records: ['a', 'b'], next: null, bytes: 4 });
  });

  it('refuse byteShards a start or end that is not a whole number', async () => {
    const path = file('a\nb\n');
    await expect(byteShards(path, 2, { format: 'lines', start: -5 })).rejects.toMatchObject({ code: 'INVALID_OPTION', message: 'start must be an integer >= 0, got -5' });
    await expect(byteShards(path, 2, { format: 'lines', end: 1.5 })).rejects.toThrow('end must be an integer >= 0, got 1.5');
    await expect(byteShards(path, 2, { format: 'xml' as RecordFormat })).rejects.toThrow("format must be 'lines', 'jsonl' or 'csv', got \"xml\"");
  });
});

describe('readPage: jsonl', () => {
  it('parses each line and skips blank lines without counting them', async () => {
    const path = file('{"id":1}\n\n{"id":2}\r\n   \n{"id":3}');
    expect(await readPage(path, { offset: 0, size: 2, format: 'jsonl' })).toMatchObject({ records: [{ id: 1 }, { id: 2 }] });
    const { records } = await readAll(path, { size: 2, format: 'jsonl' });
    expect(records).toEqual([{ id: 1 }, { id: 2 }, { id: 3 }]);
  });

  it('names the byte offset of a line that is not JSON, and fails without retries', async () => {
    const path = file('{"id":1}\n{"id":2}\n{"id":\n{"id":4}\n');
    await expect(readPage(path, { offset: 9, size: 5, format: 'jsonl' })).rejects.toMatchObject({
      code: 'RECORD_PARSE',
      offset: 18,
      nonRetryable: true,
      message: expect.stringMatching(/the line at byte offset 18 is not valid JSON/),
    });
  });
});

describe('readPage: csv', () => {
  const csv = 'id,name,note\r\n1,Ada,"line one\nline two"\r\n2,"Grace ""Amazing"" Hopper",plain\r\n3,Linus,"comma, inside"\r\n\r\n4,Last,"quoted\r\nCRLF"';

  it('keeps newlines inside quoted fields within one record', async () => {
    const path = file(csv, 'people.csv');
    const header = await csvHeader(path);
    expect(header.columns).toEqual(['id', 'name', 'note']);
    expect(header.next).toBe(14);
    const { records, pages } = await readAll<Record<string, string>>(path, { offset: header.next, size: 2, format: 'csv', columns: header.columns, chunkBytes: 8 });
    expect(records).toEqual([
      { id: '1', name: 'Ada', note: 'line one\nline two' },
      { id: '2', name: 'Grace "Amazing" Hopper', note: 'plain' },
      { id: '3', name: 'Linus', note: 'comma, inside' },
      { id: '4', name: 'Last', note: 'quoted\r\nCRLF' },
    ]);
    expect(pages).toEqual([2, 2]);
  });

  it('returns arrays of strings without columns', async () => {
    const path = file('a;b\n"x\n";y\n', 'semi.csv');
    expect((await readPage(path, { offset: 0, size: 5, format: 'csv', delimiter: ';' })).records).toEqual([['a', 'b'], ['x\n', 'y']]);
  });

  it('reads a record longer than the chunk', async () => {
    const big = 'z'.repeat(50_000);
    const path = file(`id,text\n1,"${big}\n${big}"\n2,short\n`, 'big.csv');
    const { records } = await readAll<string[]>(path, { offset: 8, size: 1, format: 'csv', chunkBytes: 1024 });
    expect(records).toEqual([['1', `${big}\n${big}`], ['2', 'short']]);
  });

  it('names the byte offset of a record that cannot be parsed', async () => {
    const path = file('id,name\n1,ok\n2,"bad"x\n3,ok\n', 'bad.csv');
    await expect(readPage(path, { offset: 8, size: 5, format: 'csv', columns: ['id', 'name'] })).rejects.toMatchObject({
      code: 'RECORD_PARSE',
      offset: 13,
      message: expect.stringMatching(/the CSV record at byte offset 13 cannot be parsed/),
    });
  });

  it('fails on a quote never closed instead of reading the whole file into memory', async () => {
    const path = file(`id,name\n1,"never closed\n${'row,row\n'.repeat(2000)}`, 'open.csv');
    await expect(readPage(path, { offset: 8, size: 5, format: 'csv', maxRecordBytes: 1000, chunkBytes: 256 })).rejects.toMatchObject({
      code: 'RECORD_TOO_LARGE',
      offset: 8,
      message: expect.stringMatching(/never closed/),
    });
    await expect(readPage(path, { offset: 8, size: 5, format: 'csv' })).rejects.toMatchObject({ code: 'RECORD_PARSE' });
  });

  it('says a CSV file without a header row is empty', async () => {
    await expect(csvHeader(file('', 'empty.csv'))).rejects.toMatchObject({ code: 'NO_HEADER' });
  });
});

describe('byteShards', () => {
  it('splits a file into ranges that start at line starts and hold every line once', async () => {
    const lines = Array.from({ length: 997 }, (_, i) => `{"id":${i},"pad":"${'p'.repeat(i % 13)}"}`);
    const path = file(lines.join('\n'), 'rows.jsonl');
    for (const shards of [1, 2, 3, 4, 7, 16]) {
      const ranges = await byteShards(path, shards, { format: 'jsonl' });
      expect(ranges).toHaveLength(shards);
      const seen: { id: number }[] = [];
      for (const range of ranges) seen.push(...(await readAll<{ id: number }>(path, { offset: range.offset, end: range.end, size: 50, format: 'jsonl' })).records);
      expect(seen.map((row) => row.id)).toEqual(lines.map((_, i) => i));
    }
  });

  it('aligns CSV ranges to record starts even where quoted fields hold newlines', async () => {
    const rows = Array.from({ length: 400 }, (_, i) => `${i},"multi\nline ${i}\n""quoted""",${'x'.repeat(i % 17)}`);
    const path = file(`id,text,pad\n${rows.join('\n')}\n`, 'multi.csv');
    const header = await csvHeader(path);
    for (const shards of [2, 5, 9]) {
      const ranges = await byteShards(path, shards, { format: 'csv', start: header.next });
      expect(ranges[0]!.offset).toBe(header.next);
      const seen: Record<string, string>[] = [];
      for (const range of ranges) seen.push(...(await readAll<Record<string, string>>(path, { offset: range.offset, end: range.end, size: 33, format: 'csv', columns: header.columns })).records);
      expect(seen.map((row) => Number(row.id))).toEqual(rows.map((_, i) => i));
      expect(seen[7]!.text).toBe('multi\nline 7\n"quoted"');
    }
  });

  it('makes fewer ranges than asked when records are fewer, and one for an empty file', async () => {
    expect(await byteShards(file('a\nb\n'), 8, { format: 'lines' })).toEqual([{ offset: 0, end: 2 }, { offset: 2, end: 4 }]);
    expect(await byteShards(file(''), 4, { format: 'csv' })).toEqual([{ offset: 0, end: 0 }]);
    expect(await byteShards(file('one long line without end'), 3, { format: 'lines' })).toEqual([{ offset: 0, end: 25 }]);
  });
});
