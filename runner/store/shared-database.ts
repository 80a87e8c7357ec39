/**
 * One connection and one GroupCommit per database file per process. The shared write
 * transaction stays open across event-loop turns, so a second connection in the same thread
 * would wait on a lock only this thread can release; every Baton on a file shares one instead.
 */
import { resolve } from 'node:path';
import { openDatabase, type Durability, type SqliteDatabase } from './database.js';
import { GroupCommit } from './group-commit.js';

export interface SharedDatabase {
  db: SqliteDatabase;
  group: GroupCommit;
  /** Gives this user's share back; the connection closes with the last one (resolves once it has). */
  release(): Promise<void>;
}

interface Entry {
  db: SqliteDatabase;
  group: GroupCommit;
  users: number;
}

const open = new Map<string, Entry>();

export function acquireDatabase(path: string, durability: Durability, busyTimeoutMs = 5000): SharedDatabase {
  const file = resolve(path);
  let entry = open.get(file);
  if (!entry) {
    const db = openDatabase(file, { durability, busyTimeoutMs });
    entry = { db, group: new GroupCommit(db), users: 0 };
    open.set(file, entry);
  } else if (durability === 'full') {
    // The stricter setting wins for everyone sharing the connection.
    entry.db.pragma('synchronous = FULL');
  }
  entry.users++;
  const shared = entry;
  let released = false;
  return {
    db: shared.db,
    group: shared.group,
    async release() {
      if (released) return;
      released = true;
      if (--shared.users > 0) return;
      open.delete(file);
      // The checkpointer's connection first: the last one to close removes the WAL.
      await shared.group.close();
      shared.db.close();
    },
  };
}
