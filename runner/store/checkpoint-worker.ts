/**
 * The checkpointer's thread (checkpointer.ts): a connection of its own that copies the WAL into
 * the database when asked, so the sync that comes with it stalls nobody's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import Database from 'better-sqlite3';
import type { CheckpointerData, CheckpointerRequest } from './checkpointer.js';
import { WriteLock } from './write-lock.js';

const { file, synchronous, lock: lockBuffer, restartEveryMs = 1000 } = workerData as CheckpointerData;
// Never wait for a lock: a checkpoint that cannot run now runs at the next request.
const db = new Database(file, { timeout: 0 });
db.pragma(`synchronous = ${synchronous}`);
db.pragma('wal_autocheckpoint = 0');
const port = parentPort!;
const lock = lockBuffer ? new WriteLock(lockBuffer) : null;
let lastRestart = performance.now();

/**
 * The WAL starts over from its beginning only when a write begins with all of it copied into the
 * database. Worker threads and the scheduler commit hundreds of times a second, so some commit
 * always lands while a checkpoint runs, and the WAL grew without end (223 MB in 5 s for a chain
 * at P = 128, which would be tens of GB over an hour). Now and then the checkpointer keeps this
 * process's writers out (the lock they share) and copies what came in during its checkpoint
 * (a few milliseconds' worth); the next write then starts the WAL over. Writers that find the
 * lock taken meanwhile go through the scheduler's path or wait, as they do for its commits.
 */
function letWalStartOver(writers: WriteLock): void {
  if (!writers.acquireWithin(1)) return;
  try {
    db.pragma('wal_checkpoint(PASSIVE)');
  } finally {
    writers.release();
  }
}

port.on('message', (request: CheckpointerRequest) => {
  if (request === 'close') {
    db.close();
    port.close();
    return;
  }
  try {
    // PASSIVE: copies what no reader still needs and never blocks a writer.
    db.pragma('wal_checkpoint(PASSIVE)');
    if (lock && performance.now() - lastRestart >= restartEveryMs) {
      lastRestart = performance.now();
      letWalStartOver(lock);
    }
  } catch {
    // Nothing is lost: the frames stay in the WAL, and the next checkpoint copies them.
  }
  port.postMessage('done');
});
