// Damages one table of a Baton database on disk, as a bad disk sector or a stray write would,
// while other connections have the file open; and puts it back.
import { closeSync, openSync, readSync, writeSync } from 'node:fs';
import Database from 'better-sqlite3';

export interface DamagedTable {
  /** Writes the table's first page back as it was; connections read it again at their next read. */
  restore(): void;
}

/**
 * Overwrites the root page of `table` with garbage. Other connections keep pages in memory while
 * the file seems unchanged, so a table of the test's own is written after the damage (and again
 * after the repair): their next read then goes to the file and meets it.
 */
export function damageTable(file: string, table: string): DamagedTable {
  const db = new Database(file);
  try {
    // Every page where the file has it, not in the WAL, where the damage would not be seen. A
    // checkpoint that meets a reader mid-read stops short (busy = 1): try again until it is whole.
    for (let tries = 0; ; tries++) {
      const [result] = db.pragma('wal_checkpoint(TRUNCATE)') as { busy: number }[];
      if (result!.busy === 0) break;
      if (tries === 200) throw new Error(`damageTable: ${file} could not be checkpointed (readers kept it busy)`);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10);
    }
    const pageSize = db.pragma('page_size', { simple: true }) as number;
    const { rootpage } = db.prepare<[string], { rootpage: number }>('SELECT rootpage FROM sqlite_schema WHERE name = ?').get(table)!;
    const offset = (rootpage - 1) * pageSize;
    const original = Buffer.alloc(pageSize);
    const garbage = Buffer.alloc(pageSize, 0xab);
    const fd = openSync(file, 'r+');
    readSync(fd, original, 0, pageSize, offset);
    writeSync(fd, garbage, 0, pageSize, offset);
    closeSync(fd);
    touch(db);
    return {
      restore() {
        const again = openSync(file, 'r+');
        writeSync(again, original, 0, pageSize, offset);
        closeSync(again);
        const reopened = new Database(file);
        touch(reopened);
        reopened.close();
      },
    };
  } finally {
    db.close();
  }
}

function touch(db: Database.Database): void {
  db.exec('CREATE TABLE IF NOT EXISTS test_touch (at INTEGER); INSERT INTO test_touch VALUES (1)');
}
