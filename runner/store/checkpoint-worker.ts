/**
 * The checkpointer's thread (checkpointer.ts): a connection of its own that copies the WAL into
 * the database when asked, so the sync that comes with it stalls nobody's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointerData, CheckpointerRequest } from './checkpointer.js';

const { file, synchronous } = workerData as CheckpointerData;
// Never wait for a lock: a checkpoint that cannot run now runs at the next request.
const db = new Database(file, { timeout: 0 });
db.pragma(`synchronous = ${synchronous}`);
db.pragma('wal_autocheckpoint = 0');
const port = parentPort!;

port.on('message', (request: CheckpointerRequest) => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    // PASSIVE: copies what no reader still needs and never blocks a writer.
    db.pragma('wal_checkpoint(PASSIVE)');
  } catch {
    // Nothing is lost: the frames stay in the WAL, and the next checkpoint copies them.
  }
  port.postMessage('done');
});
